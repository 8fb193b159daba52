// Consistent expiry: visibility is judged against the replicated clock carried by the log, so
// replicas with skewed wall clocks agree, the clock never runs backwards across leaders, and
// lazy plus active expiry reclaim memory with an injected (hand-driven) time.
#include <gtest/gtest.h>

#include <map>
#include <random>

#include "test_util.h"

namespace cairn::cache {
namespace {

using namespace testing;  // NOLINT

TEST(Expiry, KeyVanishesExactlyAtItsTime) {
  Clocked c;
  c.set("k", "v", Expiry::relative(100));
  c.advance(99);
  EXPECT_EQ(c.get("k"), "v");
  EXPECT_EQ(c.engine.pttl("k"), 1);
  c.now += 1;  // time moves but nothing is applied: readers still see the old state
  EXPECT_EQ(c.get("k"), "v");
  c.apply(Tick{});
  EXPECT_EQ(c.get("k"), std::nullopt);
  EXPECT_EQ(c.engine.pttl("k"), kTtlNoKey);
}

TEST(Expiry, ClockNeverRunsBackwards) {
  Clocked c;
  c.set("k", "v", Expiry::relative(100));
  c.now = kT0 + 200;  // a leader whose clock runs ahead
  c.apply(Tick{});
  EXPECT_EQ(c.get("k"), std::nullopt);
  c.now = kT0 + 10;  // the next leader's clock is behind: the key must not come back
  c.set("other", "x");
  EXPECT_EQ(c.get("k"), std::nullopt);
  EXPECT_EQ(c.engine.clock_ms(), kT0 + 200);
  // And a relative TTL proposed by the slow leader counts from the replicated clock.
  c.set("t", "v", Expiry::relative(50));
  EXPECT_EQ(c.engine.pexpiretime("t"), kT0 + 250);
}

// Three replicas whose wall clocks differ by seconds apply one log whose entries are stamped by
// successive leaders with skewed clocks. Reads are linearizable as ReadIndex serves them: a read
// takes the current commit index and its node applies at least that far before answering, while
// other nodes lag behind at random. Once a read saw a key gone, no later read (on any node) sees
// the same write of it again.
TEST(Expiry, SkewedClocksNeverResurrectAKey) {
  const int64_t skew[3] = {0, +3000, -4000};  // each node's clock offset from true time
  std::mt19937_64 rng(42);
  std::vector<std::pair<Command, int64_t>> log;
  int64_t true_time = kT0;
  size_t leader = 0;
  for (int i = 0; i < 3000; ++i) {
    true_time += static_cast<int64_t>(rng() % 20);
    if (rng() % 200 == 0) leader = rng() % 3;  // a new leader stamps with its own clock
    std::string k = "k" + std::to_string(rng() % 20);
    if (rng() % 3 == 0) {
      log.emplace_back(Put{k, "v", PutCondition::kAlways, false,
                           Expiry::relative(static_cast<int64_t>(rng() % 2000) + 1)},
                       true_time + skew[leader]);
    } else {
      log.emplace_back(Tick{}, true_time + skew[leader]);
    }
  }
  auto last_write = [&](const std::string& k, size_t applied) -> int64_t {
    for (size_t i = applied; i-- > 0;) {
      const auto* p = std::get_if<Put>(&log[i].first);
      if (p != nullptr && p->key == k) return static_cast<int64_t>(i);
    }
    return -1;
  };
  std::vector<Engine> nodes(3);
  std::vector<size_t> applied(3, 0);
  auto catch_up = [&](size_t n, size_t target) {
    for (; applied[n] < target; ++applied[n])
      nodes[n].apply(log[applied[n]].first, log[applied[n]].second);
  };
  size_t commit = 0;
  std::map<std::string, int64_t>
      gone_after;  // key -> largest applied index where a read saw it gone
  int reads_gone = 0;
  for (int step = 0; step < 6000 && commit < log.size(); ++step) {
    commit = std::min(log.size(), commit + rng() % 2);
    size_t lagging = rng() % 3;
    catch_up(lagging,
             applied[lagging] + rng() % std::max<size_t>(1, commit - applied[lagging] + 1));
    size_t n = rng() % 3;
    catch_up(n, commit);  // ReadIndex: serve only after applying up to the read index
    std::string k = "k" + std::to_string(rng() % 20);
    const int64_t w = last_write(k, applied[n]);
    if (w < 0) continue;
    if (nodes[n].get(k).has_value()) {
      auto g = gone_after.find(k);
      ASSERT_TRUE(g == gone_after.end() || g->second <= w)
          << "key " << k << " seen gone at index " << g->second << " reappeared at step " << step;
    } else {
      gone_after[k] = std::max<int64_t>(gone_after[k], static_cast<int64_t>(applied[n]));
      ++reads_gone;
    }
  }
  EXPECT_GT(reads_gone, 100);  // the scenario really exercised expiry
}

// The same log applied at different wall times (a replica catching up much later) yields the
// same visibility at every log position.
TEST(Expiry, VisibilityIsAFunctionOfTheLogPrefix) {
  Engine early, late;
  std::vector<std::pair<Command, int64_t>> log;
  for (int i = 0; i < 200; ++i) {
    log.emplace_back(Put{"k" + std::to_string(i % 7), "v", PutCondition::kAlways, false,
                         Expiry::relative(30 + i % 11)},
                     kT0 + i * 10);
  }
  for (size_t i = 0; i < log.size(); ++i) {
    early.apply(log[i].first, log[i].second);
    late.apply(log[i].first, log[i].second);
    for (int k = 0; k < 7; ++k) {
      std::string key = "k" + std::to_string(k);
      ASSERT_EQ(early.get(key), late.get(key));
      ASSERT_EQ(early.pttl(key), late.pttl(key));
    }
  }
}

TEST(Expiry, LazyExpiryOnWriteCountsAnExpiration) {
  Config cfg;
  cfg.active_expire_per_apply = 0;
  cfg.active_expire_per_tick = 0;
  Clocked c(cfg);
  c.set("k", "v", Expiry::relative(10));
  c.advance(20);
  EXPECT_EQ(c.engine.dbsize(), 1u);  // held until touched: no active expiry configured
  EXPECT_EQ(c.get("k"), std::nullopt);
  EXPECT_EQ(c.apply(IncrBy{"k", 1}), num(1));  // the write sees no key
  EXPECT_EQ(c.engine.stats().expirations, 1u);
}

TEST(Expiry, ActiveExpiryReclaimsNeverReadKeys) {
  Clocked c;
  const uint64_t empty = c.engine.used_memory();
  for (int i = 0; i < 5000; ++i)
    c.set("key:" + std::to_string(i), std::string(100, 'x'), Expiry::relative(1000 + i % 100));
  c.set("forever", "v");
  EXPECT_GT(c.engine.used_memory(), empty + 5000 * 100);
  c.advance(1100);  // one Tick reclaims up to active_expire_per_tick keys
  Stats s = c.engine.stats();
  EXPECT_EQ(s.keys, 1u);
  EXPECT_EQ(s.expirations, 5000u);
  EXPECT_EQ(s.keys_with_expiry, 0u);
  EXPECT_LT(c.engine.used_memory(), empty + 4096);  // only minimum-size structures remain
}

TEST(Expiry, PerApplyBudgetBoundsTheDelay) {
  Config cfg;
  cfg.active_expire_per_apply = 4;
  cfg.active_expire_per_tick = 4;
  Clocked c(cfg);
  for (int i = 0; i < 40; ++i)
    c.set("k" + std::to_string(i), "v", Expiry::relative(10));
  c.now += 10;
  for (int i = 0; i < 9; ++i)
    c.apply(Tick{});
  EXPECT_EQ(c.engine.dbsize(), 4u);  // 9 applies x 4 keys
  c.apply(Tick{});
  EXPECT_EQ(c.engine.dbsize(), 0u);
}

TEST(Expiry, ReadsNeverSeeExpiredKeys) {
  Config cfg;
  cfg.active_expire_per_apply = 0;
  cfg.active_expire_per_tick = 0;
  Clocked c(cfg);
  c.set("a", "v", Expiry::relative(10));
  c.set("b", "v");
  c.advance(10);
  EXPECT_EQ(c.engine.exists({"a", "b"}), 1);
  EXPECT_EQ(c.engine.strlen("a"), 0);
  EXPECT_EQ(c.engine.keys("*"), std::vector<Bytes>{"b"});
  EXPECT_EQ(c.engine.scan(0, "*", 100).keys, std::vector<Bytes>{"b"});
  EXPECT_EQ(c.engine.random_key(), "b");
  EXPECT_EQ(c.engine.pexpiretime("a"), kTtlNoKey);
}

}  // namespace
}  // namespace cairn::cache

namespace cairn::cache {
namespace {

// A simulator may drive the engine with logical time starting at 0: expiry must work there too.
TEST(Expiry, WorksWithALogicalClockFromZero) {
  Engine e;
  e.apply(testing::put("k", "v", Expiry::relative(100)), 0);
  EXPECT_EQ(e.pexpiretime("k"), 100);
  e.apply(Tick{}, 99);
  EXPECT_EQ(e.get("k"), "v");
  e.apply(Tick{}, 100);
  EXPECT_EQ(e.get("k"), std::nullopt);
  e.apply(testing::put("far", "v", Expiry::absolute(kMaxExpireMs)), 100);
  EXPECT_EQ(e.pexpiretime("far"), kMaxExpireMs);
  Reply r = e.apply(testing::put("too-far", "v", Expiry::absolute(kMaxExpireMs + 1)), 100);
  EXPECT_EQ(std::get<Error>(r).code, ErrorCode::kInvalidExpire);
}

}  // namespace
}  // namespace cairn::cache
