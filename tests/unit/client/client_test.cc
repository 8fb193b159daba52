// Client against fake nodes: every typed call, following a leader hint to a second node,
// retrying refusals that were never executed, resending a write whose outcome is unknown only
// under its session number (and never without a session), trying the next seed, status and
// admin, and asynchronous pipelining.
#include "client/client.h"

#include <gtest/gtest.h>

#include "fake_node.h"

namespace cairn::client {
namespace {

using namespace std::chrono_literals;
using net::testing::wait_until;
using testing::FakeServer;

std::unique_ptr<Client> make_client(std::vector<std::string> seeds, int max_retries = 5,
                                    std::chrono::milliseconds timeout = 5s, bool sessions = true) {
  Options o;
  o.sessions = sessions;
  o.seeds = std::move(seeds);
  o.max_retries = max_retries;
  o.request_timeout = timeout;
  o.backoff = 1ms;
  o.max_backoff = 5ms;
  auto c = Client::create(o);
  if (!c.ok()) throw std::runtime_error(c.error().to_string());
  return std::move(*c);
}

net::StatusResponse two_node_status(net::NodeId self, const FakeServer& a, const FakeServer& b,
                                    net::NodeId leader) {
  net::StatusResponse s;
  s.node_id = self;
  s.role = self == leader ? "leader" : "follower";
  s.term = 3;
  s.leader_id = leader;
  s.members = {{1, a.addr(), true}, {2, b.addr(), true}};
  return s;
}

TEST(Client, EveryCommandAgainstOneNode) {
  FakeServer s(1);
  auto c = make_client({s.addr()});
  ASSERT_TRUE(c->set("k", std::string("v\0x", 3)).ok());
  EXPECT_EQ(*c->get("k"), std::string("v\0x", 3));
  EXPECT_EQ(*c->get("k", true), std::string("v\0x", 3));
  EXPECT_EQ(*c->get("nope"), std::nullopt);
  EXPECT_EQ(*c->incr("n", 5), 5);
  EXPECT_EQ(*c->incr("n", -2), 3);
  EXPECT_TRUE(*c->cas("k", std::string("v\0x", 3), "w"));
  EXPECT_FALSE(*c->cas("k", "v", "z"));
  EXPECT_EQ(*c->get("k"), "w");
  EXPECT_EQ(*c->append("k", "xy"), 3u);
  EXPECT_TRUE(*c->exists("k"));
  EXPECT_EQ(*c->ttl("k"), -1);
  EXPECT_EQ(*c->ttl("nope"), -2);
  EXPECT_TRUE(*c->expire("k", 10s));
  EXPECT_FALSE(*c->persist("k"));
  EXPECT_EQ(*c->getdel("k"), "wxy");
  EXPECT_FALSE(*c->exists("k"));
  EXPECT_TRUE(*c->del("n"));
  EXPECT_FALSE(*c->del("n"));
  ASSERT_TRUE(c->set("a", "1").ok());
  ASSERT_TRUE(c->clear().ok());
  EXPECT_EQ(*c->get("a"), std::nullopt);
}

TEST(Client, CommandErrorIsReturnedNotRetried) {
  FakeServer s(1);
  auto c = make_client({s.addr()});
  ASSERT_TRUE(c->set("k", "abc").ok());
  auto r = c->incr("k");
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.error().kind(), Error::Kind::kServer);
  EXPECT_NE(r.error().message().find("value is not an integer"), std::string::npos);
  EXPECT_EQ(s.node->client_requests(), 2);
}

TEST(Client, FollowsLeaderHintToTheLeadersAddress) {
  FakeServer a(1), b(2);
  a.node->set_status(two_node_status(1, a, b, 2));
  b.node->set_status(two_node_status(2, a, b, 2));
  a.node->refuse(-1, "not leader: node 2 is", 2);
  auto c = make_client({a.addr()});
  ASSERT_TRUE(c->set("k", "v").ok());
  EXPECT_EQ(b.node->value("k"), "v");
  EXPECT_EQ(a.node->client_requests(), 1);
  EXPECT_EQ(a.node->status_requests(), 1);  // to learn node 2's address
  // The leader is remembered: the next request goes straight to it.
  ASSERT_TRUE(c->set("k2", "v2").ok());
  EXPECT_EQ(a.node->client_requests(), 1);
  EXPECT_EQ(b.node->client_requests(), 2);
}

TEST(Client, RetriesNoLeaderUntilOneIsElected) {
  FakeServer s(1);
  s.node->refuse(3, "no leader: election in progress");
  auto c = make_client({s.addr()});
  ASSERT_TRUE(c->set("k", "v").ok());
  EXPECT_EQ(s.node->client_requests(), 4);
  EXPECT_EQ(s.node->value("k"), "v");
}

TEST(Client, GivesUpOnBusyAfterMaxRetries) {
  FakeServer s(1);
  s.node->refuse(-1, "busy: 4096 proposals waiting");
  auto c = make_client({s.addr()}, 2);
  auto r = c->set("k", "v");
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.error().kind(), Error::Kind::kUnavailable);
  EXPECT_NE(r.error().message().find("busy"), std::string::npos) << r.error().to_string();
  EXPECT_NE(r.error().message().find("gave up after 3 attempts"), std::string::npos);
  EXPECT_EQ(s.node->client_requests(), 3);
}

TEST(Client, ShuttingDownNodeIsLeftForTheNextSeed) {
  FakeServer a(1), b(2);
  a.node->refuse(-1, "shutting down");
  auto c = make_client({a.addr(), b.addr()});
  ASSERT_TRUE(c->set("k", "v").ok());
  EXPECT_EQ(b.node->value("k"), "v");
  EXPECT_EQ(a.node->client_requests(), 1);
}

TEST(Client, UnreachableSeedIsSkipped) {
  FakeServer s(1);
  auto c = make_client({testing::unused_addr(), s.addr()});
  ASSERT_TRUE(c->set("k", "v").ok());
  EXPECT_EQ(s.node->value("k"), "v");
}

TEST(Client, NoReachableNodeIsAnErrorNamingTheAddress) {
  auto dead = testing::unused_addr();
  auto c = make_client({dead}, 2);
  auto r = c->get("k");
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.error().kind(), Error::Kind::kUnreachable);
  EXPECT_NE(r.error().message().find(dead), std::string::npos) << r.error().to_string();
}

TEST(Client, WithoutSessionsAWriteWithUnknownOutcomeIsNotResent) {
  FakeServer s(1);
  s.node->refuse(1, "dropped: leadership changed");
  auto c = make_client({s.addr()}, 5, 5s, false);
  auto r = c->set("k", "v");
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.error().kind(), Error::Kind::kOutcomeUnknown);
  EXPECT_TRUE(r.error().outcome_unknown());
  EXPECT_EQ(s.node->client_requests(), 1);
  EXPECT_EQ(s.node->sessions_opened(), 0u);
}

TEST(Client, SessionWriteWithUnknownOutcomeIsResentUnderItsNumber) {
  FakeServer s(1);
  s.node->refuse(1, "dropped: leadership changed");
  auto c = make_client({s.addr()});
  ASSERT_TRUE(c->set("k", "v").ok());
  EXPECT_EQ(s.node->value("k"), "v");
  EXPECT_EQ(s.node->sessions_opened(), 1u);
  auto writes = s.node->session_writes();
  ASSERT_EQ(writes.size(), 2u);
  for (const auto& w : writes) {
    EXPECT_EQ(w.session, 1u);
    EXPECT_EQ(w.seq, 1u);
  }
}

TEST(Client, SessionWritesAreNumberedAndAcknowledgeTheirAnswers) {
  FakeServer s(1);
  auto c = make_client({s.addr()});
  ASSERT_TRUE(c->set("a", "1").ok());
  ASSERT_EQ(*c->incr("n"), 1);
  ASSERT_TRUE(c->set("b", "2").ok());
  auto writes = s.node->session_writes();
  ASSERT_EQ(writes.size(), 3u);
  for (uint64_t i = 0; i < 3; ++i) {
    EXPECT_EQ(writes[i].session, 1u);
    EXPECT_EQ(writes[i].seq, i + 1);
    EXPECT_EQ(writes[i].acked, i + 1);  // every earlier write's answer has arrived
  }
  EXPECT_EQ(s.node->sessions_opened(), 1u);  // one session for them all
}

TEST(Client, ExpiredSessionBeforeAnyAttemptAppliedIsReopened) {
  FakeServer s(1);
  auto c = make_client({s.addr()});
  ASSERT_TRUE(c->set("a", "1").ok());
  s.node->refuse_each(
      {"SESSION client session 1 is unknown or has expired; this attempt was not applied"});
  ASSERT_TRUE(c->set("b", "2").ok());
  EXPECT_EQ(s.node->value("b"), "2");
  EXPECT_EQ(s.node->sessions_opened(), 2u);
  auto writes = s.node->session_writes();
  ASSERT_EQ(writes.size(), 3u);
  EXPECT_EQ(writes[2].session, 2u);
  EXPECT_EQ(writes[2].seq, 1u);
}

TEST(Client, ExpiredSessionAfterAnUnknownOutcomeIsNotResentAfresh) {
  FakeServer s(1);
  auto c = make_client({s.addr()});
  s.node->refuse_each(
      {"dropped: leadership changed",
       "SESSION client session 1 is unknown or has expired; this attempt was not applied"});
  auto r = c->incr("n");
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.error().kind(), Error::Kind::kOutcomeUnknown) << r.error().to_string();
  EXPECT_EQ(s.node->sessions_opened(), 1u);
  EXPECT_EQ(s.node->value("n"), std::nullopt);
}

// Once an attempt may have applied the write, a later refusal that says "never executed" is about
// that attempt alone: giving up must report the outcome as unknown, or a caller (and the cluster
// tests' history) takes an applied write for one that never happened.
// Caught mutation: client-maybe-applied-stays-unknown
TEST(Client, SessionWriteRefusedAfterAnUnknownOutcomeGivesUpAsUnknown) {
  FakeServer s(1);
  s.node->refuse_each({"dropped: leadership changed"});
  s.node->refuse(-1, "no leader: election in progress");
  auto c = make_client({s.addr()}, 2);
  auto r = c->set("k", "v");
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.error().kind(), Error::Kind::kOutcomeUnknown) << r.error().to_string();
  EXPECT_TRUE(r.error().outcome_unknown());
  EXPECT_NE(r.error().message().find("no leader"), std::string::npos) << r.error().to_string();
  EXPECT_EQ(s.node->client_requests(), 3);
}

TEST(Client, SessionWriteWhoseNodeDiesAfterSendingIsUnknownNotUnreachable) {
  auto a = std::make_unique<FakeServer>(1, 10ms);
  auto c = make_client({a->addr()}, 2);
  ASSERT_TRUE(c->set("a", "1").ok());  // the session is open
  a->node->hold(true);
  auto f = c->submit(net::PutCommand{"k", "v", std::nullopt});
  ASSERT_TRUE(wait_until([&] { return a->node->held() == 1; }));
  a->server.stop();  // the write was received; every resend finds nobody listening
  auto r = f.get();
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.error().kind(), Error::Kind::kOutcomeUnknown) << r.error().to_string();
}

TEST(Client, ReadWithUnknownOutcomeIsResent) {
  FakeServer s(1);
  ASSERT_TRUE(make_client({s.addr()})->set("k", "v").ok());
  s.node->refuse(1, "timeout: no answer from the leader");
  auto c = make_client({s.addr()});
  EXPECT_EQ(*c->get("k"), "v");
  EXPECT_EQ(s.node->client_requests(), 3);
}

TEST(Client, SilentNodeTimesOutAWriteOnce) {
  FakeServer s(1);
  s.node->hold(true);
  auto c = make_client({s.addr()}, 5, 200ms);
  auto r = c->set("k", "v");
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.error().kind(), Error::Kind::kTimeout) << r.error().to_string();
  EXPECT_EQ(s.node->client_requests(), 1);
}

TEST(Client, WithoutSessionsConnectionLostAfterSendingAWriteIsNotResent) {
  auto s = std::make_unique<FakeServer>(1, 10ms);
  auto c = make_client({s->addr()}, 5, 5s, false);
  s->node->hold(true);
  auto f = c->submit(net::PutCommand{"k", "v", std::nullopt});
  ASSERT_TRUE(wait_until([&] { return s->node->held() == 1; }));
  s->server.stop();
  auto r = f.get();
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.error().kind(), Error::Kind::kConnectionLost) << r.error().to_string();
  EXPECT_EQ(s->node->client_requests(), 1);
}

TEST(Client, SessionWriteWhoseConnectionIsLostIsResentToAnotherNode) {
  auto a = std::make_unique<FakeServer>(1, 10ms);
  FakeServer b(2);
  auto c = make_client({a->addr(), b.addr()});
  a->node->hold(true);
  auto f = c->submit(net::IncrCommand{"n", 5});
  ASSERT_TRUE(wait_until([&] { return a->node->held() == 1; }));
  a->server.stop();
  auto r = f.get();
  ASSERT_TRUE(r.ok()) << r.error().to_string();
  EXPECT_EQ(r->value_or(""), "5");
  auto writes = b.node->session_writes();
  ASSERT_EQ(writes.size(), 1u);
  EXPECT_EQ(writes[0].session, 1u);  // the session opened through the first node
  EXPECT_EQ(writes[0].seq, 1u);
}

TEST(Client, StatusAndAdminCommands) {
  FakeServer a(1), b(2);
  a.node->set_status(two_node_status(1, a, b, 1));
  auto c = make_client({a.addr()});
  auto st = c->status();
  ASSERT_TRUE(st.ok()) << st.error().to_string();
  EXPECT_EQ(st->node_id, 1u);
  EXPECT_EQ(st->leader_id, 1u);
  EXPECT_EQ(st->members.size(), 2u);
  ASSERT_TRUE(c->add_node(3, "127.0.0.1:9003").ok());
  ASSERT_TRUE(c->remove_node(2).ok());
  ASSERT_TRUE(c->transfer_leader(3).ok());
  auto admin = a.node->admin_commands();
  ASSERT_EQ(admin.size(), 3u);
  EXPECT_EQ(std::get<net::AddNodeCommand>(admin[0]), (net::AddNodeCommand{3, "127.0.0.1:9003"}));
  EXPECT_EQ(std::get<net::RemoveNodeCommand>(admin[1]).id, 2u);
  EXPECT_EQ(std::get<net::TransferLeaderCommand>(admin[2]).id, 3u);
}

TEST(Client, ThousandAsynchronousSubmitsOverAPool) {
  FakeServer s(1);
  Options o;
  o.seeds = {s.addr()};
  o.connections_per_node = 4;
  auto c = Client::create(o).value();
  std::vector<std::future<Client::Reply>> futures;
  for (int i = 0; i < 1000; i++)
    futures.push_back(c->submit(net::IncrCommand{"n", 1}));
  std::vector<bool> seen(1001);
  for (auto& f : futures) {
    auto r = f.get();
    ASSERT_TRUE(r.ok()) << r.error().to_string();
    seen[std::stoul(**r)] = true;
  }
  for (size_t i = 1; i <= 1000; i++)
    EXPECT_TRUE(seen[i]) << i;  // each increment answered once
}

TEST(Client, DestroyingTheClientCompletesOutstandingCalls) {
  FakeServer s(1);
  s.node->hold(true);
  auto c = make_client({s.addr()});
  std::promise<Client::Reply> p;
  auto f = p.get_future();
  c->submit(net::GetCommand{"k"}, [&p](Client::Reply r) { p.set_value(std::move(r)); });
  ASSERT_TRUE(wait_until([&] { return s.node->held() == 1; }));
  c.reset();
  ASSERT_EQ(f.wait_for(5s), std::future_status::ready);
  auto r = f.get();
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.error().kind(), Error::Kind::kClosed) << r.error().to_string();
}

TEST(Client, CreateRejectsBadOptions) {
  Options o;
  o.seeds = {};
  EXPECT_EQ(Client::create(o).error().kind(), Error::Kind::kInvalidArgument);
  o.seeds = {"localhost"};
  auto r = Client::create(o);
  ASSERT_FALSE(r.ok());
  EXPECT_NE(r.error().message().find("no port"), std::string::npos);
  o.seeds = {"127.0.0.1:9000"};
  o.request_timeout = 0ms;
  EXPECT_FALSE(Client::create(o).ok());
}

}  // namespace
}  // namespace cairn::client
