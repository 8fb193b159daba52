// Raft: term rules, vote granting, elections (PreVote), role transitions and ticks.
// See raft.h for the file layout and the threading rule (single-threaded).
#include "raft/raft.h"

#include <cstdio>

#include "raft/confchange.h"

namespace cairn::raft {

namespace {
// The splitmix64 finalizer: a bijection with full avalanche, so nearby (seed, id) pairs give
// unrelated streams. (Plain `seed ^ id * constant` made node n's stream node n-1's, shifted by
// one draw: two nodes then timed out in lockstep and split every vote, forever.)
std::uint64_t mix64(std::uint64_t z) {
  z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9ULL;
  z = (z ^ (z >> 27)) * 0x94D049BB133111EBULL;
  return z ^ (z >> 31);
}

MessageType vote_response_type(MessageType t) {
  return t == eraftpb::MsgRequestVote ? eraftpb::MsgRequestVoteResponse
                                      : eraftpb::MsgRequestPreVoteResponse;
}
}  // namespace

Raft::Raft(const Config& c, const Storage* storage)
    : id_(c.id),
      log_(storage, c.max_committed_size_per_ready),
      trk_(c.max_inflight_msgs, c.max_inflight_bytes),
      read_only_(c.read_only_option),
      heartbeat_timeout_(c.heartbeat_tick),
      election_timeout_(c.election_tick),
      check_quorum_(c.check_quorum),
      pre_vote_(c.pre_vote),
      disable_proposal_forwarding_(c.disable_proposal_forwarding),
      async_persist_(c.async_persist),
      max_msg_size_(c.max_size_per_msg),
      max_uncommitted_size_(c.max_uncommitted_entries_size),
      rng_(mix64(c.seed ^ mix64(c.id))) {
  CAIRN_CHECK(c.validate().ok());
  const RaftState rs = storage->initial_state();
  auto restored =
      restore_conf(rs.conf_state, log_.last_index(), c.max_inflight_msgs, c.max_inflight_bytes);
  if (!restored.ok()) {
    std::fprintf(stderr, "invalid persisted conf state: %s\n", restored.error().c_str());
    CAIRN_CHECK(restored.ok());
  }
  switch_to_config(std::move(restored->config), std::move(restored->progress));
  const HardState& hs = rs.hard_state;
  if (hs.term() != 0 || hs.vote() != 0 || hs.commit() != 0) load_state(hs);
  if (c.applied > 0) log_.applied_to(c.applied);
  become_follower(term_, kNone);
}

HardState Raft::hard_state() const {
  HardState hs;
  hs.set_term(term_);
  hs.set_vote(vote_);
  hs.set_commit(log_.committed());
  return hs;
}

void Raft::load_state(const HardState& hs) {
  CAIRN_CHECK(hs.commit() >= log_.committed() && hs.commit() <= log_.last_index());
  log_.commit_to(hs.commit());
  term_ = hs.term();
  vote_ = hs.vote();
}

std::uint64_t Raft::next_random() {
  std::uint64_t z = (rng_ += 0x9E3779B97F4A7C15ULL);
  z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9ULL;
  z = (z ^ (z >> 27)) * 0x94D049BB133111EBULL;
  return z ^ (z >> 31);
}

void Raft::reset_randomized_election_timeout() {
  // §3.4: randomized timeouts make split votes rare.
  randomized_election_timeout_ =
      election_timeout_ +
      static_cast<int>(next_random() % static_cast<std::uint64_t>(election_timeout_));
}

bool Raft::promotable() const {
  const Progress* pr = trk_.get(id_);
  return pr != nullptr && !pr->is_learner && !log_.unstable_snapshot().has_value();
}

void Raft::send(Message m) {
  m.set_from(id_);
  const MessageType t = m.msg_type();
  if (t == eraftpb::MsgRequestVote || t == eraftpb::MsgRequestVoteResponse ||
      t == eraftpb::MsgRequestPreVote || t == eraftpb::MsgRequestPreVoteResponse) {
    CAIRN_CHECK(m.term() != 0);  // vote messages carry the term they are about
  } else {
    CAIRN_CHECK(m.term() == 0);
    // Forwarded proposals and read requests are treated as local by the receiver: no term.
    if (t != eraftpb::MsgPropose && t != eraftpb::MsgReadIndex) m.set_term(term_);
  }
  msgs_.push_back(std::move(m));
}

// ---- role transitions ----

void Raft::reset(Term term) {
  if (term_ != term) {
    term_ = term;
    vote_ = kNone;
  }
  lead_ = kNone;
  lease_revoked_ = false;
  read_floor_ = 0;
  election_elapsed_ = 0;
  heartbeat_elapsed_ = 0;
  reset_randomized_election_timeout();
  abort_leader_transfer();
  trk_.reset_votes();
  const Index last = log_.last_index();
  for (auto& [pid, pr] : trk_.progress()) {
    const bool learner = pr.is_learner;
    pr = Progress(last + 1, trk_.max_inflight(), trk_.max_inflight_bytes());
    pr.is_learner = learner;
    pr.last_heard = ticks_;  // a new leader gets a full election timeout to hear from everyone
    if (pid == id_) pr.match = last;
  }
  pending_conf_index_ = 0;
  pending_timeout_now_ = false;
  uncommitted_size_ = 0;
  read_only_.reset();
  pending_read_index_messages_.clear();
}

void Raft::become_follower(Term term, NodeId lead) {
  reset(term);
  lead_ = lead;
  role_ = Role::kFollower;
}

void Raft::become_pre_candidate() {
  CAIRN_CHECK(role_ != Role::kLeader);
  // §9.6: a pre-candidate changes neither term nor vote; it only asks whether it could win.
  trk_.reset_votes();
  lead_ = kNone;
  role_ = Role::kPreCandidate;
}

void Raft::become_candidate() {
  CAIRN_CHECK(role_ != Role::kLeader);
  reset(term_ + 1);
  vote_ = id_;
  role_ = Role::kCandidate;
}

void Raft::become_leader() {
  CAIRN_CHECK(role_ != Role::kFollower);
  reset(term_);
  lead_ = id_;
  role_ = Role::kLeader;
  Progress* self = trk_.get(id_);
  CAIRN_CHECK(self != nullptr);
  self->become_replicate();
  self->recent_active = true;
  // Conf changes proposed by earlier leaders may be uncommitted; refuse new ones until the log
  // is applied up to here (§4.1).
  pending_conf_index_ = log_.last_index();
  // §5.4.2 / §6.4: a no-op entry of the new term lets earlier entries commit and anchors reads.
  std::vector<Entry> noop(1);
  CAIRN_CHECK(append_entry(std::move(noop)));
}

// ---- elections ----

bool Raft::has_unapplied_conf_changes() const {
  if (log_.applied() >= log_.committed()) return false;
  auto ents = log_.slice(log_.applied() + 1, log_.committed() + 1, kNoLimit);
  if (!ents.ok()) return false;
  for (const Entry& e : *ents) {
    if (e.entry_type() != eraftpb::EntryNormal) return true;
  }
  return false;
}

void Raft::hup(CampaignType t) {
  if (role_ == Role::kLeader || !promotable()) return;
  // A node must not campaign while a committed conf change is unapplied: it might not know the
  // configuration it would be elected under.
  if (has_unapplied_conf_changes()) return;
  campaign(t);
}

void Raft::campaign(CampaignType t) {
  if (!promotable()) return;
  Term term;
  MessageType vote_type;
  if (t == CampaignType::kPreElection) {
    become_pre_candidate();
    vote_type = eraftpb::MsgRequestPreVote;
    term = term_ + 1;  // the term we would campaign in; our own term is unchanged (§9.6)
  } else {
    become_candidate();
    vote_type = eraftpb::MsgRequestVote;
    term = term_;
  }
  if (poll(id_, vote_response_type(vote_type), true) == VoteResult::kWon) {
    // Single-voter configuration: we win at once.
    if (t == CampaignType::kPreElection) {
      campaign(CampaignType::kElection);
    } else {
      become_leader();
    }
    return;
  }
  for (NodeId id : trk_.voter_ids()) {
    if (id == id_) continue;
    Message m;
    m.set_to(id);
    m.set_term(term);
    m.set_msg_type(vote_type);
    m.set_index(log_.last_index());
    m.set_log_term(log_.last_term());
    if (t == CampaignType::kTransfer) m.set_context(std::string(kCampaignTransfer));
    send(std::move(m));
  }
}

VoteResult Raft::poll(NodeId id, MessageType /*t*/, bool granted) {
  trk_.record_vote(id, granted);
  std::size_t yes = 0, no = 0;
  return trk_.tally_votes(&yes, &no);
}

void Raft::handle_vote_request(const Message& m) {
  const bool pre = m.msg_type() == eraftpb::MsgRequestPreVote;
  // §3.6: we can vote for m.from if we already did, or if we have not voted and know no leader
  // of this term; a pre-vote for a future term is always allowed to be considered.
  const bool can_vote =
      vote_ == m.from() || (vote_ == kNone && lead_ == kNone) || (pre && m.term() > term_);
  Message resp;
  resp.set_to(m.from());
  resp.set_msg_type(vote_response_type(m.msg_type()));
  // §5.4.1 election restriction: only for candidates whose log is at least as up to date.
  if (can_vote && log_.is_up_to_date(m.index(), m.log_term())) {
    // Reply with the request's term: for a pre-vote our own term may be lower.
    resp.set_term(m.term());
    send(std::move(resp));
    if (!pre) {
      election_elapsed_ = 0;
      vote_ = m.from();
    }
  } else {
    resp.set_term(term_);
    resp.set_reject(true);
    send(std::move(resp));
  }
}

// ---- step ----

RStatus Raft::step_by_term(const Message& m, bool* handled) {
  *handled = false;
  const MessageType t = m.msg_type();
  if (m.term() == 0) return {};  // local message
  if (m.term() > term_) {
    if (t == eraftpb::MsgRequestVote || t == eraftpb::MsgRequestPreVote) {
      const bool force = m.context() == kCampaignTransfer;
      // §4.2.3 / §6.2: while we hear from a live leader, ignore vote requests (disruption guard).
      const bool in_lease =
          check_quorum_ && lead_ != kNone && election_elapsed_ < election_timeout_;
      if (!force && in_lease) {
        *handled = true;
        return {};
      }
    }
    if (t == eraftpb::MsgRequestPreVote) {
      // Never change term because of a pre-vote request.
    } else if (t == eraftpb::MsgRequestPreVoteResponse && !m.reject()) {
      // Our term is bumped when the pre-vote wins a quorum.
    } else if (t == eraftpb::MsgAppend || t == eraftpb::MsgHeartbeat || t == eraftpb::MsgSnapshot) {
      become_follower(m.term(), m.from());
    } else if (t == eraftpb::MsgRequestVote) {
      // §5.2: only hearing from a leader or granting a vote restarts the election timer; merely
      // learning a higher term from a candidate does not (etcd-raft and raft-rs restart it).
      // Otherwise candidates that cannot win (stale logs) keep an up-to-date node from ever
      // timing out, and no leader emerges (found by the simulator without PreVote).
      const int elapsed = election_elapsed_;
      become_follower(m.term(), kNone);
      election_elapsed_ = elapsed;
    } else {
      become_follower(m.term(), kNone);
    }
    return {};
  }
  if (m.term() < term_) {
    *handled = true;
    if ((check_quorum_ || pre_vote_) && (t == eraftpb::MsgHeartbeat || t == eraftpb::MsgAppend)) {
      // A stale leader (e.g. after a partition healed) would otherwise never learn the new term
      // because we ignore its messages and, with PreVote/CheckQuorum, nobody bumps it (§9.6).
      Message resp;
      resp.set_to(m.from());
      resp.set_msg_type(eraftpb::MsgAppendResponse);
      send(std::move(resp));
    } else if (t == eraftpb::MsgRequestPreVote) {
      // Tell a lagging pre-candidate our term so it can catch up.
      Message resp;
      resp.set_to(m.from());
      resp.set_term(term_);
      resp.set_msg_type(eraftpb::MsgRequestPreVoteResponse);
      resp.set_reject(true);
      send(std::move(resp));
    }
    // Other messages from older terms are ignored (§3.3).
  }
  return {};
}

RStatus Raft::step(Message m) {
  bool handled = false;
  if (auto st = step_by_term(m, &handled); !st || handled) return st;
  switch (m.msg_type()) {
    case eraftpb::MsgHup:
      hup(pre_vote_ ? CampaignType::kPreElection : CampaignType::kElection);
      return {};
    case eraftpb::MsgRequestVote:
    case eraftpb::MsgRequestPreVote:
      handle_vote_request(m);
      return {};
    default:
      break;
  }
  switch (role_) {
    case Role::kFollower:
      return step_follower(m);
    case Role::kPreCandidate:
    case Role::kCandidate:
      return step_candidate(m);
    case Role::kLeader:
      return step_leader(m);
  }
  return {};
}

// ---- ticks ----

void Raft::tick() {
  ++ticks_;
  if (role_ == Role::kLeader) {
    tick_heartbeat();
  } else {
    tick_election();
  }
}

void Raft::tick_election() {
  ++election_elapsed_;
  if (promotable() && past_election_timeout()) {
    election_elapsed_ = 0;
    Message m;
    m.set_from(id_);
    m.set_msg_type(eraftpb::MsgHup);
    (void)step(std::move(m));
  }
}

void Raft::tick_heartbeat() {
  ++heartbeat_elapsed_;
  ++election_elapsed_;
  // §6.2 CheckQuorum over a sliding window: step down as soon as a quorum has not been heard
  // from for a whole election timeout (a check only at each timeout boundary could take two).
  if (check_quorum_ && !quorum_heard_within_election_timeout()) {
    become_follower(term_, kNone);
    return;
  }
  if (election_elapsed_ >= election_timeout_) {
    election_elapsed_ = 0;
    if (check_quorum_) {
      Message m;
      m.set_from(id_);
      m.set_msg_type(eraftpb::MsgCheckQuorum);
      (void)step(std::move(m));
    }
    // §3.10: a transfer that did not finish within an election timeout is abandoned.
    if (role_ == Role::kLeader && lead_transferee_ != kNone) abort_leader_transfer();
    // A leader that is no longer a voter keeps trying to hand over (another voter, or again).
    if (leading_as_non_voter()) hand_over_leadership();
  }
  if (role_ != Role::kLeader) return;
  if (heartbeat_elapsed_ >= heartbeat_timeout_) {
    heartbeat_elapsed_ = 0;
    Message m;
    m.set_from(id_);
    m.set_msg_type(eraftpb::MsgBeat);
    (void)step(std::move(m));
  }
}

void Raft::applied_to(Index index) {
  const Index old = log_.applied();
  const Index applied = std::max(index, old);
  log_.applied_to(applied);
  if (pending_timeout_now_ && role_ == Role::kFollower && !has_unapplied_conf_changes()) {
    pending_timeout_now_ = false;
    hup(CampaignType::kTransfer);
  }
  // §4.3: leave the joint configuration automatically once the entry entering it is applied.
  if (trk_.config().auto_leave && applied >= pending_conf_index_ && role_ == Role::kLeader) {
    Message m;
    m.set_msg_type(eraftpb::MsgPropose);
    Entry* e = m.add_entries();
    e->set_entry_type(eraftpb::EntryConfChangeV2);  // empty data = empty ConfChangeV2 = leave
    (void)step(std::move(m));  // refused only during a transfer; retried on the next advance
  }
}

void Raft::reduce_uncommitted_size(std::uint64_t bytes) {
  uncommitted_size_ = bytes > uncommitted_size_ ? 0 : uncommitted_size_ - bytes;
}

}  // namespace cairn::raft
