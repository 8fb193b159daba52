// The snapshot builder: what a build leaves in memory and on disk. A build for the log's
// compaction streams to its file and keeps nothing in memory (a cache of gigabytes must not be
// doubled for it); one for a follower keeps its data too; a file that cannot be written leaves no
// partial file, and the data survives it only if it was kept in memory.
#include "node/snapshot_builder.h"

#include <gtest/gtest.h>
#include <unistd.h>

#include <filesystem>
#include <fstream>
#include <future>

#include "cache/engine.h"
#include "cache/snapshot.h"

namespace cairn::node {
namespace {

namespace fs = std::filesystem;
using namespace std::chrono_literals;

class SnapshotBuilderTest : public ::testing::Test {
 protected:
  void SetUp() override {
    std::string tmpl = (fs::temp_directory_path() / "cairn-builder-XXXXXX").string();
    dir_ = mkdtemp(tmpl.data());
    std::vector<std::string> warnings;
    auto f = storage::SnapshotFiles::open(dir_ + "/snap", &warnings);
    ASSERT_TRUE(f.ok()) << f.error();
    files_.emplace(std::move(*f));
    for (int i = 0; i < 2000; ++i) {
      cache::Put p;
      p.key = "key:" + std::to_string(i);
      p.value = std::string(static_cast<size_t>(100 + i % 50), static_cast<char>('a' + i % 26));
      engine_.apply(p, 1000);
    }
  }
  void TearDown() override { fs::remove_all(dir_); }

  // Builds a snapshot at index 9 of the engine's state and waits for the result.
  SnapshotBuilder::Built build(const storage::SnapshotFiles* files) {
    std::promise<SnapshotBuilder::Built> result;
    SnapshotBuilder builder(files,
                            [&](SnapshotBuilder::Built b) { result.set_value(std::move(b)); });
    SnapshotBuilder::Job job;
    job.meta.set_index(9);
    job.meta.set_term(2);
    job.prefix = "PREFIX";
    job.capture = cache::capture_snapshot(engine_);
    builder.start(std::move(job));
    auto f = result.get_future();
    EXPECT_EQ(f.wait_for(30s), std::future_status::ready);
    return f.get();
  }

  // The engine's state as restored from snapshot data (after the prefix).
  void expect_engine_state(std::string_view data) {
    ASSERT_TRUE(data.starts_with("PREFIX"));
    data.remove_prefix(6);
    cache::Engine restored;
    auto info = cache::restore_snapshot(
        restored, [data] { return std::make_unique<cache::StringSource>(data); });
    ASSERT_TRUE(info.ok()) << info.error().message;
    EXPECT_EQ(restored.dbsize(), engine_.dbsize());
    EXPECT_EQ(restored.get("key:1999"), engine_.get("key:1999"));
  }

  std::string dir_;
  std::optional<storage::SnapshotFiles> files_;
  cache::Engine engine_;
};

// With a data directory the snapshot streams to its file and is not also held in memory.
// Caught mutation: node-compaction-snapshot-streamed.
TEST_F(SnapshotBuilderTest, ABuildForCompactionGoesToItsFileOnly) {
  auto built = build(&*files_);
  EXPECT_TRUE(built.error.empty()) << built.error;
  EXPECT_TRUE(built.on_disk);
  EXPECT_FALSE(built.in_memory);
  EXPECT_TRUE(built.snapshot.data().empty());
  EXPECT_EQ(built.snapshot.metadata().index(), 9u);
  auto newest = files_->load_newest();
  ASSERT_TRUE(newest.ok()) << newest.error();
  ASSERT_TRUE(newest->has_value());
  EXPECT_EQ(built.bytes, (*newest)->data().size());
  expect_engine_state((*newest)->data());
}

TEST_F(SnapshotBuilderTest, WithoutADataDirectoryTheDataIsKeptInMemory) {
  auto built = build(nullptr);
  EXPECT_FALSE(built.on_disk);
  ASSERT_TRUE(built.in_memory);
  expect_engine_state(built.snapshot.data());
}

// The snapshot directory has become a file (a full disk in practice): no snapshot, no partial
// file, and an error naming the place.
TEST_F(SnapshotBuilderTest, AFileThatCannotBeWrittenLeavesNoSnapshot) {
  fs::remove_all(dir_ + "/snap");
  { std::ofstream(dir_ + "/snap") << "not a directory"; }
  auto built = build(&*files_);
  EXPECT_FALSE(built.on_disk);
  EXPECT_FALSE(built.in_memory);
  EXPECT_TRUE(built.snapshot.data().empty());
  EXPECT_NE(built.error.find(dir_ + "/snap"), std::string::npos) << built.error;
}

}  // namespace
}  // namespace cairn::node
