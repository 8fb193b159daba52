// RespServer: accepting, tracking and stopping connections; see resp_server.h.
#include "server/resp_server.h"

#include <spdlog/spdlog.h>

#include <asio/post.hpp>
#include <asio/strand.hpp>
#include <asio/write.hpp>
#include <future>

#include "net/address.h"
#include "server/resp_session.h"

namespace cairn::server {

Result<std::shared_ptr<RespServer>, std::string> RespServer::create(RespServerConfig config,
                                                                    node::Node& node) {
  auto server = std::make_shared<RespServer>(std::move(config), node);
  std::string err = server->listen();
  if (!err.empty()) return Err{std::move(err)};
  return server;
}

RespServer::RespServer(RespServerConfig config, node::Node& node)
    : ctx_(std::make_shared<RespContext>(node, std::move(config))),
      io_(ctx_->config.threads == 0 ? node.io_context() : own_io_),
      acceptor_(io_),
      accept_pause_(io_) {
  ctx_->barriers = std::make_shared<BarrierGroup>(node, io_);
  ctx_->on_node_thread = ctx_->config.threads == 0;
}

RespServer::~RespServer() {
  stop();
}

std::string RespServer::listen() {
  auto ep = net::parse_endpoint(ctx_->config.listen, true);
  if (!ep.ok()) return "--resp " + ctx_->config.listen + ": " + ep.error();
  std::error_code ec;
  acceptor_.open(ep->protocol(), ec);
  if (!ec) acceptor_.set_option(asio::ip::tcp::acceptor::reuse_address(true), ec);
  if (!ec) acceptor_.bind(*ep, ec);
  if (!ec) acceptor_.listen(asio::socket_base::max_listen_connections, ec);
  if (ec) return "cannot listen for Redis clients on " + ctx_->config.listen + ": " + ec.message();
  local_ = acceptor_.local_endpoint(ec);
  ctx_->port = local_.port();
  ctx_->bound = net::to_string(local_);
  return {};
}

void RespServer::start() {
  if (ctx_->config.threads == 0) {
    // The node's loop is already running: accept from it.
    asio::post(io_, [this] { accept_next(); });
    spdlog::info("Redis protocol on {} (on the node thread)", ctx_->bound);
    return;
  }
  work_.emplace(io_.get_executor());
  accept_next();
  for (unsigned i = 0; i < ctx_->config.threads; ++i)
    threads_.emplace_back([this] { io_.run(); });
  spdlog::info("Redis protocol on {} ({} I/O thread{})", ctx_->bound, threads_.size(),
               threads_.size() == 1 ? "" : "s");
}

void RespServer::accept_next() {
  acceptor_.async_accept(
      asio::make_strand(io_), [this](std::error_code ec, asio::ip::tcp::socket socket) {
        if (ec == asio::error::operation_aborted || !acceptor_.is_open()) return;
        if (!ec) {
          auto& c = ctx_->counters;
          std::shared_ptr<RespSession> s;
          {
            std::lock_guard lock(mu_);
            if (stopping_) return;
            if (c.connected.load() >= ctx_->config.max_connections) {
              // As Redis: the client hears why before the connection closes. A new socket's send
              // buffer is empty, so this short write does not block.
              c.rejected.fetch_add(1, std::memory_order_relaxed);
              static constexpr std::string_view kFull = "-ERR max number of clients reached\r\n";
              std::error_code ignored;
              asio::write(socket, asio::buffer(kFull.data(), kFull.size()), ignored);
              socket.close(ignored);
            } else {
              c.connections_received.fetch_add(1, std::memory_order_relaxed);
              c.connected.fetch_add(1, std::memory_order_relaxed);
              const uint64_t id = c.next_client_id.fetch_add(1);
              s = std::make_shared<RespSession>(std::move(socket), ctx_, id,
                                                [this](uint64_t gone) { forget(gone); });
              sessions_.emplace(id, s);
            }
          }
          // Outside the lock: starting may run the session inline up to its end, and a session
          // that ends calls forget(), which takes the lock.
          if (s) s->start();
        } else {
          return back_off_accepting(ec);
        }
        accept_backoff_ = std::chrono::milliseconds(0);
        accept_next();
      });
}

void RespServer::back_off_accepting(std::error_code ec) {
  ++accept_errors_unlogged_;
  const auto now = std::chrono::steady_clock::now();
  if (now - accept_logged_ >= std::chrono::seconds(1)) {
    spdlog::warn("Redis protocol accept failed {} time(s) in the last second: {}",
                 accept_errors_unlogged_, ec.message());
    accept_errors_unlogged_ = 0;
    accept_logged_ = now;
  }
  accept_backoff_ = std::min(std::chrono::milliseconds(1000),
                             std::max(std::chrono::milliseconds(10), accept_backoff_ * 2));
  accept_pause_.expires_after(accept_backoff_);
  accept_pause_.async_wait([this](std::error_code wait_ec) {
    if (wait_ec || !acceptor_.is_open()) return;
    accept_next();
  });
}

void RespServer::forget(uint64_t id) {
  std::lock_guard lock(mu_);
  sessions_.erase(id);
  if (sessions_.empty()) all_closed_.notify_all();
}

void RespServer::stop() {
  std::vector<std::shared_ptr<RespSession>> live;
  {
    std::lock_guard lock(mu_);
    if (stopped_) return;
    stopped_ = true;
    stopping_ = true;
    for (auto& [id, weak] : sessions_)
      if (auto s = weak.lock()) live.push_back(std::move(s));
  }
  asio::post(io_, [this] {
    std::error_code ec;
    acceptor_.close(ec);
    accept_pause_.cancel();
  });
  for (auto& s : live)
    s->stop();
  live.clear();
  {
    // Sessions close themselves once answered, or at their drain deadline; a little slack on top.
    std::unique_lock lock(mu_);
    all_closed_.wait_for(lock, ctx_->config.drain_timeout + std::chrono::seconds(1),
                         [this] { return sessions_.empty(); });
  }
  if (ctx_->config.threads == 0) {
    // The node's loop goes on; make sure the acceptor's close has run before returning.
    // Shared: the handler may run after a bounded wait has given up.
    auto closed = std::make_shared<std::promise<void>>();
    auto done = closed->get_future();
    asio::post(io_, [closed] { closed->set_value(); });
    if (!ctx_->node.stopped()) done.wait_for(std::chrono::seconds(5));
    return;
  }
  work_.reset();
  io_.stop();
  for (auto& t : threads_)
    if (t.joinable()) t.join();
  threads_.clear();
}

}  // namespace cairn::server
