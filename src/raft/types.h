// Basic vocabulary of the Raft core: ids, errors, configuration, and the wire types it speaks.
// Header-only value types; thread-compatible (no shared state).
#pragma once

#include <cstdint>
#include <string_view>

#include "common/result.h"
#include "proto/raft.pb.h"

namespace cairn::raft {

using NodeId = std::uint64_t;  // 0 means "none" (no leader, no vote)
using Term = std::uint64_t;
using Index = std::uint64_t;

using Entry = eraftpb::Entry;
using Message = eraftpb::Message;
using MessageType = eraftpb::MessageType;
using HardState = eraftpb::HardState;
using ConfState = eraftpb::ConfState;
using Snapshot = eraftpb::Snapshot;
using ConfChange = eraftpb::ConfChange;
using ConfChangeV2 = eraftpb::ConfChangeV2;
using ConfChangeSingle = eraftpb::ConfChangeSingle;

inline constexpr NodeId kNone = 0;

// Context of a MsgAppendResponse rejection from a node that restarted without its log: the
// leader then forgets what that node acknowledged before (raft_leader.cc). Set by the caller
// (the node layer) on the messages it sends, since only it knows the log was lost.
inline constexpr std::string_view kLostLogContext = "cairn:lost-log";
inline constexpr std::uint64_t kNoLimit = UINT64_MAX;

// Every failure the core reports to its caller. Broken invariants are not errors: they abort.
enum class Error {
  // Storage conditions (raft-rs / etcd StorageError).
  kCompacted,                       // the requested index was compacted into a snapshot
  kUnavailable,                     // the requested index is beyond the last entry
  kSnapOutOfDate,                   // a snapshot older than the storage's own was applied
  kSnapshotTemporarilyUnavailable,  // storage is building a snapshot; try again later
  // Proposal refusals: the proposal was NOT appended and will never commit.
  kNoLeader,            // no known leader to take (or forward) the proposal
  kLeaderTransferring,  // the leader is handing over leadership; retry on the new leader
  kUncommittedLimit,    // the leader's uncommitted tail exceeds Config::max_uncommitted_size
  kNotLeader,           // forwarding disabled and this node is not the leader
  kConfChangePending,   // a configuration change is already in flight
  kInvalidConfChange,   // the change is not legal from the current configuration
  // Caller mistakes.
  kStepLocalMessage,  // a local-only message (Hup, Beat...) arrived through step()
  kStepPeerNotFound,  // a response from a peer that is not in the configuration
  kInvalidConfig,
  // Bad input from the network.
  kMalformedMessage,  // a peer's message breaks the protocol (e.g. a proposal with no entries)
};

constexpr std::string_view to_string(Error e) {
  switch (e) {
    case Error::kCompacted:
      return "requested index is unavailable due to compaction";
    case Error::kUnavailable:
      return "requested entry at index is unavailable";
    case Error::kSnapOutOfDate:
      return "requested index is older than the existing snapshot";
    case Error::kSnapshotTemporarilyUnavailable:
      return "snapshot is temporarily unavailable";
    case Error::kNoLeader:
      return "proposal dropped: no leader";
    case Error::kLeaderTransferring:
      return "proposal dropped: leadership transfer in progress";
    case Error::kUncommittedLimit:
      return "proposal dropped: too many uncommitted entries";
    case Error::kNotLeader:
      return "proposal dropped: not the leader and forwarding is disabled";
    case Error::kConfChangePending:
      return "proposal dropped: a conf change is already pending";
    case Error::kInvalidConfChange:
      return "invalid configuration change";
    case Error::kStepLocalMessage:
      return "cannot step a local message";
    case Error::kStepPeerNotFound:
      return "cannot step a response from an unknown peer";
    case Error::kInvalidConfig:
      return "invalid raft configuration";
    case Error::kMalformedMessage:
      return "malformed raft message from a peer";
  }
  return "unknown raft error";
}

template <typename T>
using RResult = Result<T, Error>;
using RStatus = Status<Error>;

// How a ReadIndex request is confirmed (thesis §6.4).
enum class ReadOnlyOption {
  kSafe,        // confirm leadership with a heartbeat round (§6.4)
  kLeaseBased,  // trust the leader lease (§6.4.1); requires check_quorum, relies on bounded drift
};

// Node roles. PreCandidate is the PreVote phase (thesis §9.6).
enum class Role { kFollower, kPreCandidate, kCandidate, kLeader };

constexpr std::string_view to_string(Role r) {
  switch (r) {
    case Role::kFollower:
      return "Follower";
    case Role::kPreCandidate:
      return "PreCandidate";
    case Role::kCandidate:
      return "Candidate";
    case Role::kLeader:
      return "Leader";
  }
  return "?";
}

// Static configuration of one node. Times are in ticks.
struct Config {
  NodeId id = kNone;
  int election_tick = 10;  // randomized in [election_tick, 2*election_tick) (§3.4)
  int heartbeat_tick = 1;  // must be < election_tick
  Index applied = 0;       // last index the state machine applied before restart (0 = none)
  std::uint64_t max_size_per_msg = 1 << 20;  // bytes of entries in one MsgAppend
  std::uint64_t max_committed_size_per_ready = kNoLimit;
  std::uint64_t max_uncommitted_entries_size = kNoLimit;  // bytes of uncommitted payloads
  std::size_t max_inflight_msgs = 256;                    // MsgAppends in flight per follower
  std::uint64_t max_inflight_bytes = kNoLimit;            // bytes in flight per follower
  bool check_quorum = false;
  bool pre_vote = false;
  ReadOnlyOption read_only_option = ReadOnlyOption::kSafe;
  bool disable_proposal_forwarding = false;
  // The owner syncs its log off the Raft thread (etcd-raft's AsyncStorageWrites): the leader's
  // own entries count toward commitment only once the owner reports them durable
  // (RawNode::persisted), not when they are appended. Off: they count at once, and the owner
  // must sync each Ready before its messages leave and before the next Ready (the classic
  // contract, raw_node.h).
  bool async_persist = false;
  std::uint64_t seed = 0;  // seeds the election-timeout randomness (mixed with id)

  RStatus validate() const {
    if (id == kNone || heartbeat_tick <= 0 || election_tick <= heartbeat_tick ||
        max_inflight_msgs == 0 || max_inflight_bytes == 0) {
      return Err(Error::kInvalidConfig);
    }
    if (read_only_option == ReadOnlyOption::kLeaseBased && !check_quorum) {
      return Err(Error::kInvalidConfig);  // leases are only safe if a cut-off leader steps down
    }
    return {};
  }
};

inline std::uint64_t payload_size(const Entry& e) {
  return e.data().size();
}
inline std::uint64_t entry_size(const Entry& e) {
  return e.ByteSizeLong();
}

inline bool is_local_msg(MessageType t) {
  return t == eraftpb::MsgHup || t == eraftpb::MsgBeat || t == eraftpb::MsgUnreachable ||
         t == eraftpb::MsgSnapStatus || t == eraftpb::MsgCheckQuorum;
}
inline bool is_response_msg(MessageType t) {
  return t == eraftpb::MsgAppendResponse || t == eraftpb::MsgRequestVoteResponse ||
         t == eraftpb::MsgHeartbeatResponse || t == eraftpb::MsgUnreachable ||
         t == eraftpb::MsgRequestPreVoteResponse;
}

}  // namespace cairn::raft
