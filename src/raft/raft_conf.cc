// Raft: applying membership changes (thesis §4.1 single-server, §4.3 joint consensus) and
// switching the tracker to a new configuration. Single-threaded; see raft.h.
#include "raft/raft.h"

#include <cstdio>

#include "raft/confchange.h"

namespace cairn::raft {

RResult<ConfState> Raft::apply_conf_change(const ConfChangeV2& cc) {
  Changer changer(trk_, log_.last_index());
  bool auto_leave = false;
  ConfChangeOutcome out = [&] {
    if (leaves_joint(cc)) return changer.leave_joint();
    if (enters_joint(cc, &auto_leave)) return changer.enter_joint(auto_leave, cc);
    return changer.simple(cc);
  }();
  if (!out.ok()) {
    // Every replica applies the same committed entry to the same configuration, so every
    // replica rejects it alike: the configuration stays as it was.
    return Err(Error::kInvalidConfChange);
  }
  return switch_to_config(std::move(out->config), std::move(out->progress));
}

ConfState Raft::switch_to_config(TrackerConfig cfg, ProgressMap prs) {
  trk_.set(std::move(cfg), std::move(prs));
  for (auto& [pid, pr] : trk_.progress()) {
    if (pr.last_heard == 0) pr.last_heard = ticks_;  // new members get a full window
  }
  ConfState cs = trk_.config().to_conf_state();
  const Progress* self = trk_.get(id_);
  is_learner_ = self != nullptr && self->is_learner;
  if (role_ != Role::kLeader || cs.voters_size() == 0) return cs;
  if (self == nullptr || is_learner_) {
    // §4.2.2: a leader removed (or demoted) by C_new keeps managing the cluster without counting
    // itself until it hands over. Stepping down at once could strand the others: they may not
    // know the change committed yet, and in a joint configuration they may need this node's vote,
    // which it refuses if its log is longer (found by the simulator). It hands over by
    // leadership transfer to the most up-to-date voter, retried every election timeout.
    hand_over_leadership();
    return cs;
  }
  if (maybe_commit()) {
    // The new quorum may already hold more entries (e.g. a voter was removed); if that commits
    // the first entry of this term, the reads waiting for it may go on.
    release_pending_read_index_messages();
    bcast_append();
  } else {
    // Probe newly added members right away rather than after the next heartbeat.
    for (auto& [pid, pr] : trk_.progress()) {
      if (pid != id_) maybe_send_append(pid, false);
    }
  }
  if (lead_transferee_ != kNone && !trk_.config().voters.contains(lead_transferee_)) {
    abort_leader_transfer();
  }
  return cs;
}

void Raft::hand_over_leadership() {
  NodeId best = kNone;
  Index best_match = 0;
  for (NodeId id : trk_.config().voters.incoming.ids()) {
    const Progress* pr = trk_.get(id);
    if (id != id_ && pr != nullptr && (best == kNone || pr->match > best_match)) {
      best = id;
      best_match = pr->match;
    }
  }
  if (best == kNone) return;
  election_elapsed_ = 0;  // the transfer gets a full election timeout
  lead_transferee_ = best;
  if (best_match == log_.last_index()) {
    send_timeout_now(best);
  } else {
    maybe_send_append(best, true);
  }
}

}  // namespace cairn::raft
