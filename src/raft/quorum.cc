// Quorum arithmetic: see quorum.h. Pure.
#include "raft/quorum.h"

#include <algorithm>
#include <vector>

namespace cairn::raft {

Index MajorityConfig::committed_index(const AckedIndexFn& acked) const {
  if (ids_.empty()) return kNoLimit;
  std::vector<Index> idx;
  idx.reserve(ids_.size());
  for (NodeId id : ids_)
    idx.push_back(acked(id).value_or(0));
  // The (n/2+1)-th largest value is held by a majority.
  std::sort(idx.begin(), idx.end(), std::greater<>());
  return idx[ids_.size() / 2];
}

VoteResult MajorityConfig::vote_result(const std::map<NodeId, bool>& votes) const {
  if (ids_.empty()) return VoteResult::kWon;  // an empty config wins (joint-config convenience)
  std::size_t yes = 0, missing = 0;
  for (NodeId id : ids_) {
    auto it = votes.find(id);
    if (it == votes.end()) {
      ++missing;
    } else if (it->second) {
      ++yes;
    }
  }
  const std::size_t q = ids_.size() / 2 + 1;
  if (yes >= q) return VoteResult::kWon;
  if (yes + missing >= q) return VoteResult::kPending;
  return VoteResult::kLost;
}

std::string MajorityConfig::to_string() const {
  std::string s = "(";
  bool first = true;
  for (NodeId id : ids_) {
    if (!first) s += " ";
    s += std::to_string(id);
    first = false;
  }
  return s + ")";
}

std::set<NodeId> JointConfig::ids() const {
  std::set<NodeId> s = incoming.ids();
  s.insert(outgoing.ids().begin(), outgoing.ids().end());
  return s;
}

Index JointConfig::committed_index(const AckedIndexFn& acked) const {
  return std::min(incoming.committed_index(acked), outgoing.committed_index(acked));
}

VoteResult JointConfig::vote_result(const std::map<NodeId, bool>& votes) const {
  const VoteResult r1 = incoming.vote_result(votes);
  const VoteResult r2 = outgoing.vote_result(votes);
  if (r1 == r2) return r1;
  if (r1 == VoteResult::kLost || r2 == VoteResult::kLost) return VoteResult::kLost;
  return VoteResult::kPending;  // one won, the other is pending
}

}  // namespace cairn::raft
