// Progress, Inflights and quorum arithmetic, including a property test of the quorum math
// against a naive definition (etcd quorum/quick_test.go).
#include <gtest/gtest.h>

#include <random>

#include "raft/progress.h"
#include "raft/quorum.h"

namespace cairn::raft {
namespace {

TEST(Inflights, BoundedByCountAndBytes) {
  Inflights in(3, 100);
  in.add(1, 10);
  in.add(2, 10);
  EXPECT_FALSE(in.full());
  in.add(3, 10);
  EXPECT_TRUE(in.full());  // count bound
  in.free_le(2);
  EXPECT_EQ(in.count(), 1u);
  EXPECT_EQ(in.bytes(), 10u);
  in.add(4, 95);
  EXPECT_TRUE(in.full());  // byte bound
  in.free_le(10);
  EXPECT_EQ(in.count(), 0u);
  EXPECT_EQ(in.bytes(), 0u);
  // The ring wraps around correctly.
  for (Index i = 1; i <= 30; ++i) {
    in.add(i, 1);
    in.free_le(i - 1);
    EXPECT_EQ(in.count(), 1u);
  }
}

TEST(Progress, ReplicateIsPipelinedAndRejectionFallsBackToMatch) {
  Progress pr(5, 2, kNoLimit);
  pr.match = 4;
  pr.become_replicate();
  EXPECT_EQ(pr.next, 5u);
  pr.sent_entries(7, 30, 3);  // optimistic next
  EXPECT_EQ(pr.next, 8u);
  EXPECT_FALSE(pr.is_paused());
  pr.sent_entries(9, 20, 2);
  EXPECT_TRUE(pr.is_paused());           // window of 2 messages is full
  EXPECT_FALSE(pr.maybe_decr_to(4, 4));  // stale rejection (<= match)
  EXPECT_TRUE(pr.maybe_decr_to(6, 5));
  EXPECT_EQ(pr.next, 5u);  // back to match+1
}

TEST(Progress, ProbeSendsOneAtATimeAndUsesHint) {
  Progress pr(10, 4, kNoLimit);
  pr.sent_entries(12, 0, 3);
  EXPECT_TRUE(pr.is_paused());
  EXPECT_FALSE(pr.maybe_decr_to(5, 2));  // not the index we probed with (next-1 = 9)
  EXPECT_TRUE(pr.maybe_decr_to(9, 3));   // hint: follower's log matches at most up to 3
  EXPECT_EQ(pr.next, 4u);
  EXPECT_FALSE(pr.is_paused());
  EXPECT_TRUE(pr.maybe_update(3));
  EXPECT_EQ(pr.match, 3u);
  EXPECT_FALSE(pr.maybe_update(2));  // stale ack
}

TEST(Progress, SnapshotStateResumesAfterSnapshot) {
  Progress pr(3, 4, kNoLimit);
  pr.become_snapshot(20);
  EXPECT_TRUE(pr.is_paused());
  pr.become_probe();
  EXPECT_EQ(pr.next, 21u);
}

TEST(Quorum, MajorityCommittedIndexTable) {
  struct Case {
    std::vector<Index> acked;  // voter i+1 acked acked[i]
    Index want;
  } cases[] = {
      {{5}, 5}, {{5, 3}, 3}, {{5, 3, 1}, 3}, {{9, 8, 7, 6}, 7}, {{1, 2, 3, 4, 5}, 3},
  };
  for (const auto& c : cases) {
    std::set<NodeId> ids;
    for (std::size_t i = 0; i < c.acked.size(); ++i)
      ids.insert(i + 1);
    MajorityConfig mc(ids);
    EXPECT_EQ(mc.committed_index([&](NodeId id) { return std::optional<Index>(c.acked[id - 1]); }),
              c.want);
  }
  EXPECT_EQ(MajorityConfig().committed_index([](NodeId) { return std::optional<Index>(); }),
            kNoLimit);
}

TEST(Quorum, JointTakesTheMinimumAndNeedsBothForVotes) {
  JointConfig jc{MajorityConfig({1, 2, 3}), MajorityConfig({3, 4, 5})};
  std::map<NodeId, Index> acked{{1, 9}, {2, 9}, {3, 4}, {4, 4}, {5, 1}};
  auto f = [&](NodeId id) { return std::optional<Index>(acked.at(id)); };
  EXPECT_EQ(jc.committed_index(f), 4u);
  EXPECT_EQ(jc.vote_result({{1, true}, {2, true}}), VoteResult::kPending);
  EXPECT_EQ(jc.vote_result({{1, true}, {2, true}, {4, false}, {5, false}}), VoteResult::kLost);
  EXPECT_EQ(jc.vote_result({{1, true}, {2, true}, {4, true}, {5, true}}), VoteResult::kWon);
}

// Property: the committed index is the largest i such that a majority acked >= i.
TEST(Quorum, CommittedIndexMatchesNaiveDefinition) {
  std::mt19937_64 rng(7);
  for (int iter = 0; iter < 2000; ++iter) {
    const std::size_t n = 1 + rng() % 7;
    std::set<NodeId> ids;
    std::map<NodeId, Index> acked;
    for (NodeId id = 1; id <= n; ++id) {
      ids.insert(id);
      if (rng() % 5 != 0) acked[id] = rng() % 10;  // some voters unknown
    }
    MajorityConfig mc(ids);
    auto f = [&](NodeId id) -> std::optional<Index> {
      auto it = acked.find(id);
      return it == acked.end() ? std::nullopt : std::optional<Index>(it->second);
    };
    Index naive = 0;
    for (Index i = 0; i <= 10; ++i) {
      std::size_t cnt = 0;
      for (auto& [id, a] : acked)
        cnt += a >= i ? 1 : 0;
      if (cnt > n / 2) naive = i;
    }
    ASSERT_EQ(mc.committed_index(f), naive);
    // Votes: won iff a majority granted; lost iff a majority cannot be reached.
    std::map<NodeId, bool> votes;
    std::size_t yes = 0, no = 0;
    for (NodeId id = 1; id <= n; ++id) {
      const auto r = rng() % 3;
      if (r == 0) continue;
      votes[id] = r == 1;
      (r == 1 ? yes : no) += 1;
    }
    const VoteResult want = yes > n / 2      ? VoteResult::kWon
                            : n - no > n / 2 ? VoteResult::kPending
                                             : VoteResult::kLost;
    ASSERT_EQ(mc.vote_result(votes), want);
  }
}

}  // namespace
}  // namespace cairn::raft
