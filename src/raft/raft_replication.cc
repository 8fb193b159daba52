// Raft: log replication on both ends (thesis §3.5): the leader appends and ships entries or a
// snapshot under per-follower flow control; followers check, append and answer with conflict
// hints; commitment counts replicas of current-term entries only (§3.6.2). Single-threaded.
#include "raft/raft.h"

#include <algorithm>

#include "raft/confchange.h"

namespace cairn::raft {

bool Raft::increase_uncommitted_size(const std::vector<Entry>& es) {
  std::uint64_t s = 0;
  for (const Entry& e : es)
    s += payload_size(e);
  // Always admit one proposal when nothing is uncommitted, so a large entry cannot block forever;
  // empty entries (the leader's no-op, leaving joint) are never refused.
  if (uncommitted_size_ > 0 && s > 0 && uncommitted_size_ + s > max_uncommitted_size_) return false;
  uncommitted_size_ += s;
  return true;
}

bool Raft::append_entry(std::vector<Entry> es) {
  Index li = log_.last_index();
  for (std::size_t k = 0; k < es.size(); ++k) {
    es[k].set_term(term_);
    es[k].set_index(li + 1 + k);
  }
  if (!increase_uncommitted_size(es)) return false;
  li = log_.append(std::move(es));
  // The leader's own entries count toward commitment once durable (§10.2.1): with the classic
  // contract they are synced before the next Ready, so at once; with async_persist when the
  // owner says so (persisted()).
  if (!async_persist_) {
    trk_.get(id_)->maybe_update(li);
    maybe_commit();
  }
  return true;
}

void Raft::persisted(Index index, Term term) {
  if (role_ != Role::kLeader || !log_.match_term(index, term)) return;
  Progress* self = trk_.get(id_);
  if (self == nullptr || !self->maybe_update(index)) return;
  // As for a follower's acknowledgement: a commit index that moved is spread at once.
  if (maybe_commit()) {
    release_pending_read_index_messages();
    bcast_append();
  }
}

bool Raft::maybe_commit() {
  // §3.6.2: only an entry of the current term is committed by counting replicas; earlier ones
  // commit indirectly (maybe_commit checks the term of the quorum index).
  return log_.maybe_commit(trk_.committed(), term_);
}

void Raft::bcast_append() {
  for (auto& [pid, pr] : trk_.progress()) {
    if (pid != id_) maybe_send_append(pid, true);
  }
}

void Raft::bcast_heartbeat() {
  bcast_heartbeat_with_ctx(read_only_.last_pending_request_ctx());
}

void Raft::bcast_heartbeat_with_ctx(const std::string& ctx) {
  for (auto& [pid, pr] : trk_.progress()) {
    if (pid != id_) send_heartbeat(pid, ctx);
  }
}

void Raft::send_heartbeat(NodeId to, const std::string& ctx) {
  // Never tell a follower a commit index beyond what it is known to hold: it may not have
  // those entries (or may hold different ones).
  const Progress* pr = trk_.get(to);
  Message m;
  m.set_to(to);
  m.set_msg_type(eraftpb::MsgHeartbeat);
  m.set_commit(std::min(pr->match, log_.committed()));
  if (!ctx.empty()) m.set_context(ctx);
  send(std::move(m));
}

bool Raft::maybe_send_append(NodeId to, bool send_if_empty) {
  Progress* pr = trk_.get(to);
  if (pr == nullptr || pr->is_paused()) return false;
  const Index prev = pr->next - 1;
  auto prev_term = log_.term(prev);
  RResult<std::vector<Entry>> ents = std::vector<Entry>{};
  if (pr->state != ProgressState::kReplicate || !pr->inflights.full()) {
    ents = log_.entries(pr->next, max_msg_size_);
  }
  if (ents.ok() && ents->empty() && !send_if_empty) return false;
  if (!prev_term.ok() || !ents.ok()) {
    // The entries the follower needs were compacted: ship the snapshot instead (§5.1).
    return send_snapshot(to, *pr);
  }
  Message m;
  m.set_to(to);
  m.set_msg_type(eraftpb::MsgAppend);
  m.set_index(prev);
  m.set_log_term(*prev_term);
  m.set_commit(log_.committed());
  std::uint64_t bytes = 0;
  const std::size_t n = ents->size();
  Index last = prev;
  auto* out = m.mutable_entries();
  out->Reserve(static_cast<int>(n));
  for (Entry& e : *ents) {
    bytes += payload_size(e);
    last = e.index();
    *out->Add() = std::move(e);
  }
  pr->sent_entries(last, bytes, n);
  send(std::move(m));
  return true;
}

bool Raft::send_snapshot(NodeId to, Progress& pr) {
  if (!pr.recent_active) return false;  // don't ship a snapshot to a node that seems down
  auto snap = log_.snapshot();
  if (!snap.ok()) {
    CAIRN_CHECK(snap.error() == Error::kSnapshotTemporarilyUnavailable);
    return false;
  }
  CAIRN_CHECK(snap->metadata().index() != 0);  // need a snapshot to replace compacted entries
  pr.become_snapshot(snap->metadata().index());
  Message m;
  m.set_to(to);
  m.set_msg_type(eraftpb::MsgSnapshot);
  *m.mutable_snapshot() = std::move(snap).value();
  send(std::move(m));
  return true;
}

void Raft::handle_append_entries(Message& m) {
  Message resp;
  resp.set_to(m.from());
  resp.set_msg_type(eraftpb::MsgAppendResponse);
  if (m.index() < log_.committed()) {
    // Everything up to our commit index matches (Log Matching); tell the leader how far we are.
    resp.set_index(log_.committed());
    send(std::move(resp));
    return;
  }
  if (auto last = log_.maybe_append(m.index(), m.log_term(), m.commit(), m)) {
    resp.set_index(*last);
    send(std::move(resp));
    return;
  }
  // Reject with a hint: the largest index <= min(m.index, our last) whose term is <= m.log_term.
  // The leader then skips every entry that cannot match (fast backtracking, §5.3 end).
  const Index hint_index = std::min(m.index(), log_.last_index());
  const auto [hi, ht] = log_.find_conflict_by_term(hint_index, m.log_term());
  resp.set_index(m.index());
  resp.set_reject(true);
  resp.set_reject_hint(hi);
  resp.set_log_term(ht);
  send(std::move(resp));
}

void Raft::handle_heartbeat(const Message& m) {
  // The leader sends min(match, commit); a follower that lost its log since it acknowledged
  // `match` has fewer entries than that. Commit knowledge is only a lower bound, so capping it at
  // what we hold is safe; the leader learns of the loss from our next rejection.
  log_.commit_to(std::min(m.commit(), log_.last_index()));
  Message resp;
  resp.set_to(m.from());
  resp.set_msg_type(eraftpb::MsgHeartbeatResponse);
  resp.set_context(m.context());
  send(std::move(resp));
}

void Raft::handle_snapshot(const Message& m) {
  Message resp;
  resp.set_to(m.from());
  resp.set_msg_type(eraftpb::MsgAppendResponse);
  if (restore(m.snapshot())) {
    resp.set_index(log_.last_index());
  } else {
    resp.set_index(log_.committed());
  }
  send(std::move(resp));
}

bool Raft::restore(const Snapshot& s) {
  const auto& meta = s.metadata();
  if (meta.index() <= log_.committed()) return false;
  if (role_ != Role::kFollower) {
    // Defensive: only followers install snapshots. Step down to a fresh term.
    become_follower(term_ + 1, kNone);
    return false;
  }
  // Unlike etcd-raft (and like raft-rs) we accept a snapshot whose configuration does not list
  // us: a node added after the leader's latest snapshot would otherwise never catch up (the
  // leader cannot commit anything new without it if it is a voter, so no newer snapshot comes).
  // Safety does not depend on a follower knowing its own membership: it cannot campaign until
  // it applies the entry adding it, and it stores what it acknowledges either way.
  if (log_.match_term(meta.index(), meta.term())) {
    // We already hold the snapshot's last entry: just fast-forward the commit index.
    log_.commit_to(meta.index());
    return false;
  }
  log_.restore(s);
  auto restored = restore_conf(meta.conf_state(), log_.last_index(), trk_.max_inflight(),
                               trk_.max_inflight_bytes());
  CAIRN_CHECK(restored.ok());
  switch_to_config(std::move(restored->config), std::move(restored->progress));
  return true;
}

}  // namespace cairn::raft
