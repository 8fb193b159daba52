// The write-ahead log over real files in a temporary directory: what is appended and synced comes
// back on open, a new leader's overwrite and a snapshot mark replay as Raft needs, segments roll
// and are released, a torn tail is truncated with a warning, and any other damage refuses to open
// with the file and offset (never a silent loss).
#include "storage/wal.h"

#include <fmt/format.h>
#include <gtest/gtest.h>
#include <unistd.h>

#include <filesystem>
#include <fstream>

#include "storage/files.h"
#include "storage/wal_record.h"

namespace cairn::storage {
namespace {

namespace fs = std::filesystem;

class WalTest : public ::testing::Test {
 protected:
  void SetUp() override {
    std::string tmpl = (fs::temp_directory_path() / "cairn-wal-XXXXXX").string();
    dir_ = mkdtemp(tmpl.data());
  }
  void TearDown() override { fs::remove_all(dir_); }

  WalOptions options(uint64_t segment_bytes = 64ull << 20) const {
    return WalOptions{dir_, segment_bytes, true};
  }
  std::unique_ptr<Wal> open(WalContents* c, uint64_t segment_bytes = 64ull << 20) {
    auto w = Wal::open(options(segment_bytes), c);
    EXPECT_TRUE(w.ok()) << w.error();
    return w.ok() ? std::move(*w) : nullptr;
  }
  static raft::Entry entry(raft::Index i, raft::Term t, std::string data = {}) {
    raft::Entry e;
    e.set_index(i);
    e.set_term(t);
    e.set_data(data.empty() ? "value-" + std::to_string(i) : std::move(data));
    return e;
  }
  static std::vector<raft::Entry> entries(raft::Index from, raft::Index to, raft::Term t) {
    std::vector<raft::Entry> v;
    for (raft::Index i = from; i <= to; ++i)
      v.push_back(entry(i, t));
    return v;
  }
  static std::vector<raft::Index> indexes(const WalContents& c) {
    std::vector<raft::Index> v;
    for (const auto& e : c.entries)
      v.push_back(e.index());
    return v;
  }
  std::vector<std::string> segments() const {
    std::vector<std::string> v;
    for (const auto& e : fs::directory_iterator(dir_))
      if (e.path().extension() == ".wal") v.push_back(e.path().string());
    std::sort(v.begin(), v.end());
    return v;
  }

  std::string dir_;
};

TEST_F(WalTest, WhatIsSyncedComesBack) {
  WalContents c;
  auto w = open(&c);
  ASSERT_TRUE(w);
  EXPECT_TRUE(c.entries.empty());
  ASSERT_TRUE(w->append(entries(1, 100, 3)).ok());
  raft::HardState hs;
  hs.set_term(3);
  hs.set_vote(2);
  hs.set_commit(90);
  ASSERT_TRUE(w->append_hard_state(hs).ok());
  ASSERT_TRUE(w->sync().ok());
  EXPECT_EQ(w->bytes_since_sync(), 0u);
  w.reset();

  WalContents back;
  auto again = open(&back);
  ASSERT_TRUE(again);
  EXPECT_TRUE(back.warnings.empty());
  ASSERT_EQ(back.entries.size(), 100u);
  EXPECT_EQ(back.entries[41].data(), "value-42");
  EXPECT_EQ(back.entries[41].term(), 3u);
  EXPECT_EQ(back.hard_state.term(), 3u);
  EXPECT_EQ(back.hard_state.vote(), 2u);
  EXPECT_EQ(back.hard_state.commit(), 90u);
  EXPECT_EQ(again->last_index(), 100u);
  // It goes on appending where it stopped.
  ASSERT_TRUE(again->append(entries(101, 101, 3)).ok());
  ASSERT_TRUE(again->sync().ok());
  again.reset();
  WalContents third;
  ASSERT_TRUE(open(&third));
  EXPECT_EQ(third.entries.back().index(), 101u);
}

// A new leader overwrites the suffix after the point where the logs agree: replay keeps the
// latest entry for each index and drops what came after the overwritten one.
TEST_F(WalTest, AnOverwrittenSuffixIsReplacedOnReplay) {
  WalContents c;
  auto w = open(&c);
  ASSERT_TRUE(w->append(entries(1, 10, 1)).ok());
  ASSERT_TRUE(w->append(entries(6, 7, 2)).ok());
  ASSERT_TRUE(w->sync().ok());
  EXPECT_EQ(w->last_index(), 7u);
  w.reset();
  WalContents back;
  ASSERT_TRUE(open(&back));
  ASSERT_EQ(indexes(back), (std::vector<raft::Index>{1, 2, 3, 4, 5, 6, 7}));
  EXPECT_EQ(back.entries[4].term(), 1u);
  EXPECT_EQ(back.entries[5].term(), 2u);
}

TEST_F(WalTest, AppendsThatLeaveAGapAreRefused) {
  WalContents c;
  auto w = open(&c);
  ASSERT_TRUE(w->append(entries(1, 3, 1)).ok());
  auto st = w->append(entries(5, 5, 1));
  ASSERT_FALSE(st.ok());
  EXPECT_NE(st.error().find("does not follow"), std::string::npos) << st.error();
}

// A snapshot mark drops the entries it covers; segments holding only covered entries are
// released, never the one being written.
TEST_F(WalTest, SegmentsRollAndAreReleasedBehindASnapshot) {
  WalContents c;
  auto w = open(&c, 1024);
  // One append per entry, as Readies come: a segment rolls between appends.
  for (raft::Index i = 1; i <= 400; ++i)
    ASSERT_TRUE(w->append(entries(i, i, 1)).ok());
  ASSERT_TRUE(w->sync().ok());
  const size_t rolled = w->segment_count();
  ASSERT_GT(rolled, 3u);
  ASSERT_TRUE(w->mark_snapshot(300, 1).ok());
  ASSERT_TRUE(w->sync().ok());
  auto released = w->release();
  ASSERT_TRUE(released.ok()) << released.error();
  EXPECT_GT(*released, 0u);
  EXPECT_EQ(w->segment_count(), rolled - *released);
  ASSERT_TRUE(w->sync().ok());
  w.reset();
  WalContents back;
  ASSERT_TRUE(open(&back, 1024));
  EXPECT_EQ(back.snapshot_index, 300u);
  EXPECT_EQ(back.snapshot_term, 1u);
  ASSERT_FALSE(back.entries.empty());
  EXPECT_EQ(back.entries.front().index(), 301u);
  EXPECT_EQ(back.entries.back().index(), 400u);
}

// A snapshot taken while the log had gone past it can have its mark open a new segment while the
// entry after it sits at the end of the segment before. Once a later mark releases that segment,
// the first one left begins with the old mark and then a gap, which the later mark covers: the
// log must open. The same gap with no mark to cover it (the segment lost by hand) still refuses.
TEST_F(WalTest, AGapLeftByAReleasedSegmentIsCoveredByALaterMark) {
  for (bool covered : {true, false}) {
    SCOPED_TRACE(covered ? "released behind a later mark" : "segment deleted by hand");
    fs::remove_all(dir_);
    fs::create_directories(dir_);
    WalContents c;
    auto w = open(&c, 1024);
    raft::Index last = 0;
    while (segments().size() == 1 && fs::file_size(segments()[0]) < 1024) {
      ++last;
      ASSERT_TRUE(w->append(entries(last, last, 1)).ok());
    }
    ASSERT_EQ(segments().size(), 1u);
    // The mark of a snapshot at last - 1 is the next segment's first record; `last` stays behind.
    ASSERT_TRUE(w->mark_snapshot(last - 1, 1).ok());
    ASSERT_EQ(segments().size(), 2u);
    ASSERT_TRUE(w->append(entries(last + 1, last + 20, 1)).ok());
    if (covered) {
      ASSERT_TRUE(w->mark_snapshot(last + 5, 1).ok());
      ASSERT_TRUE(w->sync().ok());
      auto released = w->release();
      ASSERT_TRUE(released.ok()) << released.error();
      ASSERT_EQ(*released, 1u);
    } else {
      ASSERT_TRUE(w->sync().ok());
      fs::remove(segments()[0]);
    }
    w.reset();
    WalContents back;
    auto reopened = Wal::open(options(1024), &back);
    if (covered) {
      ASSERT_TRUE(reopened.ok()) << reopened.error();
      EXPECT_EQ(back.snapshot_index, last + 5);
      ASSERT_FALSE(back.entries.empty());
      EXPECT_EQ(back.entries.front().index(), last + 6);
      EXPECT_EQ(back.entries.back().index(), last + 20);
    } else {
      ASSERT_FALSE(reopened.ok());
      EXPECT_NE(
          reopened.error().find(fmt::format("entry {} leaves a gap after {}", last + 1, last - 1)),
          std::string::npos)
          << reopened.error();
    }
  }
}

// A snapshot received from the leader takes the place of the whole log: entries after it that
// the follower held (an old term's, perhaps) are gone on replay too, and new ones follow it.
TEST_F(WalTest, ASnapshotThatReplacesTheLogDropsWhatFollowedIt) {
  WalContents c;
  auto w = open(&c);
  ASSERT_TRUE(w->append(entries(1, 30, 1)).ok());
  ASSERT_TRUE(w->mark_snapshot(20, 2, true).ok());
  EXPECT_EQ(w->last_index(), 20u);
  ASSERT_TRUE(w->append(entries(21, 22, 2)).ok());
  ASSERT_TRUE(w->sync().ok());
  w.reset();
  WalContents back;
  ASSERT_TRUE(open(&back));
  EXPECT_EQ(back.snapshot_index, 20u);
  EXPECT_EQ(back.snapshot_term, 2u);
  ASSERT_EQ(indexes(back), (std::vector<raft::Index>{21, 22}));
  EXPECT_EQ(back.entries[0].term(), 2u);
}

// A crash in the middle of a write leaves a record cut short at the end of the last segment, or
// its sectors unwritten (zeros, the file extended to a block boundary): it was never synced, so
// never acknowledged; it is cut off with a warning and the log goes on from there.
TEST_F(WalTest, ATornTailIsTruncatedWithAWarning) {
  WalContents c;
  auto w = open(&c);
  ASSERT_TRUE(w->append(entries(1, 20, 1)).ok());
  ASSERT_TRUE(w->sync().ok());
  const std::string seg = segments().back();
  const auto before_last = fs::file_size(seg);
  ASSERT_TRUE(w->append({entry(21, 1, std::string(3000, 'x'))}).ok());
  ASSERT_TRUE(w->sync().ok());
  w.reset();
  const auto full = fs::file_size(seg);
  const std::string original = *read_file(seg);
  const auto tear = [&](const std::string& bytes) {
    std::ofstream(seg, std::ios::binary | std::ios::trunc) << bytes;
  };
  std::vector<std::pair<std::string, std::string>> cases;
  for (uint64_t cut : {uint64_t{1}, uint64_t{1000}, full - before_last - 3})
    cases.emplace_back("cut " + std::to_string(cut), original.substr(0, full - cut));
  {
    // The sectors after the record's first one never reached the disk; the file was extended.
    std::string zeros = original;
    const size_t from = (before_last / 512 + 1) * 512;
    std::fill(zeros.begin() + static_cast<long>(from), zeros.end(), '\0');
    zeros.resize((zeros.size() / 4096 + 1) * 4096, '\0');
    cases.emplace_back("unwritten sectors", zeros);
  }
  for (bool extended : {false, true}) {
    // Only the record's last sector never reached the disk: less than a sector of it is zero.
    std::string zeros = original;
    const size_t from = (full - 1) / 512 * 512;
    ASSERT_GT(from, before_last);
    ASSERT_GT(full - from, 0u);
    std::fill(zeros.begin() + static_cast<long>(from), zeros.end(), '\0');
    if (extended) zeros.resize((zeros.size() / 4096 + 1) * 4096, '\0');
    cases.emplace_back(extended ? "last sector unwritten, extended" : "last sector unwritten",
                       zeros);
  }
  for (const auto& [name, bytes] : cases) {
    tear(bytes);
    WalContents back;
    auto again = open(&back);
    ASSERT_TRUE(again) << name;
    ASSERT_EQ(back.warnings.size(), 1u) << name;
    EXPECT_NE(back.warnings[0].find("torn write"), std::string::npos) << back.warnings[0];
    ASSERT_EQ(back.entries.size(), 20u) << name;
    ASSERT_TRUE(again->append(entries(21, 21, 1)).ok());
    ASSERT_TRUE(again->sync().ok());
    again.reset();
    WalContents fixed;
    ASSERT_TRUE(open(&fixed));
    EXPECT_TRUE(fixed.warnings.empty()) << name;
    EXPECT_EQ(fixed.entries.size(), 21u) << name;
  }
}

// A sector boundary can fall inside a record's header: with the sector after it unwritten, the
// header's length check reads zeros. That is a torn write too, not damage.
TEST_F(WalTest, AHeaderCutByAnUnwrittenSectorIsATornWrite) {
  std::string seg;
  uint64_t header_at = 0;  // a record whose 16-byte header straddles a sector boundary
  {
    WalContents c;
    auto w = open(&c);
    for (raft::Index i = 1; i <= 2000 && header_at == 0; ++i) {
      seg = segments().back();
      const uint64_t before = fs::exists(seg) ? fs::file_size(seg) : 0;
      ASSERT_TRUE(w->append({entry(i, 1, std::string(37, 'x'))}).ok());
      ASSERT_TRUE(w->sync().ok());
      if (i > 1 && before / 512 != (before + 7) / 512) header_at = before;
    }
  }
  ASSERT_NE(header_at, 0u) << "no record header met a sector boundary";
  std::string bytes = *read_file(seg);
  const size_t boundary = (header_at / 512 + 1) * 512;
  std::fill(bytes.begin() + static_cast<long>(boundary), bytes.end(), '\0');
  std::ofstream(seg, std::ios::binary | std::ios::trunc) << bytes;
  WalContents back;
  auto again = open(&back);
  ASSERT_TRUE(again);
  ASSERT_EQ(back.warnings.size(), 1u);
  EXPECT_NE(back.warnings[0].find("torn write at offset " + std::to_string(header_at)),
            std::string::npos)
      << back.warnings[0];
}

// Flipping any byte of the log fails the open with the file and offset: a damaged byte is not a
// torn write, even in the last record, so nothing synced is ever dropped, silently or not.
TEST_F(WalTest, DamageAnywhereRefusesToOpenAndNamesFileAndOffset) {
  {
    WalContents c;
    auto w = open(&c, 512);
    for (raft::Index i = 1; i <= 60; ++i)
      ASSERT_TRUE(w->append(entries(i, i, 1)).ok());
    ASSERT_TRUE(w->sync().ok());
  }
  const auto files = segments();
  ASSERT_GT(files.size(), 1u);
  int refused = 0;
  for (const auto& seg : files) {
    const std::string original = *read_file(seg);
    for (size_t off = 0; off < original.size(); off += 7) {
      std::string bad = original;
      bad[off] = static_cast<char>(bad[off] ^ 0x5a);
      std::ofstream(seg, std::ios::binary | std::ios::trunc) << bad;
      WalContents back;
      auto w = Wal::open(options(512), &back);
      ASSERT_FALSE(w.ok()) << seg << " offset " << off << " opened with " << back.entries.size()
                           << " entries";
      ++refused;
      EXPECT_NE(w.error().find(seg), std::string::npos) << w.error();
      EXPECT_NE(w.error().find("offset"), std::string::npos) << w.error();
      w = Result<std::unique_ptr<Wal>, std::string>(Err{std::string()});
      std::ofstream(seg, std::ios::binary | std::ios::trunc) << original;
    }
  }
  EXPECT_GT(refused, 0);
}

TEST_F(WalTest, AMissingSegmentRefusesToOpen) {
  {
    WalContents c;
    auto w = open(&c, 512);
    for (raft::Index i = 1; i <= 60; ++i)
      ASSERT_TRUE(w->append(entries(i, i, 1)).ok());
    ASSERT_TRUE(w->sync().ok());
  }
  const auto files = segments();
  ASSERT_GT(files.size(), 2u);
  fs::remove(files[1]);
  WalContents back;
  auto w = Wal::open(options(512), &back);
  ASSERT_FALSE(w.ok());
  EXPECT_NE(w.error().find("missing"), std::string::npos) << w.error();
}

TEST(WalRecord, ParsingTellsRecordsTornWritesAndDamageApart) {
  std::string rec;
  encode_record(rec, kEntry, "hello");
  auto p = parse_record(rec);
  ASSERT_EQ(p.kind, Parsed::kRecord);
  EXPECT_EQ(p.body, "hello");
  EXPECT_EQ(p.size, rec.size());
  EXPECT_EQ(parse_record(std::string_view(rec).substr(0, rec.size() - 1)).kind, Parsed::kTorn);
  EXPECT_EQ(parse_record(std::string_view(rec).substr(0, 3)).kind, Parsed::kTorn);
  EXPECT_EQ(parse_record(std::string(40, '\0')).kind, Parsed::kTorn);
  std::string flipped = rec;
  flipped.back() = 'X';
  EXPECT_EQ(parse_record(flipped).kind, Parsed::kDamaged);
  std::string unknown;
  encode_record(unknown, 9, "x");
  EXPECT_EQ(parse_record(unknown).kind, Parsed::kDamaged);
  EXPECT_EQ(parse_record("").kind, Parsed::kEnd);
}

}  // namespace
}  // namespace cairn::storage
