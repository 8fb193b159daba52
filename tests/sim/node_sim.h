// The whole-node simulator: from one seed, a NodeWorld (node_world.h) of whole cairn nodes under a
// random schedule of faults - message loss, Raft messages duplicated, delays that reorder,
// partitions (one-way, isolations, majority/minority splits), nodes paused for seconds, wall
// clocks skewed and jumping, leadership transfers, graceful shutdowns, a node crashed and
// restarted without its log (the log in memory; its term, vote and membership on disk) or, with
// the log on a simulated disk, crashes and power losses of any number of nodes that keep only
// what was synced - while clients write,
// increment and read
// linearizably through the nodes' request API, each through a node of its choosing (followers
// forward).
//
// After every event of the world it checks: one leader per term; an entry committed at an index
// is the same entry on every node and never changes; replicas that have applied the same index
// hold the same keys and values; no request is answered twice. At the end it heals every fault and
// requires, within a bound of simulated time, one leader that every node follows, every request
// answered, and every replica at the same index with the same state; then it checks each key's
// history for linearizability (linearizability.h), and that increments were answered distinct
// values that the counter accounts for.
//
// Same seed, same run (node_world.h). Single-threaded.
#pragma once

#include <chrono>
#include <cstdint>
#include <string>
#include <vector>

namespace cairn::sim {

struct NodeSimOptions {
  std::uint64_t seed = 1;
  int nodes = 3;
  std::chrono::milliseconds duration{20'000};  // simulated time of faults and load
  bool trace = false;                          // keep a readable trace of the last lines
  std::size_t trace_lines = 120;
  std::size_t checker_max_states = 2'000'000;
  // The log on the simulated disk (--storage disk --fsync always), with crashes that lose what
  // was not synced; otherwise in memory, every crash losing it.
  bool disk = false;
};

struct NodeSimStats {
  std::uint64_t writes_ok = 0;            // acknowledged SETs
  std::uint64_t incrs_ok = 0;             // acknowledged increments
  std::uint64_t cas_ok = 0;               // compare-and-sets answered (swapped or not)
  std::uint64_t cas_swapped = 0;          // of those, the ones that swapped
  std::uint64_t expiring_puts_ok = 0;     // acknowledged puts with a time to live
  std::uint64_t expirations = 0;          // keys expired, on the first node at the end
  std::uint64_t reads_ok = 0;             // completed linearizable reads
  std::uint64_t stale_reads = 0;          // reads served from a node's applied state
  std::uint64_t stale_reads_checked = 0;  // of those, compared with the replicas' state there
  std::uint64_t unknown = 0;       // writes answered with an error: they may or may not apply
  std::uint64_t incr_resends = 0;  // increments sent again under their session number
  std::uint64_t repeats = 0;       // of those, answered from the session table (not applied)
  std::uint64_t leaders = 0;       // distinct (term, leader) pairs seen
  std::uint64_t faults = 0;        // faults injected
  std::uint64_t pauses = 0;
  std::uint64_t crashes = 0;
  std::uint64_t shutdowns = 0;             // graceful, with a drawn grace
  std::uint64_t membership_changes = 0;    // nodes replaced: one removed, then one added
  std::uint64_t nodes_added = 0;           // of those, completed: the new node votes
  std::uint64_t power_losses = 0;          // on disk: crashes that lost what was not synced
  std::uint64_t cluster_power_losses = 0;  // on disk: of every node at once
  std::uint64_t logs_lost = 0;             // on disk: a node back without log and snapshots
  std::uint64_t torn_tails = 0;            // on disk: power losses that left a torn log tail
  std::uint64_t zeroed_tails = 0;          // of those, with its last sectors zeros
  std::uint64_t messages_lost = 0;
  std::uint64_t snapshot_chunks = 0;  // sent to nodes catching up from a snapshot
  std::uint64_t committed = 0;        // highest commit index reached
  std::uint64_t keys_checked = 0;     // key histories given to the checker
  std::uint64_t keys_undecided = 0;

  void add(const NodeSimStats& o) {
    writes_ok += o.writes_ok;
    incrs_ok += o.incrs_ok;
    cas_ok += o.cas_ok;
    cas_swapped += o.cas_swapped;
    expiring_puts_ok += o.expiring_puts_ok;
    expirations += o.expirations;
    reads_ok += o.reads_ok;
    stale_reads += o.stale_reads;
    stale_reads_checked += o.stale_reads_checked;
    unknown += o.unknown;
    incr_resends += o.incr_resends;
    repeats += o.repeats;
    leaders += o.leaders;
    faults += o.faults;
    pauses += o.pauses;
    crashes += o.crashes;
    shutdowns += o.shutdowns;
    membership_changes += o.membership_changes;
    nodes_added += o.nodes_added;
    power_losses += o.power_losses;
    cluster_power_losses += o.cluster_power_losses;
    logs_lost += o.logs_lost;
    torn_tails += o.torn_tails;
    zeroed_tails += o.zeroed_tails;
    messages_lost += o.messages_lost;
    snapshot_chunks += o.snapshot_chunks;
    committed += o.committed;
    keys_checked += o.keys_checked;
    keys_undecided += o.keys_undecided;
  }
};

struct NodeSimResult {
  bool ok = true;
  std::string violation;
  std::int64_t at_ms = 0;          // simulated time of the violation, from the start
  std::vector<std::string> trace;  // with NodeSimOptions::trace
  std::string config;              // what the seed drew
  NodeSimStats stats;
};

NodeSimResult run_node_simulation(const NodeSimOptions& options);

}  // namespace cairn::sim
