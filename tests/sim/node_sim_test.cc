// The whole-node simulator (node_sim.h) over a few seeds of each cluster size; CI runs hundreds
// through cairn-sim --whole-nodes (tests/sim/CMakeLists.txt).
#include "node_sim.h"

#include <gtest/gtest.h>

namespace cairn::sim {
namespace {

NodeSimStats expect_seeds_pass(int nodes, std::uint64_t first, std::uint64_t last,
                               bool disk = false) {
  NodeSimStats total;
  for (std::uint64_t seed = first; seed <= last; ++seed) {
    NodeSimOptions o;
    o.seed = seed;
    o.nodes = nodes;
    o.disk = disk;
    NodeSimResult r = run_node_simulation(o);
    if (!r.ok) {
      o.trace = true;
      const NodeSimResult t = run_node_simulation(o);
      std::string trace;
      for (const auto& line : t.trace)
        trace += "  " + line + "\n";
      ADD_FAILURE() << "seed " << seed << " (" << r.config << ") at " << r.at_ms
                    << " ms: " << r.violation << "\n"
                    << trace;
      return total;
    }
    total.add(r.stats);
  }
  // The runs did what they claim: faults, leader changes, acknowledged work of every kind.
  EXPECT_GT(total.faults, 10u * (last - first + 1));
  EXPECT_GT(total.leaders, last - first + 1);
  EXPECT_GT(total.writes_ok, 0u);
  EXPECT_GT(total.incrs_ok, 0u);
  EXPECT_GT(total.reads_ok, 0u);
  EXPECT_GT(total.cas_swapped, 0u);
  EXPECT_GT(total.cas_ok, total.cas_swapped);  // some found another value
  EXPECT_GT(total.expiring_puts_ok, 0u);
  EXPECT_GT(total.expirations, 0u);
  EXPECT_GT(total.pauses, 0u);
  EXPECT_GT(total.crashes, 0u);
  EXPECT_GT(total.shutdowns, 0u);
  EXPECT_GT(total.repeats, 0u);  // resent increments answered from the session table
  EXPECT_GT(total.snapshot_chunks, 0u);
  EXPECT_GT(total.messages_lost, 0u);
  EXPECT_EQ(total.keys_undecided, 0u);
  return total;
}

TEST(WholeNodeSimulation, ThreeNodesUnderFaultsStaySafeAndLinearizable) {
  expect_seeds_pass(3, 1, 10);
}

TEST(WholeNodeSimulation, FiveNodesUnderFaultsStaySafeAndLinearizable) {
  expect_seeds_pass(5, 1, 8);
}

// The log on the simulated disk: crashes keep what was synced, power losses take the rest (and
// may tear it), the whole cluster loses power at once, a node loses its log and snapshots.
TEST(WholeNodeSimulation, OnDiskUnderPowerLossesStaySafeAndLinearizable) {
  // 24 seeds: a graceful shutdown is drawn only while every node stands, in a few seeds of 24.
  const NodeSimStats total = expect_seeds_pass(3, 1, 24, true);
  EXPECT_GT(total.power_losses, 0u);
  EXPECT_GT(total.cluster_power_losses, 0u);
  EXPECT_GT(total.logs_lost, 0u);
  EXPECT_GT(total.torn_tails, 0u);  // (tails left as zeros are rarer: WalTest covers them)
}

TEST(WholeNodeSimulation, ASeedReplaysIdentically) {
  NodeSimOptions o;
  o.seed = 42;
  o.trace = true;
  o.trace_lines = 100000;
  const NodeSimResult a = run_node_simulation(o);
  const NodeSimResult b = run_node_simulation(o);
  ASSERT_TRUE(a.ok) << a.violation;
  EXPECT_GT(a.trace.size(), 100u);
  EXPECT_EQ(a.trace, b.trace);
}

}  // namespace
}  // namespace cairn::sim
