#include "history.h"

#include <random>

namespace cairn::itest {

Workload::Workload(const LocalCluster& cluster, WorkloadOptions options)
    : cluster_(cluster), options_(options) {}

Workload::~Workload() {
  stop();
}

void Workload::start() {
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

bool Workload::progressed_since(Mark m, size_t n, std::chrono::milliseconds timeout) const {
  return LocalCluster::eventually([&] { return succeeded_since(m) >= n; }, timeout);
}

std::string Workload::summary() const {
  return std::to_string(succeeded()) + " succeeded, " + std::to_string(unknown()) +
         " with unknown outcome, " + std::to_string(failed()) + " refused";
}

void Workload::run_client(int id) {
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
    std::lock_guard lock(mu_);
    ops_[key].push_back(std::move(op));
  }
}

std::string Workload::check() const {
  std::lock_guard lock(mu_);
  for (const auto& [key, ops] : ops_) {
    std::string why;
    const auto r = sim::check_register(ops, &why, 20'000'000);
    if (r == sim::CheckResult::kViolation)
      return "key " + key + " is not linearizable: " + why + "\n" + sim::describe(ops);
    if (r == sim::CheckResult::kGaveUp)
      return "key " + key + ": the checker gave up (history too large to decide)";
  }
  return {};
}

}  // namespace cairn::itest
