// Internals of the simulator shared by simulator.cc (setup, the loop, faults, clients) and
// sim_checks.cc (safety checks, liveness, the history check). Not part of any API.
// Single-threaded.
#pragma once

#include <cstdint>
#include <cstdio>
#include <deque>
#include <map>
#include <memory>
#include <queue>
#include <set>
#include <string>
#include <unordered_map>
#include <vector>

#include "kv_model.h"
#include "linearizability.h"
#include "raft/raw_node.h"
#include "rng.h"
#include "simulator.h"

namespace cairn::sim::detail {

using raft::ConfState;
using raft::Entry;
using raft::Index;
using raft::Message;
using raft::NodeId;
using raft::Role;
using raft::Term;

constexpr std::uint64_t kTickEvery = 10;       // time units per node tick
constexpr std::uint64_t kClientTimeout = 800;  // a client gives up on an op after this long
constexpr int kClients = 4;
constexpr Term kUnknownTerm = ~Term{0};  // predecessor compacted away: nothing to compare
constexpr int kKeys = 3;
constexpr Index kSnapshotEvery = 40;  // applied entries between a node's snapshots
constexpr Index kKeepAfterSnapshot = 8;
constexpr std::uint64_t kLivenessBudget = 1500;  // time units after healing (150 ticks)

using sim::Rng;

struct InFlight {
  std::uint64_t at;
  std::uint64_t seq;
  Message m;
};
struct Later {
  bool operator()(const InFlight& a, const InFlight& b) const {
    return a.at != b.at ? a.at > b.at : a.seq > b.seq;
  }
};

struct PendingOp {
  int client = 0;
  bool is_write = false;
  std::string key;
  NodeId node = 0;
  std::uint64_t call = 0;
  std::size_t hist = 0;  // index in history_[key]
};

struct HistOp {
  RegisterOp op;
  bool dropped = false;  // a read that never completed (no effect): left out of the check
};

struct SimNode {
  NodeId id = 0;
  std::unique_ptr<raft::MemStorage> storage;
  std::unique_ptr<raft::RawNode> rn;
  bool up = true;
  KvState kv;
  Index applied = 0;
  ConfState conf;  // membership as of `applied`
  Index snap_index = 0;
  std::map<std::string, std::uint64_t> reads;              // ReadIndex ctx -> op id
  std::vector<std::pair<Index, std::string>> ready_reads;  // (read index, ctx) awaiting apply
  std::uint64_t tick_offset = 0;
  Index checked_commit = 0;
  Role last_role = Role::kFollower;
  Term last_term = 0;
};

std::string msg_str(const Message& m);

inline std::size_t entry_hash(const Entry& e) {
  return std::hash<std::string>()(e.data()) * 31u + static_cast<std::size_t>(e.entry_type());
}

class Simulator {
 public:
  explicit Simulator(const SimOptions& o) : opts_(o), rng_(o.seed * 0x2545F4914F6CDD1DULL + 1) {}
  SimResult run();

 private:
  // ---- setup ----
  void draw_knobs();
  raft::Config config_for(NodeId id) const;
  void start_node(SimNode& n);

  // ---- the loop ----
  void step(bool faults);
  void tick_nodes();
  void deliver_due();
  void handle_ready(SimNode& n);
  void apply_entry(SimNode& n, const Entry& e);
  void serve_reads(SimNode& n);
  void maybe_snapshot(SimNode& n);
  void send(Message m);

  // ---- faults and actors ----
  void inject_fault();
  void crash(SimNode& n);
  void restart(SimNode& n);
  void change_membership();
  void run_clients();
  void expire_ops();
  void complete(std::uint64_t op_id, const std::string& read_value);

  // ---- checks ----
  void check_invariants();
  void check_log_matching();
  void check_committed(SimNode& n);
  bool liveness_phase();
  void check_history();

  SimNode* leader();
  SimNode* random_up();
  bool blocked(NodeId from, NodeId to) const { return cuts_.count({from, to}) != 0; }
  void fail(const std::string& why) {
    if (result_.ok) {
      result_.ok = false;
      result_.violation = why;
      result_.time = now_;
      trace("VIOLATION: " + why);
    }
  }
  void trace(const std::string& line) {
    if (!opts_.trace) return;
    if (opts_.live_trace)
      std::fprintf(stderr, "t=%llu %s\n", static_cast<unsigned long long>(now_), line.c_str());
    trace_.push_back("t=" + std::to_string(now_) + " " + line);
    if (trace_.size() > opts_.trace_lines) trace_.pop_front();
  }

  SimOptions opts_;
  Rng rng_;
  SimResult result_;
  std::deque<std::string> trace_;
  std::uint64_t now_ = 0;
  std::map<NodeId, SimNode> nodes_;
  ConfState bootstrap_;

  // Knobs drawn per seed.
  std::uint64_t drop_ = 0, dup_ = 0, long_delay_ = 0;  // per 10000
  bool pre_vote_ = true, check_quorum_ = true;
  std::size_t max_inflight_ = 256;
  std::uint64_t max_msg_size_ = 1 << 20;
  std::uint64_t max_uncommitted_ = raft::kNoLimit;

  // Network.
  std::priority_queue<InFlight, std::vector<InFlight>, Later> net_;
  std::uint64_t seq_ = 0;
  std::set<std::pair<NodeId, NodeId>> cuts_;

  // Clients and history.
  std::uint64_t next_op_ = 1;
  std::map<int, std::uint64_t> busy_;  // client -> op id in flight (absent = idle)
  std::map<std::uint64_t, PendingOp> pending_;
  std::map<std::string, std::vector<HistOp>> history_;
  std::map<std::uint64_t, std::set<NodeId>> markers_;  // marker op -> nodes that applied it

  // Invariant state.
  std::map<Term, NodeId> leader_of_term_;
  std::unordered_map<Index, std::pair<Term, std::size_t>> committed_;  // index -> (term, hash)
  std::map<std::pair<Index, Term>, std::size_t> appended_;             // (index, term) -> hash
  std::map<std::pair<Index, Term>, Term> prev_term_;  // (index, term) -> term of index-1
};

}  // namespace cairn::sim::detail
