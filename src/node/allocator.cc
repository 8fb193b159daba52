#include "node/allocator.h"

#include <unistd.h>

#include <cstddef>
#include <cstdio>
#include <thread>

#include <spdlog/spdlog.h>

extern "C" int mallctl(const char* name, void* oldp, size_t* oldlenp, void* newp, size_t newlen)
    __attribute__((weak));

namespace cairn::node {
namespace {

// "<MALLCTL_ARENAS_ALL>" is 4096 in jemalloc 5: every arena at once.
constexpr const char* kPurgeAll = "arena.4096.purge";
constexpr const char* kDirtyPagesAll = "stats.arenas.4096.pdirty";

template <typename T>
T read_ctl(const char* name) {
  T v{};
  size_t len = sizeof(v);
  if (mallctl(name, &v, &len, nullptr, 0) != 0) return T{};
  return v;
}

}  // namespace

AllocatorStats allocator_stats() {
  AllocatorStats s;
  if (mallctl == nullptr) return s;
  // Statistics are a snapshot taken at the last epoch; advancing it refreshes them.
  uint64_t epoch = 1;
  size_t len = sizeof(epoch);
  if (mallctl("epoch", &epoch, &len, &epoch, len) != 0) return s;
  s.known = true;
  s.allocated = read_ctl<size_t>("stats.allocated");
  s.active = read_ctl<size_t>("stats.active");
  s.resident = read_ctl<size_t>("stats.resident");
  s.dirty = read_ctl<size_t>(kDirtyPagesAll) * read_ctl<size_t>("arenas.page");
  return s;
}

uint64_t resident_set_bytes() {
  std::FILE* f = std::fopen("/proc/self/statm", "r");
  if (f == nullptr) return 0;
  unsigned long size = 0, resident = 0;
  const int n = std::fscanf(f, "%lu %lu", &size, &resident);
  std::fclose(f);
  if (n != 2) return 0;
  return static_cast<uint64_t>(resident) * static_cast<uint64_t>(sysconf(_SC_PAGESIZE));
}

bool release_free_memory() {
  if (mallctl == nullptr) return false;
  static std::atomic<bool> running{false};
  if (running.exchange(true)) return false;
  std::thread([] {
    mallctl(kPurgeAll, nullptr, nullptr, nullptr, 0);
    running.store(false);
  }).detach();
  return true;
}

bool MemoryKeeper::check() {
  const AllocatorStats s = allocator_stats();
  if (!s.known || s.dirty <= allowance(s.allocated)) return false;
  // While a purge of gigabytes runs, every tick finds the pages still there: only a purge that
  // starts is counted and logged.
  if (!release_free_memory()) return false;
  purges_.fetch_add(1, std::memory_order_relaxed);
  spdlog::info(
      "freed memory kept for reuse: {} MiB, over max({} MiB, the {} MiB in use); returned to the "
      "system",
      s.dirty >> 20, floor_ >> 20, s.allocated >> 20);
  return true;
}

}  // namespace cairn::node
