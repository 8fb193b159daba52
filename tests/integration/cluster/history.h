// Concurrent clients writing and reading a few keys through the native client, recording every
// operation's call and return time for the linearizability checker (tests/sim/linearizability.h).
// An operation whose outcome is unknown (timeout, lost connection, "dropped") is recorded as a
// write that may have happened at any time after its call; one that certainly did not happen (no
// leader, shutting down) is left out, as is a failed read.
#pragma once

#include <atomic>
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
  int max_ops_per_client = 400;  // bound on the work, whatever the faults
  double write_ratio = 0.5;
};

class Workload {
 public:
  Workload(const LocalCluster& cluster, WorkloadOptions options);
  ~Workload();
  void start();
  // Asks the clients to finish their current operation and waits for them.
  void stop();

  // Checks every key's history; returns an empty string if all are linearizable, else the reason.
  std::string check() const;
  size_t succeeded() const { return ok_.load(); }
  size_t unknown() const { return unknown_.load(); }
  size_t failed() const { return failed_.load(); }

 private:
  void run_client(int id);
  uint64_t now_us() const;

  const LocalCluster& cluster_;
  WorkloadOptions options_;
  Clock::time_point origin_ = Clock::now();
  std::atomic<bool> stop_{false};
  std::vector<std::thread> threads_;
  mutable std::mutex mu_;
  std::map<std::string, std::vector<sim::RegisterOp>> ops_;
  std::atomic<size_t> ok_{0}, unknown_{0}, failed_{0};
};

}  // namespace cairn::itest
