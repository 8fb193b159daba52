// SnapshotReceiver: a follower's side of snapshot transfer (docs/node.md, "Snapshot transfer").
//
// Chunks from a leader are written, in order, into a snapshot file in the node's `incoming`
// directory (kept in memory when the node has none), hashed as they arrive, and acknowledged one
// by one. Once the last byte is in, the data is checked against the checksum the leader sent, the
// file is completed and synced, and read back through its own checksum; only a snapshot that
// matches is handed on, as the MsgSnapshot it was: with its data when in memory, or without, with
// the file that holds it (the node installs it from the file, never holding it whole). A chunk out
// of order asks for a resend from the first missing byte; a chunk of a transfer this node does not
// know (it restarted, or the transfer was replaced) asks for the transfer from its start.
//
// Threading: thread-safe; chunks arrive on network threads and are handled there, so writing a
// large snapshot to disk never holds up the node thread.
#pragma once

#include <functional>
#include <map>
#include <memory>
#include <mutex>
#include <optional>
#include <string>

#include "net/messages.h"
#include "proto/raft.pb.h"
#include "storage/snapshot_files.h"

namespace cairn::node {

class SnapshotReceiver {
 public:
  // Hands a complete, checked snapshot to the Raft core: its data in the message, or (received
  // to disk) in `file`, which the callee then owns.
  using Deliver =
      std::function<void(eraftpb::Message, std::optional<storage::SnapshotFileInfo> file)>;
  using SendAck = std::function<void(net::NodeId to, const net::SnapshotAck& ack)>;

  // `dir` empty: transfers are held in memory. Otherwise the directory is created if needed, and
  // partial transfers an earlier run left there are removed.
  SnapshotReceiver(net::NodeId self, std::string dir, Deliver deliver, SendAck ack);
  ~SnapshotReceiver();
  SnapshotReceiver(const SnapshotReceiver&) = delete;
  SnapshotReceiver& operator=(const SnapshotReceiver&) = delete;

  void on_chunk(const net::SnapshotChunk& chunk);

  // Transfers under way (for tests and status).
  size_t receiving() const;

 private:
  struct Incoming;
  // Each returns the ack to send; `in` may be dropped (a failure, or done).
  net::SnapshotAck begin(const net::SnapshotChunk& c);
  net::SnapshotAck append(Incoming& in, const net::SnapshotChunk& c);
  net::SnapshotAck finish(Incoming& in);
  void drop(net::NodeId from);

  const net::NodeId self_;
  const std::string dir_;
  Deliver deliver_;
  SendAck send_ack_;
  mutable std::mutex mu_;
  std::map<net::NodeId, std::unique_ptr<Incoming>> incoming_;  // by sender: one transfer each
};

}  // namespace cairn::node
