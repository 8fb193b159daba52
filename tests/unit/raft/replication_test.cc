// Log replication (thesis §3.5, §3.6): the paper's figure 7 and figure 8 situations, fast
// backtracking with conflict hints, flow control (probe / replicate, in-flight window by count
// and bytes, max message size), proposal refusal and the uncommitted-size bound.
#include <gtest/gtest.h>

#include "cluster.h"

namespace cairn::raft::test {
namespace {

// Basic path: proposals commit once a quorum has them and every node applies them in order.
TEST(Replication, ProposalsCommitAndApplyEverywhereInOrder) {
  Cluster c({1, 2, 3});
  c.campaign(1);
  for (const char* d : {"a", "b", "c"})
    ASSERT_TRUE(c.propose(1, d).ok());
  ASSERT_TRUE(c.propose(2, "d").ok());  // a follower forwards to the leader
  for (NodeId id : c.ids())
    EXPECT_EQ(c.peer(id).applied, strs({"a", "b", "c", "d"})) << id;
  EXPECT_EQ(c.raft(1).log().committed(), 5u);  // noop + 4
}

// A minority cannot commit; the entry commits as soon as a majority has it.
TEST(Replication, CommitNeedsAMajority) {
  Cluster c({1, 2, 3, 4, 5});
  c.campaign(1);
  c.isolate(3);
  c.isolate(4);
  c.isolate(5);
  ASSERT_TRUE(c.propose(1, "x").ok());
  EXPECT_TRUE(c.peer(1).applied.empty());
  c.recover();
  c.cut(1, 4);
  c.cut(1, 5);
  c.tick_all(1);  // heartbeat: 3 catches up; 1, 2, 3 form a majority
  EXPECT_EQ(c.peer(1).applied, strs({"x"}));
}

// Figure 7: whatever a follower's log looks like, the leader brings it to match its own
// (Log Matching, §3.5): missing entries added, extra and conflicting ones removed.
TEST(Replication, Figure7FollowersConvergeOnTheLeadersLog) {
  const std::vector<Term> leader_log = {1, 1, 1, 4, 4, 5, 5, 6, 6, 6};
  const struct {
    const char* name;
    std::vector<Term> log;
  } followers[] = {
      {"a", {1, 1, 1, 4, 4, 5, 5, 6, 6}},
      {"b", {1, 1, 1, 4}},
      {"c", {1, 1, 1, 4, 4, 5, 5, 6, 6, 6, 6}},
      {"d", {1, 1, 1, 4, 4, 5, 5, 6, 6, 6, 7, 7}},
      {"e", {1, 1, 1, 4, 4, 4, 4}},
      {"f", {1, 1, 1, 2, 2, 2, 3, 3, 3, 3, 3}},
  };
  for (const auto& f : followers) {
    Cluster c({1, 2, 3});
    c.load(1, leader_log, 8);
    c.load(2, f.log, 7);
    // Node 3 has an empty log and grants its vote; the follower under test may or may not.
    c.campaign(1);
    ASSERT_EQ(c.raft(1).role(), Role::kLeader) << f.name;
    std::vector<Term> want = leader_log;
    want.push_back(9);  // the new leader's no-op
    EXPECT_EQ(c.log_terms(2), want) << "follower " << f.name;
    EXPECT_EQ(c.raft(2).log().committed(), 11u) << f.name;
  }
}

// Figure 8: a leader must not commit an entry of an earlier term by counting replicas (§3.6.2),
// because a node with a later-term entry can still be elected and overwrite it.
TEST(Replication, Figure8OldTermEntryOnAMajorityIsNotCommitted) {
  Cluster c({1, 2, 3, 4, 5}, [](Config& cfg) { cfg.max_size_per_msg = 1; });
  c.campaign(1);  // term 1: no-op at index 1 everywhere
  // (a) S1 leads term 1 and replicates index 2 to S2 only.
  for (NodeId id : {3U, 4U, 5U})
    c.isolate(id);
  ASSERT_TRUE(c.propose(1, "x").ok());
  c.recover();
  // (b) S1 crashes; S5 wins term 2 with votes of S3, S4 and appends index 2 only locally.
  c.crash(1);
  c.cut(5, 2);
  c.drop_if([](const Message& m) { return m.from() == 5 && m.msg_type() == eraftpb::MsgAppend; });
  c.campaign(5);
  ASSERT_EQ(c.raft(5).role(), Role::kLeader);
  ASSERT_EQ(c.raft(5).term(), 2u);
  c.crash(5);
  c.recover();
  // (c) S1 restarts and wins term 3 (S2, S3, S4); it replicates index 2 (term 1) to S3 but
  // nothing of its own term yet.
  c.restart(1);
  c.cut(1, 4);
  c.mutate([](Message& m) {
    // Entries of S1's own term (index >= 3) are lost on the way: strip them.
    if (m.msg_type() != eraftpb::MsgAppend) return;
    auto* es = m.mutable_entries();
    while (!es->empty() && es->rbegin()->index() >= 3)
      es->RemoveLast();
  });
  c.campaign(1);
  if (c.raft(1).role() != Role::kLeader) c.campaign(1);  // first try may lose to S5's term
  ASSERT_EQ(c.raft(1).role(), Role::kLeader);
  EXPECT_EQ(c.raft(3).log().last_index(), 2u);
  EXPECT_EQ(*c.raft(3).log().term(2), 1u);
  // Index 2 is on S1, S2, S3 — a majority, and S1 knows it — but it is from term 1: not
  // committed by counting (§3.6.2).
  EXPECT_EQ(c.raft(1).tracker().get(2)->match, 2u);
  EXPECT_EQ(c.raft(1).tracker().get(3)->match, 2u);
  EXPECT_EQ(c.raft(1).log().committed(), 1u);
  EXPECT_TRUE(c.peer(1).applied.empty());
  // (d) S1 crashes; S5 (last term 2) can win and overwrite index 2 everywhere.
  c.crash(1);
  c.recover();
  c.restart(5);
  c.campaign(5);
  if (c.raft(5).role() != Role::kLeader) c.campaign(5);
  ASSERT_EQ(c.raft(5).role(), Role::kLeader);
  c.tick_all(2);
  for (NodeId id : {2U, 3U, 4U, 5U}) {
    EXPECT_EQ(*c.raft(id).log().term(2), 2u) << id;
    EXPECT_TRUE(c.peer(id).applied.empty()) << id;  // "x" never applied
  }
}

// Fast backtracking: a follower with a long conflicting tail is repaired in a few round trips,
// not one per entry, thanks to the (index, term) hint of its rejection.
TEST(Replication, ConflictHintSkipsWholeTerms) {
  std::vector<Term> leader_log(10, 1), follower_log(10, 1);
  for (int k = 0; k < 100; ++k)
    leader_log.push_back(3);
  for (int k = 0; k < 200; ++k)
    follower_log.push_back(2);
  Cluster c({1, 2, 3});
  c.load(1, leader_log, 3);
  c.load(2, follower_log, 3);
  c.isolate(2);
  c.campaign(1);  // wins with node 3 (empty log) in term 4
  c.recover();
  c.reset_counters();
  int rejections = 0;
  c.drop_if([&](const Message& m) {
    if (m.msg_type() == eraftpb::MsgAppendResponse && m.reject()) ++rejections;
    return false;
  });
  c.tick_all(1);
  EXPECT_LE(rejections, 2);
  EXPECT_EQ(c.log_terms(2).size(), 111u);
  EXPECT_EQ(c.log_terms(2), c.log_terms(1));
}

// Flow control in replicate state: at most max_inflight_msgs unacknowledged MsgAppends.
TEST(FlowControl, InflightWindowBoundsUnackedAppendsByCount) {
  Cluster c({1, 2}, [](Config& cfg) { cfg.max_inflight_msgs = 3; });
  c.campaign(1);
  ASSERT_TRUE(c.propose(1, "warm").ok());  // 2 is now in replicate state
  ASSERT_EQ(c.raft(1).tracker().get(2)->state, ProgressState::kReplicate);
  c.drop_type(eraftpb::MsgAppendResponse);
  c.reset_counters();
  for (int k = 0; k < 10; ++k)
    ASSERT_TRUE(c.propose(1, "p" + std::to_string(k)).ok());
  EXPECT_EQ(c.delivered(eraftpb::MsgAppend), 3);
  EXPECT_TRUE(c.raft(1).tracker().get(2)->is_paused());
  // Acknowledgements re-open the window and the backlog flows.
  c.recover();
  c.tick_all(2);
  EXPECT_EQ(c.peer(2).applied.size(), 11u);
}

TEST(FlowControl, InflightWindowBoundsUnackedBytes) {
  Cluster c({1, 2}, [](Config& cfg) { cfg.max_inflight_bytes = 250; });
  c.campaign(1);
  ASSERT_TRUE(c.propose(1, "warm").ok());
  c.drop_type(eraftpb::MsgAppendResponse);
  c.reset_counters();
  for (int k = 0; k < 10; ++k)
    ASSERT_TRUE(c.propose(1, std::string(100, 'x')).ok());
  EXPECT_EQ(c.delivered(eraftpb::MsgAppend), 3);  // 300 bytes in flight reaches the bound
}

// A follower in probe state gets one MsgAppend per heartbeat interval until it answers:
// proposals in between send it nothing, each heartbeat response releases exactly one append.
// Caught mutations: raft-probe-pause, raft-heartbeat-resp-unpause
TEST(FlowControl, ProbeSendsOneAppendPerHeartbeat) {
  Cluster c({1, 2, 3});
  c.campaign(1);
  c.isolate(3);
  for (int k = 0; k < 5; ++k)
    ASSERT_TRUE(c.propose(1, "p").ok());
  c.recover();
  // 3 answers heartbeats but its append responses are lost, so it stays in probe.
  int apps_to_3 = 0;
  c.drop_if([&](const Message& m) {
    if (m.to() == 3 && m.msg_type() == eraftpb::MsgAppend) ++apps_to_3;
    return m.from() == 3 && m.msg_type() == eraftpb::MsgAppendResponse;
  });
  // 3 is still in replicate from the election round; unreachable reports send it to probe.
  c.node(1).report_unreachable(3);
  ASSERT_EQ(c.raft(1).tracker().get(3)->state, ProgressState::kProbe);
  ASSERT_TRUE(c.propose(1, "q").ok());
  ASSERT_EQ(apps_to_3, 1);  // the probe
  for (int beat = 1; beat <= 4; ++beat) {
    for (int k = 0; k < 3; ++k)
      ASSERT_TRUE(c.propose(1, "r").ok());
    EXPECT_EQ(apps_to_3, beat) << "a proposal sent to a paused probe";
    c.tick(1);  // a heartbeat; 3's response re-opens the flow for one append
    c.stabilize();
    EXPECT_EQ(apps_to_3, beat + 1) << "heartbeat " << beat;
    EXPECT_EQ(c.raft(1).tracker().get(3)->state, ProgressState::kProbe);
  }
  c.recover();
  c.tick_all(3);
  EXPECT_EQ(c.peer(3).applied.size(), 18u);
}

// Large backlogs are cut into messages of at most max_size_per_msg bytes (one entry minimum).
TEST(FlowControl, MaxMessageSizeSplitsAppends) {
  Cluster c({1, 2}, [](Config& cfg) { cfg.max_size_per_msg = 1000; });
  c.campaign(1);
  c.isolate(2);
  for (int k = 0; k < 20; ++k)
    ASSERT_TRUE(c.propose(1, std::string(300, 'a')).ok());
  c.recover();
  std::uint64_t max_seen = 0;
  c.drop_if([&](const Message& m) {
    if (m.msg_type() == eraftpb::MsgAppend) {
      std::uint64_t size = 0;
      for (const Entry& e : m.entries())
        size += entry_size(e);
      max_seen = std::max(max_seen, size);
    }
    return false;
  });
  c.tick_all(3);
  EXPECT_EQ(c.peer(2).applied.size(), 20u);
  EXPECT_LE(max_seen, 1000u);
  EXPECT_GT(max_seen, 600u);  // batches several entries per message
}

TEST(Proposals, RefusedWithAClearReason) {
  Cluster c({1, 2, 3}, [](Config& cfg) { cfg.disable_proposal_forwarding = cfg.id == 3; });
  EXPECT_EQ(c.node(1).propose("x").error(), Error::kNoLeader);  // nobody leads yet
  c.isolate(2);
  c.node(2).campaign();
  EXPECT_EQ(c.node(2).propose("x").error(), Error::kNoLeader);  // a candidate has no leader
  c.recover();
  c.campaign(1);
  EXPECT_EQ(c.node(3).propose("x").error(), Error::kNotLeader);  // forwarding disabled
  EXPECT_TRUE(c.node(2).propose("y").ok());                      // forwarded
  c.stabilize();
  EXPECT_EQ(c.peer(1).applied, strs({"y"}));
}

// The leader bounds the bytes of uncommitted entries: a leader cut off from its followers
// cannot grow its log without limit.
TEST(Proposals, UncommittedSizeIsBounded) {
  Cluster c({1, 2, 3}, [](Config& cfg) { cfg.max_uncommitted_entries_size = 100; });
  c.campaign(1);
  c.isolate(1);
  EXPECT_TRUE(c.propose(1, std::string(60, 'a')).ok());
  EXPECT_EQ(c.propose(1, std::string(60, 'b')).error(), Error::kUncommittedLimit);
  EXPECT_TRUE(c.propose(1, std::string(40, 'c')).ok());  // exactly reaches the bound
  EXPECT_EQ(c.propose(1, "d").error(), Error::kUncommittedLimit);
  c.recover();
  c.tick_all(2);  // everything commits and is applied: the budget is released
  EXPECT_EQ(c.peer(1).applied.size(), 2u);
  EXPECT_EQ(c.raft(1).uncommitted_size(), 0u);
  EXPECT_TRUE(c.propose(1, std::string(100, 'e')).ok());
}

// Restarting keeps what was persisted: term, vote and log survive; commit resumes.
TEST(Replication, RestartKeepsPersistedStateAndCatchesUp) {
  Cluster c({1, 2, 3});
  c.campaign(1);
  ASSERT_TRUE(c.propose(1, "a").ok());
  c.crash(3);
  ASSERT_TRUE(c.propose(1, "b").ok());
  c.restart(3);
  EXPECT_EQ(c.raft(3).term(), 1u);
  EXPECT_EQ(c.raft(3).vote(), 1u);
  c.tick_all(2);
  EXPECT_EQ(c.peer(3).applied, strs({"a", "b"}));  // re-applied from the persisted log
}

}  // namespace
}  // namespace cairn::raft::test
