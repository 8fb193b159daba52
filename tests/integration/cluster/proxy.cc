#include "proxy.h"

#include <asio/connect.hpp>
#include <asio/post.hpp>
#include <asio/write.hpp>

namespace cairn::itest {

struct FaultProxy::Pair {
  explicit Pair(asio::io_context& io) : in(io), out(io) {}
  asio::ip::tcp::socket in;   // from the sending node
  asio::ip::tcp::socket out;  // to the target node
  char buf[2][16384];
  void close() {
    std::error_code ec;
    in.close(ec);
    out.close(ec);
  }
};

FaultProxy::FaultProxy(uint16_t listen_port, uint16_t target_port)
    : acceptor_(io_, {asio::ip::make_address("127.0.0.1"), listen_port}),
      port_(listen_port),
      target_(target_port) {
  accept_next();
  thread_ = std::thread([this] { io_.run(); });
}

FaultProxy::~FaultProxy() {
  io_.stop();
  thread_.join();
}

void FaultProxy::set_cut(bool cut) {
  cut_ = cut;
  if (!cut) return;
  asio::post(io_, [this] {
    std::lock_guard lock(mu_);
    for (auto& w : pairs_)
      if (auto p = w.lock()) p->close();
    pairs_.clear();
  });
}

void FaultProxy::accept_next() {
  auto p = std::make_shared<Pair>(io_);
  acceptor_.async_accept(p->in, [this, p](std::error_code ec) {
    if (ec) return;
    if (cut_.load()) {
      p->close();
    } else {
      p->out.async_connect({asio::ip::make_address("127.0.0.1"), target_},
                           [this, p](std::error_code cec) {
                             if (cec || cut_.load()) return p->close();
                             {
                               std::lock_guard lock(mu_);
                               pairs_.push_back(p);
                             }
                             relay(p, true);
                             relay(p, false);
                           });
    }
    accept_next();
  });
}

void FaultProxy::relay(std::shared_ptr<Pair> p, bool forward) {
  auto& from = forward ? p->in : p->out;
  auto& to = forward ? p->out : p->in;
  char* buf = p->buf[forward ? 0 : 1];
  from.async_read_some(asio::buffer(buf, sizeof(p->buf[0])), [this, p, forward, &to, buf](
                                                                 std::error_code ec, size_t n) {
    if (ec || cut_.load()) return p->close();
    if (!forward && swallow_.load()) return relay(p, forward);
    asio::async_write(to, asio::buffer(buf, n), [this, p, forward](std::error_code wec, size_t) {
      if (wec) return p->close();
      relay(p, forward);
    });
  });
}

}  // namespace cairn::itest
