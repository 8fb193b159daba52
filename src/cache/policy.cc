// The eviction policies. Thread rule as in policy.h: on_access on any thread, the rest on the
// apply thread.
//
// allkeys-lru (the baseline) is Redis's approximation (evict.c): each entry records a logical
// access clock; to evict, sample 5 random keys into a pool of the 16 idlest candidates seen so far
// and evict the idlest. No list to reorder on reads, so readers only store a word.
//
// SIEVE: one FIFO queue and a hand. A read sets the entry's visited bit. To evict, the hand walks
// from the oldest entry towards the newest: a visited entry has its bit cleared and stays where it
// is; the first unvisited entry is evicted. New entries join at the newest end. Retained entries
// never move, so a one-hit wonder inserted recently is reached by the hand before old hot keys.
//
// S3-FIFO: a small FIFO (10% of the bytes) admits new keys, a main FIFO holds keys that proved
// themselves, and a ghost FIFO remembers keys recently evicted from the small queue. A read bumps a
// 2-bit frequency. Evicting from small: an entry read more than once moves to main, otherwise it
// is evicted and its hash enters the ghost. Evicting from main: an entry with frequency > 0 is
// reinserted with frequency - 1 (CLOCK-like), otherwise evicted. A new key found in the ghost goes
// straight to main. Most one-hit wonders (and scans) leave through the small queue quickly.
// The ghost here is a direct-mapped array of 16-bit hash tags, sized to the number of entries:
// O(1), bounded, and a collision only forgets a ghost early.
#include "cache/policy.h"

#include <algorithm>
#include <array>
#include <vector>

#include "cache/fifo_ring.h"
#include "cache/table.h"

namespace cairn::cache {

std::string_view policy_name(EvictionPolicy p) {
  switch (p) {
    case EvictionPolicy::kNoEviction:
      return "noeviction";
    case EvictionPolicy::kAllKeysLru:
      return "allkeys-lru";
    case EvictionPolicy::kSieve:
      return "sieve";
    case EvictionPolicy::kS3Fifo:
      return "s3-fifo";
  }
  return "?";
}

std::optional<EvictionPolicy> parse_policy(std::string_view name) {
  for (auto p : {EvictionPolicy::kNoEviction, EvictionPolicy::kAllKeysLru, EvictionPolicy::kSieve,
                 EvictionPolicy::kS3Fifo}) {
    if (policy_name(p) == name) return p;
  }
  return std::nullopt;
}

namespace {

// splitmix64: a small deterministic generator for sampling.
struct SplitMix {
  uint64_t state;
  static uint64_t next(void* self) {
    auto* s = static_cast<SplitMix*>(self);
    uint64_t z = (s->state += 0x9E3779B97F4A7C15ULL);
    z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9ULL;
    z = (z ^ (z >> 27)) * 0x94D049BB133111EBULL;
    return z ^ (z >> 31);
  }
};

class NoEviction final : public Policy {
 public:
  void on_insert(Entry*, uint64_t) override {}
  void on_access(Entry*) override {}
  void on_remove(Entry*) override {}
  void on_replace(Entry*, Entry*) override {}
  Entry* victim(const Entry*) override { return nullptr; }
  void clear() override {}
  size_t memory() const override { return 0; }
};

class SampledLru final : public Policy {
 public:
  static constexpr int kSamples = 5;
  static constexpr size_t kPool = 16;

  SampledLru(const Table& table, uint64_t seed) : table_(table), rng_{seed} {}

  void on_insert(Entry* e, uint64_t) override { on_access(e); }
  void on_access(Entry* e) override {
    e->policy.store(clock_.fetch_add(1, std::memory_order_relaxed), std::memory_order_relaxed);
  }
  void on_remove(Entry* e) override { forget(e); }
  void forget(Entry* e) override {
    auto it = std::find(pool_.begin(), pool_.end(), e);
    if (it != pool_.end()) pool_.erase(it);
  }
  void on_replace(Entry* old, Entry* fresh) override {
    fresh->policy.store(old->policy.load(std::memory_order_relaxed), std::memory_order_relaxed);
    std::replace(pool_.begin(), pool_.end(), old, fresh);
  }
  Entry* victim(const Entry* protect) override {
    for (int i = 0; i < kSamples; ++i) {
      Entry* e = table_.random(&SplitMix::next, &rng_);
      if (e == nullptr) break;
      if (e == protect || std::find(pool_.begin(), pool_.end(), e) != pool_.end()) continue;
      if (pool_.size() < kPool) {
        pool_.push_back(e);
      } else {
        // Replace the least idle pool member if the sample is idler.
        auto least = std::min_element(pool_.begin(), pool_.end(),
                                      [&](Entry* a, Entry* b) { return idle(a) < idle(b); });
        if (idle(e) > idle(*least)) *least = e;
      }
    }
    auto best = pool_.end();
    for (auto it = pool_.begin(); it != pool_.end(); ++it) {
      if (*it == protect) continue;
      if (best == pool_.end() || idle(*it) > idle(*best)) best = it;
    }
    if (best == pool_.end()) return nullptr;
    Entry* e = *best;
    pool_.erase(best);
    return e;
  }
  void clear() override { pool_.clear(); }
  size_t memory() const override { return 0; }

 private:
  uint32_t idle(const Entry* e) const {
    return clock_.load(std::memory_order_relaxed) - e->policy.load(std::memory_order_relaxed);
  }

  const Table& table_;
  SplitMix rng_;
  std::atomic<uint32_t> clock_{0};
  std::vector<Entry*> pool_;  // candidates; entries are removed from here when they leave
};

class Sieve final : public Policy {
 public:
  void on_insert(Entry* e, uint64_t) override {
    e->policy.store(0, std::memory_order_relaxed);
    queue_.push(e, &hand_);
  }
  void on_access(Entry* e) override {
    if ((e->policy.load(std::memory_order_relaxed) & 1) == 0)
      e->policy.fetch_or(1, std::memory_order_relaxed);
  }
  void on_remove(Entry* e) override {
    queue_.remove(e);
    queue_.maybe_shrink(&hand_);
  }
  void on_replace(Entry* old, Entry* fresh) override { queue_.replace(old, fresh); }
  Entry* victim(const Entry* protect) override {
    // Each entry is passed at most twice (once to clear its bit), so the walk is bounded.
    for (uint64_t steps = 0; steps <= 2 * (queue_.tail() - queue_.head()) + 1; ++steps) {
      if (queue_.empty()) return nullptr;
      if (hand_ < queue_.head() || hand_ >= queue_.tail()) hand_ = queue_.head();
      Entry* e = queue_.at(hand_);
      if (e == nullptr) {
        ++hand_;
        continue;
      }
      if (e == protect || (FifoRing::low_bits(e) & 1) != 0) {
        FifoRing::set_low_bits(e, 0);
        ++hand_;
        continue;
      }
      return e;  // the hand stays; the slot becomes a hole when the engine removes e
    }
    return nullptr;
  }
  void clear() override {
    queue_.clear();
    hand_ = 0;
  }
  size_t memory() const override { return queue_.memory(); }
  std::optional<size_t> tracked() const override { return queue_.size(); }

 private:
  FifoRing queue_;
  uint64_t hand_ = 0;  // a position in [queue_.head(), queue_.tail()), or reset to head
};

class S3Fifo final : public Policy {
 public:
  static constexpr uint32_t kMain = 4;
  static constexpr uint32_t kMaxFreq = 3;
  static constexpr size_t kMinGhost = 1024;

  S3Fifo() : ghost_(kMinGhost, 0) {}

  void on_insert(Entry* e, uint64_t hash) override {
    e->policy.store(0, std::memory_order_relaxed);
    if (ghost_take(hash)) {
      push_main(e, 0);
    } else {
      small_.push(e);
      small_bytes_ += entry_footprint(e);
    }
    size_ghost();
  }
  void on_access(Entry* e) override {
    uint32_t w = e->policy.load(std::memory_order_relaxed);
    while ((w & 3) < kMaxFreq &&
           !e->policy.compare_exchange_weak(w, w + 1, std::memory_order_relaxed)) {
    }
  }
  void on_remove(Entry* e) override {
    if (in_main(e)) {
      main_.remove(e);
      main_bytes_ -= entry_footprint(e);
    } else {
      small_.remove(e);
      small_bytes_ -= entry_footprint(e);
    }
    small_.maybe_shrink();
    main_.maybe_shrink();
    if (ghost_.size() > kMinGhost && small_.size() + main_.size() < ghost_.size() / 8)
      ghost_ = std::vector<uint16_t>(ghost_.size() / 4, 0);  // assign() keeps the capacity
  }
  void on_replace(Entry* old, Entry* fresh) override {
    size_t& bytes = in_main(old) ? main_bytes_ : small_bytes_;
    bytes = bytes - entry_footprint(old) + entry_footprint(fresh);
    (in_main(old) ? main_ : small_).replace(old, fresh);
  }
  Entry* victim(const Entry* protect) override {
    // Every pass either returns, moves an entry from small to main, or lowers a frequency, so
    // 4 * entries + 1 passes always suffice.
    for (size_t guard = 4 * (small_.size() + main_.size()) + 1; guard > 0; --guard) {
      if (small_.empty() && main_.empty()) return nullptr;
      bool from_small = !small_.empty() && (main_.empty() || small_bytes_ * 10 >= total_bytes());
      if (from_small) {
        Entry* e = small_.front();
        if ((FifoRing::low_bits(e) & 3) > 1 || e == protect) {
          small_.remove(e);
          small_bytes_ -= entry_footprint(e);
          push_main(e, 0);
          continue;
        }
        ghost_put(hash_key(e->key()));
        return e;
      }
      Entry* e = main_.front();
      uint32_t freq = FifoRing::low_bits(e) & 3;
      if (freq > 0 || e == protect) {
        main_.remove(e);
        main_bytes_ -= entry_footprint(e);
        push_main(e, freq > 0 ? freq - 1 : 0);
        continue;
      }
      return e;
    }
    return nullptr;
  }
  void clear() override {
    small_.clear();
    main_.clear();
    small_bytes_ = main_bytes_ = 0;
    ghost_ = std::vector<uint16_t>(kMinGhost, 0);
  }
  size_t memory() const override {
    return small_.memory() + main_.memory() + malloc_footprint(ghost_.size() * sizeof(uint16_t));
  }
  std::optional<size_t> tracked() const override { return small_.size() + main_.size(); }

 private:
  static bool in_main(const Entry* e) { return (FifoRing::low_bits(e) & kMain) != 0; }
  size_t total_bytes() const { return small_bytes_ + main_bytes_; }
  void push_main(Entry* e, uint32_t freq) {
    FifoRing::set_low_bits(e, kMain | freq);
    main_.push(e);
    main_bytes_ += entry_footprint(e);
  }
  // The ghost remembers about as many keys as the cache holds.
  void size_ghost() {
    size_t want = kMinGhost;
    while (want < small_.size() + main_.size())
      want *= 2;
    if (want > ghost_.size()) ghost_.assign(want, 0);
  }
  // 16-bit tags: a false "was a ghost" costs one key a place in main, once in 32768 lookups.
  static uint16_t tag(uint64_t hash) { return static_cast<uint16_t>((hash >> 48) | 1); }
  void ghost_put(uint64_t hash) { ghost_[hash & (ghost_.size() - 1)] = tag(hash); }
  bool ghost_take(uint64_t hash) {
    if (ghost_.empty()) return false;
    uint16_t& slot = ghost_[hash & (ghost_.size() - 1)];
    if (slot != tag(hash)) return false;
    slot = 0;
    return true;
  }

  FifoRing small_;
  FifoRing main_;
  size_t small_bytes_ = 0;
  size_t main_bytes_ = 0;
  std::vector<uint16_t> ghost_;
};

}  // namespace

std::unique_ptr<Policy> make_policy(EvictionPolicy p, const Table& table, uint64_t seed) {
  switch (p) {
    case EvictionPolicy::kNoEviction:
      return std::make_unique<NoEviction>();
    case EvictionPolicy::kAllKeysLru:
      return std::make_unique<SampledLru>(table, seed);
    case EvictionPolicy::kSieve:
      return std::make_unique<Sieve>();
    case EvictionPolicy::kS3Fifo:
      return std::make_unique<S3Fifo>();
  }
  return nullptr;
}

}  // namespace cairn::cache
