// What operator new is asked for while a piece of code runs, so a test can show that a hostile
// announced length or count costs no memory. Unlike the allocator's own statistics this sees every
// request, also under AddressSanitizer. Linking allocation_probe.cc into a test binary replaces
// that binary's global operator new (and delete), nothing else.
#pragma once

#include <cstddef>
#include <utility>

namespace cairn::testing {

struct Allocations {
  size_t bytes = 0;    // total requested
  size_t largest = 0;  // the largest single request
};

void arm_allocation_probe();
Allocations disarm_allocation_probe();

// Runs `f` with the probe armed and returns what it asked operator new for (on any thread).
template <typename F>
Allocations allocations_during(F&& f) {
  arm_allocation_probe();
  std::forward<F>(f)();
  return disarm_allocation_probe();
}

}  // namespace cairn::testing
