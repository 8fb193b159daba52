// MemStorage: entries, terms, compaction, snapshots (etcd storage_test.go, table-driven).
#include "raft/storage.h"

#include <gtest/gtest.h>

namespace cairn::raft {
namespace {

Entry ent(Index i, Term t) {
  Entry e;
  e.set_index(i);
  e.set_term(t);
  return e;
}

// A storage whose snapshot is at index 3 (term 3) and holding entries 4 and 5.
MemStorage make_storage() {
  MemStorage s;
  Snapshot snap;
  snap.mutable_metadata()->set_index(3);
  snap.mutable_metadata()->set_term(3);
  EXPECT_TRUE(s.apply_snapshot(snap).ok());
  s.append({ent(4, 4), ent(5, 5)});
  return s;
}

TEST(MemStorage, TermByIndex) {
  MemStorage s = make_storage();
  struct Case {
    Index i;
    bool ok;
    Error err;
    Term term;
  } cases[] = {
      {2, false, Error::kCompacted, 0},   {3, true, {}, 3}, {4, true, {}, 4}, {5, true, {}, 5},
      {6, false, Error::kUnavailable, 0},
  };
  for (const auto& c : cases) {
    auto t = s.term(c.i);
    ASSERT_EQ(t.ok(), c.ok) << "index " << c.i;
    if (c.ok) {
      EXPECT_EQ(*t, c.term);
    } else {
      EXPECT_EQ(t.error(), c.err);
    }
  }
}

TEST(MemStorage, EntriesRespectBoundsAndSizeLimit) {
  MemStorage s = make_storage();
  s.append({ent(6, 6)});
  EXPECT_EQ(s.entries(3, 5, kNoLimit).error(), Error::kCompacted);
  EXPECT_EQ(s.entries(4, 8, kNoLimit).error(), Error::kUnavailable);
  EXPECT_EQ(s.entries(4, 7, kNoLimit)->size(), 3u);
  // A zero budget still yields one entry so that replication always makes progress.
  EXPECT_EQ(s.entries(4, 7, 0)->size(), 1u);
  const std::uint64_t two = entry_size(ent(4, 4)) + entry_size(ent(5, 5));
  EXPECT_EQ(s.entries(4, 7, two)->size(), 2u);
}

TEST(MemStorage, AppendTruncatesConflictsAndIgnoresCompacted) {
  MemStorage s = make_storage();
  s.append({ent(2, 2), ent(3, 3), ent(4, 6), ent(5, 6)});  // 2..3 compacted: skipped
  EXPECT_EQ(*s.term(4), 6u);
  EXPECT_EQ(s.last_index(), 5u);
  s.append({ent(5, 7), ent(6, 7)});  // replaces 5, extends to 6
  EXPECT_EQ(*s.term(5), 7u);
  EXPECT_EQ(s.last_index(), 6u);
  s.append({ent(4, 8)});  // truncates everything after 4
  EXPECT_EQ(s.last_index(), 4u);
}

TEST(MemStorage, Compact) {
  MemStorage s = make_storage();
  EXPECT_EQ(s.compact(3).error(), Error::kCompacted);
  ASSERT_TRUE(s.compact(4).ok());
  EXPECT_EQ(s.first_index(), 5u);
  EXPECT_EQ(*s.term(4), 4u);
  EXPECT_EQ(s.last_index(), 5u);
}

TEST(MemStorage, CreateAndApplySnapshot) {
  MemStorage s = make_storage();
  ConfState cs;
  cs.add_voters(1);
  auto snap = s.create_snapshot(5, &cs, "state");
  ASSERT_TRUE(snap.ok());
  EXPECT_EQ((*snap)->metadata().index(), 5u);
  EXPECT_EQ((*snap)->metadata().term(), 5u);
  EXPECT_EQ(s.create_snapshot(4, &cs, "old").error(), Error::kSnapOutOfDate);
  EXPECT_EQ(s.create_snapshot(5, &cs, "again").error(), Error::kSnapOutOfDate);

  MemStorage other;
  ASSERT_TRUE(other.apply_snapshot(**snap).ok());
  EXPECT_EQ(other.first_index(), 6u);
  EXPECT_EQ(other.last_index(), 5u);
  EXPECT_EQ(other.initial_state().conf_state.voters_size(), 1);
  EXPECT_EQ(other.apply_snapshot(**snap).error(), Error::kSnapOutOfDate);
}

}  // namespace
// On demand: compacting past the snapshot makes snapshot() ask for a fresh one (once) instead of
// handing out one that cannot bring a follower to the log; a snapshot at or past the compaction
// point is handed out again.
TEST(MemStorage, SnapshotsOnDemandAfterCompactingPastTheLastOne) {
  MemStorage s = make_storage();  // snapshot at 3, entries 4 and 5
  s.build_snapshots_on_demand(true);
  EXPECT_TRUE(s.snapshot(0).ok());  // nothing compacted past it yet
  EXPECT_FALSE(s.take_snapshot_request());
  ASSERT_TRUE(s.compact(5).ok());
  auto r = s.snapshot(0);
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.error(), Error::kSnapshotTemporarilyUnavailable);
  EXPECT_TRUE(s.take_snapshot_request());
  EXPECT_FALSE(s.take_snapshot_request());  // taken
  ConfState cs;
  cs.add_voters(1);
  ASSERT_TRUE(s.create_snapshot(5, &cs, "fresh").ok());
  auto fresh = s.snapshot(0);
  ASSERT_TRUE(fresh.ok());
  EXPECT_EQ(fresh->metadata().index(), 5u);
  EXPECT_EQ(fresh->data(), "fresh");
  // Its data released (sent, or written to disk), it is asked for again, at the same index.
  s.release_snapshot_data();
  auto released = s.snapshot(0);
  ASSERT_FALSE(released.ok());
  EXPECT_EQ(released.error(), Error::kSnapshotTemporarilyUnavailable);
  EXPECT_TRUE(s.take_snapshot_request());
  ASSERT_TRUE(s.create_snapshot(5, &cs, "rebuilt").ok());
  auto rebuilt = s.snapshot(0);
  ASSERT_TRUE(rebuilt.ok());
  EXPECT_EQ(rebuilt->data(), "rebuilt");
  // Off (the default), the old behaviour: whatever snapshot there is.
  MemStorage plain = make_storage();
  ASSERT_TRUE(plain.compact(5).ok());
  EXPECT_TRUE(plain.snapshot(0).ok());
}

}  // namespace cairn::raft
