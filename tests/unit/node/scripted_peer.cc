#include "scripted_peer.h"

#include <thread>

#include "net/raft_message.h"

namespace cairn::node::testing {

std::optional<net::Message> ScriptedPeer::handle(net::Message msg) {
  if (auto* w = std::get_if<net::RaftMessageWrapper>(&msg)) {
    auto m = net::to_raft_message(*w);
    if (!m.ok()) return std::nullopt;
    {
      std::lock_guard lock(mu_);
      raft_.push_back(*m);
    }
    std::lock_guard hook_lock(hook_mu_);
    if (hook_) hook_(*m);
  } else if (auto* f = std::get_if<net::ForwardRequest>(&msg)) {
    std::lock_guard lock(mu_);
    forwards_.push_back(std::move(*f));
  }
  return std::nullopt;
}

void ScriptedPeer::on_raft(std::function<void(const eraftpb::Message&)> hook) {
  std::lock_guard hook_lock(hook_mu_);
  hook_ = std::move(hook);
}

std::optional<eraftpb::Message> ScriptedPeer::wait_for(const RaftPredicate& pred,
                                                       std::chrono::milliseconds timeout) {
  const auto deadline = std::chrono::steady_clock::now() + timeout;
  for (;;) {
    {
      std::lock_guard lock(mu_);
      for (const auto& m : raft_)
        if (pred(m)) return m;
    }
    if (std::chrono::steady_clock::now() > deadline) return std::nullopt;
    std::this_thread::sleep_for(std::chrono::milliseconds(1));
  }
}

size_t ScriptedPeer::count(const RaftPredicate& pred) {
  std::lock_guard lock(mu_);
  size_t n = 0;
  for (const auto& m : raft_)
    if (pred(m)) ++n;
  return n;
}

std::vector<eraftpb::Message> ScriptedPeer::matching(const RaftPredicate& pred) {
  std::lock_guard lock(mu_);
  std::vector<eraftpb::Message> out;
  for (const auto& m : raft_)
    if (pred(m)) out.push_back(m);
  return out;
}

std::optional<net::ForwardRequest> ScriptedPeer::take_forward(std::chrono::milliseconds timeout) {
  const auto deadline = std::chrono::steady_clock::now() + timeout;
  for (;;) {
    {
      std::lock_guard lock(mu_);
      if (forwards_taken_ < forwards_.size()) return forwards_[forwards_taken_++];
    }
    if (std::chrono::steady_clock::now() > deadline) return std::nullopt;
    std::this_thread::sleep_for(std::chrono::milliseconds(1));
  }
}

eraftpb::Message reply_to(const eraftpb::Message& m, eraftpb::MessageType t) {
  eraftpb::Message r;
  r.set_msg_type(t);
  r.set_from(m.to());
  r.set_to(m.from());
  r.set_term(m.term());
  return r;
}

std::optional<eraftpb::Message> ack(const eraftpb::Message& m) {
  if (m.msg_type() == eraftpb::MsgHeartbeat) {
    auto r = reply_to(m, eraftpb::MsgHeartbeatResponse);
    r.set_context(m.context());
    return r;
  }
  if (m.msg_type() == eraftpb::MsgAppend) {
    auto r = reply_to(m, eraftpb::MsgAppendResponse);
    r.set_index(m.entries_size() == 0 ? m.index() : m.entries(m.entries_size() - 1).index());
    return r;
  }
  return std::nullopt;
}

}  // namespace cairn::node::testing
