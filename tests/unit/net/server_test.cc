// NetworkServer over real sockets on 127.0.0.1: request/response, pipelining with out-of-order
// async answers, bad input closing only the offending connection, limits, many connections,
// and graceful shutdown.
#include "net/server.h"

#include <gtest/gtest.h>

#include <atomic>
#include <chrono>
#include <deque>
#include <mutex>
#include <set>

#include "test_util.h"

namespace cairn::net {
namespace {

using namespace testing;

// Answers Ping with Pong and ClientRequest with an echo of its request_id; counts calls.
class EchoHandler : public MessageHandler {
 public:
  std::optional<Message> handle(Message msg) override {
    calls.fetch_add(1);
    if (auto* p = std::get_if<PingRequest>(&msg)) return PongResponse{99, p->raft_addr, 1};
    if (auto* r = std::get_if<ClientRequest>(&msg)) {
      return ClientResponse{r->request_id, true, std::nullopt, std::nullopt, "v"};
    }
    return std::nullopt;
  }
  std::atomic<int> calls{0};
};

// Holds every request until the test answers it; records the most ever outstanding at once.
class HoldingHandler : public AsyncMessageHandler {
 public:
  void handle(Message msg, Responder responder) override {
    std::lock_guard lock(mu);
    held.emplace_back(std::get<ClientRequest>(msg).request_id, std::move(responder));
    max_outstanding = std::max(max_outstanding, held.size());
  }
  size_t count() {
    std::lock_guard lock(mu);
    return held.size();
  }
  // Answers the held requests newest first, so answers go back in the reverse order.
  void answer_all_reversed() {
    std::deque<std::pair<uint64_t, Responder>> batch;
    {
      std::lock_guard lock(mu);
      batch.swap(held);
    }
    for (auto it = batch.rbegin(); it != batch.rend(); ++it) {
      it->second.reply(ClientResponse{it->first, true, std::nullopt, std::nullopt, std::nullopt});
    }
  }
  std::mutex mu;
  std::deque<std::pair<uint64_t, Responder>> held;
  size_t max_outstanding = 0;
};

ClientRequest get_request(uint64_t id) {
  return {id, GetCommand{"k"}};
}

TEST(NetworkServer, AnswersPingWithPong) {
  auto handler = std::make_shared<EchoHandler>();
  ServerThread st(ServerConfig{}, handler);
  RawClient c(st.port());
  c.send(PingRequest{7, "127.0.0.1:9000"});
  auto m = c.receive();
  ASSERT_TRUE(m.ok()) << m.error().to_string();
  EXPECT_EQ(std::get<PongResponse>(*m), (PongResponse{99, "127.0.0.1:9000", 1}));
}

TEST(NetworkServer, PipelinedRequestsInOneWriteAllAnswered) {
  auto handler = std::make_shared<EchoHandler>();
  ServerThread st(ServerConfig{}, handler);
  RawClient c(st.port());
  std::string burst;
  for (uint64_t id = 1; id <= 2000; ++id)
    ASSERT_TRUE(append_frame(get_request(id), burst).ok());
  c.send_bytes(burst);
  for (uint64_t id = 1; id <= 2000; ++id) {
    auto m = c.receive();
    ASSERT_TRUE(m.ok()) << m.error().to_string();
    EXPECT_EQ(std::get<ClientResponse>(*m).request_id, id);  // sync answers keep request order
  }
}

TEST(NetworkServer, AsyncAnswersMatchedByRequestIdInAnyOrder) {
  auto handler = std::make_shared<HoldingHandler>();
  ServerThread st(ServerConfig{}, handler);
  RawClient c(st.port());
  for (uint64_t id = 1; id <= 100; ++id)
    c.send(get_request(id));
  ASSERT_TRUE(wait_until([&] { return handler->count() == 100; }));
  std::thread answerer([&] { handler->answer_all_reversed(); });  // answers from another thread
  std::set<uint64_t> seen;
  uint64_t first = 0;
  for (int i = 0; i < 100; ++i) {
    auto m = c.receive();
    ASSERT_TRUE(m.ok()) << m.error().to_string();
    uint64_t id = std::get<ClientResponse>(*m).request_id;
    if (i == 0) first = id;
    seen.insert(id);
  }
  answerer.join();
  EXPECT_EQ(seen.size(), 100u);
  EXPECT_EQ(first, 100u);  // newest answered first
}

TEST(NetworkServer, InFlightLimitPausesReading) {
  auto handler = std::make_shared<HoldingHandler>();
  ServerConfig cfg;
  cfg.max_in_flight = 10;
  ServerThread st(cfg, handler);
  RawClient c(st.port());
  std::string burst;
  for (uint64_t id = 1; id <= 50; ++id)
    ASSERT_TRUE(append_frame(get_request(id), burst).ok());
  c.send_bytes(burst);
  ASSERT_TRUE(wait_until([&] { return handler->count() == 10; }));
  for (int round = 0; round < 4; ++round) {
    handler->answer_all_reversed();
    ASSERT_TRUE(wait_until([&] { return handler->count() == 10; }));
  }
  handler->answer_all_reversed();
  for (int i = 0; i < 50; ++i)
    ASSERT_TRUE(c.receive().ok());
  EXPECT_EQ(handler->max_outstanding, 10u);
}

TEST(NetworkServer, OversizedFrameClosesOnlyThatConnection) {
  auto handler = std::make_shared<EchoHandler>();
  ServerThread st(ServerConfig{}, handler);
  RawClient good(st.port());
  RawClient bad(st.port());
  // 16 MiB + 1 announced; the server must refuse on seeing the header, without the payload.
  bad.send_bytes(std::string("\x01\x00\x00\x01", 4));
  EXPECT_TRUE(bad.closed_by_server());
  EXPECT_EQ(st.server().stats().oversized_frames, 1u);
  good.send(PingRequest{1, "a:1"});
  EXPECT_TRUE(good.receive().ok());
  RawClient later(st.port());
  later.send(PingRequest{1, "a:1"});
  EXPECT_TRUE(later.receive().ok());
}

// Takes messages in parts from connections whose hello named cluster 42, up to `limit` bytes;
// keeps every ClientRequest it is given and answers it.
class PartsHandler : public AsyncMessageHandler {
 public:
  explicit PartsHandler(size_t limit) : limit_(limit) {}
  void handle(Message msg, Responder responder) override {
    if (auto* h = std::get_if<PeerHello>(&msg)) {
      responder.set_connection_tag(h->cluster_id);
      return;
    }
    auto& r = std::get<ClientRequest>(msg);
    responder.reply(ClientResponse{r.request_id, true, std::nullopt, std::nullopt, std::nullopt});
    std::lock_guard lock(mu);
    got.push_back(std::move(r));
  }
  size_t max_message_in_parts(uint64_t tag) const override { return tag == 42 ? limit_ : 0; }
  std::vector<ClientRequest> received() {
    std::lock_guard lock(mu);
    return got;
  }

 private:
  const size_t limit_;
  std::mutex mu;
  std::vector<ClientRequest> got;
};

ClientRequest put_of(size_t value_bytes) {
  std::string value(value_bytes, '\0');
  for (size_t i = 0; i < value.size(); ++i)
    value[i] = static_cast<char>(i * 131 + i / 4096);
  return {7, PutCommand{"big", std::move(value), std::nullopt}};
}

// The frames of `msg` in parts (as a peer's transport sends it).
std::string in_parts(const Message& msg, size_t max_message) {
  std::string frames;
  auto st = append_frames(msg, frames, max_message);
  EXPECT_TRUE(st.ok()) << st.error().to_string();
  return frames;
}

TEST(NetworkServer, AMessageLargerThanAFrameArrivesWholeFromATrustedPeer) {
  auto handler = std::make_shared<PartsHandler>(64u << 20);
  ServerThread st(ServerConfig{}, handler);
  RawClient c(st.port());
  c.send(PeerHello{42, 2, ""});
  const ClientRequest big = put_of(40u << 20);
  c.send_bytes(in_parts(big, 64u << 20));
  c.send(get_request(8));  // after the parts, an ordinary frame on the same connection
  for (uint64_t id : {uint64_t{7}, uint64_t{8}}) {
    auto m = c.receive();
    ASSERT_TRUE(m.ok()) << m.error().to_string();
    EXPECT_EQ(std::get<ClientResponse>(*m).request_id, id);
  }
  const auto got = handler->received();
  ASSERT_EQ(got.size(), 2u);
  EXPECT_TRUE(got[0] == big) << "the message put together differs from the one sent";
  EXPECT_EQ(got[1], get_request(8));
}

TEST(NetworkServer, MessageInPartsFromAConnectionNotTrustedClosesIt) {
  auto handler = std::make_shared<PartsHandler>(64u << 20);
  ServerThread st(ServerConfig{}, handler);
  const std::string frames = in_parts(put_of(20u << 20), 64u << 20);
  RawClient anonymous(st.port());  // no hello at all
  anonymous.send_bytes(frames.substr(0, kPartSize + 64));
  EXPECT_TRUE(anonymous.closed_by_server());
  RawClient stranger(st.port());  // another cluster's hello
  stranger.send(PeerHello{41, 2, ""});
  stranger.send_bytes(frames.substr(0, kPartSize + 64));
  EXPECT_TRUE(stranger.closed_by_server());
  EXPECT_EQ(st.server().stats().decode_errors, 2u);
  EXPECT_TRUE(handler->received().empty());
}

TEST(NetworkServer, PartsOverTheLimitOrOfTwoSizesCloseTheConnection) {
  auto handler = std::make_shared<PartsHandler>(24u << 20);
  ServerThread st(ServerConfig{}, handler);
  RawClient over(st.port());
  over.send(PeerHello{42, 2, ""});
  // 30 MiB announced against a limit of 24: refused at the first part, before any is kept.
  over.send_bytes(in_parts(put_of(30u << 20), 64u << 20).substr(0, kPartSize + 64));
  EXPECT_TRUE(over.closed_by_server());
  RawClient mixed(st.port());
  mixed.send(PeerHello{42, 2, ""});
  std::string frames;
  ASSERT_TRUE(append_frame(MessagePart{20u << 20, std::string(1024, 'a')}, frames).ok());
  ASSERT_TRUE(append_frame(MessagePart{21u << 20, std::string(1024, 'a')}, frames).ok());
  mixed.send_bytes(frames);
  EXPECT_TRUE(mixed.closed_by_server());
  RawClient small(st.port());  // a "message in parts" that would have fit one frame
  small.send(PeerHello{42, 2, ""});
  frames.clear();
  ASSERT_TRUE(append_frame(MessagePart{1024, std::string(1024, 'a')}, frames).ok());
  small.send_bytes(frames);
  EXPECT_TRUE(small.closed_by_server());
  EXPECT_EQ(st.server().stats().decode_errors, 3u);
  EXPECT_TRUE(handler->received().empty());
}

TEST(NetworkServer, GarbageClosesOnlyThatConnection) {
  auto handler = std::make_shared<EchoHandler>();
  ServerThread st(ServerConfig{}, handler);
  RawClient good(st.port());
  RawClient bad(st.port());
  // A well-formed frame whose payload is no message: variant tag 0xdeadbeef.
  bad.send_bytes(std::string("\x00\x00\x00\x06\xef\xbe\xad\xde\x00\x00", 10));
  EXPECT_TRUE(bad.closed_by_server());
  EXPECT_EQ(st.server().stats().decode_errors, 1u);
  good.send(PingRequest{1, "a:1"});
  EXPECT_TRUE(good.receive().ok());
}

TEST(NetworkServer, ValidRequestsBeforeGarbageAreStillAnswered) {
  auto handler = std::make_shared<EchoHandler>();
  ServerThread st(ServerConfig{}, handler);
  RawClient c(st.port());
  std::string bytes;
  ASSERT_TRUE(append_frame(get_request(1), bytes).ok());
  bytes += std::string("\x00\x00\x00\x04\x09\x00\x00\x00", 8);  // unknown tag 9
  c.send_bytes(bytes);
  auto m = c.receive();
  ASSERT_TRUE(m.ok()) << m.error().to_string();
  EXPECT_EQ(std::get<ClientResponse>(*m).request_id, 1u);
  EXPECT_TRUE(c.closed_by_server());
}

TEST(NetworkServer, ClientDisconnectingMidFrameIsCountedAndHarmless) {
  auto handler = std::make_shared<EchoHandler>();
  ServerThread st(ServerConfig{}, handler);
  {
    RawClient c(st.port());
    std::string frame;
    ASSERT_TRUE(append_frame(PingRequest{1, "127.0.0.1:1"}, frame).ok());
    c.send_bytes(std::string_view(frame).substr(0, frame.size() / 2));
  }
  ASSERT_TRUE(wait_until([&] { return st.server().stats().aborted_mid_frame == 1; }));
  EXPECT_EQ(handler->calls.load(), 0);
  RawClient c2(st.port());
  c2.send(PingRequest{1, "a:1"});
  EXPECT_TRUE(c2.receive().ok());
}

TEST(NetworkServer, FrameSplitIntoSingleBytesIsReassembled) {
  auto handler = std::make_shared<EchoHandler>();
  ServerThread st(ServerConfig{}, handler);
  RawClient c(st.port());
  std::string frame;
  ASSERT_TRUE(append_frame(PingRequest{3, "127.0.0.1:1234"}, frame).ok());
  for (char ch : frame)
    c.send_bytes(std::string_view(&ch, 1));
  auto m = c.receive();
  ASSERT_TRUE(m.ok());
  EXPECT_EQ(std::get<PongResponse>(*m).raft_addr, "127.0.0.1:1234");
}

TEST(NetworkServer, ThousandConcurrentConnections) {
  raise_fd_limit();
  auto handler = std::make_shared<EchoHandler>();
  ServerConfig cfg;
  cfg.threads = 2;
  ServerThread st(cfg, handler);
  std::vector<std::unique_ptr<RawClient>> clients;
  for (int i = 0; i < 1000; ++i)
    clients.push_back(std::make_unique<RawClient>(st.port()));
  ASSERT_TRUE(wait_until([&] { return st.server().stats().connections_active == 1000; }));
  for (size_t i = 0; i < clients.size(); ++i)
    clients[i]->send(get_request(i));
  for (size_t i = 0; i < clients.size(); ++i) {
    auto m = clients[i]->receive();
    ASSERT_TRUE(m.ok()) << "client " << i << ": " << m.error().to_string();
    EXPECT_EQ(std::get<ClientResponse>(*m).request_id, i);
  }
  clients.clear();
  EXPECT_TRUE(wait_until([&] { return st.server().stats().connections_active == 0; }));
}

TEST(NetworkServer, ConnectionLimitRefusesExtraConnections) {
  auto handler = std::make_shared<EchoHandler>();
  ServerConfig cfg;
  cfg.max_connections = 2;
  ServerThread st(cfg, handler);
  RawClient a(st.port()), b(st.port());
  ASSERT_TRUE(wait_until([&] { return st.server().stats().connections_active == 2; }));
  RawClient c(st.port());
  // Told why, as a Redis client is ("-ERR max number of clients reached"), then closed.
  auto why = c.receive();
  ASSERT_TRUE(why.ok()) << why.error().to_string();
  EXPECT_EQ(
      std::get<ClientResponse>(*why),
      (ClientResponse{0, false, "max number of clients reached", std::nullopt, std::nullopt}));
  EXPECT_TRUE(c.closed_by_server());
  EXPECT_EQ(st.server().stats().connections_refused, 1u);
  a.send(PingRequest{1, "a:1"});
  EXPECT_TRUE(a.receive().ok());
  a.close();
  ASSERT_TRUE(wait_until([&] { return st.server().stats().connections_active == 1; }));
  RawClient d(st.port());
  d.send(PingRequest{1, "a:1"});
  EXPECT_TRUE(d.receive().ok());
}

TEST(NetworkServer, ShutdownAnswersInFlightRequestsThenCloses) {
  auto handler = std::make_shared<HoldingHandler>();
  ServerThread st(ServerConfig{}, handler);
  RawClient c(st.port());
  c.send(get_request(42));
  ASSERT_TRUE(wait_until([&] { return handler->count() == 1; }));
  std::thread stopper([&] { st.stop(); });
  // The listener closes at once; the held request still gets its answer.
  ASSERT_TRUE(wait_until([&] {
    try {
      RawClient probe(st.port(), 100ms);
      return false;
    } catch (const std::exception&) {
      return true;
    }
  }));
  handler->answer_all_reversed();
  auto m = c.receive();
  ASSERT_TRUE(m.ok()) << m.error().to_string();
  EXPECT_EQ(std::get<ClientResponse>(*m).request_id, 42u);
  EXPECT_TRUE(c.closed_by_server());
  stopper.join();
}

TEST(NetworkServer, ShutdownGivesUpOnUnansweredRequestsAfterDrainTimeout) {
  auto handler = std::make_shared<HoldingHandler>();
  ServerConfig cfg;
  cfg.drain_timeout = 200ms;
  ServerThread st(cfg, handler);
  RawClient c(st.port());
  c.send(get_request(1));
  ASSERT_TRUE(wait_until([&] { return handler->count() == 1; }));
  // stop() returns only once run() has returned, and run() waits for the unanswered request
  // until the drain timeout: so stop() cannot take less. (A lower bound: no scheduling delay can
  // break it.)
  // Caught mutation: net-drain-waits-for-in-flight
  const auto stop_started = std::chrono::steady_clock::now();
  st.stop();
  EXPECT_GE(std::chrono::steady_clock::now() - stop_started, cfg.drain_timeout);
  EXPECT_TRUE(c.closed_by_server());
  handler->answer_all_reversed();  // too late: discarded, and harmless
}

TEST(NetworkServer, ShutdownWhileClientsAreSending) {
  auto handler = std::make_shared<EchoHandler>();
  ServerConfig cfg;
  cfg.threads = 2;
  ServerThread st(cfg, handler);
  std::atomic<int> answered{0};
  std::vector<std::thread> senders;
  for (int t = 0; t < 8; ++t) {
    senders.emplace_back([&, port = st.port()] {
      try {
        RawClient c(port, 2s);
        for (uint64_t i = 0; i < 100000; ++i) {  // bounded; ends early when the server closes
          c.send(get_request(i));
          if (!c.receive().ok()) return;
          answered.fetch_add(1);
        }
      } catch (const std::exception&) {  // refused or reset once the server is gone
      }
    });
  }
  ASSERT_TRUE(wait_until([&] { return answered.load() > 1000; }));
  st.stop();
  for (auto& t : senders)
    t.join();
  EXPECT_EQ(st.server().stats().connections_active, 0u);
}

TEST(NetworkServer, BadListenAddressIsAClearError) {
  ServerConfig cfg;
  cfg.listen = "127.0.0.1:notaport";
  auto s = NetworkServer::create(cfg, std::make_shared<EchoHandler>());
  ASSERT_FALSE(s.ok());
  EXPECT_NE(s.error().to_string().find("notaport"), std::string::npos) << s.error().to_string();
}

TEST(NetworkServer, PortInUseIsAClearError) {
  auto handler = std::make_shared<EchoHandler>();
  ServerThread st(ServerConfig{}, handler);
  ServerConfig cfg;
  cfg.listen = st.addr();
  auto s = NetworkServer::create(cfg, handler);
  ASSERT_FALSE(s.ok());
  EXPECT_NE(s.error().to_string().find("in use"), std::string::npos) << s.error().to_string();
}

}  // namespace
}  // namespace cairn::net
