// Messages from another cluster are refused (DESIGN §8; docs/node.md, "Identity of a data
// directory"): a node of one cluster pointed at a member of another - by a wrong address in a
// membership change, a reused port, a copied configuration - must not step that member's Raft
// core. Here a single-node cluster B, in a higher term than three-node cluster A, adds "node 2"
// at the address of one of A's members and replicates to it.
#include <gtest/gtest.h>
#include <signal.h>

#include "harness.h"

namespace cairn::itest {
namespace {

constexpr auto kWait = 30s;

// Fails without the check (tried: NodeHandler taking node-to-node messages from any connection):
// the member steps B's higher-term appends, follows "node 1" of B, and A's leader is deposed
// (A's term jumps to B's).
TEST(ClusterIdentity, AnotherClustersTrafficIsRefusedAndDisturbsNothing) {
  LocalCluster a(ClusterOptions{});
  const auto lead = a.wait_for_leadership(kWait);
  ASSERT_NE(lead.id, 0u) << a.logs();
  {
    auto c = a.client();
    ASSERT_NO_FATAL_FAILURE(write_keys(*c, "a", 20));
  }
  const uint64_t target = a.others(lead.id).front();

  // Cluster B: one node, restarted until its term is well above A's.
  TempDir dir;
  const uint16_t port = free_port();
  ServerProcess b(server_binary(),
                  {"--id=1", "--listen=127.0.0.1:" + std::to_string(port), "--resp=127.0.0.1:0",
                   "--data-dir=" + dir.path() + "/b", "--tick-ms=20", "--log-level=info"},
                  dir.path() + "/b.log");
  client::Options o;
  o.seeds = {"127.0.0.1:" + std::to_string(port)};
  o.request_timeout = 2s;
  auto created = client::Client::create(o);
  ASSERT_TRUE(created.ok());
  auto bc = std::move(created).value();
  uint64_t b_term = 0;
  for (int restart = 0; restart < 10 && b_term <= lead.term + 2; ++restart) {
    b.start();
    ASSERT_TRUE(LocalCluster::eventually(
        [&] {
          auto s = bc->status();
          if (!s.ok() || s->leader_id != 1) return false;
          b_term = s->term;
          return true;
        },
        kWait))
        << b.log_tail();
    if (b_term > lead.term + 2) break;
    b.signal(SIGKILL);
    ASSERT_TRUE(b.wait_exit(5s).has_value());
  }
  ASSERT_GT(b_term, lead.term + 2) << b.log_tail();
  ASSERT_TRUE(bc->set("from-b", "x").ok());

  // B adds "node 2" at A's member's address and replicates to it.
  auto st = bc->add_node(2, a.addr(target));
  (void)st;  // answered only once node 2 is heard from, which never happens
  ASSERT_TRUE(LocalCluster::eventually(
      [&] { return a.process(target).log_tail(1 << 20).find("refused a") != std::string::npos; },
      kWait))
      << "A's member never refused B's traffic\n"
      << a.process(target).log_tail() << "\n---- B ----\n"
      << b.log_tail();

  // A is undisturbed: same leader and term, every key still served, B's key unknown to it.
  const auto after = a.wait_for_leadership(kWait);
  EXPECT_EQ(after.id, lead.id) << a.logs();
  EXPECT_EQ(after.term, lead.term) << a.logs();
  auto local = a.client_of(target, 2s);
  auto v = local->get("from-b", /*stale=*/true);
  ASSERT_TRUE(v.ok()) << v.error().to_string();
  EXPECT_FALSE(v->has_value()) << "B's data reached A's member";
  auto c = a.client();
  ASSERT_NO_FATAL_FAILURE(expect_keys(*c, "a", 20));
}

}  // namespace
}  // namespace cairn::itest
