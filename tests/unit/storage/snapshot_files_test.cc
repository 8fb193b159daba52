// Snapshot files: saved durably under their index and term, read back whole, the newest chosen,
// older ones removed, leftovers of an interrupted write cleaned up, and any damaged byte refused
// with the file's name.
#include "storage/snapshot_files.h"

#include <gtest/gtest.h>
#include <unistd.h>

#include <filesystem>
#include <fstream>

#include "storage/files.h"

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
  }
  std::ofstream(path, std::ios::binary | std::ios::trunc) << original.substr(0, 100);
  EXPECT_FALSE(files.load_newest().ok());
  std::ofstream(path, std::ios::binary | std::ios::trunc) << original;
  EXPECT_TRUE(files.load_newest().ok());
}

}  // namespace
}  // namespace cairn::storage
