#include "history.h"

#include <gtest/gtest.h>

#include <memory>
#include <random>
#include <string_view>

#include "resp_client.h"

namespace cairn::itest {

namespace {

#ifdef CAIRN_ITEST_HIREDIS
// Both the connect and every command: as long as the node's own request timeout, so a node that
// answers at all is heard (its "timeout" error and a timeout here mean the same: outcome unknown).
constexpr std::chrono::milliseconds kRespTimeout = 2s;

// True if `text` is the error `kind`, alone or followed by its detail (": ..." or " ...").
bool is_error(std::string_view text, std::string_view kind) {
  return text.substr(0, kind.size()) == kind &&
         (text.size() == kind.size() || text[kind.size()] == ':' || text[kind.size()] == ' ');
}

std::string describe_reply(const redisReply& r) {
  switch (r.type) {
    case REDIS_REPLY_ERROR:
      return "-" + std::string(r.str, r.len);
    case REDIS_REPLY_STATUS:
      return "+" + std::string(r.str, r.len);
    case REDIS_REPLY_STRING:
      return "$" + std::string(r.str, r.len);
    case REDIS_REPLY_INTEGER:
      return ":" + std::to_string(r.integer);
    case REDIS_REPLY_NIL:
      return "(nil)";
    default:
      return "reply of type " + std::to_string(r.type);
  }
}
#endif

}  // namespace

Workload::Workload(const LocalCluster& cluster, WorkloadOptions options)
    : cluster_(cluster), options_(options), nodes_(cluster.ids()) {}

Workload::~Workload() {
  stop();
}

void Workload::start() {
#ifndef CAIRN_ITEST_HIREDIS
  if (options_.protocol == Protocol::kResp) {
    ADD_FAILURE() << "the Redis-protocol workload needs hiredis (libhiredis-dev), which this "
                     "build did not find";
    return;
  }
#endif
  running_ = options_.clients;
  for (int i = 0; i < options_.clients; ++i)
    threads_.emplace_back([this, i] {
      run_client(i);
      --running_;
    });
}

bool Workload::stop() {
  const bool still_running = running_.load() == static_cast<int>(threads_.size());
  stop_ = true;
  for (auto& t : threads_)
    t.join();
  const bool ran = !threads_.empty();
  threads_.clear();
  return ran && still_running;
}

uint64_t Workload::now_us() const {
  return static_cast<uint64_t>(
      std::chrono::duration_cast<std::chrono::microseconds>(Clock::now() - origin_).count());
}

size_t Workload::succeeded_since(Mark m) const {
  std::lock_guard lock(mu_);
  size_t n = 0;
  for (const auto& [key, ops] : ops_)
    for (const auto& op : ops)
      if (op.call >= m && op.ret != sim::kNever) ++n;
  return n;
}

size_t Workload::succeeded_since(Mark m, int client) const {
  std::lock_guard lock(mu_);
  size_t n = 0;
  for (const auto& [key, ops] : ops_)
    for (const auto& op : ops)
      if (op.client == client && op.call >= m && op.ret != sim::kNever) ++n;
  return n;
}

bool Workload::progressed_since(Mark m, size_t n, std::chrono::milliseconds timeout) const {
  return LocalCluster::eventually([&] { return succeeded_since(m) >= n; }, timeout);
}

bool Workload::each_client_progressed_since(Mark m, size_t n,
                                            std::chrono::milliseconds timeout) const {
  return LocalCluster::eventually(
      [&] {
        for (int id = 0; id < options_.clients; ++id)
          if (succeeded_since(m, id) < n) return false;
        return true;
      },
      timeout);
}

std::string Workload::summary() const {
  std::string s = std::to_string(succeeded()) + " succeeded, " + std::to_string(unknown()) +
                  " with unknown outcome, " + std::to_string(failed()) + " refused";
  if (options_.protocol == Protocol::kResp)
    s += ", " + std::to_string(connections_.load()) + " connections opened";
  return s;
}

void Workload::record(const std::string& key, sim::RegisterOp op) {
  std::lock_guard lock(mu_);
  ops_[key].push_back(std::move(op));
}

void Workload::unexpected(const std::string& what) {
  std::lock_guard lock(mu_);
  ++unexpected_count_;
  if (unexpected_.size() < 10) unexpected_.push_back(what);
}

void Workload::run_client(int id) {
  if (options_.protocol == Protocol::kResp)
    run_resp_client(id);
  else
    run_native_client(id);
}

void Workload::run_native_client(int id) {
  auto c = cluster_.client(2s);
  if (!c) return;
  std::mt19937_64 rng(static_cast<uint64_t>(id) * 1000003u + 17u);
  std::uniform_real_distribution<double> coin(0, 1);
  const auto deadline = origin_ + options_.max_duration;
  for (int n = 0; !stop_.load() && Clock::now() < deadline; ++n) {
    std::this_thread::sleep_for(options_.think_time);
    const std::string key = "key" + std::to_string(rng() % static_cast<uint64_t>(options_.keys));
    sim::RegisterOp op;
    op.client = id;
    op.call = now_us();
    if (coin(rng) < options_.write_ratio) {
      op.is_write = true;
      op.value = "c" + std::to_string(id) + "-" + std::to_string(n);
      auto st = c->set(key, op.value);
      if (st.ok()) {
        op.ret = now_us();
        ++ok_;
      } else if (st.error().outcome_unknown()) {
        op.ret = sim::kNever;
        ++unknown_;
      } else {
        ++failed_;
        continue;
      }
    } else {
      auto v = c->get(key);
      if (!v.ok()) {
        ++failed_;
        continue;
      }
      op.ret = now_us();
      op.value = v->value_or("");
      ++ok_;
    }
    record(key, std::move(op));
  }
}

// A write is acknowledged by +OK alone. -TRYAGAIN and -MISCONF say it was certainly not executed;
// -ERR timeout / -ERR dropped, a lost connection and a timeout here leave its outcome unknown. A
// read is answered by a bulk string or nil; any error or lost connection simply refuses it.
void Workload::run_resp_client(int id) {
#ifdef CAIRN_ITEST_HIREDIS
  const uint64_t node = nodes_.at(static_cast<size_t>(id) % nodes_.size());
  const uint16_t port = cluster_.resp_port(node);
  const std::string who = "client " + std::to_string(id) + " (node " + std::to_string(node) + ")";
  std::mt19937_64 rng(static_cast<uint64_t>(id) * 1000003u + 17u);
  std::uniform_real_distribution<double> coin(0, 1);
  const auto deadline = origin_ + options_.max_duration;
  Context c;
  for (int n = 0; !stop_.load() && Clock::now() < deadline; ++n) {
    std::this_thread::sleep_for(options_.think_time);
    if (!c) {
      c = connect_resp(port, kRespTimeout);
      if (!c) continue;  // the node is down: try again after the pause
      ++connections_;
    }
    const std::string key = "key" + std::to_string(rng() % static_cast<uint64_t>(options_.keys));
    sim::RegisterOp op;
    op.client = id;
    op.call = now_us();
    if (coin(rng) < options_.write_ratio) {
      op.is_write = true;
      op.value = "c" + std::to_string(id) + "-" + std::to_string(n);
      Reply r = command(c.get(), {"SET", key, op.value});
      if (!r) {
        c.reset();
        op.ret = sim::kNever;
        ++unknown_;
      } else if (r->type == REDIS_REPLY_STATUS && std::string_view(r->str, r->len) == "OK") {
        op.ret = now_us();
        ++ok_;
      } else if (r->type == REDIS_REPLY_ERROR && (is_error({r->str, r->len}, "TRYAGAIN") ||
                                                  is_error({r->str, r->len}, "MISCONF"))) {
        ++failed_;
        continue;
      } else {
        // -ERR timeout / -ERR dropped; anything else is also recorded as unknown, which cannot
        // make a correct history look wrong, and fails check().
        if (r->type != REDIS_REPLY_ERROR || !(is_error({r->str, r->len}, "ERR timeout") ||
                                              is_error({r->str, r->len}, "ERR dropped")))
          unexpected(who + ": SET " + key + " answered " + describe_reply(*r));
        op.ret = sim::kNever;
        ++unknown_;
      }
    } else {
      Reply r = command(c.get(), {"GET", key});
      if (!r) {
        c.reset();
        ++failed_;
        continue;
      }
      if (r->type == REDIS_REPLY_STRING) {
        op.value.assign(r->str, r->len);
      } else if (r->type == REDIS_REPLY_NIL) {
        op.value.clear();  // absent, as the checker writes it
      } else {
        if (r->type != REDIS_REPLY_ERROR ||
            !(is_error({r->str, r->len}, "TRYAGAIN") || is_error({r->str, r->len}, "ERR timeout") ||
              is_error({r->str, r->len}, "ERR dropped")))
          unexpected(who + ": GET " + key + " answered " + describe_reply(*r));
        ++failed_;
        continue;
      }
      op.ret = now_us();
      ++ok_;
    }
    record(key, std::move(op));
  }
#else
  (void)id;
#endif
}

std::string Workload::check() const {
  std::lock_guard lock(mu_);
  if (unexpected_count_ != 0) {
    std::string out = std::to_string(unexpected_count_) + " replies no documented rule allows:";
    for (const auto& u : unexpected_)
      out += "\n  " + u;
    return out;
  }
  for (const auto& [key, ops] : ops_) {
    std::string why;
    const auto r = sim::check_register(ops, &why, 20'000'000);
    if (r == sim::CheckResult::kViolation) return "key " + key + " is not linearizable: " + why;
    if (r == sim::CheckResult::kGaveUp)
      return "key " + key + ": the checker gave up (history too large to decide)";
  }
  return {};
}

}  // namespace cairn::itest
