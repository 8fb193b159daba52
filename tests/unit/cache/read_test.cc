// Readers: semantics of get/exists/ttl/strlen/getrange/scan/keys/randomkey/dbsize, SCAN's
// guarantee under resizes, and readers running concurrently with the apply thread (this binary is
// also run under ThreadSanitizer in CI).
#include <gtest/gtest.h>

#include <atomic>
#include <condition_variable>
#include <latch>
#include <map>
#include <mutex>
#include <set>
#include <thread>

#include "cache/snapshot.h"
#include "test_util.h"

namespace cairn::cache {
namespace {

using namespace testing;  // NOLINT

TEST(Read, GetRangeFollowsRedis) {
  Clocked c;
  c.set("k", "This is a string");
  EXPECT_EQ(c.engine.getrange("k", 0, 3), "This");
  EXPECT_EQ(c.engine.getrange("k", -3, -1), "ing");
  EXPECT_EQ(c.engine.getrange("k", 0, -1), "This is a string");
  EXPECT_EQ(c.engine.getrange("k", 10, 100), "string");
  EXPECT_EQ(c.engine.getrange("k", 5, 3), "");
  EXPECT_EQ(c.engine.getrange("k", -1, -5), "");
  EXPECT_EQ(c.engine.getrange("missing", 0, -1), "");
  EXPECT_EQ(c.engine.strlen("k"), 16);
  EXPECT_EQ(c.engine.strlen("missing"), 0);
}

TEST(Read, GetWithLendsTheValueWithoutACopy) {
  Clocked c;
  c.set("k", std::string("bin\0ary", 7));
  std::string out;
  EXPECT_TRUE(c.engine.get_with("k", [&](std::string_view v) { out.assign(v); }));
  EXPECT_EQ(out, std::string("bin\0ary", 7));
  EXPECT_FALSE(c.engine.get_with("missing", [&](std::string_view) { ADD_FAILURE(); }));
  EXPECT_EQ(c.engine.stats().hits, 1u);
  EXPECT_EQ(c.engine.stats().misses, 1u);
}

TEST(Read, TtlAndExists) {
  Clocked c;
  c.set("a", "1", Expiry::relative(1500));
  c.set("b", "2");
  EXPECT_EQ(c.engine.pttl("a"), 1500);
  EXPECT_EQ(c.engine.pttl("b"), kTtlNoExpiry);
  EXPECT_EQ(c.engine.pttl("c"), kTtlNoKey);
  EXPECT_EQ(c.engine.exists({"a", "b", "c", "a"}), 3);
}

TEST(Read, KeysAndDbsizeAndRandomKey) {
  Clocked c;
  EXPECT_EQ(c.engine.random_key(), std::nullopt);
  for (int i = 0; i < 50; ++i)
    c.set("user:" + std::to_string(i), "v");
  c.set("other", "v");
  EXPECT_EQ(c.engine.dbsize(), 51u);
  EXPECT_EQ(c.engine.keys("user:*").size(), 50u);
  EXPECT_EQ(c.engine.keys("user:1?").size(), 10u);
  std::set<Bytes> seen;
  for (int i = 0; i < 500; ++i)
    seen.insert(*c.engine.random_key());
  EXPECT_GT(seen.size(), 30u);
}

TEST(Read, StatsCountHitsAndMisses) {
  Clocked c;
  c.set("a", "1");
  (void)c.get("a");
  (void)c.get("a");
  (void)c.get("zz");
  Stats s = c.engine.stats();
  EXPECT_EQ(s.hits, 2u);
  EXPECT_EQ(s.misses, 1u);
  EXPECT_EQ(s.keys, 1u);
  EXPECT_EQ(s.clock_ms, kT0);
  c.engine.reset_stats();
  s = c.engine.stats();
  EXPECT_EQ(s.hits + s.misses + s.evictions + s.expirations, 0u);
  EXPECT_EQ(s.keys, 1u);
}

std::set<Bytes> full_scan(const Engine& e, std::string_view pattern = "*", size_t count = 10) {
  std::set<Bytes> out;
  uint64_t cursor = 0;
  do {
    ScanPage page = e.scan(cursor, pattern, count);
    out.insert(page.keys.begin(), page.keys.end());
    cursor = page.cursor;
  } while (cursor != 0);
  return out;
}

TEST(Scan, ReturnsEverythingAndFilters) {
  Clocked c;
  for (int i = 0; i < 1000; ++i)
    c.set("k" + std::to_string(i), "v");
  c.set("other", "v");
  EXPECT_EQ(full_scan(c.engine).size(), 1001u);
  EXPECT_EQ(full_scan(c.engine, "k99*").size(), 11u);
  EXPECT_EQ(full_scan(c.engine, "*", 1).size(), 1001u);
}

// However large COUNT is, one call examines at most kScanMaxVisits keys (the reader holds the lock
// apply needs); the cursor goes on from there and a full scan still returns every key.
// Caught mutation: cache-scan-count-unbounded
TEST(Scan, OneCallIsBoundedWhateverTheCount) {
  Clocked c;
  const size_t n = Engine::kScanMaxVisits * 3;
  for (size_t i = 0; i < n; ++i)
    c.set("k" + std::to_string(i), "v");
  ScanPage page = c.engine.scan(0, "*", n * 10);
  EXPECT_NE(page.cursor, 0u);
  EXPECT_GT(page.keys.size(), 0u);
  // The call stops at the first bucket boundary past the limit: a chain or two more at most.
  EXPECT_LE(page.keys.size(), Engine::kScanMaxVisits + 16);
  EXPECT_EQ(full_scan(c.engine, "*", n * 10).size(), n);
}

// KEYS: a keyspace up to kKeysAtOnce keys is read in one step; past it, in steps of bounded work
// with SCAN's promise, each key once even when the table resizes between steps.
TEST(Keys, SmallKeyspaceInOneStep) {
  Clocked c;
  c.set("a1", "v");
  c.set("a2", "v");
  c.set("b", "v");
  KeysWalk walk;
  walk.pattern = "a*";
  EXPECT_TRUE(c.engine.keys_step(walk));
  EXPECT_FALSE(walk.in_steps);
  ASSERT_EQ(walk.size(), 2u);
  EXPECT_EQ((std::set<Bytes>{Bytes(walk.key(0)), Bytes(walk.key(1))}),
            (std::set<Bytes>{"a1", "a2"}));
}

// Caught mutation: cache-keys-walk-no-dedupe-after-shrink
TEST(Keys, LargeKeyspaceInBoundedStepsEachKeyOnce) {
  Clocked c;
  // Past kKeysAtOnce keys, of which the 2000 "stable" ones stay for the whole walk.
  const size_t stable = 2000, filler = Engine::kKeysAtOnce;
  for (size_t i = 0; i < stable; ++i)
    c.set("stable" + std::to_string(i), "v");
  // Straight to the engine below: Clocked's invariant checks would make this slow.
  for (size_t i = 0; i < filler; ++i)
    c.engine.apply(put("filler" + std::to_string(i), "v"), c.now);
  KeysWalk walk;
  walk.pattern = "stable*";
  size_t steps = 0;
  bool done = false;
  while (!done) {
    done = c.engine.keys_step(walk);
    ++steps;
    ASSERT_LE(steps, 10000u);
    // Between steps: grow the table a lot (resizes), then delete all but the stable keys, which
    // shrinks it.
    if (steps == 2) {
      for (size_t i = 0; i < 4 * filler; ++i)
        c.engine.apply(put("tmp" + std::to_string(i), "v"), c.now);
    } else if (steps == 4) {
      for (size_t i = 0; i < 4 * filler; ++i)
        c.engine.apply(Delete{{"tmp" + std::to_string(i)}}, c.now);
      for (size_t i = 0; i < filler; ++i)
        c.engine.apply(Delete{{"filler" + std::to_string(i)}}, c.now);
    }
  }
  EXPECT_TRUE(walk.in_steps);
  EXPECT_TRUE(walk.dedupe) << steps << " steps";  // the table shrank under it
  std::set<Bytes> keys;
  for (size_t i = 0; i < walk.size(); ++i)
    keys.emplace(walk.key(i));
  EXPECT_EQ(walk.size(), stable);
  EXPECT_EQ(keys.size(), stable);
  c.engine.check_invariants();
}

// Redis's promise: a key present from the start to the end of a full scan is returned, even if
// the table grows or shrinks between calls.
TEST(Scan, StableAcrossGrowAndShrink) {
  Clocked c;
  for (int i = 0; i < 300; ++i)
    c.set("stable" + std::to_string(i), "v");
  uint64_t cursor = 0;
  std::set<Bytes> seen;
  int round = 0;
  do {
    ScanPage page = c.engine.scan(cursor, "*", 5);
    seen.insert(page.keys.begin(), page.keys.end());
    cursor = page.cursor;
    // Alternate heavy growth and heavy shrinking of the table between calls.
    if (round % 6 == 1) {
      for (int i = 0; i < 3000; ++i)
        c.set("tmp" + std::to_string(round) + "_" + std::to_string(i), "v");
    } else if (round % 6 == 4) {
      for (const Bytes& k : c.engine.keys("tmp*"))
        c.apply(Delete{{k}});
    }
    ++round;
  } while (cursor != 0);
  for (int i = 0; i < 300; ++i)
    EXPECT_TRUE(seen.count("stable" + std::to_string(i))) << i;
}

// One apply thread writes, expires, deletes and evicts while reader threads call every read
// method. Run under TSan this checks the locking; the assertions check readers never see torn or
// foreign values, and that the limit holds after every apply while eviction runs throughout (the
// 2000 keys of ~300 bytes need about three times the limit).
// Caught mutation: cache-memory-trim
TEST(Concurrency, ReadersWhileApplying) {
  Config cfg;
  cfg.max_memory = 256 << 10;
  Engine engine(cfg);
  const auto value_of = [](const std::string& k) {
    return "value-of-" + k + std::string(256, '.');
  };
  std::atomic<uint64_t> over_limit{0};
  std::atomic<bool> stop{false};
  // The writer starts once every reader runs, and each reader reads at least once, so the
  // reads really overlap the writes however the threads are scheduled.
  std::latch readers_started(3);
  std::thread writer([&] {
    readers_started.wait();
    int64_t t = kT0;
    for (int i = 0; i < 30000; ++i) {
      std::string k = "k" + std::to_string(i % 2000);
      std::string v = value_of(k);
      switch (i % 7) {
        case 0:
          engine.apply(Delete{{k}}, t);
          break;
        case 1:
          engine.apply(Put{k, v, PutCondition::kAlways, false, Expiry::relative(5)}, t);
          break;
        case 2:
          engine.apply(Tick{}, t += 3);
          break;
        default:
          engine.apply(put(k, v), t);
          break;
      }
      if (engine.used_memory() > cfg.max_memory) ++over_limit;
    }
    stop = true;
  });
  std::vector<std::thread> readers;
  std::atomic<uint64_t> reads{0};
  for (int r = 0; r < 3; ++r) {
    readers.emplace_back([&, r] {
      uint64_t cursor = 0;
      uint64_t n = 0;
      readers_started.count_down();
      do {
        std::string k = "k" + std::to_string((n * 7 + static_cast<uint64_t>(r)) % 2000);
        if (auto v = engine.get(k)) {
          EXPECT_EQ(*v, value_of(k));
        }
        engine.get_with(k, [&](std::string_view v) { EXPECT_EQ(v, value_of(k)); });
        (void)engine.exists({k});
        (void)engine.pttl(k);
        (void)engine.strlen(k);
        Bytes range = engine.getrange(k, 0, 8);
        EXPECT_TRUE(range.empty() || range == "value-of-");
        ScanPage page = engine.scan(cursor, "k1*", 20);
        for (const Bytes& key : page.keys)
          EXPECT_EQ(key[1], '1');
        cursor = page.cursor;
        (void)engine.random_key();
        (void)engine.dbsize();
        (void)engine.stats();
        (void)engine.used_memory();
        if (n % 50 == 0) (void)engine.keys("k19*");
        ++n;
      } while (!stop.load());
      reads += n;
    });
  }
  writer.join();
  for (auto& t : readers)
    t.join();
  engine.check_invariants();
  EXPECT_GT(reads.load(), 0u);
  EXPECT_EQ(over_limit.load(), 0u);
  EXPECT_GT(engine.stats().evictions, 1000u);
  EXPECT_LE(engine.used_memory(), cfg.max_memory);
}

// A snapshot streams without the lock while apply goes on: it must contain exactly the state at
// its start, even though apply meanwhile overwrites (same-length values, normally rewritten in
// place), deletes, changes TTLs and clears everything. A sink that blocks on its first write holds
// the snapshot right after its capture while the test thread applies; under TSan this also checks
// that apply never touches the bytes the snapshot is reading.
TEST(Concurrency, SnapshotWhileApplying) {
  Engine engine;
  std::map<Bytes, std::pair<Bytes, int64_t>> expected;
  for (int i = 0; i < 3000; ++i) {
    std::string k = "key" + std::to_string(i);
    std::string v = "value-" + std::to_string(i * 7);
    Expiry x = i % 3 == 0 ? Expiry::relative(100000 + i) : Expiry::none();
    engine.apply(put(k, v, x), kT0);
    expected[k] = {v, x.kind == Expiry::Kind::kNone ? kTtlNoExpiry : kT0 + 100000 + i};
  }
  struct BlockingSink : SnapshotSink {
    std::mutex mu;
    std::condition_variable cv;
    bool started = false;
    bool go = false;
    std::string out;
    bool write(const char* data, size_t n) override {
      std::unique_lock lock(mu);
      if (!started) {
        started = true;
        cv.notify_all();
        cv.wait(lock, [&] { return go; });
      }
      out.append(data, n);
      return true;
    }
  } sink;
  std::thread writer([&] { ASSERT_TRUE(write_snapshot(engine, sink).ok()); });
  {
    std::unique_lock lock(sink.mu);
    sink.cv.wait(lock, [&] { return sink.started; });
  }
  for (int i = 0; i < 3000; ++i) {
    std::string k = "key" + std::to_string(i);
    engine.apply(put(k, std::string(expected[k].first.size(), 'X')), kT0 + 1);  // same length
    if (i % 2 == 0) engine.apply(Expire{k, Expiry::relative(5)}, kT0 + 1);
    if (i % 5 == 0) engine.apply(Delete{{k}}, kT0 + 1);
  }
  engine.apply(Clear{}, kT0 + 2);
  engine.apply(put("after", "snapshot"), kT0 + 2);
  {
    std::lock_guard lock(sink.mu);
    sink.go = true;
  }
  sink.cv.notify_all();
  writer.join();

  Engine restored;
  ASSERT_TRUE(
      restore_snapshot(restored, [&] { return std::make_unique<StringSource>(sink.out); }).ok());
  EXPECT_EQ(restored.clock_ms(), kT0);
  ASSERT_EQ(restored.dbsize(), expected.size());
  for (const auto& [k, ve] : expected) {
    ASSERT_EQ(restored.get(k), ve.first) << k;
    ASSERT_EQ(restored.pexpiretime(k), ve.second) << k;
  }
  EXPECT_EQ(engine.dbsize(), 1u);
  EXPECT_EQ(engine.get("after"), "snapshot");
  engine.check_invariants();
}

}  // namespace
}  // namespace cairn::cache
