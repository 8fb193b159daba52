// RawNode: see raw_node.h. Single-threaded.
#include "raft/raw_node.h"

#include "raft/confchange.h"

namespace cairn::raft {

namespace {
bool same_hard_state(const HardState& a, const HardState& b) {
  return a.term() == b.term() && a.vote() == b.vote() && a.commit() == b.commit();
}
}  // namespace

RResult<std::unique_ptr<RawNode>> RawNode::create(const Config& config, const Storage* storage) {
  if (auto st = config.validate(); !st) return Err(st.error());
  return std::make_unique<RawNode>(config, storage);
}

RawNode::RawNode(const Config& config, const Storage* storage)
    : raft_(config, storage), prev_soft_(raft_.soft_state()), prev_hard_(raft_.hard_state()) {}

void RawNode::campaign() {
  Message m;
  m.set_msg_type(eraftpb::MsgHup);
  (void)raft_.step(std::move(m));
}

RStatus RawNode::step(Message m) {
  // Local messages must come through the dedicated calls.
  if (is_local_msg(m.msg_type())) return Err(Error::kStepLocalMessage);
  // A forwarded proposal always carries entries; an empty one would trip the leader's
  // invariant checks, so a bad peer could abort it. Refuse it here instead.
  if (m.msg_type() == eraftpb::MsgPropose && m.entries_size() == 0) {
    return Err(Error::kMalformedMessage);
  }
  if (is_response_msg(m.msg_type()) && raft_.tracker().get(m.from()) == nullptr) {
    return Err(Error::kStepPeerNotFound);
  }
  return raft_.step(std::move(m));
}

RStatus RawNode::propose(std::string data, std::string context) {
  Message m;
  m.set_msg_type(eraftpb::MsgPropose);
  m.set_from(raft_.id());
  Entry* e = m.add_entries();
  e->set_data(std::move(data));
  if (!context.empty()) e->set_context(std::move(context));
  return raft_.step(std::move(m));
}

RStatus RawNode::propose_batch(std::vector<std::string> datas) {
  if (datas.empty()) return {};
  Message m;
  m.set_msg_type(eraftpb::MsgPropose);
  m.set_from(raft_.id());
  m.mutable_entries()->Reserve(static_cast<int>(datas.size()));
  for (std::string& d : datas)
    m.add_entries()->set_data(std::move(d));
  return raft_.step(std::move(m));
}

namespace {
// A proposal of one configuration-change entry of the given type.
Message conf_change_proposal(NodeId from, eraftpb::EntryType type, std::string data) {
  Message m;
  m.set_msg_type(eraftpb::MsgPropose);
  m.set_from(from);
  Entry* e = m.add_entries();
  e->set_entry_type(type);
  e->set_data(std::move(data));
  return m;
}
}  // namespace

RStatus RawNode::propose_conf_change(const ConfChangeV2& cc) {
  return raft_.step(
      conf_change_proposal(raft_.id(), eraftpb::EntryConfChangeV2, cc.SerializeAsString()));
}

RStatus RawNode::propose_conf_change(const ConfChange& cc) {
  return raft_.step(
      conf_change_proposal(raft_.id(), eraftpb::EntryConfChange, cc.SerializeAsString()));
}

RResult<ConfState> RawNode::apply_conf_change(const ConfChange& cc) {
  return raft_.apply_conf_change(to_v2(cc));
}

RStatus RawNode::read_index(std::string ctx) {
  Message m;
  m.set_msg_type(eraftpb::MsgReadIndex);
  m.add_entries()->set_data(std::move(ctx));
  return raft_.step(std::move(m));
}

RStatus RawNode::transfer_leader(NodeId transferee) {
  Message m;
  m.set_msg_type(eraftpb::MsgTransferLeader);
  m.set_from(transferee);
  return raft_.step(std::move(m));
}

void RawNode::report_unreachable(NodeId id) {
  Message m;
  m.set_msg_type(eraftpb::MsgUnreachable);
  m.set_from(id);
  (void)raft_.step(std::move(m));
}

void RawNode::report_snapshot(NodeId id, bool success) {
  Message m;
  m.set_msg_type(eraftpb::MsgSnapStatus);
  m.set_from(id);
  m.set_reject(!success);
  (void)raft_.step(std::move(m));
}

bool RawNode::has_ready() const {
  const Raft& r = raft_;
  if (r.soft_state() != prev_soft_) return true;
  const HardState hs = r.hard_state();
  if (!same_hard_state(hs, prev_hard_)) return true;
  if (r.log().unstable_snapshot()) return true;
  if (!r.log().unstable_entries().empty()) return true;
  if (r.log().has_next_committed_entries()) return true;
  return !r.msgs().empty() || !r.read_states().empty();
}

Ready RawNode::ready() {
  Ready rd;
  const SoftState ss = raft_.soft_state();
  if (ss != prev_soft_) {
    rd.soft_state = ss;
    prev_soft_ = ss;
  }
  const HardState hs = raft_.hard_state();
  if (!same_hard_state(hs, prev_hard_)) {
    rd.must_sync = hs.term() != prev_hard_.term() || hs.vote() != prev_hard_.vote();
    rd.hard_state = hs;
    prev_hard_ = hs;
  }
  handed_ = Handed{};
  rd.entries = raft_.log().unstable_entries();
  if (!rd.entries.empty()) {
    rd.must_sync = true;
    handed_.last_entry = rd.entries.back().index();
    handed_.last_entry_term = rd.entries.back().term();
  }
  rd.snapshot = raft_.log().unstable_snapshot();
  if (rd.snapshot) {
    handed_.snapshot = rd.snapshot->metadata().index();
    // The snapshot's acknowledgement may leave in this same Ready: it must be durable first.
    rd.must_sync = true;
  }
  std::optional<RaftLog::Range> lent;
  if (lend_committed_) lent = raft_.log().next_committed_range();
  if (lent) {
    rd.committed_first = lent->first;
    rd.committed_last = lent->last;
    if (lent->last >= lent->first) handed_.last_committed = lent->last;
    for (Index i = lent->first; i <= lent->last; ++i)
      handed_.committed_bytes += payload_size(*raft_.log().entry_ref(i));
  } else {
    rd.committed_entries = raft_.log().next_committed_entries();
    if (!rd.committed_entries.empty()) {
      handed_.last_committed = rd.committed_entries.back().index();
      for (const Entry& e : rd.committed_entries)
        handed_.committed_bytes += payload_size(e);
    }
  }
  rd.messages = std::move(raft_.msgs());
  raft_.msgs().clear();
  rd.read_states = std::move(raft_.read_states());
  raft_.read_states().clear();
  return rd;
}

void RawNode::advance(const Ready& /*rd*/) {
  const Handed h = handed_;
  handed_ = Handed{};
  if (h.last_entry != 0) raft_.log().stable_to(h.last_entry, h.last_entry_term);
  if (h.snapshot != 0) {
    raft_.log().stable_snap_to(h.snapshot);
    raft_.applied_to(h.snapshot);
  }
  if (h.last_committed != 0) {
    raft_.reduce_uncommitted_size(h.committed_bytes);
    raft_.applied_to(h.last_committed);
  }
}

RaftStatus RawNode::status() const {
  RaftStatus s;
  s.id = raft_.id();
  s.hard_state = raft_.hard_state();
  s.soft_state = raft_.soft_state();
  s.applied = raft_.log().applied();
  s.last_index = raft_.log().last_index();
  s.lead_transferee = raft_.lead_transferee();
  s.config = raft_.tracker().config().to_string();
  if (raft_.role() == Role::kLeader) {
    for (const auto& [id, pr] : raft_.tracker().progress()) {
      s.progress.push_back(
          PeerStatus{id, pr.match, pr.next, pr.state, pr.is_learner, pr.recent_active});
    }
  }
  return s;
}

}  // namespace cairn::raft
