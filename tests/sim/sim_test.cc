// The simulator itself: a handful of seeds per cluster size must pass, runs must be exactly
// reproducible from their seed, and the checks must actually fire (a run is not vacuous: it
// elects leaders, commits, completes reads and writes, changes membership, crashes nodes).
#include "simulator.h"

#include <gtest/gtest.h>

namespace cairn::sim {
namespace {

TEST(Simulator, SeedsPassForThreeAndFiveNodes) {
  SimStats total;
  for (int nodes : {3, 5}) {
    for (std::uint64_t seed = 1; seed <= 10; ++seed) {
      SimResult r = run_simulation(SimOptions{nodes, seed, 3000, false, 200});
      ASSERT_TRUE(r.ok) << "nodes=" << nodes << " seed=" << seed << ": " << r.violation << " ("
                        << r.config << ")";
      total.add(r.stats);
    }
  }
  EXPECT_GT(total.keys_checked, 40u);
  EXPECT_EQ(undecided_over_bound(total), "");
}

// A checker that cannot decide is counted, and past the bound the run is a failure, not a pass.
// Caught mutation: sim-undecided-bound
TEST(Simulator, CheckerGivingUpBeyondTheBoundFailsTheRun) {
  SimStats total;
  for (std::uint64_t seed = 1; seed <= 3; ++seed) {
    SimOptions o{3, seed, 3000, false, 0};
    o.checker_max_states = 1;  // too small for any history with concurrent operations
    SimResult r = run_simulation(o);
    ASSERT_TRUE(r.ok) << r.violation;  // giving up is not a violation by itself
    total.add(r.stats);
  }
  ASSERT_GT(total.keys_undecided, 0u);
  EXPECT_NE(undecided_over_bound(total).find("gave up on"), std::string::npos);
  // Within the bound: one undecided history in a hundred passes, two do not.
  EXPECT_EQ(undecided_over_bound(SimStats{.keys_undecided = 1, .keys_checked = 100}), "");
  EXPECT_NE(undecided_over_bound(SimStats{.keys_undecided = 2, .keys_checked = 100}), "");
}

TEST(Simulator, SameSeedSameRun) {
  SimOptions o{5, 77, 2000, true, 100};
  SimResult a = run_simulation(o);
  SimResult b = run_simulation(o);
  EXPECT_EQ(a.trace, b.trace);
  EXPECT_EQ(a.stats.committed, b.stats.committed);
  EXPECT_EQ(a.stats.writes_ok, b.stats.writes_ok);
}

TEST(Simulator, RunsExerciseTheProtocol) {
  SimStats total;
  for (std::uint64_t seed = 1; seed <= 20; ++seed) {
    SimResult r = run_simulation(SimOptions{5, seed, 4000, false, 0});
    ASSERT_TRUE(r.ok) << seed << ": " << r.violation;
    total.add(r.stats);
  }
  EXPECT_GT(total.committed, 1000u);
  EXPECT_GT(total.writes_ok, 500u);
  EXPECT_GT(total.reads_ok, 500u);
  EXPECT_GT(total.leaders, 40u);
  EXPECT_GT(total.conf_changes, 20u);
  EXPECT_GT(total.snapshots_sent, 5u);
  EXPECT_GT(total.crashes, 20u);
}

}  // namespace
}  // namespace cairn::sim
