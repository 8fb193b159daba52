// NodeConfig: everything a Node needs to know at start, already validated by the caller (the
// flags and config file parsing in tools/cairn-server check each value and say what is wrong).
#pragma once

#include <chrono>
#include <cstdint>
#include <functional>
#include <map>
#include <string>

#include "cache/engine.h"
#include "net/messages.h"

namespace cairn::node {

struct NodeConfig {
  net::NodeId id = 1;
  std::string listen = "127.0.0.1:9000";  // native protocol, clients and peers alike
  // The initial cluster, this node included, id -> native address. Empty: a single-node cluster
  // of this node alone (unless `join` is set).
  std::map<net::NodeId, std::string> peers;
  // Address of any member of a running cluster to ask for admission; the node then starts with
  // no membership of its own and learns it from the leader's snapshot.
  std::string join;
  // Names the cluster instead of the founding members' addresses (identity.h), for founders that
  // see each other at different addresses; every founder must be given the same one.
  std::string cluster_token;
  // Holds the small Raft hard state (term and vote); see docs/node.md, "Restarts". With
  // `durable`, also the write-ahead log and snapshot files (docs/storage.md).
  std::string data_dir;
  // Keep the log and snapshots on disk (--storage disk): a restarted node has its log back.
  bool durable = false;
  // With `durable`: fdatasync before anything that depends on a write leaves the node
  // (--fsync always); off, data is handed to the OS only (survives a process crash, not a
  // machine's).
  bool fsync = true;
  uint64_t wal_segment_bytes = 64ull << 20;

  std::chrono::milliseconds tick{100};
  int election_ticks = 10;  // election timeout: [10, 20) ticks = 1-2 s by default
  int heartbeat_ticks = 1;

  bool forward = true;  // followers forward writes to the leader; off: "not leader" + hint
  uint32_t max_hops = 3;
  std::chrono::milliseconds request_timeout{5000};
  // Writes proposed as one log entry, at most: this many, or this many bytes (the last write may
  // pass it). The queue is drained every loop turn, so batches grow with the load.
  size_t max_batch = 4096;
  size_t max_batch_bytes = 1 << 20;
  // Requests waiting for the log (queued or proposed, unapplied) before new ones get "busy".
  size_t max_pending = 100'000;
  // Compact the log once this many entries, or this many bytes of them, are applied past the last
  // compaction. With the log in memory a snapshot of the state is built only when a follower
  // needs one (it lags behind the compacted log, or joins); on disk one is built first, and the
  // log released behind it. Either way on a thread of its own (snapshot_builder.h).
  uint64_t snapshot_entries = 100'000;
  uint64_t compact_bytes = 64u << 20;
  // Entries kept behind a compaction so slightly lagging followers still catch up from the log
  // (at most compact_bytes / 4 of them).
  uint64_t log_tail_entries = 1'000;
  // A snapshot file that could not be written (a full disk) is tried again after this long: each
  // attempt is a whole build.
  std::chrono::milliseconds snapshot_retry_delay{10'000};
  // A snapshot travels to a follower in chunks of this size (docs/node.md, "Snapshot transfer").
  size_t snapshot_chunk_bytes = 1 << 20;
  // The leader proposes a clock tick when no write has carried time for this long, so expiry
  // advances on every replica even when nobody writes.
  std::chrono::milliseconds clock_tick{500};

  cache::Config cache;

  // Testing knob, unset in production: called on the snapshot builder's thread once it holds the
  // capture, before it streams. Tests hold a build there to show the node goes on meanwhile.
  std::function<void()> snapshot_build_started;
  // Testing knob, unset in production: called on the log syncer's thread before each sync.
  std::function<void()> log_sync_started;
  // Testing knob, unset in production: storage::WalOptions::synced.
  std::function<void(const std::string& path, uint64_t bytes)> wal_synced;
};

}  // namespace cairn::node
