// Client sessions against real processes: a write whose answer is lost is resent by the C++
// client under its session number and applied once (docs/protocol.md, "Client sessions"), and
// increments from several clients count exactly once while the leader is paused again and again.
#include <gtest/gtest.h>

#include <atomic>
#include <csignal>
#include <set>
#include <thread>

#include "harness.h"
#include "proxy.h"
#include "resp_client.h"

namespace cairn::itest {
namespace {

// A linearizable read's value, or "<error>".
std::string read(client::Client& c, const std::string& key) {
  auto r = c.get(key);
  if (!r.ok()) return "<" + r.error().to_string() + ">";
  return r->value_or("<none>");
}

uint16_t port_of(const std::string& addr) {
  return static_cast<uint16_t>(std::stoi(addr.substr(addr.rfind(':') + 1)));
}

std::unique_ptr<client::Client> client_via(std::vector<std::string> seeds, bool sessions,
                                           std::chrono::milliseconds timeout) {
  client::Options o;
  o.seeds = std::move(seeds);
  o.sessions = sessions;
  o.request_timeout = timeout;
  o.attempt_timeout = 1s;
  o.connect_timeout = 500ms;
  o.max_retries = 20;
  auto c = client::Client::create(o);
  return c.ok() ? std::move(*c) : nullptr;
}

#ifdef CAIRN_ITEST_HIREDIS
// `field` of INFO's stats section on node `id`, or -1.
int64_t info_stat(LocalCluster& cluster, uint64_t id, const std::string& field) {
  auto c = connect_resp(cluster.resp_port(id), 2s);
  if (!c) return -1;
  auto r = command(c.get(), {"INFO", "stats"});
  if (!r || r->type != REDIS_REPLY_STRING) return -1;
  const std::string text(r->str, r->len);
  const auto at = text.find(field + ":");
  if (at == std::string::npos) return -1;
  return std::stoll(text.substr(at + field.size() + 1));
}
#endif

// The client reaches the leader through a proxy that, once the session is open, loses every
// answer: the increment is applied, its answer never arrives, and the client resends it to a
// follower after one attempt's timeout. The follower forwards it; the leader finds its number in
// the session table and answers with the first answer instead of applying it again. Without a
// session the same loss leaves the client with an unknown outcome. (With the table's lookup
// removed, the counter ends at 2 and the client is told 2.)
TEST(Sessions, AWriteWhoseAnswerWasLostIsAppliedOnceAndAnsweredWithItsFirstAnswer) {
  LocalCluster cluster(ClusterOptions{});
  const uint64_t leader = cluster.wait_for_leader(30s);
  ASSERT_NE(leader, 0u) << cluster.logs();
  const uint64_t follower = cluster.others(leader)[0];
  FaultProxy proxy(free_port(), port_of(cluster.addr(leader)));
  const std::string via_proxy = "127.0.0.1:" + std::to_string(proxy.port());

  auto c = client_via({via_proxy, cluster.addr(follower)}, true, 30s);
  ASSERT_TRUE(c);
  ASSERT_TRUE(c->set("warm", "up").ok());  // opens the session through the proxy
  proxy.set_swallow_replies(true);
  auto n = c->incr("n");
  ASSERT_TRUE(n.ok()) << n.error().to_string() << cluster.logs();
  EXPECT_EQ(*n, 1);
  auto reader = cluster.client();
  EXPECT_EQ(read(*reader, "n"), "1");
#ifdef CAIRN_ITEST_HIREDIS
  // Every replica applied the resend and answered it from its table (-1: INFO failed).
  for (uint64_t id : cluster.ids())
    EXPECT_GE(info_stat(cluster, id, "session_repeats"), 1) << "node " << id;
#endif

  // The same loss without a session: the client cannot resend, and says the outcome is unknown.
  proxy.set_swallow_replies(false);
  auto plain = client_via({via_proxy, cluster.addr(follower)}, false, 3s);
  ASSERT_TRUE(plain->set("warm", "again").ok());
  proxy.set_swallow_replies(true);
  auto m = plain->incr("m");
  ASSERT_FALSE(m.ok());
  EXPECT_TRUE(m.error().outcome_unknown()) << m.error().to_string();
  EXPECT_TRUE(LocalCluster::eventually([&] { return read(*reader, "m") == "1"; }, 10s));
}

// Four clients increment one counter while the leader is stopped (SIGSTOP) for 1.5 s, three
// times. Their writes in flight at the stopped leader time out and are resent to the other
// nodes; some had reached the followers and commit under the new leader. Every increment
// succeeds, each gets its own value, and the counter ends at exactly their number.
TEST(Sessions, IncrementsCountOnceWhileTheLeaderIsPausedAgainAndAgain) {
  LocalCluster cluster(ClusterOptions{});
  ASSERT_NE(cluster.wait_for_leader(30s), 0u) << cluster.logs();
  constexpr size_t kClients = 4;
  // Bounds the load whatever happens; far above what a client does in the test (about 500 a
  // second), so the clients are still running when the last pause ends.
  constexpr int kMaxPerClient = 100'000;
  std::atomic<bool> stop{false};
  std::atomic<size_t> acknowledged{0};
  std::vector<std::vector<int64_t>> values(kClients);
  std::vector<std::string> failures(kClients);
  std::vector<std::thread> threads;
  // Stops and joins the clients however the test ends (a failed ASSERT returns early): a thread
  // left joinable would terminate the process and leave the cluster's servers running.
  struct Joiner {
    std::atomic<bool>& stop;
    std::vector<std::thread>& threads;
    ~Joiner() {
      stop = true;
      for (auto& t : threads)
        if (t.joinable()) t.join();
    }
  } joiner{stop, threads};
  for (size_t i = 0; i < kClients; ++i) {
    threads.emplace_back([&, i] {
      auto c = client_via(cluster.addrs(), true, 30s);
      for (int k = 0; k < kMaxPerClient && !stop.load(); ++k) {
        auto r = c->incr("counter");
        if (!r.ok()) {
          failures[i] = r.error().to_string();
          return;
        }
        values[i].push_back(*r);
        acknowledged.fetch_add(1);
      }
    });
  }
  auto done = [&] { return acknowledged.load(); };
  for (int round = 0; round < 3; ++round) {
    const size_t before = done();
    ASSERT_TRUE(LocalCluster::eventually([&] { return done() >= before + 50; }, 30s))
        << "no progress before pause " << round << cluster.logs();
    auto lead = cluster.wait_for_leadership(30s);
    ASSERT_NE(lead.id, 0u) << cluster.logs();
    cluster.process(lead.id).signal(SIGSTOP);
    auto next = cluster.wait_for_leadership(30s, cluster.others(lead.id), lead.term);
    std::this_thread::sleep_for(1500ms);  // the pause's length, not a wait for an outcome
    cluster.process(lead.id).signal(SIGCONT);
    ASSERT_NE(next.id, 0u) << "no new leader while " << lead.id << " was stopped" << cluster.logs();
  }
  const size_t before = done();
  EXPECT_TRUE(LocalCluster::eventually([&] { return done() >= before + 50; }, 30s))
      << "no progress after the last pause: " << done() - before << " increments" << cluster.logs();
  stop = true;
  for (auto& t : threads)
    t.join();
  std::set<int64_t> seen;
  size_t total = 0;
  for (size_t i = 0; i < kClients; ++i) {
    EXPECT_EQ(failures[i], "") << "client " << i;
    for (int64_t v : values[i])
      EXPECT_TRUE(seen.insert(v).second) << "value " << v << " answered twice";
    total += values[i].size();
  }
  auto reader = cluster.client();
  auto final_value = reader->get("counter");
  ASSERT_TRUE(final_value.ok()) << final_value.error().to_string();
  EXPECT_EQ(final_value->value_or("0"), std::to_string(total));
  EXPECT_EQ(*seen.rbegin(), static_cast<int64_t>(total));
}

}  // namespace
}  // namespace cairn::itest
