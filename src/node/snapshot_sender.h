// SnapshotSender: the leader's side of snapshot transfer (docs/node.md, "Snapshot transfer").
//
// The Raft core hands the node a MsgSnapshot holding the whole state, which may be gigabytes: far
// more than one frame. The sender streams its data to the follower in chunks over the peer's bulk
// lane, keeping at most a window of chunks unacknowledged, so the lane's bounded queue never
// overflows and heartbeats (control lane), appends to other followers and clients go on.
//
// Loss and failure: the receiver acknowledges each chunk with how many bytes it holds in order;
// a missing chunk makes it ask for a resend from there, and silence makes the sender resend from
// the last acknowledged byte. A transfer that makes no progress for `give_up_after`, or that the
// receiver refuses, fails: the Raft core is told so only after a backoff that grows with each
// failure to that peer, since until then it keeps the follower in snapshot state and builds no
// new snapshot for it - a broken transfer is never retried in a tight loop.
//
// Threading: node thread only.
#pragma once

#include <chrono>
#include <cstdint>
#include <functional>
#include <map>
#include <optional>
#include <string>

#include "common/result.h"
#include "net/messages.h"
#include "proto/raft.pb.h"
#include "storage/snapshot_files.h"

namespace cairn::node {

// The data a transfer sends: a snapshot in memory, or the data of its file, read a chunk at a
// time (with a data directory the leader never holds a snapshot whole for a follower). The file
// stays open, so it can be read to the end even once a newer snapshot has replaced it.
class SnapshotPayload {
 public:
  explicit SnapshotPayload(std::string data);  // its checksum computed here
  // `checksum`: the XXH3-64 of the file's data, known from when it was written.
  SnapshotPayload(storage::FileRangeReader file, uint64_t checksum);
  uint64_t size() const { return file_ ? file_->size() : memory_.size(); }
  uint64_t checksum() const { return checksum_; }
  bool in_memory() const { return !file_; }
  // Sets `out` to the n bytes from `offset`; an error if the file cannot give them.
  Status<std::string> read(uint64_t offset, size_t n, std::string& out) const;

 private:
  std::string memory_;
  std::optional<storage::FileRangeReader> file_;
  uint64_t checksum_;
};

struct SnapshotSenderOptions {
  size_t chunk_bytes = 1 << 20;
  size_t window_chunks = 4;  // unacknowledged chunks in flight per transfer
  std::chrono::milliseconds resend_after{2000};
  std::chrono::milliseconds give_up_after{20000};
  std::chrono::milliseconds backoff_initial{1000};
  std::chrono::milliseconds backoff_max{30000};
};

class SnapshotSender {
 public:
  using Clock = std::chrono::steady_clock;
  // Queues a chunk for a peer; false when the transport refused it (it is tried again later).
  using SendChunk = std::function<bool(net::NodeId to, net::SnapshotChunk chunk)>;
  // Tells the Raft core how a transfer ended (RawNode::report_snapshot).
  using Report = std::function<void(net::NodeId to, bool delivered)>;

  struct Stats {
    uint64_t started = 0;
    uint64_t delivered = 0;
    uint64_t failed = 0;
    uint64_t bytes_sent = 0;  // chunk data, resends included
  };

  SnapshotSender(net::NodeId self, SnapshotSenderOptions options, SendChunk send, Report report,
                 uint64_t first_transfer_id);

  // Takes over a MsgSnapshot the Raft core wants sent, with its data; replaces any transfer to
  // the same peer.
  void start(eraftpb::Message msg, Clock::time_point now);
  // The same for a MsgSnapshot without its data, which `data` gives.
  void start(eraftpb::Message msg, SnapshotPayload data, Clock::time_point now);
  void on_ack(const net::SnapshotAck& ack, Clock::time_point now);
  // Resends after silence, gives up stalled transfers, reports failures whose backoff is over.
  void on_tick(Clock::time_point now);
  // Forgets every transfer without reporting: this node no longer leads, and its Raft core has
  // dropped the progress the reports were for.
  void cancel_all() { transfers_.clear(); }

  bool sending_to(net::NodeId to) const { return transfers_.count(to) != 0; }
  bool sending() const { return !transfers_.empty(); }
  const Stats& stats() const { return stats_; }

 private:
  struct Transfer {
    uint64_t id = 0;
    std::string header;                   // the MsgSnapshot without its data
    std::optional<SnapshotPayload> data;  // dropped when the transfer fails
    uint64_t total = 0;
    uint64_t next = 0;        // the next byte to send
    bool first_sent = false;  // the chunk at offset 0 (with the header) is out
    uint64_t acked = 0;       // bytes the receiver holds in order
    uint64_t rewound_to = UINT64_MAX;
    Clock::time_point started;
    Clock::time_point last_progress;  // `acked` last grew (or the transfer began)
    Clock::time_point last_heard;     // the last ack, or the last resend after silence
    bool failed = false;
    Clock::time_point report_at;  // failed: when the core hears of it
  };

  void pump(net::NodeId to, Transfer& t, Clock::time_point now);
  void rewind(Transfer& t, uint64_t to_byte);
  void fail(net::NodeId to, Transfer& t, Clock::time_point now, const std::string& why);

  const net::NodeId self_;
  const SnapshotSenderOptions opt_;
  SendChunk send_;
  Report report_;
  uint64_t next_id_;
  std::map<net::NodeId, Transfer> transfers_;
  std::map<net::NodeId, std::chrono::milliseconds> backoff_;  // grows with consecutive failures
  Stats stats_;
};

}  // namespace cairn::node
