// Membership changes: applies a ConfChangeV2 to a TrackerConfig + ProgressMap, by joint consensus
// (thesis §4.3) or, for a single voter change, directly (§4.1). Pure functions over copies; the
// caller installs the result. Single-threaded.
#pragma once

#include <optional>
#include <string>

#include "raft/tracker.h"

namespace cairn::raft {

struct ConfChangeResult {
  TrackerConfig config;
  ProgressMap progress;
};

// An error message if the change is illegal (e.g. removes all voters, changes >1 voter without
// joint consensus, enters joint twice).
using ConfChangeOutcome = Result<ConfChangeResult, std::string>;

class Changer {
 public:
  Changer(const ProgressTracker& tracker, Index last_index)
      : trk_(tracker), last_index_(last_index) {}

  ConfChangeOutcome enter_joint(bool auto_leave, const ConfChangeV2& cc) const;
  ConfChangeOutcome leave_joint() const;
  ConfChangeOutcome simple(const ConfChangeV2& cc) const;

 private:
  std::optional<std::string> apply(ConfChangeResult& r, const ConfChangeV2& cc) const;
  void make_voter(ConfChangeResult& r, NodeId id) const;
  void make_learner(ConfChangeResult& r, NodeId id) const;
  void remove(ConfChangeResult& r, NodeId id) const;
  void init_progress(ConfChangeResult& r, NodeId id, bool learner) const;

  const ProgressTracker& trk_;
  Index last_index_;
};

// Converts a legacy ConfChange to the V2 form.
ConfChangeV2 to_v2(const ConfChange& cc);
// Does this change enter a joint configuration (and, if so, leave it automatically)?
bool enters_joint(const ConfChangeV2& cc, bool* auto_leave);
bool leaves_joint(const ConfChangeV2& cc);
// Validates invariants of a configuration; returns an error message if broken.
std::optional<std::string> check_invariants(const TrackerConfig& cfg, const ProgressMap& prs);
// Builds the configuration a ConfState describes (restart and snapshot restore).
ConfChangeOutcome restore_conf(const ConfState& cs, Index last_index, std::size_t max_inflight,
                               std::uint64_t max_inflight_bytes);

}  // namespace cairn::raft
