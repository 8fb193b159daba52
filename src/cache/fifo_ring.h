// FifoRing: an insertion-ordered queue of entries in a circular array, with O(1) removal from the
// middle (the slot becomes a hole). Used by SIEVE and S3-FIFO. Apply thread only, except that
// readers may concurrently set the low three bits of an entry's policy word; the ring rewrites
// only bits 3..31 and does so with a compare-and-swap that keeps the low bits.
//
// Why not a linked list: two more pointers per entry (16 bytes) would push a 16/32-byte entry
// from an 80-byte to a 96-byte malloc chunk; a ring costs one pointer per slot.
//
// Invariants:
//  1. slots_.size() is a power of two; positions are absolute counters, slot = pos & mask.
//  2. head_ <= tail_, tail_ - head_ <= slots_.size(); slots outside [head_, tail_) are null.
//  3. a live entry at position p has slot bits (policy >> 3) == p & mask; live_ counts them.
//  4. slots_[head_ & mask] is non-null unless the ring is empty (holes at the head are skipped
//     eagerly), so front() is O(1).
#pragma once

#include <cstddef>
#include <cstdint>
#include <vector>

#include "cache/entry.h"
#include "common/result.h"

namespace cairn::cache {

class FifoRing {
 public:
  static constexpr uint32_t kLowBits = 7;
  static constexpr size_t kMaxSlots = size_t{1} << 29;

  FifoRing() : slots_(16, nullptr) {}

  size_t size() const { return live_; }
  bool empty() const { return live_ == 0; }
  size_t memory() const { return malloc_footprint(slots_.size() * sizeof(Entry*)); }
  uint64_t head() const { return head_; }
  uint64_t tail() const { return tail_; }
  Entry* at(uint64_t pos) const { return slots_[pos & mask()]; }
  Entry* front() const { return live_ == 0 ? nullptr : slots_[head_ & mask()]; }

  // Appends e as the newest. `hand` (if given) is a position that compaction must keep pointing
  // at the same live entry (or the next one).
  void push(Entry* e, uint64_t* hand = nullptr) {
    // Full: grow only if over 3/4 of the slots are live, else squeeze the holes out (amortized
    // O(1): at least a quarter of the slots are pushed between two compactions).
    if (tail_ - head_ == slots_.size())
      rebuild(live_ * 4 > slots_.size() * 3 ? slots_.size() * 2 : slots_.size(), hand);
    slots_[tail_ & mask()] = e;
    set_slot(e, static_cast<uint32_t>(tail_ & mask()));
    ++tail_;
    ++live_;
  }
  void remove(const Entry* e) {
    size_t slot = e->policy.load(std::memory_order_relaxed) >> 3;
    CAIRN_CHECK(slots_[slot] == e);
    slots_[slot] = nullptr;
    --live_;
    while (head_ < tail_ && slots_[head_ & mask()] == nullptr)
      ++head_;
    if (live_ == 0) head_ = tail_;
  }
  // Gives memory back once the ring is mostly empty (a quarter of the slots stay free).
  void maybe_shrink(uint64_t* hand = nullptr) {
    if (slots_.size() <= 16 || live_ >= slots_.size() / 8) return;
    size_t capacity = slots_.size();
    while (capacity > 16 && live_ < capacity / 8)
      capacity /= 2;
    rebuild(capacity, hand);
  }
  void replace(const Entry* old, Entry* fresh) {
    uint32_t word = old->policy.load(std::memory_order_relaxed);
    CAIRN_CHECK(slots_[word >> 3] == old);
    slots_[word >> 3] = fresh;
    fresh->policy.store(word, std::memory_order_relaxed);
  }
  void clear() {
    slots_ = std::vector<Entry*>(16, nullptr);  // assign() would keep the old capacity
    head_ = tail_ = 0;
    live_ = 0;
  }

  static void set_low_bits(Entry* e, uint32_t low) {
    uint32_t w = e->policy.load(std::memory_order_relaxed);
    while (!e->policy.compare_exchange_weak(w, (w & ~kLowBits) | low, std::memory_order_relaxed)) {
    }
  }
  static uint32_t low_bits(const Entry* e) {
    return e->policy.load(std::memory_order_relaxed) & kLowBits;
  }

 private:
  size_t mask() const { return slots_.size() - 1; }
  static void set_slot(Entry* e, uint32_t slot) {
    uint32_t w = e->policy.load(std::memory_order_relaxed);
    while (!e->policy.compare_exchange_weak(w, (w & kLowBits) | (slot << 3),
                                            std::memory_order_relaxed)) {
    }
  }
  // Moves the live entries, in order, to the start of a ring of `capacity` slots.
  void rebuild(size_t capacity, uint64_t* hand) {
    CAIRN_CHECK(capacity <= kMaxSlots);
    std::vector<Entry*> fresh(capacity, nullptr);
    uint64_t n = 0;
    uint64_t new_hand = 0;
    bool hand_set = false;
    for (uint64_t p = head_; p < tail_; ++p) {
      if (hand != nullptr && !hand_set && p >= *hand) {
        new_hand = n;
        hand_set = true;
      }
      Entry* e = slots_[p & mask()];
      if (e == nullptr) continue;
      fresh[n] = e;
      set_slot(e, static_cast<uint32_t>(n));
      ++n;
    }
    if (hand != nullptr) *hand = hand_set ? new_hand : n;
    slots_.swap(fresh);
    head_ = 0;
    tail_ = n;
  }

  std::vector<Entry*> slots_;
  uint64_t head_ = 0;
  uint64_t tail_ = 0;
  size_t live_ = 0;
};

}  // namespace cairn::cache
