// One lane (connection + bounded queue + sender coroutine) of one peer of a RaftTransport.
//
// Threading: offer() and stats() may be called from any thread; they take `mu_`. Everything
// else runs on the lane's strand. The sender coroutine owns the socket.
//
// Invariants (under mu_):
//  1. queued_bytes_ == sum of queue_[i].size().
//  2. queue_.size() <= max_messages_ and queued_bytes_ <= max_bytes_, except that one message is
//     always admitted into an empty queue so a large frame can pass.
//  3. While unreachable_ is set nothing is admitted.
#pragma once

#include <asio/awaitable.hpp>
#include <asio/ip/tcp.hpp>
#include <asio/steady_timer.hpp>
#include <asio/strand.hpp>
#include <deque>
#include <functional>
#include <memory>
#include <mutex>
#include <random>
#include <string>
#include <vector>

#include "net/transport.h"

namespace cairn::net::detail {

class PeerLane : public std::enable_shared_from_this<PeerLane> {
 public:
  struct Options {
    NodeId peer;
    const char* lane_name;
    asio::ip::tcp::endpoint endpoint;
    std::string addr;
    size_t max_messages;
    size_t max_bytes;
    size_t max_batch_bytes;
    std::chrono::milliseconds connect_timeout, backoff_initial, backoff_max;
    std::function<void(NodeId)> on_unreachable;
    std::function<std::string()> hello;  // written first on each new connection
  };

  PeerLane(asio::io_context& io, Options options);

  void start();
  void stop();  // closes the connection and ends the sender; queued messages are dropped
  bool offer(std::string frame);
  LaneStats stats() const;

 private:
  asio::awaitable<void> sender();
  asio::awaitable<void> drain_reads(uint64_t generation);
  asio::awaitable<bool> connect();
  asio::awaitable<void> back_off();
  void drop_queue_locked();

  asio::strand<asio::io_context::executor_type> strand_;
  const Options opt_;
  asio::ip::tcp::socket socket_;
  asio::steady_timer wake_;   // the sender waits here for work
  asio::steady_timer timer_;  // connect timeout and backoff
  std::mt19937_64 rng_;
  std::chrono::milliseconds backoff_;
  uint64_t generation_ = 0;  // counts connections made, so a stale reader leaves a new one be

  mutable std::mutex mu_;
  std::deque<std::string> queue_;  // framed messages
  size_t queued_bytes_ = 0;
  bool sender_idle_ = false;  // the sender is (about to be) waiting on wake_
  bool unreachable_ = false;
  bool stopped_ = false;
  LaneStats stats_;  // counters; queued_* and connected are filled in by stats()
  bool connected_ = false;
};

}  // namespace cairn::net::detail
