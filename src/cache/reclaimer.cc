// Reclaimer (see reclaimer.h).
#include "cache/reclaimer.h"

#include <utility>

namespace cairn::cache {

Reclaimer::~Reclaimer() {
  {
    std::lock_guard lock(mu_);
    stopping_ = true;
  }
  wake_.notify_one();
  if (thread_.joinable()) thread_.join();
}

void Reclaimer::post(std::function<void()> job, size_t objects) {
  pending_.fetch_add(objects, std::memory_order_relaxed);
  {
    std::lock_guard lock(mu_);
    jobs_.emplace_back(std::move(job), objects);
    if (!thread_.joinable()) thread_ = std::thread([this] { run(); });
  }
  wake_.notify_one();
}

void Reclaimer::wait_idle() {
  std::unique_lock lock(mu_);
  idle_.wait(lock, [this] { return jobs_.empty() && !busy_; });
}

void Reclaimer::run() {
  std::unique_lock lock(mu_);
  for (;;) {
    wake_.wait(lock, [this] { return stopping_ || !jobs_.empty(); });
    if (jobs_.empty()) return;  // stopping, and every job has run
    auto [job, objects] = std::move(jobs_.front());
    jobs_.pop_front();
    busy_ = true;
    lock.unlock();
    job();
    job = nullptr;  // whatever the job captured is freed here, outside the lock
    pending_.fetch_sub(objects, std::memory_order_relaxed);
    lock.lock();
    busy_ = false;
    if (jobs_.empty()) idle_.notify_all();
  }
}

}  // namespace cairn::cache
