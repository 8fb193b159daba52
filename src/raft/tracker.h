// ProgressTracker: the active configuration (voters, learners, joint state) and the leader's
// Progress for every member, plus the votes of the current election. Owned by one Raft instance;
// single-threaded.
#pragma once

#include <map>
#include <set>
#include <string>

#include "raft/progress.h"
#include "raft/quorum.h"

namespace cairn::raft {

// A membership configuration (thesis §4.3).
// Invariants: learners ∩ voters = ∅; learners_next ⊆ outgoing voters; learners_next non-empty or
// auto_leave set only while joint.
struct TrackerConfig {
  JointConfig voters;
  std::set<NodeId> learners;
  // Voters being demoted: they stay voters of the outgoing config and become learners on leave.
  std::set<NodeId> learners_next;
  bool auto_leave = false;

  ConfState to_conf_state() const;
  std::string to_string() const;
};

using ProgressMap = std::map<NodeId, Progress>;

class ProgressTracker {
 public:
  ProgressTracker(std::size_t max_inflight, std::uint64_t max_inflight_bytes)
      : max_inflight_(max_inflight), max_inflight_bytes_(max_inflight_bytes) {}

  TrackerConfig& config() { return config_; }
  const TrackerConfig& config() const { return config_; }
  ProgressMap& progress() { return progress_; }
  const ProgressMap& progress() const { return progress_; }
  Progress* get(NodeId id);
  const Progress* get(NodeId id) const;

  void set(TrackerConfig cfg, ProgressMap prs) {
    config_ = std::move(cfg);
    progress_ = std::move(prs);
  }

  bool is_singleton() const {
    return config_.voters.incoming.size() == 1 && !config_.voters.joint();
  }
  // The largest index a (joint) quorum of voters has matched.
  Index committed() const;
  // CheckQuorum: is a quorum recently active (the leader counts itself via recent_active)?
  bool quorum_active() const;
  std::set<NodeId> voter_ids() const { return config_.voters.ids(); }
  std::size_t max_inflight() const { return max_inflight_; }
  std::uint64_t max_inflight_bytes() const { return max_inflight_bytes_; }

  void reset_votes() { votes_.clear(); }
  void record_vote(NodeId id, bool granted) { votes_.emplace(id, granted); }
  // Returns (granted, rejected, result).
  VoteResult tally_votes(std::size_t* granted, std::size_t* rejected) const;

 private:
  TrackerConfig config_;
  ProgressMap progress_;  // one entry per voter (incoming or outgoing) and learner
  std::map<NodeId, bool> votes_;
  std::size_t max_inflight_;
  std::uint64_t max_inflight_bytes_;
};

}  // namespace cairn::raft
