// Snapshot files: saved durably under their index and term, read back whole, the newest chosen,
// older ones removed, leftovers of an interrupted write cleaned up, and any damaged byte refused
// with the file's name.
#include "storage/snapshot_files.h"

#include <gtest/gtest.h>
#include <unistd.h>
#include <xxhash.h>

#include <filesystem>
#include <fstream>

#include "storage/files.h"
#include "storage/wal_record.h"

namespace cairn::storage {
namespace {

namespace fs = std::filesystem;

class SnapshotFilesTest : public ::testing::Test {
 protected:
  void SetUp() override {
    std::string tmpl = (fs::temp_directory_path() / "cairn-snap-XXXXXX").string();
    dir_ = mkdtemp(tmpl.data());
  }
  void TearDown() override { fs::remove_all(dir_); }
  static raft::Snapshot snapshot(raft::Index index, raft::Term term, std::string data) {
    raft::Snapshot s;
    s.mutable_metadata()->set_index(index);
    s.mutable_metadata()->set_term(term);
    for (uint64_t v : {1u, 2u, 3u})
      s.mutable_metadata()->mutable_conf_state()->add_voters(v);
    s.set_data(std::move(data));
    return s;
  }
  SnapshotFiles open() {
    std::vector<std::string> warnings;
    auto f = SnapshotFiles::open(dir_, &warnings);
    EXPECT_TRUE(f.ok()) << f.error();
    EXPECT_TRUE(warnings.empty());
    return std::move(*f);
  }
  // The newest snapshot's data as a start-up reads it: checked in steps, then read from where
  // the check says it lies, in small pieces.
  static std::string read_range(const SnapshotFiles& files) {
    auto info = files.check_newest();
    EXPECT_TRUE(info.ok()) << info.error();
    if (!info.ok() || !info->has_value()) return "(none)";
    auto reader = FileRangeReader::open((*info)->path, (*info)->data_offset, (*info)->data_bytes);
    EXPECT_TRUE(reader.ok());
    std::string out;
    char buf[1000];
    for (;;) {
      auto n = reader->read(buf, sizeof buf);
      EXPECT_TRUE(n.ok()) << n.error();
      if (!n.ok() || *n == 0) break;
      out.append(buf, *n);
    }
    EXPECT_EQ(out.size(), (*info)->data_bytes);
    return out;
  }
  std::string dir_;
};

TEST_F(SnapshotFilesTest, TheNewestComesBackWhole) {
  auto files = open();
  auto none = files.load_newest();
  ASSERT_TRUE(none.ok());
  EXPECT_FALSE(none->has_value());
  ASSERT_TRUE(files.save(snapshot(10, 2, "ten")).ok());
  ASSERT_TRUE(files.save(snapshot(250, 3, std::string(100000, 'z'))).ok());
  auto newest = files.load_newest();
  ASSERT_TRUE(newest.ok()) << newest.error();
  ASSERT_TRUE(newest->has_value());
  EXPECT_EQ((*newest)->metadata().index(), 250u);
  EXPECT_EQ((*newest)->metadata().term(), 3u);
  EXPECT_EQ((*newest)->metadata().conf_state().voters_size(), 3);
  EXPECT_EQ((*newest)->data(), std::string(100000, 'z'));
  EXPECT_EQ(files.list().size(), 2u);
  auto removed = files.remove_older();
  ASSERT_TRUE(removed.ok());
  EXPECT_EQ(*removed, 1u);
  ASSERT_EQ(files.list().size(), 1u);
  EXPECT_EQ(files.list()[0], "00000000000000fa-0000000000000003.snap");
}

TEST_F(SnapshotFilesTest, AnInterruptedWriteLeavesNothingThatCounts) {
  std::ofstream(dir_ + "/00000000000000fa-0000000000000003.snap.tmp") << "half a snapshot";
  std::vector<std::string> warnings;
  auto files = SnapshotFiles::open(dir_, &warnings);
  ASSERT_TRUE(files.ok());
  ASSERT_EQ(warnings.size(), 1u);
  EXPECT_NE(warnings[0].find("interrupted"), std::string::npos) << warnings[0];
  EXPECT_TRUE(files->list().empty());
  EXPECT_FALSE(fs::exists(dir_ + "/00000000000000fa-0000000000000003.snap.tmp"));
}

// A snapshot streamed in pieces (as the builder writes one) reads back as one; nothing shows
// before commit(), and a writer dropped before it leaves no file behind.
TEST_F(SnapshotFilesTest, AStreamedSnapshotCountsOnlyOnceCommitted) {
  auto files = open();
  const auto meta = snapshot(40, 5, "").metadata();
  {
    auto dropped = files.begin(meta);
    ASSERT_TRUE(dropped.ok()) << dropped.error();
    ASSERT_TRUE(dropped->write("partial").ok());
  }
  EXPECT_TRUE(fs::is_empty(dir_));
  auto w = files.begin(meta);
  ASSERT_TRUE(w.ok()) << w.error();
  std::string whole;
  for (int i = 0; i < 300; ++i) {
    const std::string piece(static_cast<size_t>(i * 37 % 4096), static_cast<char>(i));
    ASSERT_TRUE(w->write(piece).ok());
    whole += piece;
  }
  EXPECT_EQ(w->data_bytes(), whole.size());
  EXPECT_TRUE(files.list().empty());
  ASSERT_TRUE(w->commit().ok());
  auto newest = files.load_newest();
  ASSERT_TRUE(newest.ok()) << newest.error();
  ASSERT_TRUE(newest->has_value());
  EXPECT_EQ((*newest)->metadata().index(), 40u);
  EXPECT_EQ((*newest)->metadata().conf_state().voters_size(), 3);
  EXPECT_TRUE((*newest)->data() == whole);  // (not printed: hundreds of KiB)
  EXPECT_TRUE(read_range(files) == whole);
}

// Data directories written before snapshots were streamed hold files of the first layout, the
// data's length before the data: they are read as before, and checked the same way.
TEST_F(SnapshotFilesTest, FilesOfTheFirstLayoutAreStillRead) {
  auto files = open();
  const auto snap = snapshot(12, 4, "first layout data");
  const std::string meta = snap.metadata().SerializeAsString();
  std::string bytes = "CAIRNSN1";
  for (int i = 0; i < 4; ++i)
    bytes.push_back(static_cast<char>((meta.size() >> (8 * i)) & 0xff));
  bytes += meta;
  put_u64(bytes, snap.data().size());
  bytes += snap.data();
  put_u64(bytes, XXH3_64bits(bytes.data(), bytes.size()));
  const std::string path = dir_ + "/000000000000000c-0000000000000004.snap";
  std::ofstream(path, std::ios::binary) << bytes;
  auto newest = files.load_newest();
  ASSERT_TRUE(newest.ok()) << newest.error();
  ASSERT_TRUE(newest->has_value());
  EXPECT_EQ((*newest)->metadata().index(), 12u);
  EXPECT_EQ((*newest)->data(), "first layout data");
  EXPECT_EQ(read_range(files), "first layout data");
  bytes[bytes.size() - 20] ^= 1;
  std::ofstream(path, std::ios::binary | std::ios::trunc) << bytes;
  EXPECT_FALSE(files.load_newest().ok());
}

// Every damaged byte (header, metadata, data, checksum) or a cut file is refused by name: a node
// must not start from a snapshot it cannot trust, nor silently from an older one.
TEST_F(SnapshotFilesTest, AnyDamageIsRefusedNamingTheFile) {
  auto files = open();
  ASSERT_TRUE(files.save(snapshot(7, 1, std::string(3000, 'd'))).ok());
  const std::string path = dir_ + "/" + files.list()[0];
  const std::string original = *read_file(path);
  for (size_t off = 0; off < original.size(); off += 13) {
    std::string bad = original;
    bad[off] = static_cast<char>(bad[off] ^ 0x21);
    std::ofstream(path, std::ios::binary | std::ios::trunc) << bad;
    auto r = files.load_newest();
    ASSERT_FALSE(r.ok()) << "offset " << off;
    EXPECT_NE(r.error().find(path), std::string::npos) << r.error();
    auto checked = files.check_newest();
    ASSERT_FALSE(checked.ok()) << "offset " << off;
    // The check start-up runs before restoring (and cairn-data inspect prints) names it too.
    EXPECT_NE(checked.error().find(path), std::string::npos) << checked.error();
  }
  std::ofstream(path, std::ios::binary | std::ios::trunc) << original.substr(0, 100);
  EXPECT_FALSE(files.load_newest().ok());
  std::ofstream(path, std::ios::binary | std::ios::trunc) << original;
  EXPECT_TRUE(files.load_newest().ok());
}

}  // namespace
}  // namespace cairn::storage
