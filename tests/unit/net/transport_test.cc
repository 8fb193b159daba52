// RaftTransport over real sockets on 127.0.0.1: delivery, lanes, coalescing, bounded memory for a
// dead or slow peer, recovery when a peer comes back, and peer changes.
#include "net/transport.h"

#include <gtest/gtest.h>

#include <asio/post.hpp>
#include <atomic>
#include <mutex>

#include "net/raft_message.h"
#include "test_util.h"

namespace cairn::net {
namespace {

using namespace testing;

// Records every Raft message a server receives.
class RecordingHandler : public MessageHandler {
 public:
  std::optional<Message> handle(Message msg) override {
    auto raft = to_raft_message(std::get<RaftMessageWrapper>(msg));
    EXPECT_TRUE(raft.ok());
    std::lock_guard lock(mu);
    received.push_back(std::move(*raft));
    return std::nullopt;
  }
  size_t count() {
    std::lock_guard lock(mu);
    return received.size();
  }
  size_t count_of(eraftpb::MessageType type) {
    std::lock_guard lock(mu);
    return static_cast<size_t>(std::count_if(received.begin(), received.end(),
                                             [&](auto& m) { return m.msg_type() == type; }));
  }
  std::mutex mu;
  std::vector<eraftpb::Message> received;
};

eraftpb::Message heartbeat(NodeId to, uint64_t term) {
  eraftpb::Message m;
  m.set_msg_type(eraftpb::MsgHeartbeat);
  m.set_from(1);
  m.set_to(to);
  m.set_term(term);
  return m;
}

eraftpb::Message append(NodeId to, uint64_t index, size_t payload) {
  eraftpb::Message m;
  m.set_msg_type(eraftpb::MsgAppend);
  m.set_from(1);
  m.set_to(to);
  m.set_index(index);
  auto* e = m.add_entries();
  e->set_index(index + 1);
  e->set_data(std::string(payload, 'x'));
  return m;
}

// A TCP listener that accepts connections and reads nothing until told to: a peer that is alive
// but not keeping up. Runs its own I/O thread.
class StalledPeer {
 public:
  StalledPeer() : acceptor_(io_, {asio::ip::make_address("127.0.0.1"), 0}) {
    accept_next();
    thread_ = std::thread([this] { io_.run(); });
  }
  ~StalledPeer() {
    io_.stop();
    thread_.join();
  }
  std::string addr() const {
    return "127.0.0.1:" + std::to_string(acceptor_.local_endpoint().port());
  }
  // Starts draining every connection, those accepted so far and later ones.
  void start_reading() {
    asio::post(io_, [this] {
      reading_ = true;
      for (auto& c : conns_)
        read_next(*c);
    });
  }
  std::atomic<size_t> total{0};

 private:
  struct Conn {
    explicit Conn(asio::io_context& io) : socket(io) {}
    asio::ip::tcp::socket socket;
    char buf[64 * 1024];
  };
  void accept_next() {
    auto conn = std::make_shared<Conn>(io_);
    acceptor_.async_accept(conn->socket, [this, conn](std::error_code ec) {
      if (ec) return;
      conns_.push_back(conn);
      if (reading_) read_next(*conn);
      accept_next();
    });
  }
  void read_next(Conn& c) {
    c.socket.async_read_some(asio::buffer(c.buf), [this, &c](std::error_code ec, size_t n) {
      total += n;
      if (!ec) read_next(c);
    });
  }

  asio::io_context io_;
  asio::ip::tcp::acceptor acceptor_;
  std::thread thread_;
  std::vector<std::shared_ptr<Conn>> conns_;  // touched only on the I/O thread
  bool reading_ = false;
};

TransportConfig fast_config() {
  TransportConfig c;
  c.self_id = 1;
  c.backoff_initial = std::chrono::milliseconds(10);
  c.backoff_max = std::chrono::milliseconds(100);
  c.connect_timeout = std::chrono::milliseconds(500);
  return c;
}

TEST(RaftTransport, LaneOfEachMessageType) {
  EXPECT_EQ(lane_for(heartbeat(2, 1)), Lane::kControl);
  EXPECT_EQ(lane_for(append(2, 1, 1)), Lane::kBulk);
  eraftpb::Message m;
  for (auto t : {eraftpb::MsgRequestVote, eraftpb::MsgRequestPreVote, eraftpb::MsgAppendResponse,
                 eraftpb::MsgTimeoutNow, eraftpb::MsgReadIndex, eraftpb::MsgHeartbeatResponse}) {
    m.set_msg_type(t);
    EXPECT_EQ(lane_for(m), Lane::kControl) << eraftpb::MessageType_Name(t);
  }
  m.set_msg_type(eraftpb::MsgSnapshot);
  EXPECT_EQ(lane_for(m), Lane::kBulk);
}

TEST(RaftTransport, DeliversMessagesIntact) {
  auto handler = std::make_shared<RecordingHandler>();
  ServerThread peer(ServerConfig{}, handler);
  RaftTransport t(fast_config());
  ASSERT_TRUE(t.add_peer(2, peer.addr()).ok());
  for (uint64_t i = 0; i < 100; ++i) {
    ASSERT_TRUE(t.send(i % 2 ? heartbeat(2, i) : append(2, i, 100)));
  }
  ASSERT_TRUE(wait_until([&] { return handler->count() == 100; }));
  EXPECT_EQ(handler->count_of(eraftpb::MsgHeartbeat), 50u);
  // Appends keep their order: they share one lane.
  std::vector<uint64_t> append_indexes;
  for (auto& m : handler->received) {
    if (m.msg_type() == eraftpb::MsgAppend) {
      append_indexes.push_back(m.index());
      ASSERT_EQ(m.entries_size(), 1);
      EXPECT_EQ(m.entries(0).data(), std::string(100, 'x'));
    }
  }
  EXPECT_TRUE(std::is_sorted(append_indexes.begin(), append_indexes.end()));
  auto stats = t.peer_stats(2);
  ASSERT_TRUE(stats);
  EXPECT_EQ(stats->control.sent + stats->bulk.sent, 100u);
  EXPECT_EQ(stats->control.dropped + stats->bulk.dropped, 0u);
}

TEST(RaftTransport, UnknownPeerIsRefused) {
  RaftTransport t(fast_config());
  EXPECT_FALSE(t.send(heartbeat(9, 1)));
  EXPECT_FALSE(t.add_peer(9, "no-port-here").ok());
}

TEST(RaftTransport, DownPeerCostsBoundedMemory) {
  // A socket bound but never listening holds its port for the whole test, so no server started
  // by a test running alongside can take it: every connect is refused.
  asio::io_context io;
  asio::ip::tcp::socket reserved(io, {asio::ip::make_address("127.0.0.1"), 0});
  const uint16_t port = reserved.local_endpoint().port();
  auto cfg = fast_config();
  cfg.max_bulk_queue_bytes = 1 << 20;
  cfg.max_control_queue = 64;
  RaftTransport t(cfg);
  ASSERT_TRUE(t.add_peer(2, "127.0.0.1:" + std::to_string(port)).ok());
  size_t max_bulk_bytes = 0, max_control = 0;
  for (uint64_t i = 0; i < 20000; ++i) {
    t.send(append(2, i, 1024));
    t.send(heartbeat(2, i));
    auto s = t.peer_stats(2);
    max_bulk_bytes = std::max<size_t>(max_bulk_bytes, s->bulk.queued_bytes);
    max_control = std::max<size_t>(max_control, s->control.queued_messages);
  }
  EXPECT_LE(max_bulk_bytes, cfg.max_bulk_queue_bytes);
  EXPECT_LE(max_control, cfg.max_control_queue);
  auto s = t.peer_stats(2);
  EXPECT_GE(s->bulk.dropped, 20000u - (1u << 20) / 1024);
  EXPECT_EQ(s->bulk.sent, 0u);
}

TEST(RaftTransport, TrafficResumesWhenPeerReturns) {
  auto handler = std::make_shared<RecordingHandler>();
  auto first = std::make_unique<ServerThread>(ServerConfig{}, handler);
  const std::string addr = first->addr();
  std::atomic<int> unreachable{0};
  auto cfg = fast_config();
  cfg.on_unreachable = [&](NodeId id) {
    EXPECT_EQ(id, 2u);
    unreachable.fetch_add(1);
  };
  RaftTransport t(cfg);
  ASSERT_TRUE(t.add_peer(2, addr).ok());
  ASSERT_TRUE(t.send(heartbeat(2, 1)));
  ASSERT_TRUE(wait_until([&] { return handler->count() == 1; }));
  first.reset();  // the peer goes away

  // Keep sending (bounded) until the transport notices and reports the peer unreachable.
  for (int i = 0; i < 5000 && unreachable.load() == 0; ++i) {
    t.send(heartbeat(2, 2));
    std::this_thread::sleep_for(std::chrono::milliseconds(1));
  }
  ASSERT_GT(unreachable.load(), 0);

  // The peer comes back on the same address; traffic flows again within a few backoffs.
  ServerConfig again;
  auto handler2 = std::make_shared<RecordingHandler>();
  auto back = NetworkServer::create(ServerConfig{addr, 2}, handler2);
  ASSERT_TRUE(back.ok()) << back.error().to_string();
  std::thread runner([s = *back] { s->run(); });
  bool delivered = false;
  for (int i = 0; i < 5000 && !delivered; ++i) {
    t.send(heartbeat(2, 3));
    delivered = wait_until([&] { return handler2->count() > 0; }, std::chrono::milliseconds(2));
  }
  EXPECT_TRUE(delivered);
  (*back)->shutdown_handle().shutdown();
  runner.join();
}

TEST(RaftTransport, SlowPeerDoesNotSlowOthers) {
  StalledPeer slow;
  auto handler = std::make_shared<RecordingHandler>();
  ServerThread fast(ServerConfig{}, handler);
  auto cfg = fast_config();
  cfg.max_bulk_queue_bytes = 4 << 20;
  RaftTransport t(cfg);
  ASSERT_TRUE(t.add_peer(2, slow.addr()).ok());
  ASSERT_TRUE(t.add_peer(3, fast.addr()).ok());
  // Far more than the slow peer's socket buffers and queue can hold.
  for (uint64_t i = 0; i < 2000; ++i) {
    t.send(append(2, i, 64 * 1024));
    t.send(append(3, i, 100));
  }
  ASSERT_TRUE(wait_until([&] { return handler->count() == 2000; }));
  auto s = t.peer_stats(2);
  EXPECT_GT(s->bulk.dropped, 0u);
  EXPECT_LE(s->bulk.queued_bytes, cfg.max_bulk_queue_bytes);
  EXPECT_EQ(t.peer_stats(3)->bulk.dropped, 0u);
}

TEST(RaftTransport, HeartbeatsPassAStalledBulkLane) {
  // The peer never reads, so the bulk writer blocks once the socket buffers are full; control
  // messages go out on their own connection all the same.
  StalledPeer stalled_bulk;
  RaftTransport t(fast_config());
  // Route: node 2's bulk traffic is stuck behind a peer that never reads.
  ASSERT_TRUE(t.add_peer(2, stalled_bulk.addr()).ok());
  for (uint64_t i = 0; i < 200; ++i)
    t.send(append(2, i, 256 * 1024));  // tens of MiB: stuck
  ASSERT_TRUE(wait_until([&] { return t.peer_stats(2)->bulk.queued_messages > 0; }));
  const auto before = t.peer_stats(2)->control.sent;
  for (uint64_t i = 0; i < 100; ++i)
    ASSERT_TRUE(t.send(heartbeat(2, i)));
  EXPECT_TRUE(wait_until([&] { return t.peer_stats(2)->control.sent == before + 100; }));
  EXPECT_GT(t.peer_stats(2)->bulk.queued_messages, 0u);  // bulk still blocked meanwhile
}

TEST(RaftTransport, QueuedMessagesAreCoalescedIntoFewWrites) {
  StalledPeer peer;
  RaftTransport t(fast_config());
  ASSERT_TRUE(t.add_peer(2, peer.addr()).ok());
  // Fill the socket buffers until the bulk writer blocks and 200 messages wait behind it.
  size_t offered = 0;
  for (; offered < 2000 && t.peer_stats(2)->bulk.queued_messages < 200; ++offered) {
    ASSERT_TRUE(t.send(append(2, offered, 64 * 1024)));
    if (t.peer_stats(2)->bulk.queued_messages == 0) std::this_thread::yield();
  }
  ASSERT_GE(t.peer_stats(2)->bulk.queued_messages, 200u);
  const LaneStats before = t.peer_stats(2)->bulk;
  peer.start_reading();
  ASSERT_TRUE(wait_until([&] { return t.peer_stats(2)->bulk.sent == offered; }));
  const LaneStats after = t.peer_stats(2)->bulk;
  EXPECT_EQ(after.dropped, 0u);
  // The queued messages left in 1 MiB gathered writes (about 16 per write), not one by one.
  const uint64_t writes = after.writes - before.writes;
  const uint64_t sent = after.sent - before.sent;
  EXPECT_GE(sent, 200u);
  EXPECT_LT(writes * 8, sent) << writes << " writes for " << sent << " messages";
}

TEST(RaftTransport, PeerAddressChangeAndRemoval) {
  auto h1 = std::make_shared<RecordingHandler>();
  auto h2 = std::make_shared<RecordingHandler>();
  ServerThread a(ServerConfig{}, h1), b(ServerConfig{}, h2);
  RaftTransport t(fast_config());
  ASSERT_TRUE(t.add_peer(2, a.addr()).ok());
  ASSERT_TRUE(t.send(heartbeat(2, 1)));
  ASSERT_TRUE(wait_until([&] { return h1->count() == 1; }));
  ASSERT_TRUE(t.add_peer(2, b.addr()).ok());  // moved
  ASSERT_TRUE(t.send(heartbeat(2, 2)));
  ASSERT_TRUE(wait_until([&] { return h2->count() == 1; }));
  EXPECT_EQ(h1->count(), 1u);
  t.remove_peer(2);
  EXPECT_FALSE(t.send(heartbeat(2, 3)));
  EXPECT_FALSE(t.peer_stats(2).has_value());
}

TEST(RaftTransport, ShutdownWithStuckPeersReturns) {
  StalledPeer slow;
  RaftTransport t(fast_config());
  ASSERT_TRUE(t.add_peer(2, slow.addr()).ok());
  ASSERT_TRUE(t.add_peer(3, "127.0.0.1:1").ok());  // nothing listens on port 1
  for (uint64_t i = 0; i < 500; ++i) {
    t.send(append(2, i, 64 * 1024));
    t.send(heartbeat(3, i));
  }
  t.shutdown();  // must not hang on the blocked write or the failing connects
  EXPECT_FALSE(t.send(heartbeat(2, 1)));
}

}  // namespace
}  // namespace cairn::net
