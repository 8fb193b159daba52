// The log's term lookup outside [first_index()-1, last_index()] and what the leader sends when a
// follower's next entries have been compacted away. A lookup outside the log must be an error,
// never a term of 0 that a follower with a shorter log would "match".
#include <gtest/gtest.h>

#include <optional>

#include "cluster.h"

namespace cairn::raft::test {
namespace {

TEST(LogBounds, TermOutsideTheLogIsAnError) {
  Cluster c({1});
  c.campaign(1);
  c.stabilize();
  for (int i = 0; i < 5; ++i)
    ASSERT_TRUE(c.propose(1, "v" + std::to_string(i)).ok());
  c.stabilize();
  const RaftLog& log = c.raft(1).log();
  const Index last = log.last_index();
  EXPECT_TRUE(log.term(last).ok());
  EXPECT_FALSE(log.term(last + 1).ok());
  EXPECT_FALSE(log.match_term(last + 1, 0));

  ASSERT_TRUE(c.storage(1).compact(last - 1).ok());
  EXPECT_TRUE(log.term(log.first_index() - 1).ok());  // the dummy entry keeps its term
  auto below = log.term(log.first_index() - 2);
  ASSERT_FALSE(below.ok());
  EXPECT_EQ(below.error(), Error::kCompacted);
}

// A follower in Replicate state whose appends were all lost, while the leader compacts past the
// follower's next index: once the follower answers a heartbeat, the leader must send a snapshot.
// (Sending an empty append with log_term 0 made the follower accept a commit index beyond its log.)
TEST(LogBounds, CompactedPrefixForAReplicatingFollowerSendsASnapshot) {
  Cluster c({1, 2, 3}, [](Config& cfg) { cfg.max_inflight_msgs = 1; });
  c.campaign(1);
  c.stabilize();
  c.drop_if([](const Message& m) { return m.to() == 3; });
  for (int i = 0; i < 6; ++i) {
    ASSERT_TRUE(c.propose(1, "x" + std::to_string(i)).ok());
    c.stabilize();
  }
  const Index applied = c.raft(1).log().applied();
  ASSERT_GT(applied, c.raft(3).log().last_index() + 1);
  ConfState cs;
  for (NodeId id : {NodeId{1}, NodeId{2}, NodeId{3}})
    cs.add_voters(id);
  ASSERT_TRUE(c.storage(1).create_snapshot(applied, &cs, "snap").ok());
  ASSERT_TRUE(c.storage(1).compact(applied).ok());

  c.drop_if(nullptr);
  c.reset_counters();
  c.tick(1);
  c.stabilize();
  EXPECT_GE(c.delivered(eraftpb::MsgSnapshot), 1);
  EXPECT_EQ(c.raft(3).log().last_index(), c.raft(1).log().last_index());
  EXPECT_EQ(c.raft(3).log().committed(), c.raft(1).log().committed());
}

// Input from the network must not be able to abort a node.
TEST(MalformedInput, EmptyForwardedProposalIsRefused) {
  Cluster c({1, 2, 3});
  c.campaign(1);
  c.stabilize();
  Message m;
  m.set_msg_type(eraftpb::MsgPropose);
  m.set_from(2);
  m.set_to(1);
  auto st = c.node(1).step(m);
  ASSERT_FALSE(st.ok());
  EXPECT_EQ(st.error(), Error::kMalformedMessage);
  ASSERT_TRUE(c.propose(1, "still-works").ok());
  c.stabilize();
  EXPECT_EQ(c.peer(2).applied.back(), "still-works");
}

// A Ready carrying a snapshot must be synced before its messages are sent: they may acknowledge
// the snapshot to the leader.
TEST(ReadyContract, SnapshotRequiresSync) {
  Cluster c({1, 2, 3}, [](Config& cfg) { cfg.max_inflight_msgs = 1; });
  c.campaign(1);
  c.stabilize();
  c.isolate(3);
  for (int i = 0; i < 5; ++i)
    ASSERT_TRUE(c.propose(1, "y" + std::to_string(i)).ok());
  c.stabilize();
  const Index applied = c.raft(1).log().applied();
  ConfState cs;
  for (NodeId id : {NodeId{1}, NodeId{2}, NodeId{3}})
    cs.add_voters(id);
  ASSERT_TRUE(c.storage(1).create_snapshot(applied, &cs, "snap").ok());
  ASSERT_TRUE(c.storage(1).compact(applied).ok());
  c.recover();
  c.tick(1);
  // Deliver until the snapshot reaches node 3, then inspect the Ready it produces.
  std::optional<Ready> rd;
  for (int round = 0; round < 100 && !rd; ++round) {
    for (auto& m : c.take_messages()) {
      const bool snap_to_3 = m.to() == 3 && m.msg_type() == eraftpb::MsgSnapshot;
      c.deliver(std::move(m));
      if (snap_to_3) {
        rd = c.node(3).ready();
        break;
      }
    }
  }
  ASSERT_TRUE(rd.has_value()) << "the snapshot never reached node 3";
  ASSERT_TRUE(rd->snapshot.has_value());
  EXPECT_TRUE(rd->must_sync);
}

// Lease-based reads need CheckQuorum; PreVote keeps a cut-off node from raising terms.
void lease_reads(Config& cfg) {
  cfg.check_quorum = true;
  cfg.pre_vote = true;
  cfg.read_only_option = ReadOnlyOption::kLeaseBased;
}

// Lease reads and leadership transfer: MsgTimeoutNow lets the transferee win past the followers'
// leases, so the old leader must stop trusting its lease once it has sent one. Here nothing
// reaches the old leader any more; a read it still answered from its lease would miss the write
// the new leader committed meanwhile.
TEST(LeaseRead, NotServedAfterTimeoutNow) {
  Cluster c({1, 2, 3}, lease_reads);
  c.campaign(1);
  c.stabilize();
  ASSERT_TRUE(c.propose(1, "a").ok());
  c.stabilize();
  c.drop_if([](const Message& m) { return m.to() == 1; });
  ASSERT_TRUE(c.node(1).transfer_leader(2).ok());
  c.stabilize();
  ASSERT_EQ(c.raft(2).role(), Role::kLeader);
  ASSERT_EQ(c.raft(1).role(), Role::kLeader);  // has not heard of the new term
  ASSERT_TRUE(c.propose(2, "b").ok());
  c.stabilize();
  ASSERT_TRUE(c.node(1).read_index("rd").ok());
  c.tick(1, 2);
  c.stabilize();
  // Any answer here is stale: the old leader cannot confirm anything while cut off. Caught
  // mutation: raft-lease-revoked-on-timeout-now.
  EXPECT_TRUE(c.peer(1).reads.empty())
      << "stale lease read at index " << c.peer(1).reads[0].index << ", the new leader committed "
      << c.raft(2).log().committed();
}

// A transfer whose MsgTimeoutNow is lost leaves the leader in place with its lease revoked: its
// reads then take a heartbeat round, and the round's acks must complete them (before, acks were
// only counted in heartbeat mode and such reads hung for the rest of the term). Caught mutation:
// raft-lease-heartbeat-acks.
TEST(LeaseRead, AfterALostTimeoutNowReadsConfirmByHeartbeat) {
  Cluster c({1, 2, 3}, lease_reads);
  c.campaign(1);
  ASSERT_TRUE(c.propose(1, "a").ok());
  c.drop_type(eraftpb::MsgTimeoutNow);
  ASSERT_TRUE(c.node(1).transfer_leader(2).ok());
  c.stabilize();
  ASSERT_EQ(c.raft(1).role(), Role::kLeader);
  c.reset_counters();
  ASSERT_TRUE(c.node(1).read_index("after").ok());
  c.stabilize();
  EXPECT_GE(c.delivered(eraftpb::MsgHeartbeat), 2) << "the read did not ask for a round";
  ASSERT_EQ(c.peer(1).reads.size(), 1u);
  EXPECT_EQ(c.peer(1).reads[0].request_ctx, "after");
  EXPECT_EQ(c.peer(1).reads[0].index, c.raft(1).log().committed());
}

}  // namespace
}  // namespace cairn::raft::test
