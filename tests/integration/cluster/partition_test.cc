// Partitions between nodes, made by cutting the proxies every node-to-node connection goes
// through: an isolated leader, a one-way cut, a minority side. Concurrent clients' histories must
// stay linearizable, and the majority must keep (or regain) a leader.
#include <gtest/gtest.h>

#include <cstdio>
#include <thread>

#include "harness.h"
#include "history.h"

namespace cairn::itest {
namespace {

ClusterOptions proxied(int nodes) {
  ClusterOptions o;
  o.nodes = nodes;
  o.proxied = true;
  return o;
}

WorkloadOptions light_load() {
  WorkloadOptions o;
  o.clients = 3;
  o.keys = 3;
  o.max_ops_per_client = 250;
  return o;
}

void hold(std::chrono::milliseconds d) {
  std::this_thread::sleep_for(d);  // how long the partition lasts, not a wait for a condition
}

// Ends a partition after it has lasted a while, waits for a leader and for the clients to carry
// on (requests caught by the partition wait out their timeout first), then checks the history.
void heal_and_check(LocalCluster& cluster, Workload& load) {
  hold(1000ms);
  cluster.heal();
  EXPECT_NE(cluster.wait_for_leader(10s), 0u) << cluster.logs();
  EXPECT_TRUE(LocalCluster::eventually([&] { return load.succeeded() >= 150; }, 30s));
  load.stop();
  std::printf("operations: %zu succeeded, %zu with unknown outcome, %zu refused\n",
              load.succeeded(), load.unknown(), load.failed());
  const std::string why = load.check();
  EXPECT_TRUE(why.empty()) << why;
}

TEST(Partitions, IsolatedLeaderIsReplacedAndHistoriesStayLinearizable) {
  LocalCluster cluster(proxied(3));
  const uint64_t old = cluster.wait_for_leader(10s);
  ASSERT_NE(old, 0u) << cluster.logs();
  Workload load(cluster, light_load());
  load.start();
  const auto rest = cluster.others(old);
  cluster.partition({old}, rest);
  const uint64_t next = cluster.wait_for_leader(10s, rest);
  EXPECT_NE(next, 0u) << cluster.logs();
  EXPECT_NE(next, old);
  // CheckQuorum: the cut-off leader steps down instead of serving as leader forever.
  EXPECT_TRUE(LocalCluster::eventually(
      [&] {
        auto s = cluster.status(old, 300ms);
        return s && s->role != "leader";
      },
      5s));
  heal_and_check(cluster, load);
}

TEST(Partitions, OneWayCutAndMinoritySideStayLinearizable) {
  LocalCluster cluster(proxied(5));
  const uint64_t l = cluster.wait_for_leader(10s);
  ASSERT_NE(l, 0u) << cluster.logs();
  Workload load(cluster, light_load());
  load.start();
  // The leader can no longer reach one follower, which still reaches everyone: with PreVote the
  // deaf follower cannot depose a leader the others still hear.
  const uint64_t deaf = l == 1 ? 2 : 1;
  cluster.cut(l, deaf);
  hold(800ms);
  cluster.heal();
  // Split 2 | 3 with the leader on the minority side.
  const auto rest = cluster.others(l);
  std::vector<uint64_t> minority = {l, rest[0]};
  std::vector<uint64_t> majority(rest.begin() + 1, rest.end());
  cluster.partition(minority, majority);
  EXPECT_NE(cluster.wait_for_leader(10s, majority), 0u) << cluster.logs();
  heal_and_check(cluster, load);
}

}  // namespace
}  // namespace cairn::itest
