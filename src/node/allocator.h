// What the allocator holds, and handing back to the system what it keeps for reuse.
//
// cairn-server runs jemalloc without time-based decay (tools/cairn-server/main.cc): freed pages
// stay mapped for the next burst of writes, which is what keeps a steady load fast. Left alone,
// resident memory would then stay at its peak for the life of the process: after a snapshot is
// built, sent or installed (about the size of the cache once), after a flood whose keys were
// evicted or deleted, after thousands of connections closed. `MemoryKeeper` bounds what is kept
// by amount instead of by age. When jemalloc is linked in, its `mallctl` is found through a weak
// reference (nothing else needs it); with another allocator the stats read zero and nothing is
// purged.
#pragma once

#include <atomic>
#include <cstdint>

namespace cairn::node {

struct AllocatorStats {
  bool known = false;      // false: not jemalloc, every figure below is zero
  uint64_t allocated = 0;  // bytes the program holds (jemalloc "stats.allocated")
  uint64_t active = 0;     // bytes of the pages those allocations sit in ("stats.active")
  uint64_t resident = 0;   // the allocator's resident pages, metadata included ("stats.resident")
  uint64_t dirty = 0;      // freed pages kept mapped for reuse, the part a purge returns
};

// Refreshes jemalloc's statistics and reads them (a few microseconds).
AllocatorStats allocator_stats();

// This process's resident set, from /proc/self/statm (0 if it cannot be read).
uint64_t resident_set_bytes();

// Purges every arena's free pages on a thread of its own (returning gigabytes takes a while; the
// caller goes on). At most one purge runs at a time; a request while one runs is dropped (that
// purge covers it, mostly). Returns whether a purge started.
bool release_free_memory();

// Bounds the freed memory kept for reuse to max(floor, allocated), checked from the node's
// clock at every tick (`check` costs one stats refresh, a few microseconds) and purged once over.
//
// A purge is not free. With transparent huge pages, returning the free 4 KiB pages inside a 2 MiB
// page splits it, and the live data around them loses its huge-page backing until the kernel's
// khugepaged gathers it again: measured, pipelined GETs ran 10-40% slower, for minutes, after a
// purge of freed values interleaved with live ones. So the bound is loose enough that a steady
// load, which reuses what it frees (the log frees up to its compaction's worth at once, overwritten
// values their size), never reaches it; what does is a large one-off release: FLUSHALL or DEL of
// most of the cache, a big value, thousands of closed connections, a snapshot sent or installed.
class MemoryKeeper {
 public:
  explicit MemoryKeeper(uint64_t floor_bytes) : floor_(floor_bytes) {}
  // Returns true when it started a purge.
  bool check();
  uint64_t allowance(uint64_t allocated) const { return allocated > floor_ ? allocated : floor_; }
  // How many purges it asked for; read from any thread (INFO).
  uint64_t purges() const { return purges_.load(std::memory_order_relaxed); }

 private:
  uint64_t floor_;
  std::atomic<uint64_t> purges_{0};
};

}  // namespace cairn::node
