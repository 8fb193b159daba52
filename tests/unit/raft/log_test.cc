// RaftLog: append/conflict rules (§5.3), commit, stable/unstable split, term lookups, snapshots.
#include "raft/raft_log.h"

#include <gtest/gtest.h>

namespace cairn::raft {
namespace {

Entry ent(Index i, Term t) {
  Entry e;
  e.set_index(i);
  e.set_term(t);
  return e;
}

Message app(Index prev, Term prev_term, std::vector<Entry> es) {
  Message m;
  m.set_index(prev);
  m.set_log_term(prev_term);
  for (auto& e : es)
    *m.add_entries() = e;
  return m;
}

TEST(RaftLog, FindConflict) {
  MemStorage s;
  RaftLog log(&s);
  log.append({ent(1, 1), ent(2, 2), ent(3, 3)});
  struct Case {
    std::vector<Entry> ents;
    Index want;
  } cases[] = {
      {{}, 0},
      {{ent(1, 1), ent(2, 2), ent(3, 3)}, 0},  // all match
      {{ent(2, 2), ent(3, 3), ent(4, 4)}, 4},  // only new entries
      {{ent(3, 3), ent(4, 4), ent(5, 4)}, 4},
      {{ent(1, 4), ent(2, 4)}, 1},  // conflict at the start
      {{ent(2, 1), ent(3, 4), ent(4, 4)}, 2},
      {{ent(3, 1), ent(4, 2), ent(5, 4), ent(6, 4)}, 3},
  };
  for (const auto& c : cases) {
    EXPECT_EQ(log.find_conflict(app(0, 0, c.ents)), c.want);
  }
}

TEST(RaftLog, MaybeAppend) {
  const Term last_term = 3;
  const Index last_index = 3;
  struct Case {
    Index prev;
    Term prev_term;
    Index commit;
    std::vector<Entry> ents;
    bool ok;
    Index want_last;
    Index want_commit;
  } cases[] = {
      // Preceding entry does not match: rejected.
      {last_index, last_term - 1, last_index, {ent(4, 4)}, false, 0, 1},
      {last_index + 1, last_term, last_index, {ent(5, 4)}, false, 0, 1},
      // Matches: append and commit up to min(commit, last new).
      {last_index, last_term, last_index, {}, true, last_index, last_index},
      {last_index, last_term, last_index + 1, {}, true, last_index, last_index},
      {last_index, last_term, last_index + 2, {ent(4, 4)}, true, 4, 4},
      {last_index, last_term, last_index + 2, {ent(4, 4), ent(5, 4)}, true, 5, 5},
      {last_index - 1, last_term - 1, last_index, {ent(3, 4)}, true, 3, 3},  // replaces 3
      {last_index - 2, last_term - 2, last_index, {ent(2, 4)}, true, 2, 2},
  };
  for (const auto& c : cases) {
    MemStorage s;
    RaftLog log(&s);
    log.append({ent(1, 1), ent(2, 2), ent(3, 3)});
    log.commit_to(1);
    Message m = app(c.prev, c.prev_term, c.ents);
    auto got = log.maybe_append(c.prev, c.prev_term, c.commit, m);
    ASSERT_EQ(got.has_value(), c.ok) << "prev " << c.prev;
    if (c.ok) {
      EXPECT_EQ(*got, c.want_last);
      EXPECT_EQ(log.last_index(), c.want_last);
    }
    EXPECT_EQ(log.committed(), c.want_commit);
  }
}

TEST(RaftLog, FindConflictByTerm) {
  MemStorage s;
  RaftLog log(&s);
  // terms: 1 1 2 2 5 5 (indices 1..6)
  log.append({ent(1, 1), ent(2, 1), ent(3, 2), ent(4, 2), ent(5, 5), ent(6, 5)});
  EXPECT_EQ(log.find_conflict_by_term(6, 5).first, 6u);
  EXPECT_EQ(log.find_conflict_by_term(6, 4).first, 4u);  // skips the term-5 entries
  EXPECT_EQ(log.find_conflict_by_term(6, 1).first, 2u);
  EXPECT_EQ(log.find_conflict_by_term(6, 0).first, 0u);
}

TEST(RaftLog, UnstableBecomesStableOnlyIfStillThere) {
  MemStorage s;
  RaftLog log(&s);
  log.append({ent(1, 1), ent(2, 1)});
  EXPECT_EQ(log.unstable_entries().size(), 2u);
  s.append(log.unstable_entries());
  log.stable_to(2, 2);  // wrong term: the Ready is stale; nothing happens
  EXPECT_EQ(log.unstable_entries().size(), 2u);
  log.stable_to(2, 1);
  EXPECT_TRUE(log.unstable_entries().empty());
  EXPECT_EQ(log.last_index(), 2u);
  EXPECT_EQ(*log.term(2), 1u);
}

TEST(RaftLog, CommitNeverDecreasesAndOnlyCurrentTermByCount) {
  MemStorage s;
  RaftLog log(&s);
  log.append({ent(1, 1), ent(2, 2), ent(3, 2)});
  EXPECT_FALSE(log.maybe_commit(3, 3));  // §5.4.2: entry 3 is not of term 3
  EXPECT_TRUE(log.maybe_commit(3, 2));
  EXPECT_EQ(log.committed(), 3u);
  log.commit_to(1);
  EXPECT_EQ(log.committed(), 3u);
}

TEST(RaftLog, NextCommittedEntriesAndApplied) {
  MemStorage s;
  RaftLog log(&s);
  log.append({ent(1, 1), ent(2, 1), ent(3, 1)});
  EXPECT_FALSE(log.has_next_committed_entries());
  log.commit_to(2);
  ASSERT_TRUE(log.has_next_committed_entries());
  EXPECT_EQ(log.next_committed_entries().size(), 2u);
  log.applied_to(2);
  EXPECT_FALSE(log.has_next_committed_entries());
}

TEST(RaftLog, RestoreFromSnapshotAndSlicesAcrossStableAndUnstable) {
  MemStorage s;
  Snapshot snap;
  snap.mutable_metadata()->set_index(10);
  snap.mutable_metadata()->set_term(3);
  ASSERT_TRUE(s.apply_snapshot(snap).ok());
  s.append({ent(11, 3), ent(12, 3)});
  RaftLog log(&s);
  EXPECT_EQ(log.first_index(), 11u);
  EXPECT_EQ(log.committed(), 10u);
  log.append({ent(13, 4)});
  auto all = log.slice(11, 14, kNoLimit);
  ASSERT_TRUE(all.ok());
  ASSERT_EQ(all->size(), 3u);
  EXPECT_EQ((*all)[2].term(), 4u);
  EXPECT_EQ(log.slice(10, 12, kNoLimit).error(), Error::kCompacted);

  Snapshot newer;
  newer.mutable_metadata()->set_index(20);
  newer.mutable_metadata()->set_term(5);
  log.restore(newer);
  EXPECT_EQ(log.last_index(), 20u);
  EXPECT_EQ(log.first_index(), 21u);
  EXPECT_EQ(*log.term(20), 5u);
  EXPECT_EQ(log.committed(), 20u);
}

TEST(RaftLog, UpToDate) {
  MemStorage s;
  RaftLog log(&s);
  log.append({ent(1, 1), ent(2, 2), ent(3, 3)});
  struct Case {
    Index last;
    Term term;
    bool want;
  } cases[] = {
      {2, 4, true},  {3, 4, true},  {4, 4, true},   // higher term wins regardless of length
      {2, 2, false}, {3, 2, false}, {4, 2, false},  // lower term loses regardless of length
      {2, 3, false}, {3, 3, true},  {4, 3, true},   // same term: longer or equal wins
  };
  for (const auto& c : cases)
    EXPECT_EQ(log.is_up_to_date(c.last, c.term), c.want);
}

}  // namespace
}  // namespace cairn::raft
