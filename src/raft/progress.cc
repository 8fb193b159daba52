// Progress and Inflights: see progress.h. Single-threaded.
#include "raft/progress.h"

#include <algorithm>

namespace cairn::raft {

void Inflights::add(Index last, std::uint64_t bytes) {
  CAIRN_CHECK(count_ < buf_.size());
  buf_[(start_ + count_) % buf_.size()] = Slot{last, bytes};
  ++count_;
  bytes_ += bytes;
}

void Inflights::free_le(Index to) {
  while (count_ > 0 && buf_[start_].index <= to) {
    bytes_ -= buf_[start_].bytes;
    start_ = (start_ + 1) % buf_.size();
    --count_;
  }
  if (count_ == 0) start_ = 0;
}

void Progress::reset_state(ProgressState s) {
  msg_app_flow_paused = false;
  pending_snapshot = 0;
  state = s;
  inflights.reset();
}

void Progress::become_probe() {
  // Coming back from a snapshot: the follower has at least the snapshot, so probe right after it.
  if (state == ProgressState::kSnapshot) {
    const Index pending = pending_snapshot;
    reset_state(ProgressState::kProbe);
    next = std::max(match + 1, pending + 1);
  } else {
    reset_state(ProgressState::kProbe);
    next = match + 1;
  }
}

void Progress::become_replicate() {
  reset_state(ProgressState::kReplicate);
  next = match + 1;
}

void Progress::become_snapshot(Index snapshot_index) {
  reset_state(ProgressState::kSnapshot);
  pending_snapshot = snapshot_index;
}

void Progress::sent_entries(Index last, std::uint64_t bytes, std::size_t count) {
  switch (state) {
    case ProgressState::kReplicate:
      if (count > 0) {
        next = last + 1;  // optimistic: assume it arrives (§10.2.1 pipelining)
        inflights.add(last, bytes);
      }
      // Paused while the window is full; a heartbeat response un-pauses it for one (possibly
      // empty) append that doubles as a probe, so lost acknowledgements cannot stall us.
      msg_app_flow_paused = inflights.full();
      break;
    case ProgressState::kProbe:
      // One probe per heartbeat interval; a heartbeat response re-opens the flow.
      msg_app_flow_paused = true;
      break;
    case ProgressState::kSnapshot:
      CAIRN_CHECK(false && "sending entries to a follower in snapshot state");
  }
}

bool Progress::maybe_update(Index n) {
  bool updated = false;
  if (match < n) {
    match = n;
    updated = true;
    msg_app_flow_paused = false;
  }
  next = std::max(next, n + 1);
  return updated;
}

bool Progress::maybe_decr_to(Index rejected, Index match_hint) {
  if (state == ProgressState::kReplicate) {
    // Stale rejection: we already know the follower has `rejected`.
    if (rejected <= match) return false;
    // Fall back to probing right after what we know matches.
    next = match + 1;
    return true;
  }
  // Probe: only the rejection of the probe we sent last (next-1) is meaningful.
  if (next - 1 != rejected) return false;
  next = std::max(std::min(rejected, match_hint + 1), match + 1);
  msg_app_flow_paused = false;
  return true;
}

bool Progress::is_paused() const {
  // Probe: a probe is outstanding. Replicate: the window is full. Snapshot: always.
  return state == ProgressState::kSnapshot || msg_app_flow_paused;
}

std::string Progress::to_string() const {
  std::string s = raft::to_string(state);
  s += " match=" + std::to_string(match) + " next=" + std::to_string(next);
  if (is_learner) s += " learner";
  if (is_paused()) s += " paused";
  if (pending_snapshot > 0) s += " pendingSnap=" + std::to_string(pending_snapshot);
  if (!recent_active) s += " inactive";
  if (inflights.count() > 0) s += " inflight=" + std::to_string(inflights.count());
  return s;
}

}  // namespace cairn::raft
