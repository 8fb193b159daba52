// Hands memory the allocator keeps for reuse back to the system, after a large one-off free.
//
// cairn-server runs jemalloc without decay (tools/cairn-server/main.cc): freed pages stay mapped
// for the next burst of writes, which is what keeps a steady load fast. A snapshot is another
// matter: building, sending or installing one allocates about the size of the cache once, and
// without a purge those pages would stay resident for the life of the process. When jemalloc is
// linked in, its `mallctl` is found (a weak reference: nothing else needs it) and every arena is
// purged; with another allocator this does nothing.
#pragma once

#include <atomic>
#include <cstddef>
#include <thread>

extern "C" int mallctl(const char* name, void* oldp, size_t* oldlenp, void* newp, size_t newlen)
    __attribute__((weak));

namespace cairn::node {

// Purges on a thread of its own (returning gigabytes takes a while; the caller goes on). At most
// one purge runs at a time; a request while one runs is dropped (that purge covers it, mostly).
inline void release_free_memory() {
  if (mallctl == nullptr) return;
  static std::atomic<bool> running{false};
  if (running.exchange(true)) return;
  std::thread([] {
    // "arena.<MALLCTL_ARENAS_ALL>.purge": 4096 stands for every arena in jemalloc 5.
    mallctl("arena.4096.purge", nullptr, nullptr, nullptr, 0);
    running.store(false);
  }).detach();
}

}  // namespace cairn::node
