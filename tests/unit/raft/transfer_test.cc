// Leadership transfer (thesis §3.10): the leader brings the transferee up to date, sends
// TimeoutNow, refuses proposals meanwhile, and gives up after an election timeout.
#include <gtest/gtest.h>

#include "cluster.h"

namespace cairn::raft::test {
namespace {

ConfigTweak with_pre_vote_and_cq() {
  return [](Config& cfg) {
    cfg.pre_vote = true;
    cfg.check_quorum = true;
  };
}

TEST(Transfer, ToUpToDateFollower) {
  Cluster c({1, 2, 3}, with_pre_vote_and_cq());
  c.campaign(1);
  ASSERT_TRUE(c.propose(1, "a").ok());
  ASSERT_TRUE(c.node(1).transfer_leader(2).ok());
  c.stabilize();
  EXPECT_EQ(c.raft(2).role(), Role::kLeader);
  EXPECT_EQ(c.raft(2).term(), 2u);  // TimeoutNow skips PreVote and the followers' lease
  EXPECT_EQ(c.raft(1).role(), Role::kFollower);
  ASSERT_TRUE(c.propose(2, "b").ok());
  for (NodeId id : c.ids())
    EXPECT_EQ(c.peer(id).applied, strs({"a", "b"}));
}

// The transferee lags: the leader first replicates to it, then sends TimeoutNow.
TEST(Transfer, ToLaggingFollowerCatchesUpFirst) {
  Cluster c({1, 2, 3}, with_pre_vote_and_cq());
  c.campaign(1);
  c.isolate(3);
  for (const char* d : {"a", "b", "c"})
    ASSERT_TRUE(c.propose(1, d).ok());
  c.recover();
  c.drop_type(eraftpb::MsgAppend);  // keep 3 behind while the transfer starts
  ASSERT_TRUE(c.node(1).transfer_leader(3).ok());
  c.stabilize();
  EXPECT_EQ(c.raft(1).lead_transferee(), 3u);
  // Proposals are refused while the transfer is under way.
  EXPECT_EQ(c.node(1).propose("x").error(), Error::kLeaderTransferring);
  c.recover();
  c.tick(1);  // heartbeat → 3 is probed, catches up, gets TimeoutNow
  c.stabilize();
  EXPECT_EQ(c.raft(3).role(), Role::kLeader);
  EXPECT_EQ(c.peer(3).applied, strs({"a", "b", "c"}));
}

// A transfer that cannot finish is abandoned after an election timeout; proposals resume.
TEST(Transfer, AbortedAfterElectionTimeout) {
  Cluster c({1, 2, 3});
  c.campaign(1);
  c.isolate(3);
  ASSERT_TRUE(c.node(1).transfer_leader(3).ok());
  c.stabilize();
  EXPECT_EQ(c.raft(1).lead_transferee(), 3u);
  for (int k = 0; k < 10; ++k)
    c.tick(1);
  c.stabilize();
  EXPECT_EQ(c.raft(1).lead_transferee(), kNone);
  EXPECT_EQ(c.raft(1).role(), Role::kLeader);
  EXPECT_TRUE(c.propose(1, "x").ok());
}

TEST(Transfer, IgnoredForSelfAndLearners) {
  Cluster c({1, 2}, {}, {3});
  c.campaign(1);
  ASSERT_TRUE(c.node(1).transfer_leader(1).ok());
  EXPECT_EQ(c.raft(1).lead_transferee(), kNone);
  ASSERT_TRUE(c.node(1).transfer_leader(3).ok());
  EXPECT_EQ(c.raft(1).lead_transferee(), kNone);
  c.stabilize();
  EXPECT_EQ(c.raft(1).role(), Role::kLeader);
}

// A follower asked to transfer forwards the request to the leader.
TEST(Transfer, RequestOnFollowerIsForwarded) {
  Cluster c({1, 2, 3});
  c.campaign(1);
  ASSERT_TRUE(c.node(2).transfer_leader(2).ok());
  c.stabilize();
  EXPECT_EQ(c.raft(2).role(), Role::kLeader);
}

// A second request for another node replaces the first.
TEST(Transfer, NewerRequestReplacesOlder) {
  Cluster c({1, 2, 3});
  c.campaign(1);
  c.isolate(3);
  ASSERT_TRUE(c.node(1).transfer_leader(3).ok());
  c.stabilize();
  ASSERT_EQ(c.raft(1).lead_transferee(), 3u);
  ASSERT_TRUE(c.node(1).transfer_leader(2).ok());
  c.stabilize();
  EXPECT_EQ(c.raft(2).role(), Role::kLeader);
}

// Removing the transferee from the configuration aborts the transfer.
TEST(Transfer, AbortedWhenTransfereeIsRemoved) {
  Cluster c({1, 2, 3});
  c.campaign(1);
  c.isolate(3);
  ASSERT_TRUE(c.node(1).transfer_leader(3).ok());
  c.stabilize();
  // Remove 3 by applying the change directly (the proposal itself would be refused now).
  ASSERT_TRUE(c.node(1).apply_conf_change(conf_change({{eraftpb::RemoveNode, 3}})).ok());
  EXPECT_EQ(c.raft(1).lead_transferee(), kNone);
}

}  // namespace
}  // namespace cairn::raft::test
