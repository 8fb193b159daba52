// RaftTransport: delivers Raft messages (and other node-to-node messages) to peers.
//
// Each peer has two lanes, each its own TCP connection, queue and sender:
//  * control: heartbeats, votes, responses, TimeoutNow, ReadIndex - small and urgent;
//  * bulk: appends and snapshots - large, ordered among themselves.
// A heartbeat therefore never waits behind a snapshot in a TCP stream, and a slow or dead peer
// only ever fills its own bounded queues. Everything queued while a write is in flight goes out
// in the next single (gathered) write.
//
// Failure handling follows Raft's tolerance for loss: a connection that fails is dropped with the
// messages of its write; while a peer is unreachable (between a failed connect and the next
// attempt, with exponential backoff and jitter) messages for it are dropped at once and counted,
// so memory stays bounded whatever the peer does. `on_unreachable` lets the node tell its Raft
// core (MsgUnreachable) so it stops optimistic replication to that peer.
//
// Threading: every public method is thread-safe. The transport runs its own I/O thread.
#pragma once

#include <asio/io_context.hpp>
#include <chrono>
#include <functional>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <thread>
#include <unordered_map>

#include "net/error.h"
#include "net/frame.h"
#include "net/messages.h"
#include "proto/raft.pb.h"

namespace cairn::net {

struct TransportConfig {
  NodeId self_id = 0;
  size_t max_control_queue = 1024;                 // messages per peer
  size_t max_bulk_queue_bytes = 32 * 1024 * 1024;  // room for at least one maximum frame
  size_t max_batch_bytes = 1024 * 1024;            // per gathered write (soft: >= 1 message)
  // A message larger than a frame, up to this size, goes out in MessageParts; above it, or when
  // this is no more than a frame, it is dropped with an error.
  size_t max_message = kMaxFrameSize;
  std::chrono::milliseconds connect_timeout{1000};
  std::chrono::milliseconds backoff_initial{50};
  std::chrono::milliseconds backoff_max{1000};
  std::function<void(NodeId)> on_unreachable;  // called on the transport's thread
  // A framed message written first on every connection made (the node's PeerHello); none if
  // unset. Called on the transport's thread.
  std::function<std::string()> hello;
};

enum class Lane { kControl = 0, kBulk = 1 };

struct LaneStats {
  uint64_t queued_messages = 0;
  uint64_t queued_bytes = 0;
  uint64_t sent = 0;
  uint64_t dropped = 0;  // queue full, peer unreachable, or lost with a failed write
  uint64_t connects = 0;
  uint64_t connect_failures = 0;
  uint64_t writes = 0;  // gathered writes: sent / writes is the coalescing factor
  bool connected = false;
};

struct PeerStats {
  std::string addr;
  LaneStats control;
  LaneStats bulk;
};

// Which lane a Raft message travels on (exposed for tests and docs).
Lane lane_for(const eraftpb::Message& msg);

// What a node needs to reach its peers: RaftTransport below over TCP in cairn-server, a simulated
// network in a simulator of whole nodes (node/env.h). Delivery is best effort, as Raft expects:
// a message may be dropped (send says so when it knows), and nothing is retried here.
class PeerTransport {
 public:
  virtual ~PeerTransport() = default;
  // Adds a peer or changes its address (its connections are then remade). Fails on an
  // unparsable address; nothing changes then.
  virtual NetStatus add_peer(NodeId id, const std::string& addr) = 0;
  virtual void remove_peer(NodeId id) = 0;
  // Queues `msg` for msg.to(). Returns false when it was dropped (unknown peer, peer unreachable,
  // queue full, encoding failed): Raft will retry.
  virtual bool send(const eraftpb::Message& msg) = 0;
  // Any native message, on the lane given.
  virtual bool send(NodeId to, const Message& msg, Lane lane) = 0;
  // Stops delivering: queued messages are dropped. Idempotent.
  virtual void shutdown() = 0;
};

namespace detail {
class PeerLane;
}

class RaftTransport final : public PeerTransport {
 public:
  explicit RaftTransport(TransportConfig config);
  ~RaftTransport() override;
  RaftTransport(const RaftTransport&) = delete;
  RaftTransport& operator=(const RaftTransport&) = delete;

  NetStatus add_peer(NodeId id, const std::string& addr) override;
  void remove_peer(NodeId id) override;
  bool send(const eraftpb::Message& msg) override;
  bool send(NodeId to, const Message& msg, Lane lane) override;

  std::optional<PeerStats> peer_stats(NodeId id) const;

  // Closes every connection and stops the I/O thread. Queued messages are dropped.
  void shutdown() override;

 private:
  bool enqueue(NodeId to, Lane lane, std::string frame);

  TransportConfig config_;
  asio::io_context io_;
  std::optional<asio::executor_work_guard<asio::io_context::executor_type>> work_;
  std::thread thread_;

  mutable std::mutex mu_;  // guards peers_ and stopped_
  struct Peer {
    std::string addr;
    std::shared_ptr<detail::PeerLane> lanes[2];
  };
  std::unordered_map<NodeId, Peer> peers_;
  bool stopped_ = false;
};

}  // namespace cairn::net
