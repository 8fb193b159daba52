// Memory accounting, the max-memory limit, the eviction policies and their stats.
#include <gtest/gtest.h>

#include "test_util.h"

namespace cairn::cache {
namespace {

using namespace testing;  // NOLINT

TEST(Footprint, ModelsGlibcChunks) {
  EXPECT_EQ(malloc_footprint(1), 32u);
  EXPECT_EQ(malloc_footprint(24), 32u);
  EXPECT_EQ(malloc_footprint(25), 48u);
  EXPECT_EQ(malloc_footprint(72), 80u);
  EXPECT_EQ(malloc_footprint(73), 96u);
  // A 16-byte key and 32-byte value fit the 80-byte chunk: that is the layout's point.
  EXPECT_EQ(entry_footprint(16, 32), 80u);
}

TEST(Accounting, TracksEntriesExactly) {
  Clocked c;
  const uint64_t base = c.engine.used_memory();
  c.set("k", std::string(1000, 'v'));
  EXPECT_EQ(c.engine.used_memory(), base + entry_footprint(1, 1000));
  c.apply(Append{"k", "x"});
  EXPECT_EQ(c.engine.used_memory(), base + entry_footprint(1, 1001));
  c.apply(Expire{"k", Expiry::relative(100)});
  EXPECT_EQ(c.engine.used_memory(), base + entry_footprint(1, 1001) + 64);
  c.apply(Delete{{"k"}});
  EXPECT_EQ(c.engine.used_memory(), base);
}

TEST(Accounting, ReturnsToBaselineAfterMassDelete) {
  Clocked c;
  const uint64_t base = c.engine.used_memory();
  for (int i = 0; i < 20000; ++i)
    c.set("key" + std::to_string(i), "value");
  EXPECT_GT(c.engine.used_memory(), base + 20000 * 32);
  for (int i = 0; i < 20000; ++i)
    c.apply(Delete{{"key" + std::to_string(i)}});
  c.engine.check_invariants();
  // The hash table shrank back; the FIFO ring of the default policy keeps its capacity.
  EXPECT_LT(c.engine.used_memory(), base + 20000 * 24);
  EXPECT_EQ(c.engine.stats().keys, 0u);
}

TEST(NoEviction, RefusesWritesThatNeedMemoryWithRedisText) {
  Config cfg;
  cfg.policy = EvictionPolicy::kNoEviction;
  cfg.max_memory = 64 * 1024;
  Clocked c(cfg);
  int stored = 0;
  Reply last;
  for (int i = 0; i < 10000; ++i) {
    last = c.set("k" + std::to_string(i), std::string(100, 'v'));
    if (std::holds_alternative<Error>(last)) break;
    ++stored;
  }
  EXPECT_EQ(error_text(last), "OOM command not allowed when used memory > 'maxmemory'.");
  EXPECT_EQ(std::get<Error>(last).code, ErrorCode::kOutOfMemory);
  EXPECT_GT(stored, 100);
  EXPECT_LE(c.engine.used_memory(), cfg.max_memory);
  EXPECT_EQ(c.engine.stats().evictions, 0u);
  // Writes that free memory still work; then there is room again.
  EXPECT_EQ(c.apply(Delete{{"k0", "k1"}}), num(2));
  EXPECT_EQ(c.set("again", std::string(100, 'v')), ok());
  EXPECT_EQ(std::get<Error>(c.apply(Append{"again", std::string(8000, 'x')})).code,
            ErrorCode::kOutOfMemory);
  EXPECT_EQ(c.engine.strlen("again"), 100);
}

class EvictingPolicy : public ::testing::TestWithParam<EvictionPolicy> {};

TEST_P(EvictingPolicy, StaysUnderTheLimitAndCountsEvictions) {
  Config cfg;
  cfg.policy = GetParam();
  cfg.max_memory = 256 * 1024;
  Clocked c(cfg);
  for (int i = 0; i < 20000; ++i) {
    ASSERT_EQ(c.set("k" + std::to_string(i), std::string(64, 'v')), ok());
    ASSERT_LE(c.engine.used_memory(), cfg.max_memory);
  }
  Stats s = c.engine.stats();
  EXPECT_GT(s.evictions, 10000u);
  EXPECT_EQ(s.keys + s.evictions, 20000u);
  EXPECT_GT(s.used_memory, cfg.max_memory * 8 / 10);  // eviction frees only what it needs
}

TEST_P(EvictingPolicy, KeepsAFrequentlyReadKey) {
  Config cfg;
  cfg.policy = GetParam();
  cfg.max_memory = 128 * 1024;
  Clocked c(cfg);
  c.set("hot", "v");
  for (int i = 0; i < 20000; ++i) {
    c.set("cold" + std::to_string(i), std::string(32, 'v'));
    ASSERT_EQ(c.get("hot"), "v") << "evicted after " << i << " inserts";
  }
}

TEST_P(EvictingPolicy, AValueLargerThanTheLimitIsRefused) {
  Config cfg;
  cfg.policy = GetParam();
  cfg.max_memory = 64 * 1024;
  Clocked c(cfg);
  c.set("small", "v");
  EXPECT_EQ(error_text(c.set("huge", std::string(128 * 1024, 'v'))),
            "OOM command not allowed when used memory > 'maxmemory'.");
}

TEST_P(EvictingPolicy, NeverEvictsTheKeyBeingWritten) {
  Config cfg;
  cfg.policy = GetParam();
  cfg.max_memory = 64 * 1024;
  Clocked c(cfg);
  for (int i = 0; i < 2000; ++i)
    c.set("k" + std::to_string(i), std::string(16, 'v'));
  for (int i = 0; i < 50; ++i) {
    ASSERT_TRUE(std::holds_alternative<int64_t>(c.apply(Append{"grow", std::string(256, 'x')})));
  }
  EXPECT_EQ(c.engine.strlen("grow"), 50 * 256);
}

INSTANTIATE_TEST_SUITE_P(Policies, EvictingPolicy,
                         ::testing::Values(EvictionPolicy::kAllKeysLru, EvictionPolicy::kSieve,
                                           EvictionPolicy::kS3Fifo),
                         [](const auto& param_info) {
                           std::string n(policy_name(param_info.param));
                           for (char& ch : n)
                             if (ch == '-') ch = '_';
                           return n;
                         });

TEST(Policy, NamesParse) {
  EXPECT_EQ(parse_policy("allkeys-lru"), EvictionPolicy::kAllKeysLru);
  EXPECT_EQ(parse_policy("s3-fifo"), EvictionPolicy::kS3Fifo);
  EXPECT_EQ(parse_policy("sieve"), EvictionPolicy::kSieve);
  EXPECT_EQ(parse_policy("noeviction"), EvictionPolicy::kNoEviction);
  EXPECT_EQ(parse_policy("lfu"), std::nullopt);
}

}  // namespace
}  // namespace cairn::cache
