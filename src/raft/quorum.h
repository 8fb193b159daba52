// Quorum arithmetic for majority and joint configurations (thesis §4.3): which index a quorum has
// acknowledged, and whether an election is won. Pure functions over id sets; no state.
#pragma once

#include <functional>
#include <map>
#include <optional>
#include <set>
#include <string>

#include "raft/types.h"

namespace cairn::raft {

enum class VoteResult { kPending, kLost, kWon };

// Returns the acknowledged index of a voter, or nullopt if unknown.
using AckedIndexFn = std::function<std::optional<Index>(NodeId)>;

class MajorityConfig {
 public:
  MajorityConfig() = default;
  explicit MajorityConfig(std::set<NodeId> ids) : ids_(std::move(ids)) {}
  const std::set<NodeId>& ids() const { return ids_; }
  std::set<NodeId>& ids() { return ids_; }
  bool contains(NodeId id) const { return ids_.count(id) != 0; }
  bool empty() const { return ids_.empty(); }
  std::size_t size() const { return ids_.size(); }

  // The largest index acknowledged by a majority. An empty config returns kNoLimit so that it
  // does not constrain a joint config.
  Index committed_index(const AckedIndexFn& acked) const;
  // votes: id -> granted. Missing voters are pending.
  VoteResult vote_result(const std::map<NodeId, bool>& votes) const;
  std::string to_string() const;

 private:
  std::set<NodeId> ids_;
};

// The incoming (0) and outgoing (1) majority configs; outgoing is empty unless joint (§4.3).
struct JointConfig {
  MajorityConfig incoming;
  MajorityConfig outgoing;

  bool joint() const { return !outgoing.empty(); }
  bool contains(NodeId id) const { return incoming.contains(id) || outgoing.contains(id); }
  std::set<NodeId> ids() const;
  Index committed_index(const AckedIndexFn& acked) const;
  VoteResult vote_result(const std::map<NodeId, bool>& votes) const;
};

}  // namespace cairn::raft
