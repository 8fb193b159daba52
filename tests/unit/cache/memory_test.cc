// Memory accounting, the max-memory limit, the eviction policies and their stats.
#include <gtest/gtest.h>

#include <memory>
#include <set>

#include "cache/snapshot.h"
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

TEST(Config, ValidateExplainsLimits) {
  Config cfg;
  EXPECT_EQ(validate(cfg), std::nullopt);
  cfg.max_value_bytes = uint64_t{1} << 33;
  EXPECT_EQ(validate(cfg), "max value size 8589934592 is over the limit of 4294967295 bytes");
  cfg = Config{};
  cfg.max_key_bytes = uint64_t{1} << 20;
  EXPECT_EQ(validate(cfg), "max key size 1048576 is over the limit of 1048575 bytes");
}

// With replicated eviction, noeviction still refuses in apply: accounting is a function of the
// state, not of the history that built it, so every replica refuses the same write. Replica b
// joins from a's snapshot after a third of the log and applies the rest (its table and blocks were
// built by a restore, not by these writes).
// Caught mutation: cache-memory-noeviction-refuses
TEST(NoEviction, RefusesIdenticallyOnReplicas) {
  Config cfg;
  cfg.policy = EvictionPolicy::kNoEviction;
  cfg.max_memory = 32 * 1024;
  cfg.evict_on_apply = false;
  Engine a(cfg), b(cfg);
  const auto command = [](int i) {
    return i % 4 == 3 ? Command{Delete{{"k" + std::to_string(i - 2)}}}
                      : Command{put("k" + std::to_string(i), std::string(40, 'v'))};
  };
  int refused = 0;
  for (int i = 0; i < 300; ++i) {
    Reply ra = a.apply(command(i), kT0 + i);
    refused += std::holds_alternative<Error>(ra) ? 1 : 0;
  }
  StringSink snapshot;
  ASSERT_TRUE(write_snapshot(a, snapshot).ok());
  ASSERT_TRUE(
      restore_snapshot(b, [&] { return std::make_unique<StringSource>(snapshot.out); }).ok());
  ASSERT_EQ(a.used_memory(), b.used_memory());
  for (int i = 300; i < 1000; ++i) {
    Reply ra = a.apply(command(i), kT0 + i);
    ASSERT_EQ(ra, b.apply(command(i), kT0 + i)) << i;
    refused += std::holds_alternative<Error>(ra) ? 1 : 0;
  }
  EXPECT_GT(refused, 100);
  EXPECT_LE(a.used_memory(), cfg.max_memory);
  EXPECT_EQ(a.dbsize(), b.dbsize());
  EXPECT_EQ(a.used_memory(), b.used_memory());
}

TEST(Policy, NamesParse) {
  EXPECT_EQ(parse_policy("allkeys-lru"), EvictionPolicy::kAllKeysLru);
  EXPECT_EQ(parse_policy("s3-fifo"), EvictionPolicy::kS3Fifo);
  EXPECT_EQ(parse_policy("sieve"), EvictionPolicy::kSieve);
  EXPECT_EQ(parse_policy("noeviction"), EvictionPolicy::kNoEviction);
  EXPECT_EQ(parse_policy("lfu"), std::nullopt);
}

}  // namespace
}  // namespace cairn::cache

namespace cairn::cache {
namespace {

using namespace testing;  // NOLINT

// Replicated eviction: a leader and a follower apply the same log; only the leader's engine picks
// victims, and the Evict entry it proposes is applied by both.
struct Pair {
  explicit Pair(EvictionPolicy p) : leader(config(p)), follower(config(p)) {}
  static Config config(EvictionPolicy p) {
    Config cfg;
    cfg.policy = p;
    cfg.max_memory = 96 * 1024;
    cfg.evict_on_apply = false;
    return cfg;
  }
  std::vector<Reply> apply(const Command& cmd) {
    return {leader.apply(cmd, now), follower.apply(cmd, now)};
  }
  // What the node layer does after each apply on the leader.
  void evict_if_needed() {
    auto keys = leader.eviction_candidates(1000);
    if (!keys.empty()) apply(Evict{keys});
  }
  Engine leader;
  Engine follower;
  int64_t now = kT0;
};

class ReplicatedEviction : public ::testing::TestWithParam<EvictionPolicy> {};

TEST_P(ReplicatedEviction, ReplicasDropTheSameKeysAndAgreeAfterReadModifyWrite) {
  Pair pair(GetParam());
  for (int i = 0; i < 5000; ++i) {
    std::string k = "k" + std::to_string(i % 1500);
    // Reads only on the leader: the policies' views differ, their states must not.
    (void)pair.leader.get("k" + std::to_string(i % 7));
    auto r = pair.apply(i % 3 == 0 ? Command{IncrBy{k, 1}} : Command{Append{k, "-appended-"}});
    ASSERT_EQ(r[0], r[1]) << i;
    pair.evict_if_needed();
  }
  EXPECT_GT(pair.leader.stats().evictions, 100u);
  EXPECT_EQ(pair.leader.stats().evictions, pair.follower.stats().evictions);
  EXPECT_LE(pair.leader.used_memory(), Pair::config(GetParam()).max_memory);
  auto keys = pair.leader.keys("*");
  ASSERT_EQ(keys.size(), pair.follower.dbsize());
  for (const Bytes& k : keys)
    ASSERT_EQ(pair.leader.get(k), pair.follower.get(k));
  pair.leader.check_invariants();
  pair.follower.check_invariants();
}

TEST_P(ReplicatedEviction, ApplyNeverEvictsOnItsOwn) {
  Pair pair(GetParam());
  for (int i = 0; i < 3000; ++i)
    pair.apply(put("k" + std::to_string(i), std::string(64, 'v')));
  EXPECT_EQ(pair.follower.stats().evictions, 0u);
  EXPECT_EQ(pair.follower.dbsize(), 3000u);
  EXPECT_GT(pair.follower.used_memory(), Pair::config(GetParam()).max_memory);
}

TEST_P(ReplicatedEviction, CandidatesAreDistinctAndCancellable) {
  Pair pair(GetParam());
  for (int i = 0; i < 3000; ++i)
    pair.apply(put("k" + std::to_string(i), std::string(64, 'v')));
  auto first = pair.leader.eviction_candidates(50);
  auto second = pair.leader.eviction_candidates(50);
  pair.leader.check_invariants();  // 100 entries handed out: in the table, out of the policy
  ASSERT_EQ(first.size(), 50u);
  std::set<Bytes> all(first.begin(), first.end());
  all.insert(second.begin(), second.end());
  EXPECT_EQ(all.size(), first.size() + second.size());
  // A candidate rewritten or deleted before its Evict commits is handled, then the rest is
  // returned to the policy.
  pair.apply(put(first[0], "rewritten"));
  pair.apply(Delete{{first[1]}});
  pair.leader.cancel_evictions();
  pair.leader.check_invariants();
  for (int round = 0; round < 10; ++round)
    pair.evict_if_needed();
  EXPECT_LE(pair.leader.used_memory(), Pair::config(GetParam()).max_memory);
  EXPECT_EQ(pair.leader.dbsize(), pair.follower.dbsize());
}

INSTANTIATE_TEST_SUITE_P(Policies, ReplicatedEviction,
                         ::testing::Values(EvictionPolicy::kAllKeysLru, EvictionPolicy::kSieve,
                                           EvictionPolicy::kS3Fifo),
                         [](const auto& param_info) {
                           std::string n(policy_name(param_info.param));
                           for (char& ch : n)
                             if (ch == '-') ch = '_';
                           return n;
                         });

}  // namespace
}  // namespace cairn::cache
