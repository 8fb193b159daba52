// Hit-ratio benchmark: every eviction policy on Zipf(0.99), Zipf mixed with scans, and a loop,
// at cache sizes of 1% and 10% of the keys. Prints a Markdown table (docs/BENCHMARKS.md).
//
// Each request is a cache-aside access through the real engine: get(key); on a miss,
// apply(Put key value). Keys are 16 bytes, values 32. The limit is in bytes, as the engine
// enforces it: max_memory = capacity x (entry footprint + 16 bytes of index), so policies whose
// structures cost more hold fewer keys; the "keys held" column shows what each one really kept.
// The loop trace cycles over twice as many keys as the cache holds. Hits are counted after a
// warm-up of one million requests (a quarter of the run if shorter).
//
// Usage: cache_hit_ratio [requests (default 6000000)] [keys (default 1000000)]
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <list>
#include <string>
#include <unordered_map>
#include <vector>

#include "cache/engine.h"
#include "traces.h"

using namespace cairn::cache;         // NOLINT
using namespace cairn::cache::bench;  // NOLINT

namespace {

struct Row {
  double hit_ratio;
  uint64_t keys_held;
  double seconds;
};

Row run(EvictionPolicy policy, TraceKind kind, uint64_t n, double fraction, uint64_t requests) {
  const auto capacity = static_cast<uint64_t>(static_cast<double>(n) * fraction);
  Config cfg;
  cfg.policy = policy;
  cfg.max_memory = capacity * (entry_footprint(16, 32) + 16);
  Engine engine(cfg);
  Trace trace(kind, n, 12345, 2 * capacity);
  const std::string value(32, 'v');
  const uint64_t warmup = std::min<uint64_t>(1000000, requests / 4);
  uint64_t hits = 0;
  uint64_t counted = 0;
  uint64_t held = 0;
  uint64_t samples = 0;
  int64_t now = 1700000000000;
  auto start = std::chrono::steady_clock::now();
  for (uint64_t i = 0; i < requests; ++i) {
    std::string key = key_of(trace.next());
    bool hit = engine.get(key).has_value();
    if (!hit) {
      Put p;
      p.key = std::move(key);
      p.value = value;
      (void)engine.apply(p, now);
    }
    if (i >= warmup) {
      hits += hit ? 1 : 0;
      ++counted;
      if (i % 4096 == 0) {
        held += engine.dbsize();
        ++samples;
      }
    }
  }
  double secs = std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
  return {static_cast<double>(hits) / static_cast<double>(counted),
          samples > 0 ? held / samples : 0, secs};
}

// Exact LRU over key ids (a list and a map, outside the engine), holding `capacity` keys: a
// reference for how close the engine's sampled allkeys-lru gets, given as many keys as it held.
double run_exact_lru(TraceKind kind, uint64_t n, uint64_t capacity, uint64_t loop_len,
                     uint64_t requests) {
  Trace trace(kind, n, 12345, loop_len);
  std::list<uint64_t> order;  // most recent first
  std::unordered_map<uint64_t, std::list<uint64_t>::iterator> where;
  const uint64_t warmup = std::min<uint64_t>(1000000, requests / 4);
  uint64_t hits = 0;
  for (uint64_t i = 0; i < requests; ++i) {
    uint64_t id = trace.next();
    auto it = where.find(id);
    bool hit = it != where.end();
    if (hit) {
      order.splice(order.begin(), order, it->second);
    } else {
      order.push_front(id);
      where[id] = order.begin();
      if (where.size() > capacity) {
        where.erase(order.back());
        order.pop_back();
      }
    }
    if (i >= warmup && hit) ++hits;
  }
  return static_cast<double>(hits) / static_cast<double>(requests - warmup);
}

}  // namespace

int main(int argc, char** argv) {
  const uint64_t requests = argc > 1 ? std::strtoull(argv[1], nullptr, 10) : 6000000;
  const uint64_t n = argc > 2 ? std::strtoull(argv[2], nullptr, 10) : 1000000;
  const EvictionPolicy policies[] = {EvictionPolicy::kAllKeysLru, EvictionPolicy::kSieve,
                                     EvictionPolicy::kS3Fifo};
  std::printf("Hit ratio, %llu requests over %llu keys (16-byte keys, 32-byte values)\n\n",
              static_cast<unsigned long long>(requests), static_cast<unsigned long long>(n));
  std::printf("| trace | cache size | policy | hit ratio | keys held | seconds |\n");
  std::printf("|---|---|---|---|---|---|\n");
  for (TraceKind kind : {TraceKind::kZipf, TraceKind::kZipfScan, TraceKind::kLoop}) {
    for (double fraction : {0.01, 0.10}) {
      uint64_t lru_keys = 0;
      for (EvictionPolicy p : policies) {
        Row r = run(p, kind, n, fraction, requests);
        if (p == EvictionPolicy::kAllKeysLru) lru_keys = r.keys_held;
        std::printf("| %s | %.0f%% | %s | %.4f | %llu | %.1f |\n", trace_name(kind), fraction * 100,
                    std::string(policy_name(p)).c_str(), r.hit_ratio,
                    static_cast<unsigned long long>(r.keys_held), r.seconds);
        std::fflush(stdout);
      }
      const auto capacity = static_cast<uint64_t>(static_cast<double>(n) * fraction);
      std::printf("| %s | %.0f%% | exact LRU (reference) | %.4f | %llu | - |\n", trace_name(kind),
                  fraction * 100, run_exact_lru(kind, n, lru_keys, 2 * capacity, requests),
                  static_cast<unsigned long long>(lru_keys));
      std::fflush(stdout);
    }
  }
  return 0;
}
