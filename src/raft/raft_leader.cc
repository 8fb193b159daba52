// Raft: message handlers of the leader role, one per message type: proposals, replication
// responses (§3.5), heartbeats and ReadIndex (§6.4), CheckQuorum (§6.2), leadership transfer
// (§3.10), snapshot status. Single-threaded; see raft.h.
#include "raft/raft.h"

#include "raft/confchange.h"

namespace cairn::raft {

RStatus Raft::step_leader(Message& m) {
  // Messages that need no progress of the sender.
  switch (m.msg_type()) {
    case eraftpb::MsgBeat:
      bcast_heartbeat();
      return {};
    case eraftpb::MsgCheckQuorum:
      leader_check_quorum();
      return {};
    case eraftpb::MsgPropose:
      return leader_propose(m);
    case eraftpb::MsgReadIndex:
      leader_read_index(m);
      return {};
    default:
      break;
  }
  Progress* pr = trk_.get(m.from());
  if (pr == nullptr) return Err(Error::kStepPeerNotFound);
  switch (m.msg_type()) {
    case eraftpb::MsgAppendResponse:
      leader_append_response(m, *pr);
      break;
    case eraftpb::MsgHeartbeatResponse:
      leader_heartbeat_response(m, *pr);
      break;
    case eraftpb::MsgSnapStatus:
      if (pr->state != ProgressState::kSnapshot) break;
      if (m.reject()) pr->pending_snapshot = 0;  // failed: probe from what is known to match
      pr->become_probe();
      // Wait a heartbeat interval before the next probe (the next MsgHeartbeatResponse).
      pr->msg_app_flow_paused = true;
      break;
    case eraftpb::MsgUnreachable:
      // Pipelined appends were probably lost: go back to probing (§10.2.1).
      if (pr->state == ProgressState::kReplicate) pr->become_probe();
      break;
    case eraftpb::MsgTransferLeader:
      leader_transfer(m, *pr);
      break;
    default:
      break;
  }
  return {};
}

bool Raft::quorum_heard_within_election_timeout() const {
  std::map<NodeId, bool> heard;
  for (const auto& [pid, pr] : trk_.progress()) {
    if (pr.is_learner) continue;
    heard.emplace(
        pid, pid == id_ || ticks_ - pr.last_heard < static_cast<std::uint64_t>(election_timeout_));
  }
  return trk_.config().voters.vote_result(heard) == VoteResult::kWon;
}

void Raft::leader_check_quorum() {
  // §6.2: a leader that has not heard from a quorum within an election timeout steps down, so
  // that clients find the real leader and lease reads stay safe.
  if (!trk_.quorum_active()) become_follower(term_, kNone);
  for (auto& [pid, pr] : trk_.progress()) {
    if (pid != id_) pr.recent_active = false;
  }
}

RStatus Raft::leader_propose(Message& m) {
  CAIRN_CHECK(m.entries_size() > 0);
  if (trk_.get(id_) == nullptr || trk_.get(id_)->is_learner) {
    return Err(Error::kNotLeader);  // we were removed or demoted and are handing over
  }
  if (lead_transferee_ != kNone) return Err(Error::kLeaderTransferring);
  Index pending_conf = pending_conf_index_;
  for (int k = 0; k < m.entries_size(); ++k) {
    const Entry& e = m.entries(k);
    if (e.entry_type() == eraftpb::EntryNormal) continue;
    ConfChangeV2 cc;
    if (e.entry_type() == eraftpb::EntryConfChange) {
      ConfChange v1;
      if (!v1.ParseFromString(e.data())) return Err(Error::kInvalidConfChange);
      cc = to_v2(v1);
    } else if (!cc.ParseFromString(e.data())) {
      return Err(Error::kInvalidConfChange);
    }
    // §4.1: one change at a time; a joint config may only be left, and only a joint one.
    const bool already_pending = pending_conf > log_.applied();
    const bool already_joint = trk_.config().voters.joint();
    const bool wants_leave = cc.changes_size() == 0;
    if (already_pending) return Err(Error::kConfChangePending);
    if (already_joint != wants_leave) return Err(Error::kInvalidConfChange);
    pending_conf = log_.last_index() + static_cast<Index>(k) + 1;
  }
  std::vector<Entry> es;
  es.reserve(static_cast<std::size_t>(m.entries_size()));
  for (auto& e : *m.mutable_entries())
    es.push_back(std::move(e));
  if (!append_entry(std::move(es))) return Err(Error::kUncommittedLimit);
  pending_conf_index_ = pending_conf;
  bcast_append();
  return {};
}

bool Raft::committed_entry_in_current_term() const {
  return log_.zero_term_on_err_compacted(log_.committed()) == term_;
}

void Raft::leader_read_index(Message& m) {
  if (m.entries_size() != 1) return;
  if (sole_voter()) {
    // A single voter is its own quorum: the commit index is safe to read at once.
    respond_to_read_index(m, read_point());
    return;
  }
  // §6.4 step 1: until an entry of our term commits, our commit index may be stale.
  if (!committed_entry_in_current_term()) {
    pending_read_index_messages_.push_back(std::move(m));
    return;
  }
  send_read_index_response(std::move(m));
}

void Raft::send_read_index_response(Message m) {
  if (sole_voter()) {
    // Its own quorum (the configuration may have shrunk to it while the read waited).
    respond_to_read_index(m, read_point());
    return;
  }
  const std::string ctx = m.entries(0).data();
  const ReadOnlyOption mode = lease_revoked_ ? ReadOnlyOption::kSafe : read_only_.option();
  switch (mode) {
    case ReadOnlyOption::kSafe:
      // §6.4 steps 2-3: record the commit index, then confirm leadership by a heartbeat round
      // carrying the request's context. Concurrent requests share rounds (batching).
      read_only_.add_request(read_point(), std::move(m), id_);
      bcast_heartbeat_with_ctx(ctx);
      break;
    case ReadOnlyOption::kLeaseBased:
      // §6.4.1: within the lease no other leader can exist (CheckQuorum is required).
      respond_to_read_index(m, read_point());
      break;
  }
}

void Raft::release_pending_read_index_messages() {
  if (pending_read_index_messages_.empty() || !committed_entry_in_current_term()) return;
  std::vector<Message> msgs = std::move(pending_read_index_messages_);
  pending_read_index_messages_.clear();
  for (Message& m : msgs)
    send_read_index_response(std::move(m));
}

void Raft::respond_to_read_index(const Message& req, Index read_index) {
  if (req.from() == kNone || req.from() == id_) {
    read_states_.push_back(ReadState{read_index, req.entries(0).data()});
    return;
  }
  Message resp;
  resp.set_to(req.from());
  resp.set_msg_type(eraftpb::MsgReadIndexResp);
  resp.set_index(read_index);
  *resp.mutable_entries() = req.entries();
  send(std::move(resp));
}

void Raft::leader_append_response(const Message& m, Progress& pr) {
  pr.recent_active = true;
  pr.last_heard = ticks_;
  if (m.reject()) {
    // A rejection whose hint lies below what the follower acknowledged before, from a follower
    // that says it lost its log (restarted without its data) or that is fresh (it rejects an
    // index past its match): forget the acknowledgements and probe from what it has; otherwise
    // its rejections would look stale and it would never catch up. A follower that kept its log
    // always hints at or above its match (the entries up to match agree with ours, and their
    // terms are at most the probed term).
    const bool lost_log = m.context() == kLostLogContext || m.index() > pr.match;
    if (lost_log && m.reject_hint() < pr.match) {
      pr.match = 0;
      pr.become_probe();
      pr.next = m.reject_hint() + 1;
      maybe_send_append(m.from(), true);
      return;
    }
    // §5.3 with the fast-backtracking optimization: the follower tells us the last index whose
    // term is <= the term we probed with; we skip every index in between.
    Index next_probe = m.reject_hint();
    if (m.log_term() > 0)
      next_probe = log_.find_conflict_by_term(m.reject_hint(), m.log_term()).first;
    if (pr.maybe_decr_to(m.index(), next_probe)) {
      if (pr.state == ProgressState::kReplicate) pr.become_probe();
      maybe_send_append(m.from(), true);
    }
    return;
  }
  const bool old_paused = pr.is_paused();
  if (!pr.maybe_update(m.index())) return;
  switch (pr.state) {
    case ProgressState::kProbe:
      pr.become_replicate();
      break;
    case ProgressState::kSnapshot:
      // The follower caught up past the snapshot (or our log still covers it): replicate.
      if (pr.match + 1 >= log_.first_index()) {
        pr.become_probe();
        pr.become_replicate();
      }
      break;
    case ProgressState::kReplicate:
      pr.inflights.free_le(m.index());
      break;
  }
  if (maybe_commit()) {
    release_pending_read_index_messages();
    bcast_append();
  } else if (old_paused) {
    maybe_send_append(m.from(), true);  // the window re-opened
  }
  // Fill the window as far as the flow control allows.
  while (maybe_send_append(m.from(), false)) {
  }
  if (m.from() == lead_transferee_ && pr.match == log_.last_index()) send_timeout_now(m.from());
}

void Raft::leader_heartbeat_response(const Message& m, Progress& pr) {
  pr.recent_active = true;
  pr.last_heard = ticks_;
  pr.msg_app_flow_paused = false;
  if (pr.match < log_.last_index() || pr.state == ProgressState::kProbe) {
    maybe_send_append(m.from(), true);
  }
  // Acks count in lease mode too: once the lease is revoked (a MsgTimeoutNow went out and the
  // transfer failed), reads wait for a heartbeat round, and only these acks can complete it.
  if (m.context().empty()) return;
  const std::set<NodeId>* acks = read_only_.recv_ack(m.from(), m.context());
  if (acks == nullptr) return;
  std::map<NodeId, bool> votes;
  for (NodeId id : *acks)
    votes.emplace(id, true);
  if (trk_.config().voters.vote_result(votes) != VoteResult::kWon) return;
  // A quorum still follows us: every request up to this one can be served at its index.
  for (const ReadOnly::Status& rs : read_only_.advance(m.context())) {
    respond_to_read_index(rs.req, rs.index);
  }
}

void Raft::leader_transfer(const Message& m, Progress& pr) {
  if (pr.is_learner) return;  // a learner cannot lead
  const NodeId transferee = m.from();
  if (lead_transferee_ != kNone) {
    if (lead_transferee_ == transferee) return;  // already under way
    abort_leader_transfer();
  }
  if (transferee == id_) return;  // we already lead
  // §3.10: stop accepting proposals, bring the transferee up to date, then tell it to campaign.
  election_elapsed_ = 0;  // the transfer must finish within one election timeout
  lead_transferee_ = transferee;
  if (pr.match == log_.last_index()) {
    send_timeout_now(transferee);
  } else {
    maybe_send_append(transferee, true);
  }
}

void Raft::send_timeout_now(NodeId to) {
  Message m;
  m.set_to(to);
  m.set_msg_type(eraftpb::MsgTimeoutNow);
  send(std::move(m));
  lease_revoked_ = true;
  // A leader that is no longer a voter is done once its successor holds its whole log: the
  // successor campaigns at once, and the others can elect it (or anyone as up to date) anyway.
  if (leading_as_non_voter()) become_follower(term_, kNone);
}

}  // namespace cairn::raft
