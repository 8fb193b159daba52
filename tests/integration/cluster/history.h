// Concurrent clients writing and reading a few keys, recording every operation's call and return
// time for the linearizability checker (tests/sim/linearizability.h). An operation whose outcome
// is unknown (timeout, lost connection, "dropped") is recorded as a write that may have happened
// at any time after its call; one that certainly did not happen (no leader, shutting down) is left
// out, as is a failed read.
//
// The clients speak either the native protocol (each a client::Client of the whole cluster) or
// the Redis protocol (each a hiredis connection to one node's RESP port, the clients spread over
// every node), mapping that protocol's errors to the same three outcomes (docs/resp.md, "Cluster
// failures").
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

enum class Protocol {
  kNative,  // client::Client, every running node a seed
  // hiredis: client i connects to node ids()[i % nodes] alone, and after any connection error
  // (the node may have been killed) reconnects to that same node, pausing think_time between
  // attempts. Needs the test built with hiredis (CAIRN_ITEST_HIREDIS).
  kResp,
};

struct WorkloadOptions {
  Protocol protocol = Protocol::kNative;
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
  // As progressed_since, but every client must have `n` successes of its own: with kResp, proof
  // that every node serves its Redis clients, not only the node one client happens to reach.
  bool each_client_progressed_since(Mark m, size_t n, std::chrono::milliseconds timeout) const;

  // Checks every key's history; returns an empty string if all are linearizable, else the reason.
  // A reply the protocol's documentation does not allow for the command (recorded as an unknown
  // outcome, so it cannot make a correct history look wrong) fails the check too.
  std::string check() const;
  size_t succeeded() const { return ok_.load(); }
  size_t unknown() const { return unknown_.load(); }
  size_t failed() const { return failed_.load(); }
  // "N succeeded, N with unknown outcome, N refused" (and with kResp, how many connections the
  // clients opened), for the test's output.
  std::string summary() const;

 private:
  void run_client(int id);
  void run_native_client(int id);
  void run_resp_client(int id);
  void record(const std::string& key, sim::RegisterOp op);
  void unexpected(const std::string& what);
  size_t succeeded_since(Mark m, int client) const;
  uint64_t now_us() const;

  const LocalCluster& cluster_;
  WorkloadOptions options_;
  std::vector<uint64_t> nodes_;  // the cluster's ids when the workload was made (kResp)
  Clock::time_point origin_ = Clock::now();
  std::atomic<bool> stop_{false};
  std::atomic<int> running_{0};
  std::vector<std::thread> threads_;
  mutable std::mutex mu_;
  std::map<std::string, std::vector<sim::RegisterOp>> ops_;
  std::vector<std::string> unexpected_;  // the first few replies no documented rule allows
  size_t unexpected_count_ = 0;
  std::atomic<size_t> ok_{0}, unknown_{0}, failed_{0}, connections_{0};
};

}  // namespace cairn::itest
