#include "net/server.h"

#include <spdlog/spdlog.h>

#include <asio/co_spawn.hpp>
#include <asio/detached.hpp>
#include <asio/post.hpp>
#include <asio/redirect_error.hpp>
#include <asio/steady_timer.hpp>
#include <asio/strand.hpp>
#include <asio/use_awaitable.hpp>
#include <thread>
#include <vector>

#include "net/address.h"
#include "net/client_errors.h"
#include "net/server_connection.h"

namespace cairn::net {

void ShutdownHandle::shutdown() const {
  if (auto server = server_.lock()) server->begin_shutdown();
}

NetworkServer::NetworkServer(ServerConfig config, std::shared_ptr<MessageHandler> sync,
                             std::shared_ptr<AsyncMessageHandler> async)
    : config_(std::move(config)),
      sync_handler_(std::move(sync)),
      async_handler_(std::move(async)),
      acceptor_(asio::make_strand(io_)) {}

NetworkServer::~NetworkServer() {
  // Connections hold sockets of io_; they must go before it does. Pending handlers (and the
  // connections they own) are destroyed by io_'s own destructor, which runs after this body.
  io_.stop();
}

NetResult<std::shared_ptr<NetworkServer>> NetworkServer::create(
    ServerConfig config, std::shared_ptr<MessageHandler> handler) {
  return make(std::move(config), std::move(handler), nullptr);
}

NetResult<std::shared_ptr<NetworkServer>> NetworkServer::create(
    ServerConfig config, std::shared_ptr<AsyncMessageHandler> handler) {
  return make(std::move(config), nullptr, std::move(handler));
}

NetResult<std::shared_ptr<NetworkServer>> NetworkServer::make(
    ServerConfig config, std::shared_ptr<MessageHandler> sync,
    std::shared_ptr<AsyncMessageHandler> async) {
  if (!sync && !async) {
    return Err(NetworkError::io(std::make_error_code(std::errc::invalid_argument),
                                "NetworkServer needs a message handler"));
  }
  if (config.threads == 0) config.threads = 1;
  std::shared_ptr<NetworkServer> server(
      new NetworkServer(std::move(config), std::move(sync), std::move(async)));
  if (NetStatus st = server->listen(); !st.ok()) return Err(st.error());
  return server;
}

NetStatus NetworkServer::listen() {
  auto ep = parse_endpoint(config_.listen, /*allow_port_zero=*/true);
  if (!ep.ok()) {
    return Err(NetworkError::io(std::make_error_code(std::errc::invalid_argument), ep.error()));
  }
  std::error_code ec;
  acceptor_.open(ep->protocol(), ec);
  if (!ec) acceptor_.set_option(asio::ip::tcp::acceptor::reuse_address(true), ec);
  if (!ec) acceptor_.bind(*ep, ec);
  if (!ec) acceptor_.listen(asio::socket_base::max_listen_connections, ec);
  if (ec) return Err(NetworkError::io(ec, "cannot listen on " + config_.listen));
  local_ = acceptor_.local_endpoint(ec);
  return {};
}

void NetworkServer::run() {
  auto self = shared_from_this();
  asio::co_spawn(
      acceptor_.get_executor(),
      [self]() -> asio::awaitable<void> {
        std::error_code ec;
        asio::steady_timer pause(self->acceptor_.get_executor());
        while (!self->stopping_) {
          asio::ip::tcp::socket socket = co_await self->acceptor_.async_accept(
              asio::make_strand(self->io_), asio::redirect_error(asio::use_awaitable, ec));
          if (self->stopping_) break;
          if (ec) {
            // Out of file descriptors and the like: back off briefly instead of spinning.
            spdlog::warn("accept failed on {}: {}", to_string(self->local_), ec.message());
            pause.expires_after(std::chrono::milliseconds(50));
            co_await pause.async_wait(asio::redirect_error(asio::use_awaitable, ec));
            continue;
          }
          self->admit(std::move(socket));
        }
      },
      [](std::exception_ptr e) {
        if (!e) return;
        try {
          std::rethrow_exception(e);
        } catch (const std::exception& ex) {
          spdlog::error("accept loop failed: {}", ex.what());
        }
      });

  spdlog::info("node {} listening on {} ({} I/O thread{})", config_.node_id, to_string(local_),
               config_.threads, config_.threads == 1 ? "" : "s");
  std::vector<std::thread> extra;
  for (unsigned i = 1; i < config_.threads; ++i)
    extra.emplace_back([this] { io_.run(); });
  io_.run();
  for (auto& t : extra)
    t.join();
  spdlog::info("node {} server on {} stopped", config_.node_id, to_string(local_));
}

void NetworkServer::admit(asio::ip::tcp::socket socket) {
  std::error_code ec;
  if (counters_->active.load() >= config_.max_connections) {
    refuse(socket);
    return;
  }
  detail::ServerConnection::Options opts{config_.max_frame, config_.max_in_flight,
                                         config_.max_pending_output, config_.drain_timeout};
  std::shared_ptr<detail::ServerConnection> conn;
  {
    std::lock_guard lock(mu_);
    if (stopping_) {
      socket.close(ec);
      return;
    }
    const uint64_t id = next_id_++;
    std::weak_ptr<NetworkServer> weak = weak_from_this();
    conn = std::make_shared<detail::ServerConnection>(std::move(socket), id, opts, sync_handler_,
                                                      async_handler_, counters_,
                                                      [weak](uint64_t closed_id) {
                                                        if (auto s = weak.lock())
                                                          s->forget(closed_id);
                                                      });
    connections_.emplace(id, conn);
  }
  counters_->accepted.fetch_add(1, std::memory_order_relaxed);
  counters_->active.fetch_add(1, std::memory_order_relaxed);
  conn->start();
}

void NetworkServer::refuse(asio::ip::tcp::socket& socket) {
  const uint64_t n = counters_->refused.fetch_add(1, std::memory_order_relaxed) + 1;
  // A response with request_id 0 is about the connection itself (docs/protocol.md, section 5):
  // the client hears why instead of seeing the connection merely close. One small frame on a
  // fresh socket: a non-blocking write that does not block the acceptor; if the socket does not
  // take it whole, the client sees the close alone.
  std::string frame;
  (void)append_frame(
      ClientResponse{0, false, std::string(errors::kMaxClients), std::nullopt, std::nullopt},
      frame);
  std::error_code ec;
  socket.non_blocking(true, ec);
  if (!ec) (void)socket.write_some(asio::buffer(frame), ec);
  socket.close(ec);
  const int64_t now = std::chrono::duration_cast<std::chrono::milliseconds>(
                          std::chrono::steady_clock::now().time_since_epoch())
                          .count();
  int64_t last = last_refusal_log_ms_.load();
  if (now - last >= 10'000 && last_refusal_log_ms_.compare_exchange_strong(last, now))
    spdlog::warn("refusing connections: {} already open (limit {}); {} refused so far",
                 counters_->active.load(), config_.max_connections, n);
}

void NetworkServer::forget(uint64_t id) {
  std::lock_guard lock(mu_);
  connections_.erase(id);
}

void NetworkServer::begin_shutdown() {
  std::vector<std::shared_ptr<detail::ServerConnection>> live;
  {
    std::lock_guard lock(mu_);
    if (stopping_.exchange(true)) return;
    for (auto& [id, weak] : connections_) {
      if (auto c = weak.lock()) live.push_back(std::move(c));
    }
  }
  spdlog::info("node {} shutting down: closing listener, draining {} connection{}", config_.node_id,
               live.size(), live.size() == 1 ? "" : "s");
  // A weak reference: if run() has already returned, this handler never runs, and a strong one
  // would keep the server (which owns the io_context holding the handler) alive forever.
  asio::post(acceptor_.get_executor(), [weak = weak_from_this()] {
    if (auto self = weak.lock()) {
      std::error_code ec;
      self->acceptor_.close(ec);
    }
  });
  for (auto& c : live)
    c->stop();
}

ServerStats NetworkServer::stats() const {
  const Counters& c = *counters_;
  return {c.accepted.load(),   c.active.load(),    c.refused.load(),       c.frames_in.load(),
          c.frames_out.load(), c.oversized.load(), c.decode_errors.load(), c.mid_frame.load()};
}

}  // namespace cairn::net
