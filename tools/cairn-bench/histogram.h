// Histogram: latency counts in log-linear buckets, HDR-style. Each power of two is split into
// 2^kSubBits equal buckets, so a reported value is within 1/2^kSubBits (about 1.6%) of the true
// one at any magnitude, with a fixed 4096 counters and no allocation while recording.
//
// Threading: record() is safe from many threads at once (relaxed atomic counters); a reader
// taking a snapshot while others record sees a consistent-enough view for progress lines.
#pragma once

#include <array>
#include <atomic>
#include <bit>
#include <cstdint>

namespace cairn::bench {

class Histogram {
 public:
  static constexpr int kSubBits = 6;
  static constexpr size_t kSub = size_t{1} << kSubBits;
  static constexpr size_t kBuckets = (64 - kSubBits + 1) * kSub;

  void record(uint64_t v) {
    buckets_[index(v)].fetch_add(1, std::memory_order_relaxed);
    count_.fetch_add(1, std::memory_order_relaxed);
    uint64_t m = max_.load(std::memory_order_relaxed);
    while (v > m && !max_.compare_exchange_weak(m, v, std::memory_order_relaxed)) {
    }
  }

  // Adds another histogram's counts into this one.
  void merge(const Histogram& other) {
    for (size_t i = 0; i < kBuckets; i++) {
      uint64_t n = other.buckets_[i].load(std::memory_order_relaxed);
      if (n) buckets_[i].fetch_add(n, std::memory_order_relaxed);
    }
    count_.fetch_add(other.count(), std::memory_order_relaxed);
    uint64_t m = other.max();
    if (m > max()) max_.store(m, std::memory_order_relaxed);
  }

  uint64_t count() const { return count_.load(std::memory_order_relaxed); }
  uint64_t max() const { return max_.load(std::memory_order_relaxed); }

  // The smallest bucket value v such that at least fraction q (0..1) of the samples are <= v;
  // the exact maximum for q = 1; 0 when empty.
  uint64_t quantile(double q) const {
    uint64_t n = count();
    if (n == 0) return 0;
    if (q >= 1.0) return max();
    auto rank = static_cast<uint64_t>(q * static_cast<double>(n));
    if (rank < 1) rank = 1;
    uint64_t seen = 0;
    for (size_t i = 0; i < kBuckets; i++) {
      seen += buckets_[i].load(std::memory_order_relaxed);
      if (seen >= rank) {
        uint64_t top = highest(i);
        return top < max() ? top : max();
      }
    }
    return max();
  }

  static size_t index(uint64_t v) {
    if (v < kSub) return static_cast<size_t>(v);
    int shift = static_cast<int>(std::bit_width(v)) - 1 - kSubBits;
    return (static_cast<size_t>(shift + 1) << kSubBits) + static_cast<size_t>((v >> shift) - kSub);
  }
  // The largest value that falls into bucket i.
  static uint64_t highest(size_t i) {
    if (i < kSub) return i;
    int shift = static_cast<int>(i >> kSubBits) - 1;
    uint64_t lowest = (kSub + (i & (kSub - 1))) << shift;
    return lowest + ((uint64_t{1} << shift) - 1);
  }

 private:
  std::array<std::atomic<uint64_t>, kBuckets> buckets_{};
  std::atomic<uint64_t> count_{0};
  std::atomic<uint64_t> max_{0};
};

}  // namespace cairn::bench
