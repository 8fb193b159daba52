// NetworkServer: the node's TCP listener for the native protocol (clients and peers alike).
//
// Each connection runs two coroutines on its own strand: a reader that reassembles frames,
// decodes them and hands them to the handler, and a writer that sends queued answers, coalescing
// everything queued while the previous write was in flight into one write. Many requests may be
// in flight on one connection; answers carry the request's request_id and may be sent in any
// order. A connection whose peer misbehaves (oversized frame, garbage, mid-frame disconnect) is
// closed alone; everyone else keeps being served.
//
// Threading: create() on any thread; run() blocks the calling thread (and `threads - 1` more it
// starts) until shutdown completes. ShutdownHandle::shutdown() and stats() are thread-safe.
#pragma once

#include <asio/io_context.hpp>
#include <asio/ip/tcp.hpp>
#include <atomic>
#include <chrono>
#include <cstdint>
#include <memory>
#include <mutex>
#include <string>
#include <unordered_map>

#include "net/error.h"
#include "net/frame.h"
#include "net/handler.h"

namespace cairn::net {

struct ServerConfig {
  std::string listen = "127.0.0.1:9000";  // port 0 picks a free port: see local_endpoint()
  NodeId node_id = 1;
  unsigned threads = 1;             // I/O threads running handlers
  size_t max_connections = 10'000;  // beyond this, new connections are closed at once
  size_t max_frame = kMaxFrameSize;
  // Per connection: stop reading while this many async requests are unanswered or this many
  // answer bytes are unsent, so one greedy client cannot grow the server's memory.
  size_t max_in_flight = 4096;
  size_t max_pending_output = 8 * 1024 * 1024;
  // How long shutdown waits for in-flight requests to be answered before closing anyway.
  std::chrono::milliseconds drain_timeout{5000};
};

struct ServerStats {
  uint64_t connections_accepted = 0;
  uint64_t connections_active = 0;
  uint64_t connections_refused = 0;  // over max_connections
  uint64_t frames_received = 0;
  uint64_t frames_sent = 0;
  uint64_t oversized_frames = 0;   // connections closed for a length above max_frame
  uint64_t decode_errors = 0;      // connections closed for an undecodable message
  uint64_t aborted_mid_frame = 0;  // peers that disconnected with a partial frame buffered
};

class NetworkServer;

// The seed's `shutdown_tx`: copyable, callable from any thread (or a signal-handling thread),
// idempotent. Stops accepting, lets in-flight work finish within drain_timeout, closes every
// connection; run() then returns.
class ShutdownHandle {
 public:
  void shutdown() const;

 private:
  friend class NetworkServer;
  explicit ShutdownHandle(std::weak_ptr<NetworkServer> server) : server_(std::move(server)) {}
  std::weak_ptr<NetworkServer> server_;
};

class NetworkServer : public std::enable_shared_from_this<NetworkServer> {
 public:
  // Binds and listens at once, so address errors surface here and local_endpoint() is known.
  static NetResult<std::shared_ptr<NetworkServer>> create(ServerConfig config,
                                                          std::shared_ptr<MessageHandler> handler);
  static NetResult<std::shared_ptr<NetworkServer>> create(
      ServerConfig config, std::shared_ptr<AsyncMessageHandler> handler);
  ~NetworkServer();

  NetworkServer(const NetworkServer&) = delete;
  NetworkServer& operator=(const NetworkServer&) = delete;

  void run();
  ShutdownHandle shutdown_handle() { return ShutdownHandle(weak_from_this()); }
  asio::ip::tcp::endpoint local_endpoint() const { return local_; }
  const ServerConfig& config() const { return config_; }
  ServerStats stats() const;

  // Internal, shared with connections.
  struct Counters {
    std::atomic<uint64_t> accepted{0}, active{0}, refused{0}, frames_in{0}, frames_out{0},
        oversized{0}, decode_errors{0}, mid_frame{0};
  };

 private:
  friend class ShutdownHandle;
  NetworkServer(ServerConfig config, std::shared_ptr<MessageHandler> sync,
                std::shared_ptr<AsyncMessageHandler> async);
  static NetResult<std::shared_ptr<NetworkServer>> make(ServerConfig config,
                                                        std::shared_ptr<MessageHandler> sync,
                                                        std::shared_ptr<AsyncMessageHandler> async);
  NetStatus listen();
  void begin_shutdown();
  void admit(asio::ip::tcp::socket socket);
  // Tells a connection over max_connections why it is closed, then closes it.
  void refuse(asio::ip::tcp::socket& socket);
  void forget(uint64_t id);

  ServerConfig config_;
  std::shared_ptr<MessageHandler> sync_handler_;
  std::shared_ptr<AsyncMessageHandler> async_handler_;
  asio::io_context io_;
  asio::ip::tcp::acceptor acceptor_;
  asio::ip::tcp::endpoint local_;
  std::atomic<bool> stopping_{false};
  std::shared_ptr<Counters> counters_ = std::make_shared<Counters>();

  std::mutex mu_;  // guards connections_ and next_id_
  std::unordered_map<uint64_t, std::weak_ptr<detail::ServerConnection>> connections_;
  uint64_t next_id_ = 1;
  std::atomic<int64_t> last_refusal_log_ms_{0};  // refusals are logged at most once per 10 s
};

}  // namespace cairn::net
