// The simulators' random numbers: one seeded generator per run, so a seed reproduces the run.
#pragma once

#include <cstdint>

namespace cairn::sim {

// splitmix64: small, fast, and the same on every platform (unlike std distributions).
class Rng {
 public:
  explicit Rng(std::uint64_t seed) : s_(seed) {}
  std::uint64_t next() {
    std::uint64_t z = (s_ += 0x9E3779B97F4A7C15ULL);
    z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9ULL;
    z = (z ^ (z >> 27)) * 0x94D049BB133111EBULL;
    return z ^ (z >> 31);
  }
  std::uint64_t below(std::uint64_t n) { return n == 0 ? 0 : next() % n; }
  bool chance(std::uint64_t per_10000) { return below(10000) < per_10000; }

 private:
  std::uint64_t s_;
};

}  // namespace cairn::sim
