// Fault tests with real processes: kill -9 and SIGSTOP of leaders and followers in 3- and 5-node
// clusters, restarts without data, catch-up by snapshot, graceful shutdown. Concurrent clients'
// histories are checked for linearizability.
#include <gtest/gtest.h>
#include <signal.h>

#include <cstdio>
#include <thread>

#include "harness.h"
#include "history.h"

namespace cairn::itest {
namespace {

// Writes keys prefix0..prefix{n-1}, every one acknowledged.
void write_keys(client::Client& c, const std::string& prefix, int n) {
  for (int i = 0; i < n; ++i) {
    auto st = c.set(prefix + std::to_string(i), "v" + std::to_string(i));
    ASSERT_TRUE(st.ok()) << st.error().to_string();
  }
}

// Every key prefix0..prefix{n-1} reads back with its value through a linearizable read.
void expect_keys(client::Client& c, const std::string& prefix, int n) {
  for (int i = 0; i < n; ++i) {
    auto v = c.get(prefix + std::to_string(i));
    ASSERT_TRUE(v.ok()) << v.error().to_string();
    ASSERT_TRUE(v->has_value()) << prefix << i << " is lost";
    EXPECT_EQ(**v, "v" + std::to_string(i));
  }
}

// Whether node `id` comes to hold `key` in its own state (a stale read there) within `timeout`.
bool holds_eventually(LocalCluster& cluster, uint64_t id, const std::string& key,
                      std::chrono::milliseconds timeout) {
  auto local = cluster.client_of(id, 1s);
  return LocalCluster::eventually(
      [&] {
        auto v = local->get(key, /*stale=*/true);
        return v.ok() && v->has_value();
      },
      timeout);
}

ClusterOptions cluster_options(int nodes, int tick_ms, uint64_t snapshot_entries) {
  ClusterOptions o;
  o.nodes = nodes;
  o.tick_ms = tick_ms;
  o.snapshot_entries = snapshot_entries;
  return o;
}

WorkloadOptions workload_options(int clients, int keys, int max_ops_per_client) {
  WorkloadOptions o;
  o.clients = clients;
  o.keys = keys;
  o.max_ops_per_client = max_ops_per_client;
  return o;
}

void pause_for(std::chrono::milliseconds d) {
  std::this_thread::sleep_for(d);  // the fault's duration, not a wait for a condition
}

TEST(Faults, KillingTheLeaderElectsAnotherAndLosesNoAcknowledgedWrite) {
  LocalCluster cluster(cluster_options(3, 50, 20000));
  const uint64_t leader = cluster.wait_for_leader(10s);
  ASSERT_NE(leader, 0u) << cluster.logs();
  auto c = cluster.client();
  write_keys(*c, "k", 200);

  cluster.process(leader).signal(SIGKILL);
  ASSERT_TRUE(cluster.process(leader).wait_exit(5s).has_value());
  const auto killed_at = Clock::now();
  const uint64_t next = cluster.wait_for_leader(10s, cluster.others(leader));
  const auto elapsed = Clock::now() - killed_at;
  ASSERT_NE(next, 0u) << cluster.logs();
  EXPECT_NE(next, leader);
  // Followers notice within one election timeout and elect within the next.
  EXPECT_LE(elapsed, 2 * cluster.max_election_timeout())
      << std::chrono::duration_cast<std::chrono::milliseconds>(elapsed).count() << " ms";

  auto after = cluster.client();
  expect_keys(*after, "k", 200);
  write_keys(*after, "m", 50);

  // The killed node comes back without its log, catches up and serves everything locally.
  cluster.restart(leader);
  EXPECT_TRUE(holds_eventually(cluster, leader, "m49", 10s)) << cluster.logs();
}

TEST(Faults, HistoriesStayLinearizableWhileLeadersDieAndPause) {
  LocalCluster cluster(cluster_options(3, 20, 20000));
  ASSERT_NE(cluster.wait_for_leader(10s), 0u) << cluster.logs();
  Workload load(cluster, workload_options(4, 4, 300));
  load.start();

  auto leader = [&] { return cluster.wait_for_leader(5s); };
  auto follower_of = [&](uint64_t l) { return l == 1 ? uint64_t{2} : uint64_t{1}; };
  // kill -9 the leader, bring it back empty.
  uint64_t l = leader();
  ASSERT_NE(l, 0u);
  cluster.process(l).signal(SIGKILL);
  cluster.process(l).wait_exit(5s);
  pause_for(600ms);
  cluster.restart(l);
  // Freeze a follower, then the leader.
  l = leader();
  ASSERT_NE(l, 0u) << cluster.logs();
  const uint64_t f = follower_of(l);
  cluster.process(f).signal(SIGSTOP);
  pause_for(800ms);
  cluster.process(f).signal(SIGCONT);
  l = leader();
  ASSERT_NE(l, 0u) << cluster.logs();
  cluster.process(l).signal(SIGSTOP);
  pause_for(1200ms);  // longer than an election: the others elect a new leader meanwhile
  cluster.process(l).signal(SIGCONT);
  pause_for(500ms);
  load.stop();

  std::printf("operations: %zu succeeded, %zu with unknown outcome, %zu refused\n",
              load.succeeded(), load.unknown(), load.failed());
  EXPECT_GT(load.succeeded(), 100u) << "the cluster made too little progress";
  const std::string why = load.check();
  EXPECT_TRUE(why.empty()) << why;
}

TEST(Faults, FiveNodesSurviveTwoLossesAndStayLinearizable) {
  LocalCluster cluster(cluster_options(5, 20, 20000));
  const uint64_t l = cluster.wait_for_leader(10s);
  ASSERT_NE(l, 0u) << cluster.logs();
  auto c = cluster.client();
  write_keys(*c, "k", 50);
  Workload load(cluster, workload_options(3, 3, 250));
  load.start();
  const uint64_t f = l == 5 ? 4 : 5;
  cluster.process(f).signal(SIGKILL);
  pause_for(300ms);
  cluster.process(l).signal(SIGKILL);
  std::vector<uint64_t> rest;
  for (uint64_t id : cluster.others(l))
    if (id != f) rest.push_back(id);
  EXPECT_NE(cluster.wait_for_leader(10s, rest), 0u) << cluster.logs();
  pause_for(1000ms);
  load.stop();
  EXPECT_GT(load.succeeded(), 50u);
  const std::string why = load.check();
  EXPECT_TRUE(why.empty()) << why;
  auto after = cluster.client();
  expect_keys(*after, "k", 50);
}

TEST(Faults, RestartedFollowerCatchesUpFromASnapshot) {
  LocalCluster cluster(cluster_options(3, 20, 100));
  const uint64_t l = cluster.wait_for_leader(10s);
  ASSERT_NE(l, 0u) << cluster.logs();
  const uint64_t f = l == 1 ? 2 : 1;
  cluster.process(f).signal(SIGKILL);
  cluster.process(f).wait_exit(5s);
  auto c = cluster.client();
  write_keys(*c, "k", 1500);  // far past the snapshot threshold and the log tail kept behind it
  cluster.restart(f);
  EXPECT_TRUE(holds_eventually(cluster, f, "k1499", 15s)) << cluster.logs();
  auto local = cluster.client_of(f, 1s);
  EXPECT_NE(cluster.process(f).log_tail(100000).find("installed snapshot"), std::string::npos)
      << cluster.process(f).log_tail();
  auto v = local->get("k0", true);
  ASSERT_TRUE(v.ok());
  EXPECT_EQ(v->value_or("<missing>"), "v0");
}

TEST(Faults, GracefulShutdownOfTheLeaderHandsOverAndExitsZero) {
  LocalCluster cluster(cluster_options(3, 20, 20000));
  const uint64_t l = cluster.wait_for_leader(10s);
  ASSERT_NE(l, 0u) << cluster.logs();
  auto c = cluster.client();
  write_keys(*c, "k", 100);
  cluster.process(l).signal(SIGTERM);
  const auto code = cluster.process(l).wait_exit(15s);
  ASSERT_TRUE(code.has_value()) << "did not exit in time\n" << cluster.logs();
  EXPECT_EQ(*code, 0) << cluster.process(l).log_tail();
  EXPECT_NE(cluster.process(l).log_tail(100000).find("handing leadership to node"),
            std::string::npos)
      << cluster.process(l).log_tail();
  ASSERT_NE(cluster.wait_for_leader(10s, cluster.others(l)), 0u) << cluster.logs();
  auto after = cluster.client();
  expect_keys(*after, "k", 100);
}

}  // namespace
}  // namespace cairn::itest
