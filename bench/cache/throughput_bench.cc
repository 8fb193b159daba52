// Throughput of the engine's get and put against a plain std::unordered_map guarded by a
// std::mutex, in the same run: 1 and 2 threads, hits and misses, Zipf(0.99) keys over 1M keys
// (16-byte keys, 32-byte values). Google Benchmark; figures in docs/BENCHMARKS.md.
//
// Puts from two threads both go through Engine::apply, which serializes them on the exclusive
// lock exactly as the single Raft apply thread would be serialized with itself; the figure shows
// the cost of that lock, not a supported deployment with two apply threads.
#include <benchmark/benchmark.h>

#include <memory>
#include <mutex>
#include <string>
#include <unordered_map>
#include <vector>

#include "cache/engine.h"
#include "traces.h"

using namespace cairn::cache;         // NOLINT
using namespace cairn::cache::bench;  // NOLINT

namespace {

constexpr uint64_t kKeys = 1000000;
constexpr size_t kTraceLen = 1 << 20;
constexpr int64_t kNow = 1700000000000;

// Pre-generated Zipf key sequences, shared by every benchmark (generation is not measured).
const std::vector<std::string>& zipf_keys() {
  static const std::vector<std::string> keys = [] {
    Zipf z(kKeys, 0.99, 99);
    std::vector<std::string> v;
    v.reserve(kTraceLen);
    for (size_t i = 0; i < kTraceLen; ++i)
      v.push_back(key_of(z.next()));
    return v;
  }();
  return keys;
}
const std::vector<std::string>& miss_keys() {
  static const std::vector<std::string> keys = [] {
    std::vector<std::string> v;
    v.reserve(kTraceLen);
    for (size_t i = 0; i < kTraceLen; ++i)
      v.push_back(key_of(kKeys + i * 7919));
    return v;
  }();
  return keys;
}

Engine& filled_engine() {
  static Engine* engine = [] {
    Config cfg;  // no limit: this measures the data path, not eviction
    auto* e = new Engine(cfg);
    const std::string value(32, 'v');
    for (uint64_t i = 0; i < kKeys; ++i) {
      Put p;
      p.key = key_of(i);
      p.value = value;
      (void)e->apply(p, kNow);
    }
    return e;
  }();
  return *engine;
}

struct LockedMap {
  std::mutex mu;
  std::unordered_map<std::string, std::string> map;
  std::optional<std::string> get(const std::string& k) {
    std::lock_guard lock(mu);
    auto it = map.find(k);
    if (it == map.end()) return std::nullopt;
    return it->second;
  }
  void put(const std::string& k, const std::string& v) {
    std::lock_guard lock(mu);
    map.insert_or_assign(k, v);
  }
};

LockedMap& filled_map() {
  static LockedMap* m = [] {
    auto* lm = new LockedMap;
    lm->map.reserve(kKeys);
    for (uint64_t i = 0; i < kKeys; ++i)
      lm->map.emplace(key_of(i), std::string(32, 'v'));
    return lm;
  }();
  return *m;
}

size_t start_index(const benchmark::State& state) {
  return static_cast<size_t>(state.thread_index()) * 104729;
}

void BM_Engine_GetHit(benchmark::State& state) {
  Engine& e = filled_engine();
  const auto& keys = zipf_keys();
  size_t i = start_index(state);
  for (auto _ : state)
    benchmark::DoNotOptimize(e.get(keys[i++ & (kTraceLen - 1)]));
  state.SetItemsProcessed(state.iterations());
}
// The zero-copy read the RESP layer can use: the value is only looked at under the lock.
void BM_Engine_GetWithHit(benchmark::State& state) {
  Engine& e = filled_engine();
  const auto& keys = zipf_keys();
  size_t i = start_index(state);
  size_t bytes = 0;
  for (auto _ : state) {
    e.get_with(keys[i++ & (kTraceLen - 1)], [&](std::string_view v) { bytes += v.size(); });
  }
  benchmark::DoNotOptimize(bytes);
  state.SetItemsProcessed(state.iterations());
}
void BM_Map_GetHit(benchmark::State& state) {
  LockedMap& m = filled_map();
  const auto& keys = zipf_keys();
  size_t i = start_index(state);
  for (auto _ : state)
    benchmark::DoNotOptimize(m.get(keys[i++ & (kTraceLen - 1)]));
  state.SetItemsProcessed(state.iterations());
}
void BM_Engine_GetMiss(benchmark::State& state) {
  Engine& e = filled_engine();
  const auto& keys = miss_keys();
  size_t i = start_index(state);
  for (auto _ : state)
    benchmark::DoNotOptimize(e.get(keys[i++ & (kTraceLen - 1)]));
  state.SetItemsProcessed(state.iterations());
}
void BM_Map_GetMiss(benchmark::State& state) {
  LockedMap& m = filled_map();
  const auto& keys = miss_keys();
  size_t i = start_index(state);
  for (auto _ : state)
    benchmark::DoNotOptimize(m.get(keys[i++ & (kTraceLen - 1)]));
  state.SetItemsProcessed(state.iterations());
}
// Overwrites of existing keys (Zipf): the steady state of a cache being refreshed.
void BM_Engine_Put(benchmark::State& state) {
  Engine& e = filled_engine();
  const auto& keys = zipf_keys();
  size_t i = start_index(state);
  Command cmd = Put{};  // built once, as the node hands over a decoded log entry
  Put& p = std::get<Put>(cmd);
  p.value = std::string(32, 'w');
  for (auto _ : state) {
    p.key = keys[i++ & (kTraceLen - 1)];
    benchmark::DoNotOptimize(e.apply(cmd, kNow));
  }
  state.SetItemsProcessed(state.iterations());
}
void BM_Map_Put(benchmark::State& state) {
  LockedMap& m = filled_map();
  const auto& keys = zipf_keys();
  size_t i = start_index(state);
  const std::string value(32, 'w');
  for (auto _ : state)
    m.put(keys[i++ & (kTraceLen - 1)], value);
  state.SetItemsProcessed(state.iterations());
}

BENCHMARK(BM_Engine_GetHit)->Threads(1)->Threads(2)->UseRealTime();
BENCHMARK(BM_Engine_GetWithHit)->Threads(1)->Threads(2)->UseRealTime();
BENCHMARK(BM_Map_GetHit)->Threads(1)->Threads(2)->UseRealTime();
BENCHMARK(BM_Engine_GetMiss)->Threads(1)->Threads(2)->UseRealTime();
BENCHMARK(BM_Map_GetMiss)->Threads(1)->Threads(2)->UseRealTime();
BENCHMARK(BM_Engine_Put)->Threads(1)->Threads(2)->UseRealTime();
BENCHMARK(BM_Map_Put)->Threads(1)->Threads(2)->UseRealTime();

}  // namespace
