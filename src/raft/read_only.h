// ReadOnly: the leader's queue of pending ReadIndex requests (thesis §6.4). A request records the
// commit index when it arrived and completes once a quorum acknowledges a heartbeat carrying its
// context; all earlier requests complete with it (batching). Owned by one Raft; single-threaded.
#pragma once

#include <deque>
#include <set>
#include <string>
#include <unordered_map>
#include <vector>

#include "raft/types.h"

namespace cairn::raft {

// The result of a ReadIndex request: once the state machine has applied `index`, a read with
// this `request_ctx` is linearizable.
struct ReadState {
  Index index = 0;
  std::string request_ctx;
};

class ReadOnly {
 public:
  struct Status {
    Message req;  // the original MsgReadIndex (from = requester; entries[0].data = ctx)
    Index index = 0;
    std::set<NodeId> acks;
  };

  explicit ReadOnly(ReadOnlyOption opt) : option_(opt) {}
  ReadOnlyOption option() const { return option_; }

  // Adds a request whose read index is `index` (the commit index when it arrived).
  void add_request(Index index, Message req, NodeId self);
  // Records a heartbeat ack for ctx; returns the acks so far (nullptr if ctx is unknown).
  const std::set<NodeId>* recv_ack(NodeId from, const std::string& ctx);
  // Removes and returns every request up to and including the one with ctx.
  std::vector<Status> advance(const std::string& ctx);
  // The context of the latest pending request (sent with heartbeats), or "" if none.
  std::string last_pending_request_ctx() const;
  std::size_t pending() const { return queue_.size(); }
  void reset() {
    pending_.clear();
    queue_.clear();
  }

 private:
  ReadOnlyOption option_;
  std::unordered_map<std::string, Status> pending_;
  std::deque<std::string> queue_;  // contexts in arrival order; invariant: same keys as pending_
};

}  // namespace cairn::raft
