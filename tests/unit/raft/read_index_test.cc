// ReadIndex (thesis §6.4): linearizable reads without log writes — the leader confirms it still
// leads with a heartbeat round, batches concurrent requests, serves followers' requests, waits
// for an entry of its term to commit, and refuses to answer when cut off. Lease reads (§6.4.1).
#include <gtest/gtest.h>

#include "cluster.h"

namespace cairn::raft::test {
namespace {

TEST(ReadIndex, LeaderReadNeedsAHeartbeatRound) {
  Cluster c({1, 2, 3});
  c.campaign(1);
  ASSERT_TRUE(c.propose(1, "a").ok());
  c.reset_counters();
  ASSERT_TRUE(c.node(1).read_index("r1").ok());
  c.stabilize();
  ASSERT_EQ(c.peer(1).reads.size(), 1u);
  EXPECT_EQ(c.peer(1).reads[0].request_ctx, "r1");
  EXPECT_EQ(c.peer(1).reads[0].index, 2u);
  EXPECT_EQ(c.delivered(eraftpb::MsgHeartbeat), 2);  // the confirmation round
  EXPECT_EQ(c.delivered(eraftpb::MsgAppend), 0);     // no log write
}

TEST(ReadIndex, FollowerReadIsServedThroughTheLeader) {
  Cluster c({1, 2, 3});
  c.campaign(1);
  ASSERT_TRUE(c.propose(1, "a").ok());
  ASSERT_TRUE(c.node(3).read_index("f").ok());
  c.stabilize();
  ASSERT_EQ(c.peer(3).reads.size(), 1u);
  EXPECT_EQ(c.peer(3).reads[0].index, 2u);
  EXPECT_TRUE(c.peer(1).reads.empty());
}

// Concurrent requests share one confirmation round: all complete on the round's acks.
TEST(ReadIndex, ConcurrentRequestsAreBatched) {
  Cluster c({1, 2, 3});
  c.campaign(1);
  c.drop_type(eraftpb::MsgHeartbeatResponse);
  for (const char* ctx : {"r1", "r2", "r3"})
    ASSERT_TRUE(c.node(1).read_index(ctx).ok());
  c.stabilize();
  EXPECT_TRUE(c.peer(1).reads.empty());  // no quorum confirmation yet
  c.recover();
  c.reset_counters();
  c.tick(1);  // one heartbeat round carries the latest context and confirms all three
  c.stabilize();
  EXPECT_EQ(c.delivered(eraftpb::MsgHeartbeat), 2);
  ASSERT_EQ(c.peer(1).reads.size(), 3u);
  EXPECT_EQ(c.peer(1).reads[0].request_ctx, "r1");
  EXPECT_EQ(c.peer(1).reads[2].request_ctx, "r3");
}

// A partitioned leader cannot confirm leadership: the read never completes there, while the
// majority side elects a leader that serves reads, including entries the old one never saw.
TEST(ReadIndex, PartitionedLeaderDoesNotServeReads) {
  Cluster c({1, 2, 3});
  c.campaign(1);
  c.isolate(1);
  ASSERT_TRUE(c.node(1).read_index("stale").ok());
  c.stabilize();
  c.campaign(2);
  ASSERT_TRUE(c.propose(2, "new").ok());
  ASSERT_TRUE(c.node(2).read_index("fresh").ok());
  c.stabilize();
  EXPECT_TRUE(c.peer(1).reads.empty());
  ASSERT_EQ(c.peer(2).reads.size(), 1u);
  EXPECT_EQ(c.peer(2).reads[0].index, c.raft(2).log().committed());
}

// §6.4 step 1: a new leader answers only once an entry of its own term is committed, since
// until then its commit index may lag the previous leader's.
TEST(ReadIndex, NewLeaderWaitsForCommitInItsTerm) {
  Cluster c({1, 2, 3});
  c.campaign(1);
  ASSERT_TRUE(c.propose(1, "a").ok());
  c.drop_type(eraftpb::MsgAppendResponse);
  c.campaign(2);  // term 2: the no-op cannot commit while acks are dropped
  ASSERT_EQ(c.raft(2).role(), Role::kLeader);
  ASSERT_TRUE(c.node(2).read_index("r").ok());
  c.stabilize();
  EXPECT_TRUE(c.peer(2).reads.empty());
  c.recover();
  c.tick_all(2);
  ASSERT_EQ(c.peer(2).reads.size(), 1u);
  EXPECT_EQ(c.peer(2).reads[0].index, 3u);  // includes the new term's no-op
}

// A leader change drops pending reads (the requester times out and retries), it never answers
// them with an index from a term it no longer leads.
TEST(ReadIndex, LeaderChangeDropsPendingReads) {
  Cluster c({1, 2, 3});
  c.campaign(1);
  c.drop_type(eraftpb::MsgHeartbeatResponse);
  ASSERT_TRUE(c.node(1).read_index("r").ok());
  c.stabilize();
  c.recover();
  c.campaign(2);
  c.tick_all(3);
  EXPECT_TRUE(c.peer(1).reads.empty());
  EXPECT_EQ(c.raft(1).read_only().pending(), 0u);
}

TEST(ReadIndex, RefusedWithoutLeader) {
  Cluster c({1, 2, 3});
  EXPECT_EQ(c.node(1).read_index("x").error(), Error::kNoLeader);
}

TEST(ReadIndex, SingleNodeAnswersAtOnce) {
  Cluster c({1});
  c.campaign(1);
  ASSERT_TRUE(c.node(1).read_index("x").ok());
  c.stabilize();
  ASSERT_EQ(c.peer(1).reads.size(), 1u);
  EXPECT_EQ(c.peer(1).reads[0].index, 1u);
}

// The read floor: requests answered by the leader in its term, its own and a follower's, get at
// least the floor's index even while that entry is not yet committed (the node uses it to make a
// read wait for an entry carrying the leader's clock). A new term starts without one.
// Caught mutation: raft-read-floor
TEST(ReadIndex, AReadFloorRaisesTheIndexOfLaterRequestsInTheTerm) {
  Cluster c({1, 2, 3});
  c.campaign(1);
  ASSERT_TRUE(c.propose(1, "a").ok());
  c.stabilize();
  const Index committed = c.node(1).raft().log().committed();
  ASSERT_TRUE(c.node(1).propose("tick").ok());  // appended, not yet replicated
  const Index tick = c.node(1).raft().log().last_index();
  ASSERT_GT(tick, committed);
  c.node(1).raft().set_read_floor(tick);
  ASSERT_TRUE(c.node(1).read_index("own").ok());
  ASSERT_TRUE(c.node(3).read_index("follower").ok());
  c.stabilize();
  ASSERT_EQ(c.peer(1).reads.size(), 1u);
  EXPECT_EQ(c.peer(1).reads[0].index, tick);
  ASSERT_EQ(c.peer(3).reads.size(), 1u);
  EXPECT_EQ(c.peer(3).reads[0].index, tick);
  // A new leader's reads are answered at its commit index again.
  c.campaign(2);
  c.stabilize();
  ASSERT_TRUE(c.node(2).read_index("new").ok());
  c.stabilize();
  ASSERT_EQ(c.peer(2).reads.size(), 1u);
  EXPECT_EQ(c.peer(2).reads[0].index, c.node(2).raft().log().committed());
}

// Lease-based reads answer without a round trip; they require CheckQuorum.
TEST(ReadIndex, LeaseBasedReadsNeedNoRoundAndRequireCheckQuorum) {
  Config bad;
  bad.id = 1;
  bad.read_only_option = ReadOnlyOption::kLeaseBased;
  MemStorage s;
  EXPECT_EQ(RawNode::create(bad, &s).error(), Error::kInvalidConfig);

  Cluster c({1, 2, 3}, [](Config& cfg) {
    cfg.check_quorum = true;
    cfg.read_only_option = ReadOnlyOption::kLeaseBased;
  });
  c.campaign(1);
  c.reset_counters();
  ASSERT_TRUE(c.node(1).read_index("lease").ok());
  c.stabilize();
  ASSERT_EQ(c.peer(1).reads.size(), 1u);
  EXPECT_EQ(c.delivered(eraftpb::MsgHeartbeat), 0);
}

// A leader that removed itself keeps leading until its successor holds its whole log. One voter
// is left, but it is not this node: its commit index is not a quorum's, so a read needs the
// remaining voter's ack. Cut off from it, the old leader must not answer (the voter may already
// lead and have acknowledged writes this node never saw). Caught mutation: raft-sole-voter-self.
TEST(ReadIndex, ALeaderThatRemovedItselfIsNotItsOwnQuorum) {
  Cluster c({1, 2});
  c.campaign(1);
  ASSERT_TRUE(c.propose(1, "a").ok());
  // The removal goes out on its own, then one more entry that node 2 stores but whose ack is lost:
  // the leader sees node 2 behind its log, so it hands over by replicating, still leading.
  ASSERT_TRUE(c.node(1).propose_conf_change(conf_change({{eraftpb::RemoveNode, 1}})).ok());
  for (auto& m : c.take_messages())
    c.deliver(std::move(m));
  const Index removal = c.raft(1).log().last_index();
  ASSERT_TRUE(c.node(1).propose("x").ok());
  c.drop_if([removal](const Message& m) {
    return m.from() == 2 && m.msg_type() == eraftpb::MsgAppendResponse && m.index() > removal;
  });
  c.stabilize();
  ASSERT_EQ(c.raft(1).role(), Role::kLeader);
  ASSERT_FALSE(c.raft(1).tracker().config().voters.contains(1)) << "the removal did not apply";
  ASSERT_TRUE(c.raft(1).tracker().is_singleton());
  EXPECT_FALSE(c.raft(1).sole_voter());
  c.isolate(1);
  ASSERT_TRUE(c.node(1).read_index("r").ok());
  c.tick(1, 2);
  c.stabilize();
  EXPECT_TRUE(c.peer(1).reads.empty())
      << "read served at " << c.peer(1).reads[0].index << " without the remaining voter";
}

// Reads wait for the first entry of the leader's term to commit. When that commit comes from a
// configuration change (a smaller quorum already holds the entry), the waiting reads go on at
// once instead of waiting for some later commit. The change is applied directly, as the node
// does once the entry commits. Caught mutation: raft-release-reads-on-config.
TEST(ReadIndex, ACommitByAConfigurationChangeReleasesWaitingReads) {
  Cluster c({1, 2, 3});
  c.drop_type(eraftpb::MsgAppend);  // the new term's empty entry cannot commit
  c.campaign(1);
  ASSERT_EQ(c.raft(1).role(), Role::kLeader);
  ASSERT_TRUE(c.node(1).read_index("r").ok());
  c.stabilize();
  ASSERT_TRUE(c.peer(1).reads.empty());
  ASSERT_TRUE(c.node(1).apply_conf_change(conf_change({{eraftpb::RemoveNode, 3}})).ok());
  ASSERT_TRUE(c.node(1).apply_conf_change(conf_change({{eraftpb::RemoveNode, 2}})).ok());
  c.stabilize();
  ASSERT_EQ(c.raft(1).log().committed(), c.raft(1).log().last_index());
  ASSERT_EQ(c.peer(1).reads.size(), 1u);
  EXPECT_EQ(c.peer(1).reads[0].index, c.raft(1).log().committed());
}

}  // namespace
}  // namespace cairn::raft::test
