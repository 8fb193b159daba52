// Synthetic request traces for the cache benchmarks: Zipf, Zipf mixed with scans, loops.
// Single-threaded helpers; each generator owns its state.
#pragma once

#include <algorithm>
#include <cmath>
#include <cstdint>
#include <cstdio>
#include <random>
#include <string>
#include <vector>

namespace cairn::cache::bench {

// Zipf(s) over [0, n) by inverse CDF; ranks are scrambled so popularity is unrelated to the id.
class Zipf {
 public:
  Zipf(uint64_t n, double s, uint64_t seed) : cdf_(n), perm_(n), rng_(seed) {
    double sum = 0;
    for (uint64_t i = 0; i < n; ++i) {
      sum += 1.0 / std::pow(static_cast<double>(i + 1), s);
      cdf_[i] = sum;
    }
    for (double& c : cdf_)
      c /= sum;
    for (uint64_t i = 0; i < n; ++i)
      perm_[i] = i;
    std::shuffle(perm_.begin(), perm_.end(), rng_);
  }
  uint64_t next() {
    double u = std::uniform_real_distribution<double>(0, 1)(rng_);
    auto it = std::lower_bound(cdf_.begin(), cdf_.end(), u);
    auto rank = static_cast<size_t>(
        std::min<std::ptrdiff_t>(it - cdf_.begin(), static_cast<std::ptrdiff_t>(cdf_.size() - 1)));
    return perm_[rank];
  }

 private:
  std::vector<double> cdf_;
  std::vector<uint64_t> perm_;
  std::mt19937_64 rng_;
};

// 16-byte keys, as in the memory-per-key figure.
inline std::string key_of(uint64_t id) {
  char buf[32];
  std::snprintf(buf, sizeof buf, "key:%012llu",
                static_cast<unsigned long long>(id % 1000000000000ULL));
  return std::string(buf, 16);
}

enum class TraceKind { kZipf, kZipfScan, kLoop };

inline const char* trace_name(TraceKind k) {
  switch (k) {
    case TraceKind::kZipf:
      return "zipf-0.99";
    case TraceKind::kZipfScan:
      return "zipf+scans";
    case TraceKind::kLoop:
      return "loop";
  }
  return "?";
}

// Produces the key ids of a trace.
//  zipf:       Zipf(0.99) over n keys.
//  zipf+scans: Zipf(0.99), interrupted after every 100k requests by a scan of 50k consecutive
//              ids (a third of all requests), each scan continuing where the previous one ended.
//  loop:       ids 0, 1, ..., L-1, 0, 1, ... with L = loop_len (LRU's worst case: the benchmark
//              uses twice the cache's capacity in keys).
class Trace {
 public:
  Trace(TraceKind kind, uint64_t n, uint64_t seed, uint64_t loop_len)
      : kind_(kind), n_(n), loop_len_(loop_len), zipf_(n, 0.99, seed) {}
  uint64_t next() {
    switch (kind_) {
      case TraceKind::kZipf:
        return zipf_.next();
      case TraceKind::kZipfScan:
        if (scan_left_ > 0) {
          --scan_left_;
          return scan_pos_++ % n_;
        }
        if (++since_scan_ == 100000) {
          since_scan_ = 0;
          scan_left_ = 50000;
        }
        return zipf_.next();
      case TraceKind::kLoop:
        return loop_++ % loop_len_;
    }
    return 0;
  }

 private:
  TraceKind kind_;
  uint64_t n_;
  uint64_t loop_len_;
  Zipf zipf_;
  uint64_t since_scan_ = 0;
  uint64_t scan_left_ = 0;
  uint64_t scan_pos_ = 0;
  uint64_t loop_ = 0;
};

}  // namespace cairn::cache::bench
