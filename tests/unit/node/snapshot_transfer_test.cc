// SnapshotSender and SnapshotReceiver, joined by a link the test controls: chunks and acks are
// queued, and the test delivers, drops or reorders them, and moves the clock.
#include <gtest/gtest.h>
#include <xxhash.h>

#include <deque>
#include <filesystem>
#include <random>

#include "node/snapshot_receiver.h"
#include "node/snapshot_sender.h"
#include "storage/snapshot_files.h"

namespace cairn::node {
namespace {

using Clock = SnapshotSender::Clock;
using namespace std::chrono_literals;

constexpr net::NodeId kLeader = 1;
constexpr net::NodeId kFollower = 2;

std::string random_bytes(size_t n, uint64_t seed) {
  std::mt19937_64 rng(seed);
  std::string s(n, '\0');
  for (auto& c : s)
    c = static_cast<char>(rng());
  return s;
}

eraftpb::Message snapshot_message(std::string data, uint64_t index = 42) {
  eraftpb::Message m;
  m.set_msg_type(eraftpb::MsgSnapshot);
  m.set_from(kLeader);
  m.set_to(kFollower);
  m.set_term(3);
  m.mutable_snapshot()->mutable_metadata()->set_index(index);
  m.mutable_snapshot()->mutable_metadata()->set_term(2);
  m.mutable_snapshot()->mutable_metadata()->mutable_conf_state()->add_voters(1);
  m.mutable_snapshot()->set_data(std::move(data));
  return m;
}

class Link {
 public:
  explicit Link(std::string dir, SnapshotSenderOptions opt = small_chunks())
      : sender_(
            kLeader, opt,
            [this](net::NodeId to, net::SnapshotChunk c) {
              EXPECT_EQ(to, kFollower);
              if (refuse_sends) return false;
              chunks.push_back(std::move(c));
              return true;
            },
            [this](net::NodeId to, bool ok) { reports.emplace_back(to, ok); }, 100),
        receiver_(
            kFollower, std::move(dir),
            [this](eraftpb::Message m, std::optional<storage::SnapshotFileInfo> file) {
              delivered.push_back(m);
              files.push_back(std::move(file));
            },
            [this](net::NodeId to, const net::SnapshotAck& a) {
              EXPECT_EQ(to, kLeader);
              acks.push_back(a);
            }) {}

  static SnapshotSenderOptions small_chunks() {
    SnapshotSenderOptions o;
    o.chunk_bytes = 1000;
    o.window_chunks = 4;
    return o;
  }

  // Delivers queued chunks and acks until both queues are empty (or `limit` steps).
  void run(int limit = 100000) {
    while ((!chunks.empty() || !acks.empty()) && limit-- > 0) {
      while (!chunks.empty()) {
        auto c = std::move(chunks.front());
        chunks.pop_front();
        ++chunks_delivered;
        receiver_.on_chunk(c);
      }
      while (!acks.empty()) {
        auto a = std::move(acks.front());
        acks.pop_front();
        sender_.on_ack(a, now);
      }
    }
  }

  SnapshotSender& sender() { return sender_; }
  SnapshotReceiver& receiver() { return receiver_; }

  std::deque<net::SnapshotChunk> chunks;
  std::deque<net::SnapshotAck> acks;
  std::vector<eraftpb::Message> delivered;
  std::vector<std::optional<storage::SnapshotFileInfo>> files;  // received to disk: its file
  std::vector<std::pair<net::NodeId, bool>> reports;
  Clock::time_point now = Clock::now();
  int chunks_delivered = 0;
  bool refuse_sends = false;

 private:
  SnapshotSender sender_;
  SnapshotReceiver receiver_;
};

class TempDir {
 public:
  TempDir() {
    path_ = std::filesystem::temp_directory_path() /
            ("cairn-snap-xfer-" + std::to_string(std::random_device{}()));
    std::filesystem::create_directories(path_);
  }
  ~TempDir() { std::filesystem::remove_all(path_); }
  std::string str() const { return path_.string(); }
  size_t files() const {
    size_t n = 0;
    for ([[maybe_unused]] const auto& e : std::filesystem::directory_iterator(path_))
      ++n;
    return n;
  }

 private:
  std::filesystem::path path_;
};

void expect_delivered_whole(const Link& link, const std::string& data) {
  ASSERT_EQ(link.delivered.size(), 1u);
  const auto& m = link.delivered[0];
  EXPECT_EQ(m.msg_type(), eraftpb::MsgSnapshot);
  EXPECT_EQ(m.from(), kLeader);
  EXPECT_EQ(m.term(), 3u);
  EXPECT_EQ(m.snapshot().metadata().index(), 42u);
  EXPECT_EQ(m.snapshot().metadata().conf_state().voters_size(), 1);
  if (link.files[0]) {
    // Received to disk: the message comes without its data, which is in the file.
    EXPECT_TRUE(m.snapshot().data().empty());
    auto snap = storage::read_snapshot_file(link.files[0]->path);
    ASSERT_TRUE(snap.ok()) << snap.error();
    EXPECT_EQ(snap->metadata().index(), 42u);
    EXPECT_TRUE(snap->data() == data) << "the file's data differs";
  } else {
    EXPECT_TRUE(m.snapshot().data() == data) << "the data differs";
  }
  ASSERT_EQ(link.reports.size(), 1u);
  EXPECT_EQ(link.reports[0], std::make_pair(kFollower, true));
}

// In memory and through a file: the snapshot arrives whole, in chunks of the configured size, the
// window never exceeded; on disk it is handed on as one complete file, nothing partial left.
TEST(SnapshotTransfer, ArrivesWholeInChunksWithinTheWindow) {
  for (bool on_disk : {false, true}) {
    TempDir dir;
    Link link(on_disk ? dir.str() : "");
    const std::string data = random_bytes(10'500, 1);
    link.sender().start(snapshot_message(data), link.now);
    // Before any ack: exactly the window (4 chunks of 1000), the first with the header.
    ASSERT_EQ(link.chunks.size(), 4u);
    EXPECT_FALSE(link.chunks[0].header.empty());
    EXPECT_TRUE(link.chunks[1].header.empty());
    for (const auto& c : link.chunks)
      EXPECT_EQ(c.data.size(), 1000u);
    link.run();
    ASSERT_NO_FATAL_FAILURE(expect_delivered_whole(link, data));
    EXPECT_EQ(link.chunks_delivered, 11);  // 10 full chunks and one of 500
    EXPECT_FALSE(link.sender().sending_to(kFollower));
    EXPECT_EQ(link.receiver().receiving(), 0u);
    if (on_disk) {
      ASSERT_TRUE(link.files[0].has_value());
      EXPECT_EQ(dir.files(), 1u) << "a partial file was left behind";
      EXPECT_EQ(std::filesystem::path(link.files[0]->path).parent_path(), dir.str());
    } else {
      EXPECT_FALSE(link.files[0].has_value());
    }
  }
}

// An empty snapshot is one chunk: the header alone.
TEST(SnapshotTransfer, AnEmptySnapshotIsOneChunk) {
  Link link("");
  link.sender().start(snapshot_message(""), link.now);
  ASSERT_EQ(link.chunks.size(), 1u);
  link.run();
  ASSERT_NO_FATAL_FAILURE(expect_delivered_whole(link, ""));
}

// A chunk lost on the way (a connection dropped it): the receiver asks for it again, once, and the
// snapshot still arrives whole. Fails if the sender ignores Resend (tried: the kResend rewind
// removed; the transfer then stalls until the silence timer).
TEST(SnapshotTransfer, ALostChunkIsSentAgain) {
  Link link("");
  const std::string data = random_bytes(8'000, 2);
  link.sender().start(snapshot_message(data), link.now);
  link.chunks.erase(link.chunks.begin() + 1);  // the second chunk never arrives
  link.run();
  ASSERT_NO_FATAL_FAILURE(expect_delivered_whole(link, data));
}

// With a data directory the leader sends a snapshot from its file, a chunk read at a time: the
// message carries no data, a lost chunk is read again, and the transfer ends whole even though
// the file was removed meanwhile (a newer snapshot replaced it; the open file still reads).
TEST(SnapshotTransfer, FromItsFileAChunkAtATimeEvenOnceTheFileIsReplaced) {
  TempDir leader_dir;
  TempDir follower_dir;
  std::vector<std::string> warnings;
  auto files = storage::SnapshotFiles::open(leader_dir.str(), &warnings);
  ASSERT_TRUE(files.ok()) << files.error();
  const std::string data = random_bytes(9'500, 7);
  eraftpb::Message m = snapshot_message(data);
  ASSERT_TRUE(files->save(m.snapshot()).ok());
  auto info = storage::check_snapshot_file(files->path_of(m.snapshot().metadata()));
  ASSERT_TRUE(info.ok()) << info.error();
  auto reader = storage::FileRangeReader::open(info->path, info->data_offset, info->data_bytes);
  ASSERT_TRUE(reader.ok()) << reader.error();
  m.mutable_snapshot()->clear_data();
  Link link(follower_dir.str());
  link.sender().start(m, SnapshotPayload(std::move(*reader), XXH3_64bits(data.data(), data.size())),
                      link.now);
  std::filesystem::remove(info->path);
  link.chunks.erase(link.chunks.begin() + 2);  // the third chunk never arrives
  link.run();
  ASSERT_NO_FATAL_FAILURE(expect_delivered_whole(link, data));
}

// Everything in flight lost and no ack coming back: after resend_after of silence the sender goes
// back to the last acknowledged byte.
TEST(SnapshotTransfer, SilenceResendsFromTheLastAcknowledgedByte) {
  Link link("");
  const std::string data = random_bytes(6'000, 3);
  link.sender().start(snapshot_message(data), link.now);
  // Deliver the first two chunks and their acks; lose the next ones.
  for (int i = 0; i < 2; ++i) {
    link.receiver().on_chunk(link.chunks.front());
    link.chunks.pop_front();
  }
  while (!link.acks.empty()) {
    link.sender().on_ack(link.acks.front(), link.now);
    link.acks.pop_front();
  }
  link.chunks.clear();
  link.now += 1s;
  link.sender().on_tick(link.now);
  EXPECT_TRUE(link.chunks.empty()) << "resent before resend_after";
  link.now += 2s;
  link.sender().on_tick(link.now);
  ASSERT_FALSE(link.chunks.empty());
  EXPECT_EQ(link.chunks.front().offset, 2000u);
  link.run();
  ASSERT_NO_FATAL_FAILURE(expect_delivered_whole(link, data));
}

// The follower restarted mid-transfer: it knows nothing of the transfer, asks for it from the
// start, and gets the header again.
TEST(SnapshotTransfer, AReceiverThatForgotTheTransferGetsItFromTheStart) {
  const std::string data = random_bytes(7'000, 4);
  Link link("");
  link.sender().start(snapshot_message(data), link.now);
  link.run(1);  // some chunks in
  std::vector<eraftpb::Message> delivered;
  SnapshotReceiver restarted(
      kFollower, "",
      [&](eraftpb::Message m, std::optional<storage::SnapshotFileInfo>) {
        delivered.push_back(std::move(m));
      },
      [&](net::NodeId, const net::SnapshotAck& a) { link.acks.push_back(a); });
  // From now on the chunks go to the restarted receiver.
  for (int steps = 0; steps < 1000 && (!link.chunks.empty() || !link.acks.empty()); ++steps) {
    while (!link.chunks.empty()) {
      auto c = link.chunks.front();
      link.chunks.pop_front();
      restarted.on_chunk(c);
    }
    while (!link.acks.empty()) {
      auto a = link.acks.front();
      link.acks.pop_front();
      link.sender().on_ack(a, link.now);
    }
  }
  ASSERT_EQ(delivered.size(), 1u);
  EXPECT_TRUE(delivered[0].snapshot().data() == data);
  ASSERT_EQ(link.reports.size(), 1u);
  EXPECT_TRUE(link.reports[0].second);
}

// A corrupted byte: the receiver refuses the snapshot (nothing reaches Raft), and the sender
// reports the failure only after its backoff, which doubles with each failure.
TEST(SnapshotTransfer, ACorruptedSnapshotIsRefusedAndRetriedOnlyAfterABackoff) {
  TempDir dir;
  Link link(dir.str());
  const std::string data = random_bytes(3'000, 5);
  for (int attempt = 0; attempt < 2; ++attempt) {
    link.reports.clear();
    link.sender().start(snapshot_message(data), link.now);
    link.chunks.back().data[10] ^= 1;
    link.run();
    EXPECT_TRUE(link.delivered.empty()) << "a corrupted snapshot reached Raft";
    EXPECT_TRUE(link.reports.empty()) << "failure reported before the backoff";
    const auto backoff = attempt == 0 ? 1s : 2s;
    link.sender().on_tick(link.now + backoff - 10ms);
    EXPECT_TRUE(link.reports.empty()) << "failure reported before the backoff";
    link.now += backoff;
    link.sender().on_tick(link.now);
    ASSERT_EQ(link.reports.size(), 1u);
    EXPECT_EQ(link.reports[0], std::make_pair(kFollower, false));
  }
  EXPECT_EQ(dir.files(), 0u) << "a refused transfer's file was left behind";
  EXPECT_EQ(link.sender().stats().failed, 2u);
}

// A receiver that never answers: the transfer is given up after give_up_after and reported as
// failed after the backoff; meanwhile resends stay bounded by the window.
TEST(SnapshotTransfer, ATransferWithoutProgressIsGivenUp) {
  SnapshotSenderOptions o = Link::small_chunks();
  o.give_up_after = 10s;
  Link link("", o);
  link.sender().start(snapshot_message(random_bytes(20'000, 6)), link.now);
  size_t sent = 0;
  for (int s = 0; s < 10; ++s) {
    sent += link.chunks.size();
    link.chunks.clear();
    link.now += 1s;
    link.sender().on_tick(link.now);
  }
  EXPECT_LE(sent, 4u * 5) << "resent in a tight loop";
  EXPECT_EQ(link.sender().stats().failed, 1u);
  EXPECT_TRUE(link.reports.empty()) << "failure reported before the backoff";
  link.now += 1s;
  link.sender().on_tick(link.now);
  ASSERT_EQ(link.reports.size(), 1u);
  EXPECT_FALSE(link.reports[0].second);
}

// The transport refusing chunks (its queue full) holds the transfer back without losing it.
TEST(SnapshotTransfer, ChunksTheTransportRefusedGoOutLater) {
  Link link("");
  const std::string data = random_bytes(5'000, 7);
  link.refuse_sends = true;
  link.sender().start(snapshot_message(data), link.now);
  EXPECT_TRUE(link.chunks.empty());
  link.refuse_sends = false;
  link.now += 100ms;
  link.sender().on_tick(link.now);
  link.run();
  ASSERT_NO_FATAL_FAILURE(expect_delivered_whole(link, data));
}

// Headers that are not a MsgSnapshot from the sender to this node are refused.
TEST(SnapshotTransfer, AForeignHeaderIsRefused) {
  std::vector<net::SnapshotAck> acks;
  bool delivered = false;
  SnapshotReceiver r(
      kFollower, "",
      [&](eraftpb::Message, std::optional<storage::SnapshotFileInfo>) { delivered = true; },
      [&](net::NodeId, const net::SnapshotAck& a) { acks.push_back(a); });
  auto m = snapshot_message("");
  m.set_to(9);  // meant for another node
  m.mutable_snapshot()->clear_data();
  net::SnapshotChunk c{kLeader, 5, 0, 0, 0, m.SerializeAsString(), ""};
  r.on_chunk(c);
  c.header = "garbage";
  c.transfer_id = 6;
  r.on_chunk(c);
  EXPECT_FALSE(delivered);
  ASSERT_EQ(acks.size(), 2u);
  for (const auto& a : acks) {
    EXPECT_EQ(a.status, net::SnapshotAckStatus::kFailed);
    EXPECT_TRUE(a.error.has_value());
  }
}

}  // namespace
}  // namespace cairn::node
