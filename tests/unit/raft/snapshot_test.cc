// Snapshots and log compaction (thesis §5): a follower whose entries were compacted away catches
// up from a snapshot, then resumes normal replication; snapshot status and restarts from one.
#include <gtest/gtest.h>

#include "cluster.h"

namespace cairn::raft::test {
namespace {

// Compacts node `id`'s storage at its applied index with a snapshot whose data names the
// applied entries (a stand-in for the state machine).
void snapshot_and_compact(Cluster& c, NodeId id) {
  const Index applied = c.raft(id).log().applied();
  const ConfState cs = c.raft(id).tracker().config().to_conf_state();
  std::string data;
  for (const auto& s : c.peer(id).applied)
    data += s + ",";
  ASSERT_TRUE(c.storage(id).create_snapshot(applied, &cs, data).ok());
  ASSERT_TRUE(c.storage(id).compact(applied).ok());
}

TEST(Snapshot, LaggingFollowerCatchesUpFromSnapshot) {
  Cluster c({1, 2, 3});
  c.campaign(1);
  c.isolate(3);
  for (const char* d : {"a", "b", "c"})
    ASSERT_TRUE(c.propose(1, d).ok());
  snapshot_and_compact(c, 1);
  EXPECT_EQ(c.storage(1).first_index(), 5u);
  c.recover();
  c.reset_counters();
  c.tick_all(1);  // heartbeat response reveals 3 is behind; entries are gone: snapshot
  EXPECT_EQ(c.delivered(eraftpb::MsgSnapshot), 1);
  EXPECT_EQ(c.peer(3).snapshot_data, "a,b,c,");
  EXPECT_EQ(c.raft(3).log().committed(), 4u);
  c.node(1).report_snapshot(3, true);
  ASSERT_TRUE(c.propose(1, "d").ok());
  EXPECT_EQ(c.peer(3).applied, strs({"snap:a,b,c,", "d"}));
  EXPECT_EQ(c.raft(1).tracker().get(3)->state, ProgressState::kReplicate);
  EXPECT_EQ(c.raft(1).tracker().get(3)->match, 5u);
}

// Without a report the leader still leaves snapshot state once the follower acknowledges the
// snapshot's index, and replication resumes.
// Caught mutation: raft-snapshot-ack-resume
TEST(Snapshot, AckOfSnapshotIndexResumesReplication) {
  Cluster c({1, 2, 3});
  c.campaign(1);
  c.isolate(3);
  for (const char* d : {"a", "b"})
    ASSERT_TRUE(c.propose(1, d).ok());
  snapshot_and_compact(c, 1);
  c.recover();
  c.reset_counters();
  c.tick_all(1);  // the entries 3 needs are gone: it gets the snapshot and acknowledges it
  ASSERT_EQ(c.delivered(eraftpb::MsgSnapshot), 1);
  ASSERT_EQ(c.peer(3).snapshot_data, "a,b,");
  // No report_snapshot(): the acknowledgement alone must move the leader on.
  EXPECT_EQ(c.raft(1).tracker().get(3)->state, ProgressState::kReplicate);
  EXPECT_EQ(c.raft(1).tracker().get(3)->match, 3u);
  ASSERT_TRUE(c.propose(1, "c").ok());
  EXPECT_EQ(c.peer(3).applied, strs({"snap:a,b,", "c"}));
}

// A failed snapshot (reported by the transport) makes the leader probe and retry.
TEST(Snapshot, FailedSnapshotIsRetried) {
  Cluster c({1, 2, 3});
  c.campaign(1);
  c.isolate(3);
  ASSERT_TRUE(c.propose(1, "a").ok());
  snapshot_and_compact(c, 1);
  c.recover();
  c.drop_type(eraftpb::MsgSnapshot);
  c.tick_all(1);
  ASSERT_EQ(c.raft(1).tracker().get(3)->state, ProgressState::kSnapshot);
  c.node(1).report_snapshot(3, false);
  EXPECT_EQ(c.raft(1).tracker().get(3)->state, ProgressState::kProbe);
  c.recover();
  c.tick_all(3);
  EXPECT_EQ(c.peer(3).snapshot_data, "a,");
}

// A follower that already has the snapshot's last entry only fast-forwards its commit index.
TEST(Snapshot, FollowerWithTheEntriesDoesNotRestore) {
  Cluster c({1, 2});
  c.campaign(1);
  ASSERT_TRUE(c.propose(1, "a").ok());
  Message m;
  m.set_msg_type(eraftpb::MsgSnapshot);
  m.set_from(1);
  m.set_to(2);
  m.set_term(c.raft(1).term());
  auto* meta = m.mutable_snapshot()->mutable_metadata();
  meta->set_index(2);
  meta->set_term(1);
  meta->mutable_conf_state()->add_voters(1);
  meta->mutable_conf_state()->add_voters(2);
  ASSERT_TRUE(c.node(2).step(m).ok());
  EXPECT_FALSE(c.raft(2).log().unstable_snapshot().has_value());
}

// A snapshot whose configuration does not list the receiver is still installed (raft-rs
// behaviour): the receiver learns of its membership from the entries after it.
TEST(Snapshot, InstalledEvenIfReceiverNotInItsConfig) {
  Cluster c({1, 2});
  c.campaign(1);
  Message m;
  m.set_msg_type(eraftpb::MsgSnapshot);
  m.set_from(1);
  m.set_to(2);
  m.set_term(c.raft(1).term());
  auto* meta = m.mutable_snapshot()->mutable_metadata();
  meta->set_index(50);
  meta->set_term(1);
  meta->mutable_conf_state()->add_voters(1);
  ASSERT_TRUE(c.node(2).step(m).ok());
  EXPECT_EQ(c.raft(2).log().committed(), 50u);
  EXPECT_EQ(c.raft(2).tracker().config().to_string(), "voters=(1)");
  EXPECT_FALSE(c.raft(2).promotable());  // cannot campaign while it thinks it is not a member
}

// Restart from a compacted storage: state comes back from the snapshot plus the remaining log.
TEST(Snapshot, RestartFromCompactedStorage) {
  Cluster c({1, 2, 3});
  c.campaign(1);
  for (const char* d : {"a", "b"})
    ASSERT_TRUE(c.propose(1, d).ok());
  snapshot_and_compact(c, 2);
  c.crash(2);
  ASSERT_TRUE(c.propose(1, "c").ok());
  c.restart(2);
  EXPECT_EQ(c.raft(2).log().first_index(), 4u);
  c.tick_all(2);
  EXPECT_EQ(c.peer(2).applied, strs({"c"}));  // applied resumes after the snapshot point
  EXPECT_EQ(c.raft(2).log().applied(), 4u);
}

// A new node with an empty log joins by snapshot when the leader compacted its log.
TEST(Snapshot, NewLearnerJoinsBySnapshot) {
  Cluster c({1, 2, 3});
  c.campaign(1);
  c.add_peer(4);
  c.isolate(4);
  ASSERT_TRUE(c.propose_conf(1, conf_change({{eraftpb::AddLearnerNode, 4}})).ok());
  for (const char* d : {"a", "b"})
    ASSERT_TRUE(c.propose(1, d).ok());
  snapshot_and_compact(c, 1);
  c.recover();
  c.tick_all(3);
  EXPECT_EQ(c.peer(4).snapshot_data, "a,b,");
  EXPECT_TRUE(c.raft(4).is_learner());
  EXPECT_EQ(c.raft(4).log().committed(), c.raft(1).log().committed());
  ASSERT_TRUE(c.propose(1, "c").ok());
  EXPECT_EQ(c.peer(4).applied, strs({"snap:a,b,", "c"}));
}

// The snapshot predates the node's addition: the node installs it, then applies the entry that
// adds it from the log and ends up a member.
TEST(Snapshot, NodeAddedAfterTheSnapshotStillJoins) {
  Cluster c({1, 2, 3});
  c.campaign(1);
  for (const char* d : {"a", "b"})
    ASSERT_TRUE(c.propose(1, d).ok());
  snapshot_and_compact(c, 1);
  c.add_peer(4);
  ASSERT_TRUE(c.propose_conf(1, conf_change({{eraftpb::AddNode, 4}})).ok());
  c.tick_all(3);
  EXPECT_EQ(c.peer(4).snapshot_data, "a,b,");
  EXPECT_EQ(c.raft(4).tracker().config().to_string(), "voters=(1 2 3 4)");
  EXPECT_TRUE(c.raft(4).promotable());
  c.isolate(2);
  c.isolate(3);
  ASSERT_TRUE(c.propose(1, "c").ok());  // 1 and 4 are not a majority of four
  EXPECT_EQ(c.peer(1).applied.back(), "b");
  c.recover();
  c.tick_all(2);
  EXPECT_EQ(c.peer(4).applied.back(), "c");
}

// A follower restarted with nothing but its membership and term (its log lived in memory) must
// neither crash on the leader's commit index nor stay stuck: its rejections carry the lost-log
// context, the leader forgets what it acknowledged and sends everything again.
TEST(Snapshot, FollowerThatLostItsLogCatchesUpAgain) {
  Cluster c({1, 2, 3});
  c.campaign(1);
  for (const char* d : {"a", "b", "c"})
    ASSERT_TRUE(c.propose(1, d).ok());
  ASSERT_EQ(c.raft(1).tracker().get(3)->match, 4u);

  const Term term = c.raft(3).term();
  c.peer(3).storage = std::make_unique<MemStorage>();
  ConfState cs;
  for (NodeId id : {NodeId{1}, NodeId{2}, NodeId{3}})
    cs.add_voters(id);
  c.storage(3).set_conf_state(cs);
  HardState hs;
  hs.set_term(term);
  c.storage(3).set_hard_state(hs);
  c.restart(3);
  c.mutate([](Message& m) {
    if (m.from() == 3 && m.msg_type() == eraftpb::MsgAppendResponse && m.reject())
      m.set_context(std::string(kLostLogContext));
  });

  c.tick_all(1);  // heartbeat with commit 4: capped at node 3's empty log
  EXPECT_EQ(c.raft(3).log().committed(), 0u);
  ASSERT_TRUE(c.propose(1, "d").ok());  // the append at match is rejected: lost log
  c.stabilize();
  EXPECT_EQ(c.peer(3).applied, strs({"a", "b", "c", "d"}));
  EXPECT_EQ(c.raft(1).tracker().get(3)->match, 5u);
  EXPECT_EQ(c.raft(3).log().committed(), 5u);
}

}  // namespace
}  // namespace cairn::raft::test
