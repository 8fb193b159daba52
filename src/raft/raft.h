// Raft: the consensus state machine of one node (thesis chapter 3, with §4 membership, §6 reads,
// §9.6 PreVote, §3.10 leadership transfer, §6.2 CheckQuorum). It owns no socket, thread, disk or
// clock: time arrives as tick(), peer messages as step(); outputs (messages, log entries to
// persist, committed entries) are collected by RawNode into a Ready.
//
// Threading: single-threaded. One owner calls every method; nothing is shared.
// Layout: raft.cc (term rules, elections, ticks), raft_replication.cc (log shipping on both ends),
// raft_leader.cc / raft_follower.cc (one handler per role and message), raft_conf.cc (membership).
#pragma once

#include <algorithm>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "raft/raft_log.h"
#include "raft/read_only.h"
#include "raft/tracker.h"

namespace cairn::raft {

struct SoftState {
  NodeId leader_id = kNone;
  Role role = Role::kFollower;
  bool operator==(const SoftState&) const = default;
};

// Context carried by MsgRequestVote of a leadership transfer: voters skip the lease check (§3.10).
inline constexpr std::string_view kCampaignTransfer = "CampaignTransfer";

class Raft {
 public:
  enum class CampaignType { kPreElection, kElection, kTransfer };

  Raft(const Config& c, const Storage* storage);

  // Processes one message: a peer's, or a local one (MsgHup, MsgBeat, MsgPropose...).
  RStatus step(Message m);
  // Advances logical time by one tick.
  void tick();

  // Applies a committed configuration change (the caller calls this when it applies the entry).
  RResult<ConfState> apply_conf_change(const ConfChangeV2& cc);
  // The caller applied everything up to `index` (called from RawNode::advance).
  void applied_to(Index index);
  void reduce_uncommitted_size(std::uint64_t bytes);
  // With Config::async_persist: the log up to `index`, whose entry there has term `term`, is
  // durable here. A leader counts it toward commitment (and tells the followers if the commit
  // index moved); an entry since overwritten (another term at that index) is ignored.
  void persisted(Index index, Term term);

  // Read access for RawNode, tests and the simulator's invariant checks.
  NodeId id() const { return id_; }
  Term term() const { return term_; }
  NodeId vote() const { return vote_; }
  NodeId leader() const { return lead_; }
  Role role() const { return role_; }
  NodeId lead_transferee() const { return lead_transferee_; }
  bool is_learner() const { return is_learner_; }
  bool promotable() const;
  // True when this node is the only voter of a simple (non-joint) configuration: its own log is
  // a quorum, so its commit index needs no confirmation round. A leader that is not a voter (it
  // removed itself and is handing over) is never its own quorum, even when one voter is left.
  bool sole_voter() const { return trk_.is_singleton() && trk_.config().voters.contains(id_); }
  SoftState soft_state() const { return SoftState{lead_, role_}; }
  HardState hard_state() const;
  RaftLog& log() { return log_; }
  const RaftLog& log() const { return log_; }
  const ProgressTracker& tracker() const { return trk_; }
  ProgressTracker& tracker() { return trk_; }
  std::vector<Message>& msgs() { return msgs_; }
  const std::vector<Message>& msgs() const { return msgs_; }
  std::vector<ReadState>& read_states() { return read_states_; }
  const std::vector<ReadState>& read_states() const { return read_states_; }
  Index pending_conf_index() const { return pending_conf_index_; }
  std::uint64_t uncommitted_size() const { return uncommitted_size_; }
  int randomized_election_timeout() const { return randomized_election_timeout_; }
  int election_elapsed() const { return election_elapsed_; }
  const ReadOnly& read_only() const { return read_only_; }
  // Leader only: ReadIndex requests answered from now on in this term get at least `index` (an
  // entry of this leader's log). The state machine uses it to make reads wait for an entry it has
  // just proposed, such as one carrying the leader's clock. Reset when the term or role changes.
  void set_read_floor(Index index) { read_floor_ = std::max(read_floor_, index); }

  // Test hooks: the etcd test suite pins timeouts to make scenarios exact.
  void set_randomized_election_timeout(int t) { randomized_election_timeout_ = t; }

 private:
  // ---- raft.cc: term rules, elections, ticks ----
  RStatus step_by_term(const Message& m, bool* handled);
  void handle_vote_request(const Message& m);
  void hup(CampaignType t);
  void campaign(CampaignType t);
  VoteResult poll(NodeId id, MessageType t, bool granted);
  void become_follower(Term term, NodeId lead);
  void become_pre_candidate();
  void become_candidate();
  void become_leader();
  void reset(Term term);
  void tick_election();
  void tick_heartbeat();
  bool past_election_timeout() const { return election_elapsed_ >= randomized_election_timeout_; }
  void reset_randomized_election_timeout();
  bool has_unapplied_conf_changes() const;
  void load_state(const HardState& hs);
  void send(Message m);
  std::uint64_t next_random();

  // ---- raft_follower.cc: follower and (pre-)candidate handlers ----
  RStatus step_follower(Message& m);
  RStatus step_candidate(Message& m);
  void handle_read_index_response(const Message& m);

  // ---- raft_leader.cc: one handler per message type ----
  RStatus step_leader(Message& m);
  RStatus leader_propose(Message& m);
  void leader_read_index(Message& m);
  void send_read_index_response(Message m);
  void release_pending_read_index_messages();
  void respond_to_read_index(const Message& req, Index read_index);
  void leader_append_response(const Message& m, Progress& pr);
  void leader_heartbeat_response(const Message& m, Progress& pr);
  void leader_transfer(const Message& m, Progress& pr);
  void leader_check_quorum();
  bool quorum_heard_within_election_timeout() const;
  void send_timeout_now(NodeId to);
  void abort_leader_transfer() { lead_transferee_ = kNone; }
  bool committed_entry_in_current_term() const;
  // The index a ReadIndex request is answered with: the commit index, or the read floor if later.
  Index read_point() const { return std::max(log_.committed(), read_floor_); }

  // ---- raft_replication.cc: shipping the log ----
  bool append_entry(std::vector<Entry> es);
  bool increase_uncommitted_size(const std::vector<Entry>& es);
  bool maybe_commit();
  void bcast_append();
  void bcast_heartbeat();
  void bcast_heartbeat_with_ctx(const std::string& ctx);
  void send_heartbeat(NodeId to, const std::string& ctx);
  bool maybe_send_append(NodeId to, bool send_if_empty);
  bool send_snapshot(NodeId to, Progress& pr);
  void handle_append_entries(Message& m);  // moves the entries out of m
  void handle_heartbeat(const Message& m);
  void handle_snapshot(const Message& m);
  bool restore(const Snapshot& s);

  // ---- raft_conf.cc: membership ----
  ConfState switch_to_config(TrackerConfig cfg, ProgressMap prs);
  // A leader no longer a voter transfers leadership to the most up-to-date voter.
  void hand_over_leadership();
  bool leading_as_non_voter() const {
    const Progress* self = trk_.get(id_);
    return role_ == Role::kLeader && (self == nullptr || self->is_learner);
  }

  // Persistent state (§3.3): must reach stable storage before messages that depend on it leave.
  NodeId id_;
  Term term_ = 0;
  NodeId vote_ = kNone;  // whom we voted for in term_ (kNone: no vote yet)
  RaftLog log_;

  // Volatile state.
  ProgressTracker trk_;
  Role role_ = Role::kFollower;
  bool is_learner_ = false;
  NodeId lead_ = kNone;
  // Leader only: the node we are handing leadership to (§3.10); proposals are refused meanwhile.
  NodeId lead_transferee_ = kNone;
  // Leader only: set once a MsgTimeoutNow has been sent in this term. Its target campaigns
  // past the followers' leases (§3.10), so from then on this leader's lease proves nothing and
  // reads take the heartbeat round instead, until the term changes (reset()).
  bool lease_revoked_ = false;
  // Leader only: index of the latest conf change proposed; a new one is refused until the log is
  // applied past it (one change in flight at a time, §4.1).
  Index pending_conf_index_ = 0;
  // Leader only: payload bytes of entries appended in this term and not yet applied.
  std::uint64_t uncommitted_size_ = 0;
  ReadOnly read_only_;
  // Leader only: the least index a ReadIndex request is answered with (set_read_floor()).
  Index read_floor_ = 0;
  // Leader only: ReadIndex requests waiting until an entry of this term commits (§6.4 step 1).
  std::vector<Message> pending_read_index_messages_;
  std::vector<ReadState> read_states_;
  std::vector<Message> msgs_;  // outgoing, drained by RawNode::ready()

  // Ticks since the last election timeout reset (followers, candidates) or the last CheckQuorum
  // round (leaders).
  int election_elapsed_ = 0;
  int heartbeat_elapsed_ = 0;  // leader only
  // Follower only: a MsgTimeoutNow of this term arrived while a committed conf change was
  // unapplied; campaign once it is applied. Cleared on any role or term change.
  bool pending_timeout_now_ = false;
  std::uint64_t ticks_ = 0;  // ticks since this Raft was created (a logical clock)
  int heartbeat_timeout_;
  int election_timeout_;
  // In [election_timeout, 2*election_timeout), re-drawn on every reset (§3.4).
  int randomized_election_timeout_ = 0;
  bool check_quorum_;
  bool pre_vote_;
  bool disable_proposal_forwarding_;
  bool async_persist_;
  std::uint64_t max_msg_size_;
  std::uint64_t max_uncommitted_size_;
  std::uint64_t rng_;  // splitmix64 state: deterministic per (seed, id)
};

}  // namespace cairn::raft
