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
  ConfState cs = trk_.config().to_conf_state();
  const Progress* self = trk_.get(id_);
  is_learner_ = self != nullptr && self->is_learner;
  if ((self == nullptr || is_learner_) && role_ == Role::kLeader) {
    // We were removed or demoted: stop leading. The remaining voters elect a new leader after an
    // election timeout (a deviation from §4.2.2's "step down once committed": the entry is
    // already committed when it is applied, so this is the same point).
    become_follower(term_, kNone);
    return cs;
  }
  if (role_ != Role::kLeader || cs.voters_size() == 0) return cs;
  if (maybe_commit()) {
    // The new quorum may already hold more entries (e.g. a voter was removed).
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

}  // namespace cairn::raft
