// Raft: message handlers of the follower, pre-candidate and candidate roles (thesis §3.4-§3.6).
// Single-threaded; see raft.h.
#include "raft/raft.h"

namespace cairn::raft {

RStatus Raft::step_follower(Message& m) {
  switch (m.msg_type()) {
    case eraftpb::MsgPropose:
      if (lead_ == kNone) return Err(Error::kNoLeader);
      if (disable_proposal_forwarding_) return Err(Error::kNotLeader);
      m.set_to(lead_);
      m.set_term(0);
      send(std::move(m));
      return {};
    case eraftpb::MsgAppend:
      election_elapsed_ = 0;
      lead_ = m.from();
      handle_append_entries(m);
      return {};
    case eraftpb::MsgHeartbeat:
      election_elapsed_ = 0;
      lead_ = m.from();
      handle_heartbeat(m);
      return {};
    case eraftpb::MsgSnapshot:
      election_elapsed_ = 0;
      lead_ = m.from();
      handle_snapshot(m);
      return {};
    case eraftpb::MsgTransferLeader:
      if (lead_ == kNone) return Err(Error::kNoLeader);
      m.set_to(lead_);
      m.set_term(0);
      msgs_.push_back(std::move(m));  // keep `from` = the requested transferee
      return {};
    case eraftpb::MsgTimeoutNow:
      // §3.10: the leader asks us to start an election at once, skipping PreVote and the lease.
      // If a committed conf change is not applied yet we may not campaign (hup refuses): do it
      // as soon as it is (applied_to), or the transfer would silently fail.
      if (has_unapplied_conf_changes()) {
        pending_timeout_now_ = true;
        return {};
      }
      hup(CampaignType::kTransfer);
      return {};
    case eraftpb::MsgReadIndex:
      if (lead_ == kNone) return Err(Error::kNoLeader);
      m.set_to(lead_);
      m.set_term(0);
      send(std::move(m));
      return {};
    case eraftpb::MsgReadIndexResp:
      handle_read_index_response(m);
      return {};
    default:
      return {};  // responses meant for a leader we no longer are: ignore
  }
}

void Raft::handle_read_index_response(const Message& m) {
  if (m.entries_size() != 1) return;  // malformed; the requester will time out and retry
  read_states_.push_back(ReadState{m.index(), m.entries(0).data()});
}

RStatus Raft::step_candidate(Message& m) {
  const MessageType my_resp = role_ == Role::kPreCandidate ? eraftpb::MsgRequestPreVoteResponse
                                                           : eraftpb::MsgRequestVoteResponse;
  switch (m.msg_type()) {
    case eraftpb::MsgPropose:
      return Err(Error::kNoLeader);
    case eraftpb::MsgReadIndex:
      return Err(Error::kNoLeader);
    case eraftpb::MsgTransferLeader:
      return Err(Error::kNoLeader);
    // A leader of our term exists (it won this term): follow it (§3.4).
    case eraftpb::MsgAppend:
      become_follower(m.term(), m.from());
      handle_append_entries(m);
      return {};
    case eraftpb::MsgHeartbeat:
      become_follower(m.term(), m.from());
      handle_heartbeat(m);
      return {};
    case eraftpb::MsgSnapshot:
      become_follower(m.term(), m.from());
      handle_snapshot(m);
      return {};
    case eraftpb::MsgTimeoutNow:
      return {};  // only a follower can be asked to take over
    default:
      break;
  }
  if (m.msg_type() != my_resp) return {};
  switch (poll(m.from(), m.msg_type(), !m.reject())) {
    case VoteResult::kWon:
      if (role_ == Role::kPreCandidate) {
        campaign(CampaignType::kElection);
      } else {
        become_leader();
        bcast_append();
      }
      break;
    case VoteResult::kLost:
      // A rejected pre-candidate or candidate waits out another timeout as a follower. For
      // PreVote the term may have been raised by a rejection carrying a newer term.
      become_follower(term_, kNone);
      break;
    case VoteResult::kPending:
      break;
  }
  return {};
}

}  // namespace cairn::raft
