// Membership changes: see confchange.h. Pure.
#include "raft/confchange.h"

#include <algorithm>

namespace cairn::raft {

namespace {
ConfChangeResult copy_of(const ProgressTracker& trk) {
  return {trk.config(), trk.progress()};
}

ConfChangeOutcome checked(ConfChangeResult r) {
  if (auto err = check_invariants(r.config, r.progress)) return Err(*err);
  return r;
}
}  // namespace

ConfChangeV2 to_v2(const ConfChange& cc) {
  ConfChangeV2 v2;
  auto* s = v2.add_changes();
  s->set_change_type(cc.change_type());
  s->set_node_id(cc.node_id());
  v2.set_context(cc.context());
  return v2;
}

bool enters_joint(const ConfChangeV2& cc, bool* auto_leave) {
  // Like raft-rs: more than one change, or an explicit transition request, uses joint consensus.
  if (cc.transition() != eraftpb::Auto || cc.changes_size() > 1) {
    *auto_leave = cc.transition() == eraftpb::Auto || cc.transition() == eraftpb::Implicit;
    return true;
  }
  return false;
}

bool leaves_joint(const ConfChangeV2& cc) {
  return cc.transition() == eraftpb::Auto && cc.changes_size() == 0;
}

std::optional<std::string> check_invariants(const TrackerConfig& cfg, const ProgressMap& prs) {
  for (NodeId id : cfg.voters.ids()) {
    if (!prs.count(id)) return "no progress for voter " + std::to_string(id);
  }
  for (NodeId id : cfg.learners) {
    if (!prs.count(id)) return "no progress for learner " + std::to_string(id);
    if (cfg.voters.contains(id)) return std::to_string(id) + " is both voter and learner";
    if (!prs.at(id).is_learner) return std::to_string(id) + " is a learner without the flag";
  }
  for (NodeId id : cfg.learners_next) {
    if (!prs.count(id)) return "no progress for next learner " + std::to_string(id);
    if (!cfg.voters.outgoing.contains(id)) return std::to_string(id) + " in learners_next only";
    if (prs.at(id).is_learner) return std::to_string(id) + " in learners_next is a learner";
  }
  for (NodeId id : cfg.voters.ids()) {
    if (prs.at(id).is_learner) return "voter " + std::to_string(id) + " marked as learner";
  }
  if (!cfg.voters.joint()) {
    if (!cfg.learners_next.empty()) return "learners_next outside a joint config";
    if (cfg.auto_leave) return "auto_leave outside a joint config";
  }
  for (const auto& [id, pr] : prs) {
    if (!cfg.voters.contains(id) && !cfg.learners.count(id)) {
      return "progress for non-member " + std::to_string(id);
    }
  }
  return std::nullopt;
}

ConfChangeOutcome Changer::enter_joint(bool auto_leave, const ConfChangeV2& cc) const {
  ConfChangeResult r = copy_of(trk_);
  if (r.config.voters.joint()) return Err(std::string("config is already joint"));
  if (r.config.voters.incoming.empty()) {
    return Err(std::string("can't make a zero-voter config joint"));
  }
  r.config.voters.outgoing = r.config.voters.incoming;
  if (auto err = apply(r, cc)) return Err(*err);
  r.config.auto_leave = auto_leave;
  return checked(std::move(r));
}

ConfChangeOutcome Changer::leave_joint() const {
  ConfChangeResult r = copy_of(trk_);
  if (!r.config.voters.joint()) return Err(std::string("can't leave a non-joint config"));
  for (NodeId id : r.config.learners_next) {
    r.config.learners.insert(id);
    r.progress.at(id).is_learner = true;
  }
  r.config.learners_next.clear();
  for (NodeId id : r.config.voters.outgoing.ids()) {
    if (!r.config.voters.incoming.contains(id) && !r.config.learners.count(id)) {
      r.progress.erase(id);
    }
  }
  r.config.voters.outgoing = MajorityConfig();
  r.config.auto_leave = false;
  return checked(std::move(r));
}

ConfChangeOutcome Changer::simple(const ConfChangeV2& cc) const {
  ConfChangeResult r = copy_of(trk_);
  if (r.config.voters.joint()) {
    return Err(std::string("can't apply simple config change in joint config"));
  }
  const std::set<NodeId> before = r.config.voters.incoming.ids();
  if (auto err = apply(r, cc)) return Err(*err);
  const std::set<NodeId>& after = r.config.voters.incoming.ids();
  std::size_t diff = 0;
  for (NodeId id : before)
    diff += after.count(id);
  diff = before.size() - diff;  // voters removed
  for (NodeId id : after)
    diff += before.count(id) == 0 ? 1U : 0U;
  // §4.1: one voter at a time keeps every old and new majority overlapping.
  if (diff > 1) {
    return Err(std::string("more than one voter changed without entering joint config"));
  }
  return checked(std::move(r));
}

std::optional<std::string> Changer::apply(ConfChangeResult& r, const ConfChangeV2& cc) const {
  for (const ConfChangeSingle& c : cc.changes()) {
    if (c.node_id() == kNone) continue;
    switch (c.change_type()) {
      case eraftpb::AddNode:
        make_voter(r, c.node_id());
        break;
      case eraftpb::AddLearnerNode:
        make_learner(r, c.node_id());
        break;
      case eraftpb::RemoveNode:
        remove(r, c.node_id());
        break;
      default:
        return "unknown conf change type";
    }
  }
  if (r.config.voters.incoming.empty()) return std::string("removed all voters");
  return std::nullopt;
}

void Changer::init_progress(ConfChangeResult& r, NodeId id, bool learner) const {
  if (learner) {
    r.config.learners.insert(id);
  } else {
    r.config.voters.incoming.ids().insert(id);
  }
  Progress pr(std::max<Index>(last_index_, 1), trk_.max_inflight(), trk_.max_inflight_bytes());
  pr.is_learner = learner;
  // A new member counts as active so that CheckQuorum does not depose the leader right away.
  pr.recent_active = true;
  r.progress.insert_or_assign(id, std::move(pr));
}

void Changer::make_voter(ConfChangeResult& r, NodeId id) const {
  auto it = r.progress.find(id);
  if (it == r.progress.end()) {
    init_progress(r, id, false);
    return;
  }
  it->second.is_learner = false;
  r.config.learners.erase(id);
  r.config.learners_next.erase(id);
  r.config.voters.incoming.ids().insert(id);
}

void Changer::make_learner(ConfChangeResult& r, NodeId id) const {
  auto it = r.progress.find(id);
  if (it == r.progress.end()) {
    init_progress(r, id, true);
    return;
  }
  if (it->second.is_learner) return;
  // Remove as voter (keeping the progress), then add back as a learner.
  r.config.voters.incoming.ids().erase(id);
  r.config.learners.erase(id);
  r.config.learners_next.erase(id);
  if (r.config.voters.outgoing.contains(id)) {
    // Still a voter of the outgoing config: it becomes a learner when the joint config is left.
    r.config.learners_next.insert(id);
  } else {
    it->second.is_learner = true;
    r.config.learners.insert(id);
  }
}

void Changer::remove(ConfChangeResult& r, NodeId id) const {
  if (!r.progress.count(id)) return;
  r.config.voters.incoming.ids().erase(id);
  r.config.learners.erase(id);
  r.config.learners_next.erase(id);
  // An outgoing voter keeps its progress until the joint config is left.
  if (!r.config.voters.outgoing.contains(id)) r.progress.erase(id);
}

ConfChangeOutcome restore_conf(const ConfState& cs, Index last_index, std::size_t max_inflight,
                               std::uint64_t max_inflight_bytes) {
  ConfChangeResult r;
  auto add = [&](NodeId id, bool learner) {
    Progress pr(last_index + 1, max_inflight, max_inflight_bytes);
    pr.is_learner = learner;
    r.progress.insert_or_assign(id, std::move(pr));
  };
  for (NodeId id : cs.voters()) {
    r.config.voters.incoming.ids().insert(id);
    add(id, false);
  }
  for (NodeId id : cs.voters_outgoing()) {
    r.config.voters.outgoing.ids().insert(id);
    add(id, false);
  }
  for (NodeId id : cs.learners()) {
    r.config.learners.insert(id);
    add(id, true);
  }
  for (NodeId id : cs.learners_next())
    r.config.learners_next.insert(id);
  r.config.auto_leave = cs.auto_leave();
  return checked(std::move(r));
}

}  // namespace cairn::raft
