// FaultProxy: a TCP relay between two nodes that a test can cut. A cut closes every relayed
// connection and closes new ones as soon as they are accepted, so the sender sees a dead peer;
// healing lets new connections through again. One proxy carries one direction of one pair of
// nodes (node A's connections to node B), so partitions may be symmetric or one-way.
// Runs its own I/O thread; set_cut() is thread-safe.
#pragma once

#include <asio/io_context.hpp>
#include <asio/ip/tcp.hpp>
#include <atomic>
#include <cstdint>
#include <memory>
#include <mutex>
#include <string>
#include <thread>
#include <vector>

namespace cairn::itest {

class FaultProxy {
 public:
  FaultProxy(uint16_t listen_port, uint16_t target_port);
  ~FaultProxy();
  FaultProxy(const FaultProxy&) = delete;
  FaultProxy& operator=(const FaultProxy&) = delete;

  void set_cut(bool cut);
  // While on, bytes from the target back to the sender are read and dropped: the target gets
  // every request and its answers are lost on the way.
  void set_swallow_replies(bool on) { swallow_ = on; }
  uint16_t port() const { return port_; }

 private:
  struct Pair;
  void accept_next();
  void relay(std::shared_ptr<Pair> p, bool forward);

  asio::io_context io_;
  asio::ip::tcp::acceptor acceptor_;
  uint16_t port_;
  uint16_t target_;
  std::atomic<bool> cut_{false};
  std::atomic<bool> swallow_{false};
  std::mutex mu_;
  std::vector<std::weak_ptr<Pair>> pairs_;
  std::thread thread_;
};

}  // namespace cairn::itest
