#include "net/transport.h"

#include <spdlog/spdlog.h>

#include "net/address.h"
#include "net/frame.h"
#include "net/peer_lane.h"
#include "net/raft_message.h"

namespace cairn::net {

Lane lane_for(const eraftpb::Message& msg) {
  switch (msg.msg_type()) {
    case eraftpb::MsgAppend:
    case eraftpb::MsgSnapshot:
      // Appends (even empty probes) stay on one stream so they arrive in the order sent.
      return Lane::kBulk;
    default:
      return Lane::kControl;
  }
}

RaftTransport::RaftTransport(TransportConfig config)
    : config_(std::move(config)), work_(asio::make_work_guard(io_)) {
  thread_ = std::thread([this] { io_.run(); });
}

RaftTransport::~RaftTransport() {
  shutdown();
}

void RaftTransport::shutdown() {
  std::unordered_map<NodeId, Peer> peers;
  {
    std::lock_guard lock(mu_);
    if (stopped_) return;
    stopped_ = true;
    peers.swap(peers_);
  }
  for (auto& [id, peer] : peers) {
    for (auto& lane : peer.lanes)
      lane->stop();
  }
  work_.reset();
  if (thread_.joinable()) thread_.join();
}

NetStatus RaftTransport::add_peer(NodeId id, const std::string& addr) {
  auto ep = parse_endpoint(addr);
  if (!ep.ok()) return Err(NetworkError::connection_failed(addr, ep.error()));
  Peer replaced;
  {
    std::lock_guard lock(mu_);
    if (stopped_) return Err(NetworkError::send_failed("transport is shut down"));
    auto it = peers_.find(id);
    if (it != peers_.end()) {
      if (it->second.addr == addr) return {};
      replaced = std::move(it->second);
      peers_.erase(it);
    }
    Peer peer{addr, {}};
    const char* names[] = {"control", "bulk"};
    for (int i = 0; i < 2; ++i) {
      detail::PeerLane::Options o{id,
                                  names[i],
                                  *ep,
                                  addr,
                                  i == 0 ? config_.max_control_queue : SIZE_MAX,
                                  i == 0 ? SIZE_MAX : config_.max_bulk_queue_bytes,
                                  config_.max_batch_bytes,
                                  config_.connect_timeout,
                                  config_.backoff_initial,
                                  config_.backoff_max,
                                  config_.on_unreachable,
                                  config_.hello};
      peer.lanes[i] = std::make_shared<detail::PeerLane>(io_, std::move(o));
      peer.lanes[i]->start();
    }
    peers_.emplace(id, std::move(peer));
  }
  for (auto& lane : replaced.lanes) {
    if (lane) lane->stop();
  }
  spdlog::info("transport: peer {} at {}{}", id, addr, replaced.addr.empty() ? "" : " (moved)");
  return {};
}

void RaftTransport::remove_peer(NodeId id) {
  Peer removed;
  {
    std::lock_guard lock(mu_);
    auto it = peers_.find(id);
    if (it == peers_.end()) return;
    removed = std::move(it->second);
    peers_.erase(it);
  }
  for (auto& lane : removed.lanes)
    lane->stop();
  spdlog::info("transport: peer {} removed", id);
}

bool RaftTransport::send(const eraftpb::Message& msg) {
  auto wrapped = from_raft_message(msg);
  if (!wrapped.ok()) {
    spdlog::error("transport: {}", wrapped.error().to_string());
    return false;
  }
  return send(msg.to(), Message(std::move(*wrapped)), lane_for(msg));
}

bool RaftTransport::send(NodeId to, const Message& msg, Lane lane) {
  std::string frame;
  if (NetStatus st = append_frames(msg, frame, config_.max_message); !st.ok()) {
    spdlog::error("transport: to node {}: {}", to, st.error().to_string());
    return false;
  }
  return enqueue(to, lane, std::move(frame));
}

bool RaftTransport::enqueue(NodeId to, Lane lane, std::string frame) {
  std::shared_ptr<detail::PeerLane> target;
  {
    std::lock_guard lock(mu_);
    auto it = peers_.find(to);
    if (it == peers_.end()) return false;
    target = it->second.lanes[static_cast<int>(lane)];
  }
  return target->offer(std::move(frame));
}

std::optional<PeerStats> RaftTransport::peer_stats(NodeId id) const {
  std::lock_guard lock(mu_);
  auto it = peers_.find(id);
  if (it == peers_.end()) return std::nullopt;
  return PeerStats{it->second.addr, it->second.lanes[0]->stats(), it->second.lanes[1]->stats()};
}

}  // namespace cairn::net
