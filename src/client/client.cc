// Client routing and retries: one Op per call, resent by its replies' callbacks on the I/O thread.
#include "client/client.h"

#include <asio/steady_timer.hpp>
#include <atomic>
#include <charconv>
#include <mutex>
#include <random>
#include <set>
#include <unordered_map>

#include "client/connection.h"
#include "client/loop_impl.h"
#include "net/client_errors.h"

namespace cairn::client {

using Clock = std::chrono::steady_clock;
using std::chrono::milliseconds;
namespace errors = net::errors;

namespace {

using Done = std::function<void(Result<net::Message>)>;

// One call, from its first send to its one completion.
struct Op {
  net::Message request;
  bool idempotent = false;  // a read: safe to resend even when an attempt's outcome is unknown
  Clock::time_point deadline;
  int sends = 0;
  std::optional<std::string> target;  // where the next send goes, when a reply said so
  Done done;
  bool finished = false;
  // A write in the client's session is a SessionRequest (its seq 0 until numbered). Once an
  // attempt's outcome is unknown (maybe_applied), only that same number may be resent: under
  // another it could apply twice.
  bool maybe_applied = false;

  net::SessionRequest* in_session() { return std::get_if<net::SessionRequest>(&request); }

  void finish(Result<net::Message> r) {
    if (finished) return;
    finished = true;
    // A later attempt refused as never executed (no leader, unreachable) says nothing of an
    // earlier one that may have been applied: the caller must not take the write as not done.
    if (!r.ok() && maybe_applied && !r.error().outcome_unknown() &&
        (r.error().kind() == Error::Kind::kUnavailable ||
         r.error().kind() == Error::Kind::kUnreachable ||
         r.error().kind() == Error::Kind::kClosed)) {
      r = Err(Error(Error::Kind::kOutcomeUnknown,
                    r.error().message() + " (an earlier attempt may have applied the write)"));
    }
    done(std::move(r));
  }
  // An Op dropped unfinished (its callback destroyed with the stopped I/O loop) still completes.
  ~Op() { finish(Err(Error(Error::Kind::kClosed, "the client was closed before an answer"))); }
};

}  // namespace

struct Client::Impl {
  explicit Impl(Options o) : opts(std::move(o)) {}
  // Stops the I/O thread before any member it uses goes away. Calls still in flight complete
  // with kClosed as their callbacks are dropped.
  ~Impl() {
    closing = true;
    std::vector<std::shared_ptr<Op>> waiting;
    {
      std::lock_guard lock(mu_);
      pools_.clear();
      waiting.swap(awaiting_session_);
    }
    for (auto& op : waiting)
      op->finish(Err(Error(Error::Kind::kClosed, "the client was closed before an answer")));
    loop.reset();
  }

  void run(net::Message request, bool idempotent, Done done);
  Result<net::Message> call(net::Message request, bool idempotent);

  Options opts;
  std::unique_ptr<EventLoop> loop = std::make_unique<EventLoop>();
  std::atomic<bool> closing{false};

 private:
  struct Pool {
    std::vector<std::shared_ptr<Connection>> conns;
    size_t next = 0;
  };

  void send(const std::shared_ptr<Op>& op);
  void on_reply(const std::shared_ptr<Op>& op, const std::string& addr, Result<net::Message> r);
  void on_refused(const std::shared_ptr<Op>& op, const std::string& addr, const std::string& err,
                  std::optional<net::NodeId> hint);
  void follow_hint(const std::shared_ptr<Op>& op, const std::string& addr, net::NodeId hint,
                   const std::string& err);
  // Resends after a pause (or at once), unless retries or time have run out; then fails with
  // `last`.
  void retry(const std::shared_ptr<Op>& op, const Error& last, bool pause);
  std::shared_ptr<Connection> pick(const std::string& addr);
  // Sessions: numbers a write in the open session and sends it, or queues it while one opens.
  void start_in_session(const std::shared_ptr<Op>& op);
  void open_session();
  void on_session_opened(Result<net::Message> r);
  void number(Op& op);  // mu_ held
  void release(Op& op);
  // A session's refusal: reopens and resends the write if it cannot have applied.
  void on_session_refused(const std::shared_ptr<Op>& op, const std::string& text);
  std::string default_addr();
  void forget(const std::string& addr);
  std::optional<std::string> lookup(net::NodeId id);
  void learn(const net::StatusResponse& status);

  std::mutex mu_;  // guards everything below
  std::unordered_map<std::string, Pool> pools_;
  std::unordered_map<net::NodeId, std::string> members_;  // from the last StatusResponse
  std::optional<std::string> leader_;
  size_t seed_ = 0;  // the seed tried when no leader is known
  std::mt19937_64 rng_{std::random_device{}()};
  uint64_t session_ = 0;  // the open session, 0 when none
  bool opening_ = false;
  std::vector<std::shared_ptr<Op>> awaiting_session_;
  uint64_t next_seq_ = 1;
  std::set<uint64_t> unanswered_;  // numbers of the session's writes still waiting for an answer

  friend class Client;
};

void Client::Impl::run(net::Message request, bool idempotent, Done done) {
  auto op = std::make_shared<Op>();
  op->request = std::move(request);
  op->idempotent = idempotent;
  op->deadline = Clock::now() + opts.request_timeout;
  // Op::finish calls done once, while the op is alive: the raw pointer is safe.
  op->done = [this, o = op.get(), done = std::move(done)](Result<net::Message> r) {
    release(*o);
    done(std::move(r));
  };
  if (auto* req = std::get_if<net::ClientRequest>(&op->request);
      req != nullptr && opts.sessions && !idempotent &&
      !std::holds_alternative<net::OpenSessionCommand>(req->command)) {
    op->request = net::SessionRequest{0, 0, 0, 0, std::move(req->command)};
    return start_in_session(op);
  }
  send(op);
}

void Client::Impl::start_in_session(const std::shared_ptr<Op>& op) {
  bool open_now = false;
  bool send_now = false;  // decided under the lock: once queued, the op belongs to the opener
  {
    std::lock_guard lock(mu_);
    if (session_ == 0) {
      awaiting_session_.push_back(op);
      open_now = !opening_;
      opening_ = true;
    } else {
      number(*op);
      send_now = true;
    }
  }
  if (open_now) return open_session();
  if (send_now) send(op);
}

void Client::Impl::number(Op& op) {
  net::SessionRequest& req = *op.in_session();
  req.session = session_;
  req.seq = next_seq_++;
  unanswered_.insert(req.seq);
}

void Client::Impl::release(Op& op) {
  const net::SessionRequest* req = op.in_session();
  if (req == nullptr || req->seq == 0) return;
  std::lock_guard lock(mu_);
  if (req->session == session_) unanswered_.erase(req->seq);
}

void Client::Impl::open_session() {
  // Resending an OpenSession is harmless (an unused session expires), hence "idempotent".
  run(net::ClientRequest{0, net::OpenSessionCommand{}}, true,
      [this](Result<net::Message> r) { on_session_opened(std::move(r)); });
}

void Client::Impl::on_session_opened(Result<net::Message> r) {
  std::optional<Error> failure;
  uint64_t id = 0;
  if (!r.ok()) {
    failure = Error(r.error().kind(), "could not open a client session: " + r.error().message());
  } else {
    auto* resp = std::get_if<net::ClientResponse>(&*r);
    const std::string text = resp != nullptr && resp->value ? *resp->value : "";
    auto [end, ec] = std::from_chars(text.data(), text.data() + text.size(), id);
    if (ec != std::errc() || end != text.data() + text.size() || id == 0)
      failure = Error(Error::Kind::kProtocol, "the node answered OpenSession with '" + text + "'");
  }
  std::vector<std::shared_ptr<Op>> waiting;
  {
    std::lock_guard lock(mu_);
    opening_ = false;
    waiting.swap(awaiting_session_);
    if (!failure) {
      session_ = id;
      next_seq_ = 1;
      unanswered_.clear();
      for (auto& op : waiting)
        number(*op);
    }
  }
  for (auto& op : waiting) {
    if (failure) {
      op->finish(Err(*failure));
    } else {
      send(op);
    }
  }
}

void Client::Impl::on_session_refused(const std::shared_ptr<Op>& op, const std::string& text) {
  if (op->maybe_applied) {
    return op->finish(Err(Error(Error::Kind::kOutcomeUnknown,
                                text + " (an earlier attempt may have applied the write)")));
  }
  // Not applied by any attempt: forget the session and send the write afresh in a new one.
  net::SessionRequest& req = *op->in_session();
  {
    std::lock_guard lock(mu_);
    if (req.session == session_) {
      session_ = 0;
      unanswered_.clear();
    }
  }
  req.seq = 0;
  start_in_session(op);
}

Result<net::Message> Client::Impl::call(net::Message request, bool idempotent) {
  // Shared so that set_value() may finish after the waiting caller has returned.
  auto promise = std::make_shared<std::promise<Result<net::Message>>>();
  auto future = promise->get_future();
  run(std::move(request), idempotent,
      [promise](Result<net::Message> r) { promise->set_value(std::move(r)); });
  return future.get();
}

void Client::Impl::send(const std::shared_ptr<Op>& op) {
  if (closing) return op->finish(Err(Error(Error::Kind::kClosed, "the client is closed")));
  auto now = Clock::now();
  if (now >= op->deadline) {
    return op->finish(Err(
        Error(Error::Kind::kTimeout, "no answer within the request timeout of " +
                                         std::to_string(opts.request_timeout.count()) + " ms")));
  }
  std::string addr = op->target ? *op->target : default_addr();
  op->sends++;
  auto left = std::chrono::ceil<milliseconds>(op->deadline - now);
  if (op->idempotent || op->in_session()) left = std::min(left, opts.attempt_timeout);
  if (auto* req = op->in_session()) {
    // The answers this client has: all below its oldest unanswered write.
    std::lock_guard lock(mu_);
    req->acked = req->session != session_ ? 0
                 : unanswered_.empty()    ? next_seq_
                                          : *unanswered_.begin();
  }
  pick(addr)->submit(op->request, left, [this, op, addr](Result<net::Message> r) {
    on_reply(op, addr, std::move(r));
  });
}

void Client::Impl::on_reply(const std::shared_ptr<Op>& op, const std::string& addr,
                            Result<net::Message> r) {
  if (closing) return op->finish(Err(Error(Error::Kind::kClosed, "the client is closed")));
  if (!r.ok()) {
    const Error& e = r.error();
    switch (e.kind()) {
      case Error::Kind::kUnreachable:  // never sent: another node may do
        forget(addr);
        if (op->target == addr) op->target.reset();
        return retry(op, e, op->sends >= static_cast<int>(opts.seeds.size()));
      case Error::Kind::kConnectionLost:
      case Error::Kind::kTimeout:  // this attempt's: the node may be paused or cut off
        if (!op->idempotent && !op->in_session()) return op->finish(std::move(r));
        op->maybe_applied = op->in_session() != nullptr;
        forget(addr);
        if (op->target == addr) op->target.reset();
        return retry(op, e, true);
      default:
        return op->finish(std::move(r));
    }
  }
  if (auto* resp = std::get_if<net::ClientResponse>(&*r); resp && !resp->success) {
    return on_refused(op, addr, resp->error.value_or("the request failed (no reason given)"),
                      resp->leader_hint);
  }
  if (auto* st = std::get_if<net::StatusResponse>(&*r)) learn(*st);
  op->finish(std::move(r));
}

void Client::Impl::on_refused(const std::shared_ptr<Op>& op, const std::string& addr,
                              const std::string& err, std::optional<net::NodeId> hint) {
  const std::string text = addr + ": " + err;
  if (errors::is(err, errors::kNotLeader) && hint && *hint != 0) {
    return follow_hint(op, addr, *hint, text);
  }
  if (errors::never_executed(err)) {
    if (!errors::is(err, errors::kNoLeader) && !errors::is(err, errors::kBusy)) {
      // Shutting down, or not leader with no idea who is: ask another node.
      forget(addr);
      op->target.reset();
    }
    return retry(op, Error(Error::Kind::kUnavailable, text), true);
  }
  if (errors::is(err, errors::kTimeout) || errors::is(err, errors::kDropped)) {
    Error e(Error::Kind::kOutcomeUnknown, text);
    op->maybe_applied = op->maybe_applied || op->in_session() != nullptr;
    if (op->idempotent || op->in_session()) return retry(op, e, true);
    return op->finish(Err(std::move(e)));
  }
  if (op->in_session() && errors::session_refused(err)) return on_session_refused(op, text);
  op->finish(Err(Error(Error::Kind::kServer, text)));
}

// Resends to the hinted leader, learning its address from the member list first if needed.
void Client::Impl::follow_hint(const std::shared_ptr<Op>& op, const std::string& addr,
                               net::NodeId hint, const std::string& err) {
  Error last(Error::Kind::kUnavailable, err);
  if (auto leader = lookup(hint); leader && *leader != addr) {
    op->target = *leader;
    return retry(op, last, false);
  }
  // Unknown (or stale) member list: ask the node that gave the hint, which knows the members.
  pick(addr)->submit(net::StatusRequest{}, opts.request_timeout,
                     [this, op, addr, hint, last](Result<net::Message> r) {
                       if (r.ok()) {
                         if (auto* st = std::get_if<net::StatusResponse>(&*r)) learn(*st);
                       }
                       auto leader = lookup(hint);
                       if (leader && *leader != addr) {
                         op->target = *leader;
                         return retry(op, last, false);
                       }
                       retry(op, last, true);  // the hint's node is not in the list yet
                     });
}

void Client::Impl::retry(const std::shared_ptr<Op>& op, const Error& last, bool pause) {
  if (op->sends > opts.max_retries) {
    return op->finish(Err(Error(last.kind(), last.message() + " (gave up after " +
                                                 std::to_string(op->sends) + " attempts)")));
  }
  if (!pause) return send(op);
  auto base = opts.backoff * (int64_t{1} << std::min(op->sends - 1, 20));
  auto cap = std::min<milliseconds>(base, opts.max_backoff);
  milliseconds delay;
  {
    std::lock_guard lock(mu_);  // jitter spreads clients that failed together
    delay =
        milliseconds(std::uniform_int_distribution<int64_t>(cap.count() / 2, cap.count())(rng_));
  }
  if (Clock::now() + delay >= op->deadline) {
    return op->finish(
        Err(Error(last.kind(), last.message() + " (the request timeout of " +
                                   std::to_string(opts.request_timeout.count()) + " ms ran out)")));
  }
  auto timer = std::make_shared<asio::steady_timer>(loop->impl().io, delay);
  timer->async_wait([this, op, timer](std::error_code) { send(op); });
}

std::shared_ptr<Connection> Client::Impl::pick(const std::string& addr) {
  std::lock_guard lock(mu_);
  Pool& pool = pools_[addr];
  if (pool.conns.empty()) pool.conns.resize(std::max<size_t>(1, opts.connections_per_node));
  auto& slot = pool.conns[pool.next++ % pool.conns.size()];
  if (!slot || !slot->alive()) {
    slot = std::make_shared<Connection>(*loop, addr, ConnectionOptions{opts.connect_timeout});
  }
  return slot;
}

std::string Client::Impl::default_addr() {
  std::lock_guard lock(mu_);
  if (leader_) return *leader_;
  return opts.seeds[seed_ % opts.seeds.size()];
}

void Client::Impl::forget(const std::string& addr) {
  std::lock_guard lock(mu_);
  if (leader_ == addr) leader_.reset();
  if (opts.seeds[seed_ % opts.seeds.size()] == addr) seed_++;
}

std::optional<std::string> Client::Impl::lookup(net::NodeId id) {
  std::lock_guard lock(mu_);
  auto it = members_.find(id);
  if (it == members_.end()) return std::nullopt;
  leader_ = it->second;  // asked for because it was named leader
  return it->second;
}

void Client::Impl::learn(const net::StatusResponse& status) {
  std::lock_guard lock(mu_);
  if (status.members.empty()) return;
  members_.clear();
  for (const auto& m : status.members)
    members_[m.id] = m.addr;
  if (auto it = members_.find(status.leader_id); it != members_.end()) leader_ = it->second;
}

Client::Client(Options options) : impl_(std::make_unique<Impl>(std::move(options))) {}

Client::~Client() = default;

void Client::run(net::Message request, bool idempotent,
                 std::function<void(Result<net::Message>)> done) {
  impl_->run(std::move(request), idempotent, std::move(done));
}
Result<net::Message> Client::call(net::Message request, bool idempotent) {
  return impl_->call(std::move(request), idempotent);
}

Result<std::unique_ptr<Client>> Client::create(Options options) {
  auto invalid = [](std::string why) {
    return Err(Error(Error::Kind::kInvalidArgument, std::move(why)));
  };
  if (options.seeds.empty()) return invalid("no seed address given");
  for (const auto& s : options.seeds) {
    if (auto hp = split_host_port(s); !hp.ok()) return Err(hp.error());
  }
  if (options.connect_timeout.count() <= 0 || options.request_timeout.count() <= 0) {
    return invalid("timeouts must be positive");
  }
  if (options.max_retries < 0) return invalid("max_retries must not be negative");
  if (options.backoff.count() <= 0) options.backoff = milliseconds(1);
  if (options.max_backoff < options.backoff) options.max_backoff = options.backoff;
  return std::unique_ptr<Client>(new Client(std::move(options)));
}

}  // namespace cairn::client
