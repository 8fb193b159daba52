// Progress: the leader's view of one follower's log, and the flow control that bounds what is in
// flight to it (thesis §3.5, §10.2.1). Owned by the leader's ProgressTracker; single-threaded.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "raft/types.h"

namespace cairn::raft {

// A bounded ring of the last index of each MsgAppend in flight, with their total payload bytes.
// Full when either bound is reached; acknowledgements free everything up to an index.
class Inflights {
 public:
  Inflights(std::size_t max_count, std::uint64_t max_bytes)
      : buf_(max_count), max_bytes_(max_bytes) {}
  void add(Index last, std::uint64_t bytes);
  void free_le(Index to);  // frees all inflights with index <= to
  void reset() {
    start_ = count_ = 0;
    bytes_ = 0;
  }
  bool full() const { return count_ == buf_.size() || bytes_ >= max_bytes_; }
  std::size_t count() const { return count_; }
  std::uint64_t bytes() const { return bytes_; }

 private:
  struct Slot {
    Index index = 0;
    std::uint64_t bytes = 0;
  };
  std::vector<Slot> buf_;  // ring; capacity = max count
  std::size_t start_ = 0;
  std::size_t count_ = 0;
  std::uint64_t bytes_ = 0;  // invariant: sum of bytes of live slots
  std::uint64_t max_bytes_;
};

enum class ProgressState {
  kProbe,      // one MsgAppend per heartbeat interval until a match is found
  kReplicate,  // optimistic pipelining, bounded by Inflights
  kSnapshot,   // a snapshot is on its way; nothing else is sent
};

constexpr const char* to_string(ProgressState s) {
  switch (s) {
    case ProgressState::kProbe:
      return "Probe";
    case ProgressState::kReplicate:
      return "Replicate";
    case ProgressState::kSnapshot:
      return "Snapshot";
  }
  return "?";
}

struct Progress {
  Progress(Index next_index, std::size_t max_inflight, std::uint64_t max_bytes)
      : next(next_index), inflights(max_inflight, max_bytes) {}

  // Invariant: match < next. Entries [1, match] are known to be on the follower.
  Index match = 0;
  Index next = 1;
  ProgressState state = ProgressState::kProbe;
  // In kSnapshot: the index of the snapshot sent; the follower needs at least that much.
  Index pending_snapshot = 0;
  // Set by any message from the follower; cleared by CheckQuorum each election timeout.
  bool recent_active = false;
  // Leader's tick count when it last heard from this follower (CheckQuorum's sliding window).
  std::uint64_t last_heard = 0;
  // kProbe: a probe was sent and no reply or heartbeat response came back yet.
  // kReplicate: the in-flight window is full. Cleared by a heartbeat response or an ack.
  bool msg_app_flow_paused = false;
  Inflights inflights;
  bool is_learner = false;

  void become_probe();
  void become_replicate();
  void become_snapshot(Index snapshot_index);
  // Records that a MsgAppend with entries up to `last` (bytes of payload) was sent.
  void sent_entries(Index last, std::uint64_t bytes, std::size_t count);
  // A successful MsgAppendResponse for index n. Returns false if it was stale.
  bool maybe_update(Index n);
  // A rejected MsgAppendResponse for `rejected` with hint `match_hint`. Returns false if stale.
  bool maybe_decr_to(Index rejected, Index match_hint);
  bool is_paused() const;
  std::string to_string() const;

 private:
  void reset_state(ProgressState s);
};

}  // namespace cairn::raft
