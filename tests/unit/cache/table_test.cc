// The hash index on its own: lookups, incremental rehashing in both directions, and SCAN's
// guarantee while a rehash is in progress.
#include "cache/table.h"

#include <gtest/gtest.h>

#include <set>
#include <string>
#include <vector>

namespace cairn::cache {
namespace {

struct Owned {
  Table table;
  std::vector<Entry*> entries;
  ~Owned() {
    table.clear([](Entry* e) { entry_free(e); });
  }
  void add(const std::string& key) {
    Entry* e = entry_new(key, "v");
    table.insert(e, hash_key(key));
  }
  void drop(const std::string& key) {
    uint64_t h = hash_key(key);
    Entry* e = table.find(key, h);
    ASSERT_NE(e, nullptr) << key;
    table.unlink(e, h);
    entry_free(e);
  }
  size_t counted() const {
    size_t n = 0;
    table.for_each([&](const Entry*) { ++n; });
    return n;
  }
};

std::string key(int i) {
  return "key-" + std::to_string(i);
}

TEST(Table, FindsEverythingWhileGrowing) {
  Owned t;
  bool saw_rehash = false;
  for (int i = 0; i < 5000; ++i) {
    t.add(key(i));
    saw_rehash = saw_rehash || t.table.rehashing();
    // Spot-check old and new keys while a rehash may be half done.
    ASSERT_NE(t.table.find(key(i / 2), hash_key(key(i / 2))), nullptr) << i;
    ASSERT_NE(t.table.find(key(i), hash_key(key(i))), nullptr) << i;
  }
  EXPECT_TRUE(saw_rehash);
  EXPECT_EQ(t.table.size(), 5000u);
  EXPECT_EQ(t.counted(), 5000u);
  for (int i = 0; i < 5000; ++i)
    ASSERT_NE(t.table.find(key(i), hash_key(key(i))), nullptr);
  EXPECT_EQ(t.table.find("absent", hash_key("absent")), nullptr);
}

TEST(Table, ShrinksIncrementallyAndKeepsTheRest) {
  Owned t;
  for (int i = 0; i < 4000; ++i)
    t.add(key(i));
  const size_t full = t.table.memory();
  for (int i = 0; i < 3950; ++i) {
    t.drop(key(i));
    if (i % 100 == 0) t.table.maybe_shrink();
  }
  for (int i = 0; i < 200 && t.table.rehashing(); ++i) {  // removals drive the rehash
    t.add("extra" + std::to_string(i));
    t.drop("extra" + std::to_string(i));
  }
  t.table.maybe_shrink();
  t.table.rehash_some(SIZE_MAX / 16);
  EXPECT_FALSE(t.table.rehashing());
  EXPECT_LT(t.table.memory(), full / 4);
  EXPECT_EQ(t.counted(), 50u);
  for (int i = 3950; i < 4000; ++i)
    ASSERT_NE(t.table.find(key(i), hash_key(key(i))), nullptr);
}

// While a resize is half done, random() draws from both tables: every key, whether its bucket
// was already moved or not, can come back (the eviction sampler relies on this).
// Caught mutation: cache-table-random-both-tables
TEST(Table, RandomReturnsEntriesDuringRehash) {
  Owned t;
  uint64_t state = 1;
  auto next = [](void* s) -> uint64_t {
    auto* x = static_cast<uint64_t*>(s);
    *x = *x * 6364136223846793005ULL + 1442695040888963407ULL;
    return *x >> 11;
  };
  EXPECT_EQ(t.table.random(next, &state), nullptr);
  // Add keys until a growth starts, then a few more: each insert moves one old bucket along and
  // lands in the new table, so entries now live in both tables.
  int n = 0;
  while (n < 1000 || !t.table.rehashing()) {
    t.add(key(n++));
    ASSERT_NE(t.table.random(next, &state), nullptr);
    ASSERT_LT(n, 100000);
  }
  for (int k = 0; k < 20; ++k)
    t.add(key(n++));
  ASSERT_TRUE(t.table.rehashing()) << "no resize in progress after " << n << " keys";
  std::set<std::string> drawn;
  for (int i = 0; i < 200 * n && static_cast<int>(drawn.size()) < n; ++i)
    drawn.emplace(t.table.random(next, &state)->key());
  ASSERT_TRUE(t.table.rehashing());  // random() is read-only: the resize is still half done
  EXPECT_EQ(drawn.size(), static_cast<size_t>(n));
}

// A scan that starts before a resize and continues while the rehash is in progress (in both
// directions) still returns every key present throughout.
TEST(Table, ScanCoversStableKeysAcrossRehashes) {
  Owned t;
  for (int i = 0; i < 200; ++i)
    t.add(key(i));
  std::set<std::string> seen;
  uint64_t cursor = 0;
  int step = 0;
  int rehashing_steps = 0;
  do {
    cursor = t.table.scan(cursor, [&](const Entry* e) { seen.emplace(e->key()); });
    if (step < 40) {
      for (int j = 0; j < 60; ++j)
        t.add("grow" + std::to_string(step) + "_" + std::to_string(j));
    } else if (step < 80) {
      for (int j = 0; j < 60; ++j)
        t.drop("grow" + std::to_string(step - 40) + "_" + std::to_string(j));
      t.table.maybe_shrink();
    }
    rehashing_steps += t.table.rehashing() ? 1 : 0;
    ++step;
  } while (cursor != 0);
  EXPECT_GT(rehashing_steps, 5);
  for (int i = 0; i < 200; ++i)
    EXPECT_TRUE(seen.count(key(i))) << key(i);
}

}  // namespace
}  // namespace cairn::cache
