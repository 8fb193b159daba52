// Snapshots: round trip of the whole state, and refusal of corrupted or truncated streams with a
// clear error that leaves the current state intact.
#include "cache/snapshot.h"

#include <gtest/gtest.h>

#include <algorithm>

#include "test_util.h"

namespace cairn::cache {
namespace {

using namespace testing;  // NOLINT

std::function<std::unique_ptr<SnapshotSource>()> from(const std::string& bytes) {
  return [&bytes] { return std::make_unique<StringSource>(bytes); };
}

std::string snapshot_of(const Engine& e) {
  StringSink sink;
  auto info = write_snapshot(e, sink);
  EXPECT_TRUE(info.ok());
  return sink.out;
}

// A state with enough data for several 1 MiB blocks, binary keys, and expiries.
void fill(Clocked& c, int n) {
  for (int i = 0; i < n; ++i) {
    std::string key = "key:" + std::to_string(i) + std::string("\0\xff", 2);
    std::string value = std::string(static_cast<size_t>(i % 300), static_cast<char>(i)) + "tail";
    c.set(key, value, i % 3 == 0 ? Expiry::relative(10000 + i) : Expiry::none());
  }
}

void expect_same_state(const Engine& a, const Engine& b) {
  ASSERT_EQ(a.dbsize(), b.dbsize());
  EXPECT_EQ(a.clock_ms(), b.clock_ms());
  for (const Bytes& k : a.keys("*")) {
    ASSERT_EQ(a.get(k), b.get(k));
    ASSERT_EQ(a.pexpiretime(k), b.pexpiretime(k));
  }
}

// The node captures between two applies and streams on another thread while apply goes on: the
// stream must be the state of the capture's moment, whatever is applied after it (values
// rewritten at the same length, which apply would otherwise do in place, replaced, deleted, new
// keys, a later clock), and once the capture ends the engine is as apply left it.
TEST(Snapshot, ACaptureIsTheStateOfItsMomentWhateverIsAppliedAfter) {
  Clocked src;
  fill(src, 5000);
  Engine expected;
  const std::string before = snapshot_of(src.engine);
  ASSERT_TRUE(restore_snapshot(expected, from(before)).ok());
  auto capture = capture_snapshot(src.engine);
  ASSERT_EQ(capture->entries(), 5000u);
  for (int i = 0; i < 5000; i += 7) {
    const std::string key = "key:" + std::to_string(i) + std::string("\0\xff", 2);
    const size_t len = static_cast<size_t>(i % 300) + 4;
    if (i % 3 == 0)
      src.set(key, std::string(len, 'S'));  // same length: in place, but for the capture
    else if (i % 3 == 1)
      src.set(key, std::string(len + 10, 'L'));
    else
      src.apply(Delete{{key}});
  }
  src.set("new-key", "new");
  src.advance(5000);
  StringSink sink;
  auto info = write_captured(*capture, sink);
  ASSERT_TRUE(info.ok()) << info.error().message;
  capture.reset();  // frees what apply replaced meanwhile
  Engine dst;
  ASSERT_TRUE(restore_snapshot(dst, from(sink.out)).ok());
  expect_same_state(expected, dst);
  EXPECT_EQ(sink.out, before);  // byte for byte the stream of that moment
  src.engine.check_invariants();
  EXPECT_EQ(src.get("key:0" + std::string("\0\xff", 2)), std::string(4, 'S'));
  EXPECT_EQ(src.get("new-key"), "new");
}

TEST(Snapshot, RoundTripsTheWholeState) {
  Clocked src;
  fill(src, 20000);
  const std::string bytes = snapshot_of(src.engine);
  EXPECT_EQ(bytes.substr(0, 8), "CAIRNSNP");
  Engine dst;
  auto info = restore_snapshot(dst, from(bytes));
  ASSERT_TRUE(info.ok()) << info.error().message;
  EXPECT_EQ(info->entries, 20000u);
  EXPECT_GT(info->raw_bytes, 2u * kSnapshotMaxBlock);  // really spans several blocks
  EXPECT_EQ(info->compressed_bytes, bytes.size());
  expect_same_state(src.engine, dst);
  dst.check_invariants();
  // And the restored engine keeps working: expiry follows the restored clock.
  dst.apply(Tick{}, kT0 + 10000);
  EXPECT_EQ(dst.get(std::string("key:0\0\xff", 7)), std::nullopt);
  EXPECT_EQ(dst.get(std::string("key:1\0\xff", 7)).has_value(), true);
}

TEST(Snapshot, EmptyStateRoundTrips) {
  Engine src, dst;
  Clocked other;
  other.set("stale", "v");
  auto info = restore_snapshot(other.engine, from(snapshot_of(src)));
  ASSERT_TRUE(info.ok());
  EXPECT_EQ(other.engine.dbsize(), 0u);
}

TEST(Snapshot, CompressesRepetitiveData) {
  Clocked src;
  for (int i = 0; i < 5000; ++i)
    src.set("k" + std::to_string(i), std::string(200, 'a'));
  StringSink sink;
  auto info = write_snapshot(src.engine, sink);
  ASSERT_TRUE(info.ok());
  EXPECT_LT(info->compressed_bytes * 5, info->raw_bytes);
}

class Refused : public ::testing::Test {
 protected:
  void SetUp() override {
    Clocked src;
    fill(src, 8000);
    bytes_ = snapshot_of(src.engine);
    target_.set("mine", "untouched", Expiry::relative(777));
    target_.set("other", "also");
  }
  // The restore must fail with a message containing `what`, and leave the target as it was.
  void expect_refused(const std::string& bad, const std::string& what) {
    auto r = restore_snapshot(target_.engine, from(bad));
    ASSERT_FALSE(r.ok());
    EXPECT_NE(r.error().message.find(what), std::string::npos) << r.error().message;
    EXPECT_EQ(r.error().message.rfind("snapshot: ", 0), 0u);
    EXPECT_EQ(target_.engine.dbsize(), 2u);
    EXPECT_EQ(target_.get("mine"), "untouched");
    EXPECT_EQ(target_.engine.pttl("mine"), 777);
    target_.engine.check_invariants();
  }
  std::string bytes_;
  Clocked target_;
};

TEST_F(Refused, BadMagicAndVersion) {
  std::string bad = bytes_;
  bad[0] = 'X';
  expect_refused(bad, "bad magic");
  bad = bytes_;
  bad[8] = 9;
  expect_refused(bad, "unsupported version 9");
  expect_refused("", "truncated");
  expect_refused("CAIRN", "truncated");
}

TEST_F(Refused, EveryTruncation) {
  // Cut the stream at many points, including inside headers, blocks and the trailer.
  std::vector<size_t> cuts = {16,
                              17,
                              24,
                              31,
                              32,
                              100,
                              bytes_.size() / 2,
                              bytes_.size() - 33,
                              bytes_.size() - 32,
                              bytes_.size() - 20,
                              bytes_.size() - 1};
  for (size_t cut = 40; cut < bytes_.size(); cut += bytes_.size() / 37)
    cuts.push_back(cut);
  for (size_t cut : cuts) {
    SCOPED_TRACE(cut);
    expect_refused(bytes_.substr(0, cut), "snapshot: ");
  }
}

TEST_F(Refused, CorruptedBytesAnywhere) {
  // Flip one bit at positions spread over the whole stream. Every flip that changes what the
  // stream decodes to must be refused. (A flip inside LZ4 data can leave the decoded bytes
  // unchanged, e.g. a match offset moved within a run of equal bytes; the checksums cover the
  // decoded bytes, so such a stream is accepted and restores exactly the original state.)
  Engine original;
  ASSERT_TRUE(restore_snapshot(original, from(bytes_)).ok());
  int refused = 0;
  for (size_t pos = 0; pos < bytes_.size(); pos += 1 + bytes_.size() / 151) {
    SCOPED_TRACE(pos);
    std::string bad = bytes_;
    bad[pos] = static_cast<char>(bad[pos] ^ 0x10);
    auto verified = verify_snapshot(*std::make_unique<StringSource>(bad));
    if (verified.ok()) {
      Engine decoded;
      ASSERT_TRUE(restore_snapshot(decoded, from(bad)).ok());
      expect_same_state(original, decoded);
      continue;
    }
    ++refused;
    expect_refused(bad, "snapshot: ");
  }
  EXPECT_GT(refused, 120);
  std::string bad = bytes_;
  bad[40] = static_cast<char>(bad[40] ^ 1);  // inside the first block's compressed data
  auto r = restore_snapshot(target_.engine, from(bad));
  ASSERT_FALSE(r.ok());
  EXPECT_TRUE(r.error().message.find("checksum mismatch") != std::string::npos ||
              r.error().message.find("LZ4 data is corrupt") != std::string::npos)
      << r.error().message;
}

TEST_F(Refused, TrailingGarbage) {
  expect_refused(bytes_ + "x", "trailing bytes");
}

TEST(Snapshot, ChangedBetweenPassesLeavesAnEmptyStateNotAHalfOne) {
  Clocked src;
  fill(src, 3000);
  const std::string good = snapshot_of(src.engine);
  std::string bad = good;
  bad[bad.size() / 2] = static_cast<char>(bad[bad.size() / 2] ^ 0x40);
  int opened = 0;
  Clocked target;
  target.set("mine", "v");
  auto r = restore_snapshot(target.engine, [&]() -> std::unique_ptr<SnapshotSource> {
    return std::make_unique<StringSource>(opened++ == 0 ? good : bad);
  });
  ASSERT_FALSE(r.ok());
  EXPECT_NE(r.error().message.find("changed between verification and load"), std::string::npos);
  EXPECT_EQ(target.engine.dbsize(), 0u);
  target.engine.check_invariants();
}

TEST(Snapshot, SmallerMaxMemoryEvictsWhileLoading) {
  Clocked src;
  fill(src, 5000);
  const std::string bytes = snapshot_of(src.engine);
  Config cfg;
  cfg.max_memory = 128 * 1024;
  Engine small(cfg);
  auto r = restore_snapshot(small, from(bytes));
  ASSERT_TRUE(r.ok()) << r.error().message;
  EXPECT_LE(small.used_memory(), cfg.max_memory);
  EXPECT_GT(small.stats().evictions, 0u);
  small.check_invariants();
}

}  // namespace
}  // namespace cairn::cache
