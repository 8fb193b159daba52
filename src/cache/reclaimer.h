// Reclaimer: frees, on a thread of its own, what a flush took out of the keyspace, so FLUSHALL
// costs the apply thread the same whether it drops ten keys or ten million (Redis calls this
// lazy freeing). Owned by the Engine; the thread starts with the first job and is joined, after
// finishing every queued job, by the destructor.
//
// Thread safety: post() and pending() from any thread.
#pragma once

#include <atomic>
#include <condition_variable>
#include <cstddef>
#include <deque>
#include <functional>
#include <mutex>
#include <thread>

namespace cairn::cache {

class Reclaimer {
 public:
  Reclaimer() = default;
  ~Reclaimer();
  Reclaimer(const Reclaimer&) = delete;
  Reclaimer& operator=(const Reclaimer&) = delete;

  // Queues `job`, which frees `objects` things (for pending()).
  void post(std::function<void()> job, size_t objects);
  // Objects queued or being freed (INFO's lazyfree_pending_objects).
  size_t pending() const { return pending_.load(std::memory_order_relaxed); }
  // Blocks until every job posted so far has run (tests).
  void wait_idle();

 private:
  void run();

  std::mutex mu_;
  std::condition_variable wake_;
  std::condition_variable idle_;
  std::deque<std::pair<std::function<void()>, size_t>> jobs_;  // guarded by mu_
  bool busy_ = false;                                          // guarded by mu_
  bool stopping_ = false;                                      // guarded by mu_
  std::atomic<size_t> pending_{0};
  std::thread thread_;  // started by the first post()
};

}  // namespace cairn::cache
