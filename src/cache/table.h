// Table: the keyspace's hash index, an intrusive chained hash table of Entry (chained through
// Entry::next) with incremental rehashing, after Redis's dict. Owned by the Engine.
//
// Thread safety: const members may run concurrently with each other (readers under the engine's
// shared lock); non-const members need the exclusive lock. The table itself has no lock.
//
// Rehashing. A resize allocates the new bucket array and then moves kStepBuckets buckets of the
// old array per insert or unlink, so no single write pays for moving the whole table (Redis moves
// one bucket per operation). While rehashing, an entry with hash h lives in exactly one place,
// given by locate(h): old bucket h & mask0 if that bucket has not been moved yet, else new bucket
// h & mask1. Readers and writers use the same rule, so a lookup reads one chain.
//
// Invariants:
//  1. tables_[0].size() is a power of two >= kMinBuckets; so is tables_[1].size() while
//     rehashing (rehash_ != kNotRehashing), and tables_[1] is empty otherwise.
//  2. while rehashing, old buckets [0, rehash_) are empty; every entry is where locate() says.
//  3. each key appears at most once; size_ counts entries in both arrays.
//  4. growth starts when size_ > old buckets (load <= 1), shrinking when size_ < buckets / 8.
//
// Scan uses Redis's reverse-binary cursor (dictScan), including its two-table form while
// rehashing: a full scan returns every key present for the whole scan even if the table is
// resized between calls (a key may be returned twice; keys added or removed meanwhile may or may
// not be returned).
#pragma once

#include <cstddef>
#include <cstdint>
#include <string_view>
#include <vector>

#include "cache/entry.h"

namespace cairn::cache {

uint64_t hash_key(std::string_view key);

class Table {
 public:
  static constexpr size_t kMinBuckets = 16;
  static constexpr size_t kStepBuckets = 4;

  Table();
  Table(const Table&) = delete;
  Table& operator=(const Table&) = delete;

  Entry* find(std::string_view key, uint64_t hash) const;
  // Cache hints for a lookup coming soon: the bucket, then (once it is likely cached) the first
  // entry of its chain. Issued a few commands ahead, their misses overlap instead of queuing.
  void prefetch_bucket(uint64_t hash) const { __builtin_prefetch(&locate(hash)); }
  void prefetch_chain(uint64_t hash) const {
    if (const Entry* e = locate(hash)) __builtin_prefetch(e);
  }
  // REQUIRES: the key is not in the table. May start or advance a resize.
  void insert(Entry* e, uint64_t hash);
  // Unlinks e (which must be in the table). Does not free it. Advances a resize.
  void unlink(const Entry* e, uint64_t hash);
  // Puts `fresh` where `old` was (same key). Does not free old.
  void replace(const Entry* old, Entry* fresh, uint64_t hash);
  // Starts shrinking if the table is sparse (call after removals).
  void maybe_shrink();
  // Idle-time progress on a resize in progress (Redis's activerehashing): moves up to `buckets`
  // non-empty old buckets.
  void rehash_some(size_t buckets) {
    if (rehashing()) rehash_step(buckets, buckets * 10);
  }
  // Unlinks everything, calling fn(Entry*) on each, and returns to the minimum size.
  template <typename Fn>
  void clear(Fn&& fn);
  // Every entry at once, in O(1): the table is empty (minimum size) afterwards and the chains
  // hold what it held, for the caller to free (FLUSHALL frees them on another thread).
  struct Chains {
    std::vector<Entry*> buckets[2];
    template <typename Fn>
    void drain(Fn&& fn);  // fn(Entry*) on each entry, unlinked, then the arrays are released
  };
  Chains detach();

  size_t size() const { return size_; }
  bool rehashing() const { return rehash_ != kNotRehashing; }
  // Shrinks started so far, and whether one is under way. A scan returns a key twice only if the
  // table shrank while it went on (growing never revisits a bucket, as in Redis's dictScan).
  uint64_t shrinks() const { return shrinks_; }
  bool shrinking() const { return rehashing() && tables_[1].size() < tables_[0].size(); }
  // Bytes the bucket arrays hold.
  size_t memory() const;

  // Calls fn(const Entry*) for each entry of the bucket(s) the cursor names; returns the next
  // cursor (0 when the scan is complete).
  template <typename Fn>
  uint64_t scan(uint64_t cursor, Fn&& fn) const;
  // An entry chosen from random bits (nullptr if empty). Not uniform across chains of different
  // length, like Redis's dictGetRandomKey's first step; good enough for sampling.
  Entry* random(uint64_t (*next)(void*), void* rng) const;
  template <typename Fn>
  void for_each(Fn&& fn) const {
    for (const auto& table : tables_)
      for (Entry* head : table)
        for (Entry* e = head; e != nullptr; e = e->next)
          fn(static_cast<const Entry*>(e));
  }

 private:
  static constexpr size_t kNotRehashing = SIZE_MAX;

  // The chain an entry with this hash lives in (invariant 2).
  Entry* const& locate(uint64_t hash) const {
    const size_t b0 = hash & mask_[0];
    if (rehash_ != kNotRehashing && b0 < rehash_) return tables_[1][hash & mask_[1]];
    return tables_[0][b0];
  }
  Entry*& locate(uint64_t hash) {
    return const_cast<Entry*&>(static_cast<const Table*>(this)->locate(hash));
  }
  void start_resize(size_t buckets);
  // Moves up to `buckets` non-empty old buckets, passing at most `empty_visits` empty ones
  // (empty buckets are cheap but not free; Redis allows ten per bucket moved).
  void rehash_step(size_t buckets, size_t empty_visits);
  void finish_rehash();

  std::vector<Entry*> tables_[2];
  size_t mask_[2] = {0, 0};
  size_t rehash_ = kNotRehashing;  // next old bucket to move
  size_t size_ = 0;
  uint64_t shrinks_ = 0;
};

template <typename Fn>
void Table::clear(Fn&& fn) {
  detach().drain(fn);
}

template <typename Fn>
void Table::Chains::drain(Fn&& fn) {
  for (auto& array : buckets) {
    for (Entry* e : array) {
      while (e != nullptr) {
        Entry* next = e->next;
        fn(e);
        e = next;
      }
    }
    array = std::vector<Entry*>();
  }
}

inline uint64_t reverse_bits(uint64_t v) {
  v = ((v >> 1) & 0x5555555555555555ULL) | ((v & 0x5555555555555555ULL) << 1);
  v = ((v >> 2) & 0x3333333333333333ULL) | ((v & 0x3333333333333333ULL) << 2);
  v = ((v >> 4) & 0x0F0F0F0F0F0F0F0FULL) | ((v & 0x0F0F0F0F0F0F0F0FULL) << 4);
  v = ((v >> 8) & 0x00FF00FF00FF00FFULL) | ((v & 0x00FF00FF00FF00FFULL) << 8);
  v = ((v >> 16) & 0x0000FFFF0000FFFFULL) | ((v & 0x0000FFFF0000FFFFULL) << 16);
  return (v >> 32) | (v << 32);
}

template <typename Fn>
uint64_t Table::scan(uint64_t cursor, Fn&& fn) const {
  auto visit = [&](const std::vector<Entry*>& table, size_t bucket) {
    for (const Entry* e = table[bucket]; e != nullptr; e = e->next)
      fn(e);
  };
  if (!rehashing()) {
    const uint64_t mask = mask_[0];
    visit(tables_[0], cursor & mask);
    // Increment the reversed cursor over the unmasked high bits (dictScan in Redis's dict.c).
    cursor |= ~mask;
    cursor = reverse_bits(cursor);
    cursor++;
    return reverse_bits(cursor);
  }
  // Two tables: visit the smaller table's bucket, then every bucket of the larger table that
  // expands from it; an entry with that bucket's low bits is in one of these places.
  const size_t small = tables_[0].size() <= tables_[1].size() ? 0 : 1;
  const size_t large = 1 - small;
  const uint64_t m0 = mask_[small];
  const uint64_t m1 = mask_[large];
  visit(tables_[small], cursor & m0);
  do {
    visit(tables_[large], cursor & m1);
    cursor |= ~m1;
    cursor = reverse_bits(cursor);
    cursor++;
    cursor = reverse_bits(cursor);
  } while ((cursor & (m0 ^ m1)) != 0);
  return cursor;
}

}  // namespace cairn::cache
