// RawNode: the API the node layer drives (in the style of raft-rs RawNode / etcd-raft rawnode.go).
//
// The caller's loop, in order (the contract on Ready):
//   1. Feed inputs: tick() every tick interval; step() every message received from a peer;
//      propose(), propose_conf_change(), read_index(), transfer_leader() for client requests.
//   2. If has_ready(), take rd = ready() and:
//      a. if rd.snapshot: install it in storage (MemStorage::apply_snapshot) and the state machine;
//      b. append rd.entries to storage, persist rd.hard_state if set — durably if rd.must_sync;
//      c. only then send rd.messages (they may depend on what was just persisted);
//      d. apply rd.committed_entries in order; for conf change entries call apply_conf_change();
//      e. serve rd.read_states once applied >= their index;
//      f. call advance(rd).
//   The caller may move rd.entries, rd.committed_entries and rd.snapshot out of the Ready (e.g.
//   MemStorage::append(std::move(rd.entries))): advance() uses what ready() recorded, so each
//   ready() must be followed by exactly one advance() before the next ready().
// Threading: single-threaded. The owner serializes every call; RawNode holds no locks.
#pragma once

#include <memory>

#include "raft/raft.h"

namespace cairn::raft {

struct Ready {
  std::optional<SoftState> soft_state;   // set when leader or role changed
  std::optional<HardState> hard_state;   // set when term, vote or commit changed: persist it
  std::vector<ReadState> read_states;    // completed ReadIndex requests
  std::vector<Entry> entries;            // to append to storage before sending messages
  std::optional<Snapshot> snapshot;      // to install before anything else
  std::vector<Entry> committed_entries;  // to apply to the state machine
  // With RawNode::lend_committed_entries(true), the committed entries to apply are instead given
  // as indexes, [committed_first, committed_last] (none when last < first), for the caller to
  // read in place from its storage once `entries` are appended: no copy of the batch.
  Index committed_first = 1;
  Index committed_last = 0;
  std::vector<Message> messages;  // to send after persisting
  bool must_sync = false;         // entries or term/vote changed: fsync before sending
};

// Per-peer replication state as the leader sees it.
struct PeerStatus {
  NodeId id = kNone;
  Index match = 0;
  Index next = 0;
  ProgressState state = ProgressState::kProbe;
  bool is_learner = false;
  bool recent_active = false;
};

struct RaftStatus {
  NodeId id = kNone;
  HardState hard_state;
  SoftState soft_state;
  Index applied = 0;
  Index last_index = 0;
  NodeId lead_transferee = kNone;
  std::string config;                // e.g. "voters=(1 2 3)&&(1 2) learners=(4)"
  std::vector<PeerStatus> progress;  // only on the leader
};

class RawNode {
 public:
  // Validates the config and restores term, vote, commit and membership from storage.
  // `storage` must outlive the RawNode.
  static RResult<std::unique_ptr<RawNode>> create(const Config& config, const Storage* storage);

  void tick() { raft_.tick(); }
  // Starts an election now (tests, bootstrap of a single node).
  void campaign();
  RStatus step(Message m);
  // Proposes data for the log. On a follower the proposal is forwarded to the leader; success
  // then means "forwarded", not "appended" — the caller learns the outcome when it applies.
  RStatus propose(std::string data, std::string context = {});
  // Proposes several entries at once: one append, one message per follower for the whole batch.
  // All or nothing: if refused (e.g. by the uncommitted-size bound), none is appended.
  RStatus propose_batch(std::vector<std::string> datas);
  RStatus propose_conf_change(const ConfChangeV2& cc);
  RStatus propose_conf_change(const ConfChange& cc);
  // Applies a committed conf change entry; returns the new membership to persist.
  RResult<ConfState> apply_conf_change(const ConfChangeV2& cc) {
    return raft_.apply_conf_change(cc);
  }
  RResult<ConfState> apply_conf_change(const ConfChange& cc);
  // Requests a linearizable read point. The answer arrives as a ReadState with this ctx (which
  // must be unique among outstanding requests).
  RStatus read_index(std::string ctx);
  // Asks the leader to hand leadership to `transferee` (§3.10).
  RStatus transfer_leader(NodeId transferee);
  void report_unreachable(NodeId id);
  // With Config::async_persist: the log through `index` (whose entry has term `term`) is synced.
  void persisted(Index index, Term term) { raft_.persisted(index, term); }
  void report_snapshot(NodeId id, bool success);

  bool has_ready() const;
  // Lend committed entries (Ready::committed_first/last) rather than copy them, when the storage
  // can lend them (Storage::entry_ref); otherwise ready() still copies.
  void lend_committed_entries(bool on) { lend_committed_ = on; }
  Ready ready();
  void advance(const Ready& rd);

  RaftStatus status() const;
  Raft& raft() { return raft_; }
  const Raft& raft() const { return raft_; }

  RawNode(const Config& config, const Storage* storage);  // use create(); public for make_unique

 private:
  // What the last ready() handed out, for advance(). Reset by advance().
  struct Handed {
    Index last_entry = 0;  // 0: no entries
    Term last_entry_term = 0;
    Index snapshot = 0;        // 0: no snapshot
    Index last_committed = 0;  // 0: no committed entries
    std::uint64_t committed_bytes = 0;
  };

  Raft raft_;
  bool lend_committed_ = false;
  SoftState prev_soft_;
  HardState prev_hard_;
  Handed handed_;
};

}  // namespace cairn::raft
