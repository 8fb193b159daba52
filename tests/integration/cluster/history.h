// Concurrent clients writing and reading a few keys through the native client, recording every
// operation's call and return time for the linearizability checker (tests/sim/linearizability.h).
// An operation whose outcome is unknown (timeout, lost connection, "dropped") is recorded as a
// write that may have happened at any time after its call; one that certainly did not happen (no
// leader, shutting down) is left out, as is a failed read.
//
// The clients run until stop() (the fault schedule calls it once its last fault has healed and
// the cluster has made progress since), so the work overlaps every fault by construction; they
// also stop by themselves after `max_duration`, a bound for a schedule that hangs, and stop()
// then reports that they had run out. A short pause between operations keeps each key's history
// small enough for the checker however long the schedule takes.
#pragma once

#include <atomic>
#include <chrono>
#include <map>
#include <mutex>
#include <string>
#include <thread>
#include <vector>

#include "harness.h"
#include "linearizability.h"

namespace cairn::itest {

struct WorkloadOptions {
  int clients = 4;
  int keys = 4;
  double write_ratio = 0.5;
  std::chrono::milliseconds think_time{2};      // each client's pause between operations
  std::chrono::milliseconds max_duration{90s};  // the clients stop by themselves after this
};

class Workload {
 public:
  // A point on the workload's clock (microseconds since construction).
  using Mark = uint64_t;

  Workload(const LocalCluster& cluster, WorkloadOptions options);
  ~Workload();
  void start();
  // Asks the clients to finish their current operation and waits for them. True if they were
  // still working when asked, false if they had already stopped at max_duration (the schedule
  // then did not overlap the work as it meant to).
  bool stop();

  Mark mark() const { return now_us(); }
  // Operations called at or after `m` that succeeded: acknowledged writes and answered reads.
  size_t succeeded_since(Mark m) const;
  // Polls until `n` operations called at or after `m` have succeeded; false after `timeout`.
  bool progressed_since(Mark m, size_t n, std::chrono::milliseconds timeout) const;

  // Checks every key's history; returns an empty string if all are linearizable, else the reason.
  std::string check() const;
  size_t succeeded() const { return ok_.load(); }
  size_t unknown() const { return unknown_.load(); }
  size_t failed() const { return failed_.load(); }
  // "N succeeded, N with unknown outcome, N refused", for the test's output.
  std::string summary() const;

 private:
  void run_client(int id);
  uint64_t now_us() const;

  const LocalCluster& cluster_;
  WorkloadOptions options_;
  Clock::time_point origin_ = Clock::now();
  std::atomic<bool> stop_{false};
  std::atomic<int> running_{0};
  std::vector<std::thread> threads_;
  mutable std::mutex mu_;
  std::map<std::string, std::vector<sim::RegisterOp>> ops_;
  std::atomic<size_t> ok_{0}, unknown_{0}, failed_{0};
};

}  // namespace cairn::itest
