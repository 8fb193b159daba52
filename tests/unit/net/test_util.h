// Helpers for network tests over real sockets on 127.0.0.1: a server running on its own thread,
// a blocking client that speaks frames, and bounded waiting for a condition.
#pragma once

#include <asio/io_context.hpp>
#include <asio/ip/tcp.hpp>
#include <chrono>
#include <functional>
#include <memory>
#include <string>
#include <thread>

#include "net/codec.h"
#include "net/frame.h"
#include "net/server.h"

namespace cairn::net::testing {

using namespace std::chrono_literals;

// Polls `pred` until it holds or `timeout` passes; returns its last value. Never a fixed sleep:
// the test goes on as soon as the condition is true.
bool wait_until(const std::function<bool()>& pred, std::chrono::milliseconds timeout = 10s);

// Raises the open-file limit to its hard maximum (for tests with many sockets).
void raise_fd_limit();

// A NetworkServer on 127.0.0.1:<free port>, run on a background thread, shut down and joined by
// the destructor (or by stop(), which returns only after run() has returned).
class ServerThread {
 public:
  template <typename Handler>
  ServerThread(ServerConfig config, std::shared_ptr<Handler> handler) {
    config.listen = "127.0.0.1:0";
    auto s = NetworkServer::create(config, std::move(handler));
    if (!s.ok()) throw std::runtime_error(s.error().to_string());
    server_ = std::move(*s);
    thread_ = std::thread([srv = server_] { srv->run(); });
  }
  ~ServerThread() { stop(); }
  void stop() {
    if (!thread_.joinable()) return;
    server_->shutdown_handle().shutdown();
    thread_.join();
  }
  bool stopped() const { return !thread_.joinable(); }
  NetworkServer& server() { return *server_; }
  uint16_t port() const { return server_->local_endpoint().port(); }
  std::string addr() const { return "127.0.0.1:" + std::to_string(port()); }

 private:
  std::shared_ptr<NetworkServer> server_;
  std::thread thread_;
};

// A blocking client with a receive timeout, for driving a server byte by byte.
class RawClient {
 public:
  explicit RawClient(uint16_t port, std::chrono::milliseconds recv_timeout = 5s);
  void send_bytes(std::string_view bytes);
  void send(const Message& msg);
  // The next message, or an error: ConnectionClosed on EOF/reset, ReceiveFailed on timeout.
  NetResult<Message> receive();
  // True if the server closes the connection (EOF or reset) within the receive timeout,
  // discarding anything received before that.
  bool closed_by_server();
  void close();

 private:
  asio::io_context io_;
  asio::ip::tcp::socket socket_;
  FrameDecoder decoder_;
};

}  // namespace cairn::net::testing
