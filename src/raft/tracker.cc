// ProgressTracker: see tracker.h. Single-threaded.
#include "raft/tracker.h"

namespace cairn::raft {

ConfState TrackerConfig::to_conf_state() const {
  ConfState cs;
  for (NodeId id : voters.incoming.ids())
    cs.add_voters(id);
  for (NodeId id : voters.outgoing.ids())
    cs.add_voters_outgoing(id);
  for (NodeId id : learners)
    cs.add_learners(id);
  for (NodeId id : learners_next)
    cs.add_learners_next(id);
  cs.set_auto_leave(auto_leave);
  return cs;
}

std::string TrackerConfig::to_string() const {
  std::string s = "voters=" + voters.incoming.to_string();
  if (voters.joint()) s += "&&" + voters.outgoing.to_string();
  if (!learners.empty()) s += " learners=" + MajorityConfig(learners).to_string();
  if (!learners_next.empty()) s += " learners_next=" + MajorityConfig(learners_next).to_string();
  if (auto_leave) s += " autoleave";
  return s;
}

Progress* ProgressTracker::get(NodeId id) {
  auto it = progress_.find(id);
  return it == progress_.end() ? nullptr : &it->second;
}

const Progress* ProgressTracker::get(NodeId id) const {
  auto it = progress_.find(id);
  return it == progress_.end() ? nullptr : &it->second;
}

Index ProgressTracker::committed() const {
  return config_.voters.committed_index([this](NodeId id) -> std::optional<Index> {
    auto it = progress_.find(id);
    if (it == progress_.end()) return std::nullopt;
    return it->second.match;
  });
}

bool ProgressTracker::quorum_active() const {
  std::map<NodeId, bool> votes;
  for (const auto& [id, pr] : progress_) {
    if (!pr.is_learner) votes.emplace(id, pr.recent_active);
  }
  return config_.voters.vote_result(votes) == VoteResult::kWon;
}

VoteResult ProgressTracker::tally_votes(std::size_t* granted, std::size_t* rejected) const {
  *granted = *rejected = 0;
  for (const auto& [id, pr] : progress_) {
    if (pr.is_learner) continue;
    auto it = votes_.find(id);
    if (it == votes_.end()) continue;
    (it->second ? *granted : *rejected) += 1;
  }
  return config_.voters.vote_result(votes_);
}

}  // namespace cairn::raft
