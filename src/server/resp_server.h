// RespServer: the Redis protocol front end of a node. It listens on the --resp address, runs one
// RespSession per client connection on a strand of its own io_context, and executes commands
// through the node: writes with node.execute(), linearizable reads behind node.read_barrier().
//
// Lifecycle: create() binds (so a taken port is reported before anything runs), start() starts
// the I/O threads, stop() stops accepting, lets every connection answer what it has received
// (within drain_timeout), closes them and joins the threads. Stop it before the node: answers
// in flight need the node to arrive. With config.threads = 0 there are no threads of its own:
// everything runs on the node's event loop (Node::io_context()), so start() must follow
// node.start(), and the server must be destroyed before the node.
//
// Threading: create(), start() and stop() from one controlling thread; stop() is idempotent.
#pragma once

// A standard header before Asio's: Asio's config reads libstdc++'s macros (aligned allocation),
// and every translation unit must agree on them.
#include <cstddef>

#include <asio/io_context.hpp>
#include <asio/ip/tcp.hpp>
#include <asio/steady_timer.hpp>
#include <condition_variable>
#include <memory>
#include <mutex>
#include <string>
#include <thread>
#include <unordered_map>
#include <vector>

#include "common/result.h"
#include "server/resp_context.h"

namespace cairn::server {

class RespSession;

class RespServer : public std::enable_shared_from_this<RespServer> {
 public:
  static Result<std::shared_ptr<RespServer>, std::string> create(RespServerConfig config,
                                                                 node::Node& node);
  ~RespServer();
  RespServer(const RespServer&) = delete;
  RespServer& operator=(const RespServer&) = delete;

  void start();
  void stop();
  asio::ip::tcp::endpoint local_endpoint() const { return local_; }
  const RespCounters& counters() const { return ctx_->counters; }

  RespServer(RespServerConfig config, node::Node& node);  // use create()

 private:
  std::string listen();
  void accept_next();
  // After a failed accept (out of file descriptors, ...): wait before the next one, longer each
  // time up to a second, and log at most once a second, instead of spinning on the error.
  void back_off_accepting(std::error_code ec);
  void forget(uint64_t id);

  std::shared_ptr<RespContext> ctx_;
  asio::io_context own_io_;  // unused when running on the node's loop
  asio::io_context& io_;
  asio::ip::tcp::acceptor acceptor_;
  asio::steady_timer accept_pause_;
  std::chrono::milliseconds accept_backoff_{0};  // acceptor's handlers only
  std::chrono::steady_clock::time_point accept_logged_{};
  uint64_t accept_errors_unlogged_ = 0;
  asio::ip::tcp::endpoint local_;
  std::vector<std::thread> threads_;
  std::optional<asio::executor_work_guard<asio::io_context::executor_type>> work_;

  std::mutex mu_;  // guards sessions_ and stopping_
  std::condition_variable all_closed_;
  std::unordered_map<uint64_t, std::weak_ptr<RespSession>> sessions_;
  bool stopping_ = false;
  bool stopped_ = false;
};

}  // namespace cairn::server
