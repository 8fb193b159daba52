// Table: the keyspace's hash index, an intrusive chained hash table of Entry (chained through
// Entry::next), after Redis's dict. Owned by the Engine.
//
// Thread safety: const members may run concurrently with each other (readers under the engine's
// shared lock); non-const members need the exclusive lock. The table itself has no lock.
//
// Invariants:
//  1. buckets_.size() is a power of two >= kMinBuckets; mask_ == buckets_.size() - 1.
//  2. an entry with hash h is in bucket h & mask_; each key appears at most once.
//  3. size_ is the number of linked entries; the table grows when size_ > buckets (load <= 1)
//     and shrinks when size_ < buckets / 8, rehashing everything at once (no incremental rehash
//     yet: a resize of N keys pauses apply for O(N)).
//
// Scan uses Redis's reverse-binary cursor: the cursor's high bits are incremented, so a full scan
// returns every key present for the whole scan even if the table is resized between calls
// (a key may be returned twice; keys added or removed meanwhile may or may not be returned).
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

  Table();
  Table(const Table&) = delete;
  Table& operator=(const Table&) = delete;

  Entry* find(std::string_view key, uint64_t hash) const;
  // REQUIRES: the key is not in the table. May grow the table.
  void insert(Entry* e, uint64_t hash);
  // Unlinks e (which must be in the table). Does not free it; does not shrink.
  void unlink(const Entry* e, uint64_t hash);
  // Puts `fresh` where `old` was (same key). Does not free old.
  void replace(const Entry* old, Entry* fresh, uint64_t hash);
  // Shrinks if the table is sparse (call after removals).
  void maybe_shrink();
  // Unlinks everything, calling fn(Entry*) on each, and returns to the minimum size.
  template <typename Fn>
  void clear(Fn&& fn);

  size_t size() const { return size_; }
  size_t bucket_count() const { return buckets_.size(); }
  // Bytes the bucket array holds.
  size_t memory() const;

  // Calls fn(const Entry*) for each entry of the bucket the cursor names; returns the next cursor
  // (0 when the scan is complete).
  template <typename Fn>
  uint64_t scan(uint64_t cursor, Fn&& fn) const;
  // An entry chosen from random bits (nullptr if empty). Not uniform across chains of different
  // length, like Redis's dictGetRandomKey's first step; good enough for sampling.
  Entry* random(uint64_t (*next)(void*), void* rng) const;
  template <typename Fn>
  void for_each(Fn&& fn) const {
    for (Entry* head : buckets_)
      for (Entry* e = head; e != nullptr; e = e->next)
        fn(static_cast<const Entry*>(e));
  }

 private:
  void resize(size_t buckets);

  std::vector<Entry*> buckets_;
  size_t mask_ = 0;
  size_t size_ = 0;
};

template <typename Fn>
void Table::clear(Fn&& fn) {
  for (Entry*& head : buckets_) {
    Entry* e = head;
    head = nullptr;
    while (e != nullptr) {
      Entry* next = e->next;
      fn(e);
      e = next;
    }
  }
  size_ = 0;
  resize(kMinBuckets);
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
  const uint64_t mask = mask_;
  for (const Entry* e = buckets_[cursor & mask]; e != nullptr; e = e->next)
    fn(e);
  // Increment the reversed cursor over the unmasked high bits (dictScan in Redis's dict.c).
  cursor |= ~mask;
  cursor = reverse_bits(cursor);
  cursor++;
  return reverse_bits(cursor);
}

}  // namespace cairn::cache
