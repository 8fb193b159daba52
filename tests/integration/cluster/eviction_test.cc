// Memory limits in a cluster: eviction is replicated, so every replica holds the same keys, and
// each stays near the limit.
#include <gtest/gtest.h>

#include "harness.h"

namespace cairn::itest {
namespace {

TEST(Eviction, EveryReplicaEvictsTheSameKeysAndStaysNearTheLimit) {
  ClusterOptions o;
  o.nodes = 3;
  o.extra_args = {"--max-memory=2mb", "--eviction=s3-fifo"};
  LocalCluster cluster(o);
  ASSERT_NE(cluster.wait_for_leader(10s), 0u) << cluster.logs();
  auto c = cluster.client();
  const std::string value(1000, 'v');
  for (int i = 0; i < 6000; ++i) {  // about 6 MB of values into a 2 MB cache
    auto st = c->set("key" + std::to_string(i), value);
    ASSERT_TRUE(st.ok()) << st.error().to_string();
  }
  // Once every replica has applied the same prefix, they hold the same number of keys.
  std::vector<net::StatusResponse> seen;
  ASSERT_TRUE(LocalCluster::eventually(
      [&] {
        seen.clear();
        for (uint64_t id : cluster.ids()) {
          auto s = cluster.status(id);
          if (!s) return false;
          seen.push_back(*s);
        }
        for (const auto& s : seen)
          if (s.applied_index != seen[0].applied_index || s.keys != seen[0].keys) return false;
        return true;
      },
      10s))
      << cluster.logs();
  EXPECT_LT(seen[0].keys, 6000u);
  EXPECT_GT(seen[0].keys, 500u);
  for (const auto& s : seen)
    EXPECT_LE(s.used_memory, (2u << 20) + (256u << 10)) << "node " << s.node_id;
  // The most recent write survived eviction everywhere.
  for (uint64_t id : cluster.ids()) {
    auto local = cluster.client_of(id);
    auto v = local->get("key5999", /*stale=*/true);
    ASSERT_TRUE(v.ok());
    EXPECT_EQ(v->value_or(""), value) << "node " << id;
  }
}

}  // namespace
}  // namespace cairn::itest
