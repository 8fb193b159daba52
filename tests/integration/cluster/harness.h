// Real cairn-server processes on 127.0.0.1 for the cluster tests: start, kill -9, stop/continue,
// restart, ask for status. Every process is started by the test and stopped by its PID; nothing
// else on the machine is touched. Waits poll with a deadline, never sleep-and-hope.
#pragma once

#include <sys/types.h>

#include <chrono>
#include <cstdint>
#include <functional>
#include <map>
#include <memory>
#include <optional>
#include <string>
#include <utility>
#include <vector>

#include "client/client.h"
#include "proxy.h"

namespace cairn::itest {

using namespace std::chrono_literals;
using Clock = std::chrono::steady_clock;

// A port nothing listens on now, below the kernel's ephemeral range (so outgoing connections
// cannot take it) and spread by PID so tests running side by side rarely meet. Never the same
// port twice in one process: a node's ports are bound only once its process starts, so a port
// that is free now may already be promised to another node.
uint16_t free_port();

// A fresh directory under $TMPDIR, removed with everything in it on destruction.
class TempDir {
 public:
  TempDir();
  ~TempDir();
  const std::string& path() const { return path_; }

 private:
  std::string path_;
};

// One cairn-server process. The destructor kills it (SIGKILL) if it still runs.
class ServerProcess {
 public:
  ServerProcess(std::string binary, std::vector<std::string> args, std::string log_path);
  ~ServerProcess();
  ServerProcess(const ServerProcess&) = delete;
  ServerProcess& operator=(const ServerProcess&) = delete;

  void start();
  void signal(int sig);  // SIGKILL, SIGSTOP, SIGCONT, SIGTERM
  // Waits for the process to exit; its exit code (128+signal if killed), or nullopt on timeout.
  std::optional<int> wait_exit(std::chrono::milliseconds timeout);
  bool running() const { return pid_ > 0; }
  pid_t pid() const { return pid_; }
  const std::string& log_path() const { return log_; }
  std::string log_tail(size_t bytes = 3000) const;

 private:
  std::string binary_;
  std::vector<std::string> args_;
  std::string log_;
  pid_t pid_ = -1;
};

struct ClusterOptions {
  int nodes = 3;
  int tick_ms = 20;
  int election_ticks = 10;
  uint64_t snapshot_entries = 20'000;
  int request_timeout_ms = 2000;
  // Route every node-to-node connection through a FaultProxy so tests can partition the nodes.
  bool proxied = false;
  // --storage: the fault tests run with the log in memory, so a restarted node has lost it and
  // the restart rule (docs/node.md, "Restarts") is exercised; durable tests choose "disk", the
  // server's default.
  std::string storage = "memory";
  std::vector<std::string> extra_args;
};

// N nodes with ids 1..N forming one cluster through --peers.
class LocalCluster {
 public:
  explicit LocalCluster(ClusterOptions options);
  ~LocalCluster();

  std::string addr(uint64_t id) const { return "127.0.0.1:" + std::to_string(ports_.at(id)); }
  // Node `id`'s RESP (Redis protocol) port: fixed when the node is first started and kept across
  // restart(), so a Redis client can reconnect to a node that was killed and started again.
  uint16_t resp_port(uint64_t id) const { return resp_ports_.at(id); }
  std::string resp_addr(uint64_t id) const {
    return "127.0.0.1:" + std::to_string(resp_ports_.at(id));
  }
  std::vector<std::string> addrs() const;
  ServerProcess& process(uint64_t id) { return *procs_.at(id); }
  // Node `id`'s --data-dir.
  std::string data_dir(uint64_t id) const;
  std::vector<uint64_t> ids() const;
  // Every node but `id`.
  std::vector<uint64_t> others(uint64_t id) const;

  // Restarts a stopped node with the same flags (its data directory keeps only term and vote).
  void restart(uint64_t id);
  // Starts a new node `id` that joins through `via` (an existing member's id).
  void start_joiner(uint64_t id, uint64_t via);

  // The status one node reports, or nullopt if it does not answer within `timeout`.
  std::optional<net::StatusResponse> status(uint64_t id, std::chrono::milliseconds timeout = 1s);
  // Polls until the running nodes in `among` (default: all running) agree on one leader that is
  // itself among them and says it leads; returns its id, or 0 after `timeout`.
  uint64_t wait_for_leader(std::chrono::milliseconds timeout, std::vector<uint64_t> among = {});
  // As wait_for_leader, for a leader whose term is above `above_term` (one elected after a fault
  // that began in that term); its id and term, or {0, 0} after `timeout`.
  struct Leadership {
    uint64_t id = 0;
    uint64_t term = 0;
  };
  Leadership wait_for_leadership(std::chrono::milliseconds timeout,
                                 std::vector<uint64_t> among = {}, uint64_t above_term = 0);
  // Polls `pred` every 10 ms until it holds or `timeout` passes.
  static bool eventually(const std::function<bool()>& pred, std::chrono::milliseconds timeout);

  // A client of the whole cluster (every running node a seed).
  std::unique_ptr<client::Client> client(std::chrono::milliseconds request_timeout = 3s) const;
  // A client bound to one node (no other seeds), e.g. for stale reads there.
  std::unique_ptr<client::Client> client_of(uint64_t id,
                                            std::chrono::milliseconds request_timeout = 3s) const;

  // Largest election timeout the nodes may draw (2 * election_ticks * tick).
  std::chrono::milliseconds max_election_timeout() const {
    return std::chrono::milliseconds(2 * options_.election_ticks * options_.tick_ms);
  }
  // With `proxied`: cuts (or heals) the traffic from node `from` to node `to`.
  void cut(uint64_t from, uint64_t to, bool cut = true);
  // Cuts every link between the two groups, both ways; heal() restores all links.
  void partition(const std::vector<uint64_t>& a, const std::vector<uint64_t>& b);
  void heal();

  // Logs of every node, for a failure message; a node that died on its own adds its exit status.
  std::string logs() const;

 private:
  std::vector<std::string> args_for(uint64_t id, const std::string& membership) const;

  ClusterOptions options_;
  TempDir dir_;
  std::string peers_;
  std::map<uint64_t, uint16_t> ports_;
  std::map<uint64_t, uint16_t> resp_ports_;
  std::map<uint64_t, std::vector<std::string>> args_;
  std::map<uint64_t, std::unique_ptr<ServerProcess>> procs_;
  std::map<std::pair<uint64_t, uint64_t>, std::unique_ptr<FaultProxy>> proxies_;
};

// Writes `key` through node `id` alone and reads it back with a linearizable read there: proof
// that the node serves, independent of where other clients' connections are stuck. Empty if both
// succeeded, else what failed.
std::string write_and_read_through(LocalCluster& cluster, uint64_t id, const std::string& key);

// Writes keys prefix0..prefix{n-1} (value "v<i>"), every one acknowledged (a gtest assertion).
void write_keys(client::Client& c, const std::string& prefix, int n);
// Every key prefix0..prefix{n-1} reads back with its value through a linearizable read.
void expect_keys(client::Client& c, const std::string& prefix, int n);

// Output (stdout and stderr) and exit status of a shell command; -1 if it did not exit normally.
std::pair<std::string, int> run_command(const std::string& cmd);

// The cairn-server binary under test (set from the command line by main()).
const std::string& server_binary();

}  // namespace cairn::itest

// How the fault tests here are built (fault_test.cc, partition_test.cc):
// - The Workload (history.h) runs until the schedule calls stop(), after its last fault has
//   healed and operations called after the heal have succeeded; a hard max_duration bounds it,
//   and stop() reports whether the clients were still running, so a schedule that outlived its
//   workload fails instead of passing with an idle cluster.
// - Every phase takes a Workload::mark() and requires progressed_since(mark, n) before the next
//   fault: progress after each fault, not a total that the first phase alone may reach.
// - Every fault is checked for its effect, by asking the nodes' status: a leader in a later term
//   (wait_for_leadership with above_term) after the leader is killed, paused or cut off; a paused
//   follower that catches up; a leader keeping its role and term through a one-way cut; no
//   linearizable read served on a cut-off side.
// - The client library keeps sending to the node it knows while that node is frozen or answers
//   "no leader", so the workload's clients may all wait out a fault; service during the fault is
//   then shown by write_and_read_through() on the new leader, not by the workload.
// - Each test's comment names the deliberate break of the code it was run against and failed.
// - Waits are bounded but generous (30 s): sanitizer builds on a busy machine are slow, and no
//   test asserts how fast an election or a catch-up is.
