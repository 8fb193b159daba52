#include "node/snapshot_sender.h"

#include <spdlog/spdlog.h>
#include <xxhash.h>

#include <algorithm>

namespace cairn::node {
namespace {

int64_t ms_between(SnapshotSender::Clock::time_point a, SnapshotSender::Clock::time_point b) {
  return std::chrono::duration_cast<std::chrono::milliseconds>(b - a).count();
}

}  // namespace

SnapshotPayload::SnapshotPayload(std::string data)
    : memory_(std::move(data)), checksum_(XXH3_64bits(memory_.data(), memory_.size())) {}

SnapshotPayload::SnapshotPayload(storage::FileRangeReader file, uint64_t checksum)
    : file_(std::move(file)), checksum_(checksum) {}

Status<std::string> SnapshotPayload::read(uint64_t offset, size_t n, std::string& out) const {
  if (!file_) {
    out.assign(memory_, offset, n);
    return {};
  }
  out.resize(n);
  for (size_t at = 0; at < n;) {
    auto got = file_->read_at(offset + at, out.data() + at, n - at);
    if (!got.ok()) return Err{got.error()};
    if (*got == 0) return Err{std::string("the snapshot file is shorter than its data")};
    at += *got;
  }
  return {};
}

SnapshotSender::SnapshotSender(net::NodeId self, SnapshotSenderOptions options, SendChunk send,
                               Report report, uint64_t first_transfer_id)
    : self_(self),
      opt_(options),
      send_(std::move(send)),
      report_(std::move(report)),
      next_id_(first_transfer_id) {}

void SnapshotSender::start(eraftpb::Message msg, Clock::time_point now) {
  SnapshotPayload data(std::move(*msg.mutable_snapshot()->mutable_data()));
  start(std::move(msg), std::move(data), now);
}

void SnapshotSender::start(eraftpb::Message msg, SnapshotPayload data, Clock::time_point now) {
  const net::NodeId to = msg.to();
  Transfer t;
  t.id = next_id_++;
  msg.mutable_snapshot()->clear_data();
  t.header = msg.SerializeAsString();
  t.total = data.size();
  spdlog::info("node {}: sending snapshot at index {} ({} bytes, {}) to node {} (transfer {})",
               self_, msg.snapshot().metadata().index(), t.total,
               data.in_memory() ? "from memory" : "from its file", to, t.id);
  t.data.emplace(std::move(data));
  t.started = t.last_progress = t.last_heard = now;
  ++stats_.started;
  transfers_.erase(to);  // a transfer to the same peer is replaced
  auto& slot = transfers_.emplace(to, std::move(t)).first->second;
  pump(to, slot, now);
}

void SnapshotSender::pump(net::NodeId to, Transfer& t, Clock::time_point now) {
  const uint64_t window = uint64_t{opt_.window_chunks} * opt_.chunk_bytes;
  while (!t.failed && (t.next < t.total || !t.first_sent) && t.next < t.acked + window) {
    net::SnapshotChunk c;
    c.from = self_;
    c.transfer_id = t.id;
    c.offset = t.next;
    c.total = t.total;
    c.checksum = t.data->checksum();
    if (t.next == 0) c.header = t.header;
    const size_t n = std::min<uint64_t>(opt_.chunk_bytes, t.total - t.next);
    if (auto st = t.data->read(t.next, n, c.data); !st.ok()) return fail(to, t, now, st.error());
    if (!send_(to, std::move(c)))
      return;  // the lane is full or the peer unreachable: on_tick retries
    t.first_sent = true;
    t.next += n;
    stats_.bytes_sent += n;
  }
}

void SnapshotSender::rewind(Transfer& t, uint64_t to_byte) {
  t.next = to_byte;
  if (to_byte == 0) t.first_sent = false;  // the header goes again, with the first chunk
  t.rewound_to = to_byte;
}

void SnapshotSender::on_ack(const net::SnapshotAck& ack, Clock::time_point now) {
  auto it = transfers_.find(ack.from);
  if (it == transfers_.end() || it->second.id != ack.transfer_id || it->second.failed) return;
  Transfer& t = it->second;
  switch (ack.status) {
    case net::SnapshotAckStatus::kReceiving:
    case net::SnapshotAckStatus::kResend:
      if (ack.received > t.total) return fail(ack.from, t, now, "acknowledged past the end");
      t.last_heard = now;
      if (ack.received > t.acked) {
        t.last_progress = now;
        t.acked = ack.received;
      }
      if (t.next < t.acked) t.next = t.acked;
      // The receiver holds less than it said before: it restarted, or dropped the transfer.
      if (ack.status == net::SnapshotAckStatus::kResend && ack.received < t.acked)
        t.acked = ack.received;
      // A gap: every chunk behind it asks for the same resend; go back once per gap.
      if (ack.status == net::SnapshotAckStatus::kResend && ack.received != t.rewound_to &&
          ack.received <= t.next)
        rewind(t, ack.received);
      pump(ack.from, t, now);
      return;
    case net::SnapshotAckStatus::kDone:
      spdlog::info("node {}: snapshot delivered to node {} ({} bytes in {} ms)", self_, ack.from,
                   t.total, ms_between(t.started, now));
      ++stats_.delivered;
      backoff_.erase(ack.from);
      transfers_.erase(it);
      report_(ack.from, true);
      return;
    case net::SnapshotAckStatus::kFailed:
      return fail(ack.from, t, now,
                  "refused by the receiver: " + ack.error.value_or("no reason given"));
  }
}

void SnapshotSender::fail(net::NodeId to, Transfer& t, Clock::time_point now,
                          const std::string& why) {
  auto& backoff = backoff_[to];
  backoff = backoff.count() == 0 ? opt_.backoff_initial : std::min(backoff * 2, opt_.backoff_max);
  spdlog::warn(
      "node {}: snapshot transfer {} to node {} failed after {} of {} bytes: {}; trying "
      "again in {} ms",
      self_, t.id, to, t.acked, t.total, why, backoff.count());
  ++stats_.failed;
  t.failed = true;
  t.report_at = now + backoff;
  t.data.reset();  // the memory (or the file) goes now; the core offers a snapshot again to retry
}

void SnapshotSender::on_tick(Clock::time_point now) {
  for (auto it = transfers_.begin(); it != transfers_.end();) {
    const net::NodeId to = it->first;
    Transfer& t = it->second;
    if (t.failed) {
      if (now >= t.report_at) {
        it = transfers_.erase(it);
        report_(to, false);
        continue;
      }
    } else if (now - t.last_progress >= opt_.give_up_after) {
      fail(to, t, now, "no progress for " + std::to_string(opt_.give_up_after.count()) + " ms");
    } else {
      // Silence: the chunks after the last acknowledged byte may have been lost with a
      // connection. Send them again (the receiver ignores what it already holds).
      if (now - t.last_heard >= opt_.resend_after && t.next > t.acked) {
        rewind(t, t.acked);
        t.last_heard = now;
      }
      pump(to, t, now);
    }
    ++it;
  }
}

}  // namespace cairn::node
