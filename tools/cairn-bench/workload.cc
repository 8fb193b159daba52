#include "workload.h"

#include <charconv>
#include <set>

namespace cairn::bench {

using Clock = std::chrono::steady_clock;

class Workload::Worker {
 public:
  Worker(Workload& w, client::EventLoop& loop, std::string addr, uint64_t seed)
      : w_(w), loop_(loop), addr_(std::move(addr)), rng_(seed), value_(w.config_.value_size, 'x') {}

  void start() {
    std::lock_guard lock(mu_);
    conn_ = std::make_unique<client::Connection>(loop_, addr_);
    if (w_.config_.sessions && session_ == 0) return open_session();
    fill();
  }

  // After a failed connection: a fresh one, and the pipeline refilled.
  void revive() {
    std::lock_guard lock(mu_);
    if (!broken_ || in_flight_ != 0) return;
    broken_ = false;
    conn_ = std::make_unique<client::Connection>(loop_, addr_);
    if (w_.config_.sessions && session_ == 0) return open_session();
    fill();
  }

  uint64_t in_flight() {
    std::lock_guard lock(mu_);
    return in_flight_;
  }

  void close() {
    std::lock_guard lock(mu_);
    conn_.reset();
  }

 private:
  // Opens this worker's session, then starts sending. Under mu_.
  void open_session() {
    conn_->submit(
        net::ClientRequest{0, net::OpenSessionCommand{}}, w_.config_.timeout,
        [this](client::Result<net::Message> r) {
          const auto* resp = r.ok() ? std::get_if<net::ClientResponse>(&*r) : nullptr;
          std::lock_guard lock(mu_);
          uint64_t id = 0;
          const std::string text = resp && resp->value ? *resp->value : "";
          const auto [end, ec] = std::from_chars(text.data(), text.data() + text.size(), id);
          if (resp == nullptr || !resp->success || ec != std::errc() ||
              end != text.data() + text.size() || id == 0) {
            note_error(r.ok() ? addr_ + ": OpenSession answered '" + text + "' " + resp_error(resp)
                              : r.error().to_string());
            broken_ = true;
            return;
          }
          session_ = id;
          if (conn_) fill();
        });
  }

  // Sends until `pipeline` requests are in flight or there is nothing more to send. Under mu_.
  void fill() {
    while (!broken_ && in_flight_ < w_.config_.pipeline && !w_.stopping_.load()) {
      if (w_.config_.requests && w_.totals_.issued.fetch_add(1) >= w_.config_.requests) break;
      send();
    }
  }

  void send() {
    std::string key = "key:" + std::to_string(std::uniform_int_distribution<uint64_t>(
                                   0, w_.config_.keys - 1)(rng_));
    bool read = std::uniform_real_distribution<double>(0, 1)(rng_) < w_.config_.read_ratio;
    net::CacheCommand cmd;
    if (!read) {
      cmd = net::PutCommand{std::move(key), value_, std::nullopt};
    } else if (w_.config_.stale_reads) {
      cmd = net::StaleGetCommand{std::move(key)};
    } else {
      cmd = net::GetCommand{std::move(key)};
    }
    in_flight_++;
    auto sent = Clock::now();
    uint64_t seq = 0;
    net::Message request = net::ClientRequest{0, std::move(cmd)};
    if (!read && session_ != 0) {
      seq = next_seq_++;
      unanswered_.insert(seq);
      request = net::SessionRequest{0, session_, seq, *unanswered_.begin(),
                                    std::move(std::get<net::ClientRequest>(request).command)};
    }
    conn_->submit(
        std::move(request), w_.config_.timeout,
        [this, sent, read, seq](client::Result<net::Message> r) { complete(r, sent, read, seq); });
  }

  void complete(const client::Result<net::Message>& r, Clock::time_point sent, bool read,
                uint64_t seq) {
    auto took = Clock::now() - sent;
    const net::ClientResponse* resp = r.ok() ? std::get_if<net::ClientResponse>(&*r) : nullptr;
    if (resp && resp->success) {
      w_.totals_.ok.fetch_add(1, std::memory_order_relaxed);
      w_.totals_.latency_ns.record(static_cast<uint64_t>(
          std::chrono::duration_cast<std::chrono::nanoseconds>(took).count()));
      if (read) {
        w_.totals_.reads.fetch_add(1, std::memory_order_relaxed);
        if (resp->value) w_.totals_.hits.fetch_add(1, std::memory_order_relaxed);
      }
    } else {
      w_.totals_.errors.fetch_add(1, std::memory_order_relaxed);
      note_error(r.ok() ? addr_ + ": " + resp_error(resp) : r.error().to_string());
    }
    std::lock_guard lock(mu_);
    in_flight_--;
    unanswered_.erase(seq);
    if (!r.ok() && r.error().kind() == client::Error::Kind::kUnreachable) broken_ = true;
    if (conn_ && !conn_->alive()) broken_ = true;  // revive() reconnects once all are back
    if (conn_) fill();
  }

  static std::string resp_error(const net::ClientResponse* resp) {
    if (!resp) return "unexpected answer";
    return resp->error.value_or("failed (no reason given)");
  }

  void note_error(std::string text) {
    std::lock_guard lock(w_.totals_.first_error_mu);
    if (w_.totals_.first_error.empty()) w_.totals_.first_error = std::move(text);
  }

  Workload& w_;
  client::EventLoop& loop_;
  const std::string addr_;
  std::mutex mu_;  // guards everything below
  std::mt19937_64 rng_;
  const std::string value_;
  std::unique_ptr<client::Connection> conn_;
  uint64_t session_ = 0;  // with Config::sessions: this worker's, once open
  uint64_t next_seq_ = 1;
  std::set<uint64_t> unanswered_;  // numbers of writes sent and not yet answered
  uint64_t in_flight_ = 0;
  bool broken_ = false;
};

Workload::Workload(Config config) : config_(std::move(config)) {
  for (size_t i = 0; i < std::max<size_t>(1, config_.threads); i++) {
    loops_.push_back(std::make_unique<client::EventLoop>());
  }
  for (size_t i = 0; i < config_.connections; i++) {
    workers_.push_back(std::make_unique<Worker>(*this, *loops_[i % loops_.size()],
                                                config_.addrs[i % config_.addrs.size()],
                                                config_.seed * 1'000'003 + i));
  }
}

Workload::~Workload() {
  stop_issuing();
  for (auto& w : workers_)
    w->close();    // connections go before their loops
  loops_.clear();  // joins the loop threads: no callback runs after this
  workers_.clear();
}

void Workload::start() {
  for (auto& w : workers_)
    w->start();
}

uint64_t Workload::in_flight() const {
  uint64_t n = 0;
  for (const auto& w : workers_)
    n += w->in_flight();
  return n;
}

void Workload::revive() {
  if (stopping_) return;
  for (auto& w : workers_)
    w->revive();
}

bool Workload::done() const {
  return config_.requests != 0 && totals_.ok + totals_.errors >= config_.requests;
}

}  // namespace cairn::bench
