#include "allocation_probe.h"

#include <atomic>
#include <cstdlib>
#include <new>

// GCC cannot see that the replaced new and delete are a malloc/free pair and warns falsely.
#if defined(__GNUC__) && !defined(__clang__)
#pragma GCC diagnostic ignored "-Wmismatched-new-delete"
#endif

namespace {
std::atomic<bool> g_armed{false};
std::atomic<size_t> g_bytes{0};
std::atomic<size_t> g_largest{0};
}  // namespace

void* operator new(size_t n) {
  if (g_armed.load(std::memory_order_relaxed)) {
    g_bytes.fetch_add(n, std::memory_order_relaxed);
    size_t seen = g_largest.load(std::memory_order_relaxed);
    while (n > seen && !g_largest.compare_exchange_weak(seen, n)) {
    }
  }
  if (void* p = std::malloc(n == 0 ? 1 : n)) return p;
  throw std::bad_alloc();
}
void operator delete(void* p) noexcept {
  std::free(p);
}
void operator delete(void* p, size_t) noexcept {
  std::free(p);
}

namespace cairn::testing {

void arm_allocation_probe() {
  g_bytes = 0;
  g_largest = 0;
  g_armed = true;
}

Allocations disarm_allocation_probe() {
  g_armed = false;
  return Allocations{g_bytes.load(), g_largest.load()};
}

}  // namespace cairn::testing
