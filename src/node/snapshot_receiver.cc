#include "node/snapshot_receiver.h"

#include <fcntl.h>
#include <fmt/format.h>
#include <spdlog/spdlog.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <filesystem>

#include "common/result.h"
#include "common/xxh3_stream.h"
#include "storage/snapshot_files.h"

namespace cairn::node {

struct SnapshotReceiver::Incoming {
  uint64_t id = 0;
  uint64_t total = 0;
  uint64_t checksum = 0;
  eraftpb::Message msg;  // the MsgSnapshot from the header, its data still empty
  uint64_t received = 0;
  Xxh3Stream hash;
  std::optional<storage::SnapshotFileWriter> file;  // none: held in `memory`
  std::string path;                                 // the file once complete, until it is handed on
  std::string memory;

  ~Incoming() {
    file.reset();  // an incomplete file is removed
    if (!path.empty()) {
      std::error_code ec;
      std::filesystem::remove(path, ec);
    }
  }
};

namespace {

net::SnapshotAck ack_for(net::NodeId self, uint64_t id, uint64_t received,
                         net::SnapshotAckStatus status) {
  net::SnapshotAck a;
  a.from = self;
  a.transfer_id = id;
  a.received = received;
  a.status = status;
  return a;
}

net::SnapshotAck refuse(net::NodeId self, uint64_t id, uint64_t received, std::string why) {
  auto a = ack_for(self, id, received, net::SnapshotAckStatus::kFailed);
  a.error = std::move(why);
  return a;
}

}  // namespace

SnapshotReceiver::SnapshotReceiver(net::NodeId self, std::string dir, Deliver deliver, SendAck ack)
    : self_(self), dir_(std::move(dir)), deliver_(std::move(deliver)), send_ack_(std::move(ack)) {
  if (dir_.empty()) return;
  std::error_code ec;
  std::filesystem::create_directories(dir_, ec);
  for (const auto& f : std::filesystem::directory_iterator(dir_, ec)) {
    if (f.path().extension() != ".part" && f.path().extension() != ".tmp") continue;
    spdlog::info("node {}: removing {}, a snapshot transfer an earlier run did not finish", self_,
                 f.path().string());
    std::filesystem::remove(f.path(), ec);
  }
}

SnapshotReceiver::~SnapshotReceiver() = default;

size_t SnapshotReceiver::receiving() const {
  std::lock_guard lock(mu_);
  return incoming_.size();
}

void SnapshotReceiver::drop(net::NodeId from) {
  incoming_.erase(from);
}

void SnapshotReceiver::on_chunk(const net::SnapshotChunk& c) {
  net::SnapshotAck ack;
  {
    std::lock_guard lock(mu_);
    auto it = incoming_.find(c.from);
    if (c.offset == 0 && !c.header.empty() &&
        (it == incoming_.end() || it->second->id != c.transfer_id)) {
      ack = begin(c);  // a new transfer, or a new attempt replacing the sender's last one
    } else if (it == incoming_.end() || it->second->id != c.transfer_id) {
      // Unknown here (this node restarted, or refused it): from the start, header and all.
      ack = ack_for(self_, c.transfer_id, 0, net::SnapshotAckStatus::kResend);
    } else {
      ack = append(*it->second, c);
    }
  }
  send_ack_(c.from, ack);
}

net::SnapshotAck SnapshotReceiver::begin(const net::SnapshotChunk& c) {
  drop(c.from);
  auto in = std::make_unique<Incoming>();
  in->id = c.transfer_id;
  in->total = c.total;
  in->checksum = c.checksum;
  if (!in->msg.ParseFromString(c.header) || in->msg.msg_type() != eraftpb::MsgSnapshot ||
      in->msg.from() != c.from || in->msg.to() != self_ || !in->msg.snapshot().data().empty())
    return refuse(self_, c.transfer_id, 0, "the header is not a MsgSnapshot from its sender to us");
  if (!dir_.empty()) {
    const std::string path = fmt::format("{}/{}-{:016x}.part", dir_, c.from, c.transfer_id);
    auto file = storage::begin_snapshot_file(dir_, path, in->msg.snapshot().metadata());
    if (!file.ok()) {
      spdlog::error("node {}: {}", self_, file.error());
      return refuse(self_, c.transfer_id, 0, file.error());
    }
    in->file.emplace(std::move(*file));
  }
  spdlog::info("node {}: receiving a snapshot at index {} ({} bytes) from node {}", self_,
               in->msg.snapshot().metadata().index(), c.total, c.from);
  auto& slot = incoming_[c.from];
  slot = std::move(in);
  return append(*slot, c);
}

net::SnapshotAck SnapshotReceiver::append(Incoming& in, const net::SnapshotChunk& c) {
  const net::NodeId from = c.from;
  if (c.offset < in.received)  // a resent chunk already held
    return ack_for(self_, in.id, in.received, net::SnapshotAckStatus::kReceiving);
  if (c.offset > in.received)  // one went missing
    return ack_for(self_, in.id, in.received, net::SnapshotAckStatus::kResend);
  if (c.total != in.total || c.checksum != in.checksum || c.data.size() > in.total - in.received) {
    auto a = refuse(self_, in.id, in.received, "a chunk does not fit the transfer it belongs to");
    drop(from);
    return a;
  }
  if (in.file) {
    if (auto st = in.file->write(c.data); !st.ok()) {
      spdlog::error("node {}: {}", self_, st.error());
      auto a = refuse(self_, in.id, in.received, st.error());
      drop(from);
      return a;
    }
  } else {
    in.memory.append(c.data);
  }
  in.hash.update(c.data.data(), c.data.size());
  in.received += c.data.size();
  if (in.received < in.total)
    return ack_for(self_, in.id, in.received, net::SnapshotAckStatus::kReceiving);
  auto a = finish(in);
  drop(from);
  return a;
}

net::SnapshotAck SnapshotReceiver::finish(Incoming& in) {
  if (in.hash.digest() != in.checksum) {
    spdlog::error("node {}: snapshot from node {} does not match its checksum; refused", self_,
                  in.msg.from());
    return refuse(self_, in.id, in.received, "the snapshot does not match its checksum");
  }
  eraftpb::Message msg = std::move(in.msg);
  std::optional<storage::SnapshotFileInfo> file;
  if (in.file) {
    // Completed and synced, then read back through the file's own checksum: what is installed is
    // what the disk gives back.
    auto done = in.file->commit();
    if (!done.ok()) return refuse(self_, in.id, in.received, done.error());
    const std::string path = fmt::format("{}/{}-{:016x}.part", dir_, msg.from(), in.id);
    in.path = path;  // removed if anything below fails
    auto checked = storage::check_snapshot_file(path);
    if (!checked.ok()) return refuse(self_, in.id, in.received, checked.error());
    if (checked->data_bytes != in.total)
      return refuse(self_, in.id, in.received, "the snapshot file does not hold what was received");
    file = std::move(*checked);
    in.path.clear();  // the node's now
  } else {
    *msg.mutable_snapshot()->mutable_data() = std::move(in.memory);
  }
  spdlog::info("node {}: snapshot at index {} from node {} received and checked ({} bytes)", self_,
               msg.snapshot().metadata().index(), msg.from(), in.total);
  deliver_(std::move(msg), std::move(file));
  return ack_for(self_, in.id, in.received, net::SnapshotAckStatus::kDone);
}

}  // namespace cairn::node
