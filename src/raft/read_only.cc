// ReadOnly: see read_only.h. Single-threaded.
#include "raft/read_only.h"

namespace cairn::raft {

void ReadOnly::add_request(Index index, Message req, NodeId self) {
  std::string ctx = req.entries(0).data();
  if (pending_.count(ctx)) return;  // duplicate request: the first one answers both
  Status st;
  st.index = index;
  st.req = std::move(req);
  st.acks.insert(self);
  pending_.emplace(ctx, std::move(st));
  queue_.push_back(std::move(ctx));
}

const std::set<NodeId>* ReadOnly::recv_ack(NodeId from, const std::string& ctx) {
  auto it = pending_.find(ctx);
  if (it == pending_.end()) return nullptr;
  it->second.acks.insert(from);
  return &it->second.acks;
}

std::vector<ReadOnly::Status> ReadOnly::advance(const std::string& ctx) {
  std::vector<Status> out;
  std::size_t n = 0;
  bool found = false;
  for (const auto& c : queue_) {
    ++n;
    if (c == ctx) {
      found = true;
      break;
    }
  }
  if (!found) return out;
  for (std::size_t k = 0; k < n; ++k) {
    auto it = pending_.find(queue_.front());
    out.push_back(std::move(it->second));
    pending_.erase(it);
    queue_.pop_front();
  }
  return out;
}

std::string ReadOnly::last_pending_request_ctx() const {
  return queue_.empty() ? std::string() : queue_.back();
}

}  // namespace cairn::raft
