#include "node/hard_state_file.h"

#include <gtest/gtest.h>
#include <unistd.h>

#include <filesystem>
#include <fstream>

namespace cairn::node {
namespace {

std::string temp_dir() {
  std::string tmpl = (std::filesystem::temp_directory_path() / "cairn-hs-XXXXXX").string();
  return mkdtemp(tmpl.data());
}

TEST(HardStateFile, NothingStoredThenWhatWasStoredLast) {
  const std::string dir = temp_dir() + "/nested/data";
  auto f = HardStateFile::open(dir);
  ASSERT_TRUE(f.ok()) << f.error();
  auto empty = f->load();
  ASSERT_TRUE(empty.ok());
  EXPECT_FALSE(empty->has_value());
  ASSERT_TRUE(f->store({5, 2}).ok());
  ASSERT_TRUE(f->store({6, 0}).ok());
  auto again = HardStateFile::open(dir);
  ASSERT_TRUE(again.ok());
  auto loaded = again->load();
  ASSERT_TRUE(loaded.ok());
  ASSERT_TRUE(loaded->has_value());
  EXPECT_EQ(**loaded, (TermAndVote{6, 0}));
  EXPECT_FALSE(std::filesystem::exists(f->path() + ".tmp"));
  std::filesystem::remove_all(dir);
}

TEST(HardStateFile, ACorruptFileIsAnErrorNotAGuess) {
  const std::string dir = temp_dir();
  auto f = HardStateFile::open(dir);
  ASSERT_TRUE(f.ok());
  for (const char* text : {"", "cairn-hard-state 1 term=5\n", "cairn-hard-state 2 term=5 vote=1\n",
                           "cairn-hard-state 1 term=5 vote=1 extra\n", "garbage"}) {
    std::ofstream(f->path(), std::ios::trunc) << text;
    auto loaded = f->load();
    ASSERT_FALSE(loaded.ok()) << "accepted '" << text << "'";
    EXPECT_NE(loaded.error().find("corrupt"), std::string::npos) << loaded.error();
  }
  std::filesystem::remove_all(dir);
}

TEST(HardStateFile, TheRecoveringMarkIsThereFromItsStoreUntilItsRemoval) {
  const std::string dir = temp_dir();
  auto f = HardStateFile::open(dir);
  ASSERT_TRUE(f.ok());
  EXPECT_FALSE(*f->load_recovering());
  ASSERT_TRUE(f->store_recovering(true).ok());
  EXPECT_TRUE(*HardStateFile::open(dir)->load_recovering());
  ASSERT_TRUE(f->store_recovering(false).ok());
  EXPECT_FALSE(*HardStateFile::open(dir)->load_recovering());
  ASSERT_TRUE(f->store_recovering(false).ok());  // removing what is not there is fine
  std::filesystem::remove_all(dir);
}

TEST(HardStateFile, TheMembershipIsStoredBesideTermAndVote) {
  const std::string dir = temp_dir();
  auto f = HardStateFile::open(dir);
  ASSERT_TRUE(f.ok());
  auto none = f->load_members();
  ASSERT_TRUE(none.ok());
  EXPECT_FALSE(none->has_value());
  ASSERT_TRUE(f->store_members("1=127.0.0.1:9001").ok());
  ASSERT_TRUE(f->store_members("1=127.0.0.1:9001,2=127.0.0.1:9002").ok());
  auto again = HardStateFile::open(dir);
  ASSERT_TRUE(again.ok());
  auto loaded = again->load_members();
  ASSERT_TRUE(loaded.ok()) << loaded.error();
  ASSERT_TRUE(loaded->has_value());
  EXPECT_EQ(**loaded, "1=127.0.0.1:9001,2=127.0.0.1:9002");
  std::ofstream(dir + "/members", std::ios::trunc) << "cairn-members 1 \n";
  auto empty = again->load_members();
  ASSERT_FALSE(empty.ok());
  EXPECT_NE(empty.error().find("corrupt"), std::string::npos) << empty.error();
  std::ofstream(dir + "/members", std::ios::trunc) << "garbage\n";
  EXPECT_FALSE(again->load_members().ok());
  std::filesystem::remove_all(dir);
}

TEST(HardStateFile, AnUnusableDirectoryIsRefusedAtOpen) {
  const std::string dir = temp_dir();
  const std::string file = dir + "/a-file";
  std::ofstream(file) << "x";
  auto f = HardStateFile::open(file + "/sub");
  ASSERT_FALSE(f.ok());
  EXPECT_NE(f.error().find("cannot create data directory"), std::string::npos) << f.error();
  std::filesystem::remove_all(dir);
}

}  // namespace
}  // namespace cairn::node
