// NodeWorld: whole cairn nodes - node::Node, the code cairn-server runs - in one process, on
// simulated time and a simulated network, run one task at a time from one thread. Each node gets a
// SimEnv (node/env.h) instead of the real world: its clock reads the world's time, its tick is an
// event of the world's queue, its peers are reached through the world's network, and its task
// queue runs only when the world runs it. Nothing waits on a real clock, so a run is a function of
// its seed and of what the test does: the same seed gives the same run, event for event.
//
// The network delivers each message after a random delay (so messages between two nodes may
// overtake each other) unless a link is cut; cuts are one-way, so partitions may be asymmetric.
// It may also lose messages at random, and deliver Raft messages twice (a transport never resends
// a forwarded write, so only the Raft core's own traffic is duplicated). A paused node runs
// nothing - no task, no tick, no delivery - until it resumes, as a process stopped by SIGSTOP or
// a stalled VM: what was sent to it waits and arrives then. Each node's wall clock (what a
// leader stamps on entries) may be skewed or jump; its monotonic clock is the world's.
//
// A node can crash (its object is destroyed at once: nothing it had not sent leaves, nothing in
// flight to it arrives) and restart from its data directory. With the log in memory (--storage
// memory) that directory holds only its term, vote and membership, so a restarted node has lost
// its log and goes through the restart rule of docs/node.md. With the log on disk (`disk`), the
// nodes' files are real files (on /dev/shm) and the world keeps, per file, how much of it a sync
// made durable: the log's syncer is an event of the world (SimLogSync), and the Wal reports its
// own syncs. A crash of the process keeps what was written; a power loss (power_off) also takes
// what no sync covered - a segment never synced is gone, the last one is cut back to its synced
// size, possibly with part of the rest left torn: cut at any byte, or zero from a sector boundary
// on. A snapshot build (Env::background) is an event a few milliseconds after it starts.
#pragma once

#include <chrono>
#include <cstdint>
#include <functional>
#include <map>
#include <memory>
#include <queue>
#include <set>
#include <string>
#include <vector>

#include "node/node.h"
#include "rng.h"

namespace cairn::sim {

using node::Clock;
class SimEnv;

struct WorldOptions {
  std::uint64_t seed = 1;
  int nodes = 3;
  // Each message takes a delay drawn from [min_delay, max_delay].
  std::chrono::microseconds min_delay{200};
  std::chrono::microseconds max_delay{3000};
  bool disk = false;  // the log on disk (--storage disk --fsync always)
};

class NodeWorld {
 public:
  explicit NodeWorld(WorldOptions options);
  // Stops every node (zero grace) and runs the world until they have.
  ~NodeWorld();
  NodeWorld(const NodeWorld&) = delete;
  NodeWorld& operator=(const NodeWorld&) = delete;

  // Node `id`, which must be up.
  node::Node& node(net::NodeId id) { return *nodes_.at(id); }
  // Every node's id, up or not: the founding nodes 1..nodes and those added since, less those
  // taken away.
  std::vector<net::NodeId> ids() const { return {ids_.begin(), ids_.end()}; }
  bool has(net::NodeId id) const { return ids_.count(id) != 0; }
  // How many times node `id` went down so far: a process's life is (id, incarnation).
  std::uint64_t incarnation(net::NodeId id) const {
    auto it = incarnation_.find(id);
    return it == incarnation_.end() ? 0 : it->second;
  }
  // Starts a new node `id` on an empty data directory, joining the cluster through node `via`
  // (cairn-server --join): it asks `via` for admission over the world's network until admitted.
  void add_node(net::NodeId id, net::NodeId via);
  // Node `id`, removed from the cluster, is gone for good: crashed if up, its data deleted.
  void take_away(net::NodeId id);
  bool up(net::NodeId id) const { return nodes_.count(id) != 0; }
  // Crashes node `id`: gone at once, its pending requests never answered. What it wrote to its
  // files stays (the OS has it).
  void crash(net::NodeId id);
  // With the log on disk: crashes node `id` with its machine, so its files lose what no sync
  // covered and may keep a torn part of it. Says what it lost.
  std::string power_off(net::NodeId id);
  // With the log on disk: node `id`, down, loses its log and snapshots (its term, vote and
  // membership stay): it restarts as a node with its log in memory does.
  void lose_log(net::NodeId id);
  // A sync made `path` of node `id` durable up to `bytes` (SimLogSync, WalOptions::synced).
  void durable(net::NodeId id, const std::string& path, std::uint64_t bytes);
  // Starts node `id` again on its data directory.
  void restart(net::NodeId id);
  Clock::time_point now() const { return now_; }

  // Runs the world's events for `d` of simulated time.
  void run_for(Clock::duration d);
  // Runs events until `done()` holds (checked after each) or `limit` of simulated time passed;
  // returns whether it held.
  bool run_until(const std::function<bool()>& done, Clock::duration limit);

  // The leader every node that is up agrees on (same leader, and that node leads), or 0.
  net::NodeId agreed_leader() const;

  // One-way link faults: messages from `from` to `to` are lost while cut.
  void cut(net::NodeId from, net::NodeId to) { cut_.insert({from, to}); }
  // Cuts every link to and from `id`.
  void isolate(net::NodeId id);
  void heal_all() { cut_.clear(); }
  // Random loss of every message, and duplication of Raft messages, per 10,000.
  void set_loss(std::uint64_t per_10000) { loss_ = per_10000; }
  void set_duplication(std::uint64_t per_10000) { duplication_ = per_10000; }
  // Stops node `id` for `d`: nothing of it runs, nothing reaches it, until then.
  void pause(net::NodeId id, Clock::duration d);
  bool paused(net::NodeId id) const;
  Clock::time_point paused_until(net::NodeId id) const;
  // Moves node `id`'s wall clock by `delta` (it may go back).
  void skew(net::NodeId id, std::chrono::milliseconds delta);
  // Called after each event, once the nodes' tasks have run (the simulator's checks).
  void after_each_event(std::function<void()> hook) { after_event_ = std::move(hook); }

  // Messages delivered and lost so far, and events run (with the time, what makes two runs
  // comparable).
  std::uint64_t delivered() const { return delivered_; }
  std::uint64_t lost() const { return lost_; }
  std::uint64_t events() const { return events_; }
  // Snapshot chunks sent (a node catching up from a snapshot, not the log).
  std::uint64_t snapshot_chunks() const { return snapshot_chunks_; }
  // Power losses that left part of a log's unsynced tail (a torn write for its restart to cut).
  std::uint64_t torn_tails() const { return torn_tails_; }
  // Of those, the ones whose last sectors were left unwritten (zeros) rather than cut.
  std::uint64_t zeroed_tails() const { return zeroed_tails_; }
  void count_snapshot_chunk() { ++snapshot_chunks_; }

  // Used by SimEnv and SimTransport.
  void schedule(Clock::duration after, std::function<void()> fn);
  // `raft`: a Raft message, which the network may duplicate.
  void send(net::NodeId from, net::NodeId to, bool raft, std::function<void(node::Node&)> deliver);
  std::uint64_t random() { return rng_.next(); }

  // Runs every node's ready tasks now: what a test posted from outside the world (a request to a
  // node) is handled at once, as a node's running loop would, not at the next event.
  void run_tasks();

 private:
  struct Event {
    Clock::time_point at;
    std::uint64_t seq;
    std::function<void()> fn;
  };
  struct Later {
    bool operator()(const Event& a, const Event& b) const {
      return a.at != b.at ? a.at > b.at : a.seq > b.seq;
    }
  };
  // Runs the next event, then every node's ready tasks. False when no event is left.
  bool run_one(Clock::time_point limit);
  void deliver_at(Clock::time_point at, net::NodeId from, net::NodeId to,
                  std::shared_ptr<std::function<void(node::Node&)>> deliver);

  WorldOptions options_;
  Rng rng_;
  Clock::time_point now_{std::chrono::hours(1)};  // any fixed origin
  std::priority_queue<Event, std::vector<Event>, Later> events_queue_;
  std::uint64_t next_seq_ = 0;
  void start_node(net::NodeId id);
  std::string dir_of(net::NodeId id) const { return root_ + "/node-" + std::to_string(id); }

  std::set<net::NodeId> ids_;                  // see ids()
  std::map<net::NodeId, net::NodeId> joined_;  // added nodes: the node each joins through
  std::string root_;                           // the nodes' data directories
  std::map<net::NodeId, std::unique_ptr<node::Node>> nodes_;  // those up
  std::map<net::NodeId, SimEnv*> envs_;                       // each owned by its node
  std::map<net::NodeId, std::uint64_t> incarnation_;          // restarts so far
  // With the log on disk, per node: each log segment's bytes that a sync made durable.
  std::map<net::NodeId, std::map<std::string, std::uint64_t>> durable_;
  std::map<net::NodeId, Clock::time_point> paused_until_;
  std::set<std::pair<net::NodeId, net::NodeId>> cut_;
  std::uint64_t loss_ = 0;
  std::uint64_t duplication_ = 0;
  std::function<void()> after_event_;
  std::uint64_t delivered_ = 0;
  std::uint64_t lost_ = 0;
  std::uint64_t events_ = 0;
  std::uint64_t snapshot_chunks_ = 0;
  std::uint64_t torn_tails_ = 0;
  std::uint64_t zeroed_tails_ = 0;
};

}  // namespace cairn::sim
