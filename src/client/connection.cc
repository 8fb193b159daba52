#include "client/connection.h"

#include <asio/connect.hpp>
#include <asio/ip/tcp.hpp>
#include <asio/post.hpp>
#include <asio/steady_timer.hpp>
#include <asio/write.hpp>
#include <atomic>
#include <mutex>
#include <queue>
#include <unordered_map>
#include <vector>

#include "client/loop_impl.h"
#include "net/codec.h"
#include "net/frame.h"

namespace cairn::client {

using Clock = std::chrono::steady_clock;
using asio::ip::tcp;

Result<std::pair<std::string, std::string>> split_host_port(const std::string& addr) {
  auto bad = [&](const char* why) {
    return Err(Error(Error::Kind::kInvalidArgument,
                     "invalid address '" + addr + "': " + why + " (expected HOST:PORT)"));
  };
  size_t colon = addr.rfind(':');
  if (colon == std::string::npos) return bad("no port");
  std::string host = addr.substr(0, colon);
  std::string port = addr.substr(colon + 1);
  if (host.size() >= 2 && host.front() == '[' && host.back() == ']') {
    host = host.substr(1, host.size() - 2);
  } else if (host.find(':') != std::string::npos) {
    return bad("an IPv6 host must be written in brackets");
  }
  if (host.empty()) return bad("no host");
  if (port.empty() || port.size() > 5 || port.find_first_not_of("0123456789") != port.npos ||
      std::stoul(port) == 0 || std::stoul(port) > 65535) {
    return bad("the port must be a number from 1 to 65535");
  }
  return std::pair{host, port};
}

namespace detail {

// The connection's state. Socket, decoder and the buffer being written belong to the loop's
// thread; what submit() touches from other threads is under mu_.
class ConnectionImpl : public std::enable_shared_from_this<ConnectionImpl> {
 public:
  ConnectionImpl(asio::io_context& io, std::string addr, ConnectionOptions options)
      : io_(io),
        addr_(std::move(addr)),
        options_(options),
        resolver_(io),
        socket_(io),
        connect_timer_(io),
        deadline_timer_(io) {}

  void start();
  void submit(net::Message request, std::chrono::milliseconds timeout, Connection::Callback done);
  void close() {
    asio::post(io_, [self = shared_from_this()] {
      self->fail(Error(Error::Kind::kClosed, "connection to " + self->addr_ + " was closed"));
    });
  }
  bool alive() const { return !closed_.load(std::memory_order_acquire); }
  size_t outstanding() const { return outstanding_.load(std::memory_order_relaxed); }
  const std::string& addr() const { return addr_; }

 private:
  struct Pending {
    Connection::Callback done;
    Clock::time_point deadline;
    bool written = false;  // handed to the socket: from then on the outcome is unknown
  };
  using Deadline = std::pair<Clock::time_point, uint64_t>;

  void on_connected();
  void flush();
  void read();
  void on_frames();
  void arm_deadline_timer();
  void on_deadline();
  // Closes the connection and fails everything outstanding, `reason` saying why. Loop thread.
  void fail(const Error& reason);
  void post_completion(Connection::Callback done, Result<net::Message> result) {
    asio::post(io_,
               [done = std::move(done), r = std::move(result)]() mutable { done(std::move(r)); });
  }

  asio::io_context& io_;
  const std::string addr_;
  const ConnectionOptions options_;
  tcp::resolver resolver_;
  tcp::socket socket_;
  asio::steady_timer connect_timer_;
  asio::steady_timer deadline_timer_;
  Clock::time_point armed_ = Clock::time_point::max();  // when deadline_timer_ fires
  net::FrameDecoder decoder_;
  std::string writing_;  // the bytes of the write in progress
  bool connected_ = false;
  std::atomic<bool> closed_{false};
  std::atomic<size_t> outstanding_{0};

  mutable std::mutex mu_;
  uint64_t next_id_ = 1;
  std::string queued_;  // frames submitted and not yet handed to the socket
  std::vector<uint64_t> queued_ids_;
  bool flush_posted_ = false;
  bool write_in_progress_ = false;
  std::unordered_map<uint64_t, Pending> pending_;
  // Earliest deadline first. Entries of completed requests are skipped when they surface, and
  // the heap is rebuilt when they outnumber the live ones, so it stays proportional to pending_.
  std::priority_queue<Deadline, std::vector<Deadline>, std::greater<>> deadlines_;
  bool failed_ = false;  // under mu_; closed_ mirrors it for lock-free readers
  Error failure_;
};

void ConnectionImpl::start() {
  auto hp = split_host_port(addr_);
  if (!hp.ok()) {
    asio::post(io_, [self = shared_from_this(), e = hp.error()] { self->fail(e); });
    return;
  }
  connect_timer_.expires_after(options_.connect_timeout);
  connect_timer_.async_wait([self = shared_from_this()](std::error_code ec) {
    if (ec || self->connected_) return;
    self->fail(Error(Error::Kind::kUnreachable,
                     "could not connect to " + self->addr_ + " within " +
                         std::to_string(self->options_.connect_timeout.count()) + " ms"));
  });
  resolver_.async_resolve(
      hp->first, hp->second,
      [self = shared_from_this()](std::error_code ec, tcp::resolver::results_type results) {
        if (self->closed_) return;
        if (ec) {
          self->fail(Error(Error::Kind::kUnreachable,
                           "could not resolve " + self->addr_ + ": " + ec.message()));
          return;
        }
        asio::async_connect(
            self->socket_, results, [self](std::error_code cec, const tcp::endpoint&) {
              if (self->closed_) return;
              if (cec) {
                std::string msg = "could not connect to " + self->addr_ + ": " + cec.message();
                if (cec == asio::error::connection_refused)
                  msg += " (is a cairn-server listening there?)";
                self->fail(Error(Error::Kind::kUnreachable, std::move(msg)));
                return;
              }
              self->on_connected();
            });
      });
}

void ConnectionImpl::on_connected() {
  connected_ = true;
  connect_timer_.cancel();
  std::error_code ignored;
  socket_.set_option(tcp::no_delay(true), ignored);  // small requests must not wait for Nagle
  read();
  flush();
}

void ConnectionImpl::submit(net::Message request, std::chrono::milliseconds timeout,
                            Connection::Callback done) {
  outstanding_.fetch_add(1, std::memory_order_relaxed);
  auto finish_now = [&](Error e) {
    outstanding_.fetch_sub(1, std::memory_order_relaxed);
    post_completion(std::move(done), Err(std::move(e)));
  };
  std::unique_lock lock(mu_);
  if (failed_) return finish_now(failure_);
  uint64_t id = next_id_++;
  if (auto* r = std::get_if<net::ClientRequest>(&request)) {
    r->request_id = id;
  } else if (auto* s = std::get_if<net::StatusRequest>(&request)) {
    s->request_id = id;
  } else if (auto* a = std::get_if<net::AdminRequest>(&request)) {
    a->request_id = id;
  } else if (auto* q = std::get_if<net::SessionRequest>(&request)) {
    q->request_id = id;
  } else {
    return finish_now(
        Error(Error::Kind::kInvalidArgument, std::string("a ") + net::message_kind_name(request) +
                                                 " is not a request a client can send"));
  }
  if (auto st = net::append_frame(request, queued_); !st.ok()) {
    return finish_now(Error(Error::Kind::kInvalidArgument, st.error().to_string()));
  }
  auto deadline = Clock::now() + timeout;
  pending_.emplace(id, Pending{std::move(done), deadline});
  queued_ids_.push_back(id);
  deadlines_.emplace(deadline, id);
  if (deadlines_.size() > 2 * pending_.size() + 1024) {
    decltype(deadlines_) live;
    for (auto& [pid, p] : pending_)
      live.emplace(p.deadline, pid);
    deadlines_.swap(live);
  }
  if (!flush_posted_) {
    flush_posted_ = true;
    lock.unlock();
    asio::post(io_, [self = shared_from_this()] { self->flush(); });
  }
}

// Hands everything queued to the socket in one write, unless a write is already in progress
// (its completion calls flush again). Also moves the deadline timer earlier if needed.
void ConnectionImpl::flush() {
  std::unique_lock lock(mu_);
  flush_posted_ = false;
  if (failed_) return;
  if (!deadlines_.empty() && deadlines_.top().first < armed_) {
    armed_ = deadlines_.top().first;
    lock.unlock();
    arm_deadline_timer();
    lock.lock();
  }
  if (!connected_ || write_in_progress_ || queued_.empty() || failed_) return;
  for (uint64_t id : queued_ids_) {
    if (auto it = pending_.find(id); it != pending_.end()) it->second.written = true;
  }
  queued_ids_.clear();
  writing_.clear();
  writing_.swap(queued_);
  write_in_progress_ = true;
  lock.unlock();
  asio::async_write(socket_, asio::buffer(writing_),
                    [self = shared_from_this()](std::error_code ec, size_t) {
                      {
                        std::lock_guard l(self->mu_);
                        self->write_in_progress_ = false;
                      }
                      if (ec) {
                        self->fail(Error(Error::Kind::kConnectionLost,
                                         "sending to " + self->addr_ + " failed: " + ec.message()));
                        return;
                      }
                      self->flush();
                    });
}

void ConnectionImpl::read() {
  auto buf = decoder_.prepare(64 * 1024);
  socket_.async_read_some(asio::buffer(buf.data(), buf.size()), [self = shared_from_this()](
                                                                    std::error_code ec, size_t n) {
    if (ec) {
      std::string why = ec == asio::error::eof ? "the node closed the connection" : ec.message();
      self->fail(
          Error(Error::Kind::kConnectionLost, "connection to " + self->addr_ + " lost: " + why));
      return;
    }
    self->decoder_.commit(n);
    self->on_frames();
  });
}

void ConnectionImpl::on_frames() {
  std::vector<std::pair<Connection::Callback, net::Message>> ready;
  while (auto frame = decoder_.next()) {
    auto msg = net::decode_message(frame->payload);
    if (!msg.ok()) {
      fail(Error(Error::Kind::kProtocol,
                 "undecodable answer from " + addr_ + ": " + msg.error().to_string()));
      break;
    }
    uint64_t id = 0;
    if (auto* r = std::get_if<net::ClientResponse>(&*msg)) {
      if (r->request_id == 0 && !r->success) {
        // About the connection itself: the node refuses it (at its connection limit) and closes
        // it without reading what was sent, so nothing pending was carried out.
        fail(Error(Error::Kind::kUnavailable,
                   "the node at " + addr_ + " refused the connection: " + r->error.value_or("")));
        break;
      }
      id = r->request_id;
    } else if (auto* s = std::get_if<net::StatusResponse>(&*msg)) {
      id = s->request_id;
    } else {
      continue;  // nothing a client asked for (a node may say more than it is asked)
    }
    std::lock_guard lock(mu_);
    auto it = pending_.find(id);
    if (it == pending_.end()) continue;  // answered after its timeout: already failed
    ready.emplace_back(std::move(it->second.done), std::move(*msg));
    pending_.erase(it);
  }
  if (decoder_.broken()) {
    fail(Error(Error::Kind::kProtocol,
               "bad frame from " + addr_ + ": " + decoder_.error().to_string()));
  }
  outstanding_.fetch_sub(ready.size(), std::memory_order_relaxed);
  for (auto& [done, msg] : ready)
    done(std::move(msg));
  if (!closed_) read();
}

void ConnectionImpl::arm_deadline_timer() {
  deadline_timer_.expires_at(armed_);
  deadline_timer_.async_wait([self = shared_from_this()](std::error_code ec) {
    if (!ec) self->on_deadline();
  });
}

void ConnectionImpl::on_deadline() {
  std::vector<std::pair<Connection::Callback, bool>> expired;  // callback, was written
  auto now = Clock::now();
  {
    std::lock_guard lock(mu_);
    armed_ = Clock::time_point::max();
    while (!deadlines_.empty() && deadlines_.top().first <= now) {
      auto [deadline, id] = deadlines_.top();
      deadlines_.pop();
      auto it = pending_.find(id);
      if (it == pending_.end()) continue;
      expired.emplace_back(std::move(it->second.done), it->second.written);
      pending_.erase(it);
    }
    if (!deadlines_.empty() && !failed_) armed_ = deadlines_.top().first;
  }
  if (armed_ != Clock::time_point::max()) arm_deadline_timer();
  outstanding_.fetch_sub(expired.size(), std::memory_order_relaxed);
  for (auto& [done, written] : expired) {
    if (written) {
      done(Err(Error(Error::Kind::kTimeout, "no answer from " + addr_ + " within the timeout")));
    } else {
      done(Err(Error(Error::Kind::kUnreachable,
                     "not connected to " + addr_ + " within the request's timeout")));
    }
  }
}

void ConnectionImpl::fail(const Error& reason) {
  std::unordered_map<uint64_t, Pending> failed;
  {
    std::lock_guard lock(mu_);
    if (failed_) return;
    failed_ = true;
    failure_ = reason;
    if (failure_.kind() == Error::Kind::kConnectionLost ||
        failure_.kind() == Error::Kind::kProtocol) {
      // Requests submitted from now on were certainly never sent.
      failure_ = Error(Error::Kind::kUnreachable, reason.message());
    }
    failed.swap(pending_);
    queued_.clear();
    queued_ids_.clear();
    deadlines_ = {};
  }
  closed_.store(true, std::memory_order_release);
  std::error_code ignored;
  resolver_.cancel();
  connect_timer_.cancel();
  deadline_timer_.cancel();
  socket_.shutdown(tcp::socket::shutdown_both, ignored);
  socket_.close(ignored);
  outstanding_.fetch_sub(failed.size(), std::memory_order_relaxed);
  for (auto& [id, p] : failed) {
    bool broke =
        reason.kind() == Error::Kind::kConnectionLost || reason.kind() == Error::Kind::kProtocol;
    if (p.written || !broke) {
      p.done(Err(reason));
    } else {
      p.done(Err(
          Error(Error::Kind::kUnreachable, reason.message() + " (before the request was sent)")));
    }
  }
}

}  // namespace detail

Connection::Connection(EventLoop& loop, std::string addr, ConnectionOptions options)
    : impl_(std::make_shared<detail::ConnectionImpl>(loop.impl().io, std::move(addr), options)) {
  // The socket and timers belong to the loop's thread from the start.
  asio::post(loop.impl().io, [impl = impl_] { impl->start(); });
}

Connection::~Connection() {
  close();
}

void Connection::submit(net::Message request, std::chrono::milliseconds timeout, Callback done) {
  impl_->submit(std::move(request), timeout, std::move(done));
}
void Connection::close() {
  impl_->close();
}
bool Connection::alive() const {
  return impl_->alive();
}
size_t Connection::outstanding() const {
  return impl_->outstanding();
}
const std::string& Connection::addr() const {
  return impl_->addr();
}

}  // namespace cairn::client
