// ScriptedPeer: a member of a node's cluster played by the test. It is a real NetworkServer on
// 127.0.0.1, so the node under test reaches it through its own transport exactly as it reaches a
// real peer; it records every Raft message and forwarded request it receives, and a hook may
// answer some of them (acknowledging heartbeats or appends) by stepping replies into the node.
// The test steps every other message (votes, a new leader's appends) itself, so a fault schedule
// runs in an exact order. Thread-safe: the server's I/O thread records, the test thread reads.
#pragma once

#include <chrono>
#include <functional>
#include <mutex>
#include <optional>
#include <string>
#include <vector>

#include "net/handler.h"
#include "net/messages.h"
#include "proto/raft.pb.h"

namespace cairn::node::testing {

using RaftPredicate = std::function<bool(const eraftpb::Message&)>;

class ScriptedPeer : public net::MessageHandler {
 public:
  std::optional<net::Message> handle(net::Message msg) override;

  // Called (on the server's thread) for every Raft message received, after it is recorded.
  // Replacing or clearing the hook waits for a call in progress, so after on_raft({}) returns
  // the old hook runs no more.
  void on_raft(std::function<void(const eraftpb::Message&)> hook);

  // The first recorded Raft message matching `pred` (waiting up to `timeout` for one).
  std::optional<eraftpb::Message> wait_for(const RaftPredicate& pred,
                                           std::chrono::milliseconds timeout);
  size_t count(const RaftPredicate& pred);
  // Every recorded Raft message matching `pred`, in the order received.
  std::vector<eraftpb::Message> matching(const RaftPredicate& pred);
  // The first recorded forward not yet taken (waiting up to `timeout`).
  std::optional<net::ForwardRequest> take_forward(std::chrono::milliseconds timeout);

 private:
  std::mutex mu_;
  std::vector<eraftpb::Message> raft_;
  std::vector<net::ForwardRequest> forwards_;
  size_t forwards_taken_ = 0;
  std::mutex hook_mu_;  // held while the hook runs
  std::function<void(const eraftpb::Message&)> hook_;
};

// A reply of type `t` to `m`, from its receiver, in its term.
eraftpb::Message reply_to(const eraftpb::Message& m, eraftpb::MessageType t);
// The acknowledgement a follower that stored everything would send to an append or heartbeat.
std::optional<eraftpb::Message> ack(const eraftpb::Message& m);

}  // namespace cairn::node::testing
