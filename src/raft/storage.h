// Storage: what the Raft core reads of the persisted log, and MemStorage, an in-memory store.
//
// The core only reads through Storage; the caller writes (append entries, set hard state, apply
// snapshots) while handling a Ready, before it calls advance(). A durable store implements the same
// interface (see docs/raft.md). Threading: MemStorage is not internally synchronized; the owner of
// the RawNode serializes every call.
#pragma once

#include <utility>
#include <vector>

#include "raft/types.h"

namespace cairn::raft {

struct RaftState {
  HardState hard_state;
  ConfState conf_state;
};

class Storage {
 public:
  virtual ~Storage() = default;
  // Hard state and conf state as of the last persisted point (used on restart).
  virtual RaftState initial_state() const = 0;
  // Entries [lo, hi) with total encoded size at most max_size, but always at least one entry.
  // kCompacted if lo <= the snapshot index; kUnavailable if hi > last_index() + 1.
  virtual RResult<std::vector<Entry>> entries(Index lo, Index hi, std::uint64_t max_size) const = 0;
  // Term of entry i; valid for [first_index()-1, last_index()].
  virtual RResult<Term> term(Index i) const = 0;
  // Index of the first entry still held (snapshot index + 1).
  virtual Index first_index() const = 0;
  virtual Index last_index() const = 0;
  // The most recent snapshot. kSnapshotTemporarilyUnavailable asks the leader to retry later.
  virtual RResult<Snapshot> snapshot(Index request_index) const = 0;
  // Entry i itself, for i in [first_index(), last_index()], valid until the storage changes; or
  // nullptr when this storage does not lend its entries (readers then copy them via entries()).
  virtual const Entry* entry_ref(Index i) const {
    (void)i;
    return nullptr;
  }
};

class MemStorage final : public Storage {
 public:
  MemStorage();

  RaftState initial_state() const override;
  RResult<std::vector<Entry>> entries(Index lo, Index hi, std::uint64_t max_size) const override;
  RResult<Term> term(Index i) const override;
  Index first_index() const override;
  Index last_index() const override;
  RResult<Snapshot> snapshot(Index request_index) const override;
  const Entry* entry_ref(Index i) const override;

  void set_hard_state(const HardState& hs) { hard_state_ = hs; }
  void set_conf_state(const ConfState& cs) { conf_state_ = cs; }
  const HardState& hard_state() const { return hard_state_; }
  // Replaces the whole log by the snapshot. kSnapOutOfDate if it is older than ours.
  RStatus apply_snapshot(const Snapshot& snap);
  // Records a snapshot of the applied state at index i (<= last_index) and returns it (held
  // here: no copy of a state that may be gigabytes).
  RResult<const Snapshot*> create_snapshot(Index i, const ConfState* cs, std::string data);
  // Discards entries before compact_index (which must be <= last_index). kCompacted if already.
  RStatus compact(Index compact_index);
  // Snapshots on demand: with this on, the log may be compacted past the last snapshot, and
  // snapshot() then answers kSnapshotTemporarilyUnavailable (the leader retries later) and
  // records the request; the owner, seeing take_snapshot_request(), creates a fresh snapshot of
  // its applied state (which is at or past the compaction point) with create_snapshot().
  void build_snapshots_on_demand(bool on) { on_demand_ = on; }
  bool take_snapshot_request() { return std::exchange(snapshot_requested_, false); }
  // With snapshots on demand: drops the last snapshot's data (its metadata stays), which the
  // owner holds elsewhere or can build again: snapshot() then asks for a fresh one, which
  // create_snapshot() may make at the same index. A cache's snapshot is about the size of the
  // cache; it should not stay in memory once it has been sent or written.
  void release_snapshot_data();
  bool snapshot_data_released() const { return data_released_; }
  // The last snapshot, as held (its data empty once released).
  const Snapshot& stored_snapshot() const { return snapshot_; }
  // Appends entries, truncating any conflicting suffix. Entries must be contiguous and must not
  // start beyond last_index()+1.
  void append(const std::vector<Entry>& ents);
  void append(std::vector<Entry>&& ents);  // same, moving the entries in

 private:
  HardState hard_state_;
  ConfState conf_state_;  // the latest membership persisted with a snapshot or set by the caller
  Snapshot snapshot_;
  // ents_[0] is a dummy entry carrying the index and term of the compaction point (the
  // snapshot's, unless the log was compacted past it on demand). Invariant: ents_ non-empty,
  // ents_[k].index() == ents_[0].index() + k.
  std::vector<Entry> ents_;
  bool on_demand_ = false;
  mutable bool snapshot_requested_ = false;
  bool data_released_ = false;
};

}  // namespace cairn::raft
