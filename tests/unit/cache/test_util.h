// Helpers for the cache tests: an engine with a hand-driven time, and reply shorthands.
#pragma once

#include <gtest/gtest.h>

#include <string>

#include "cache/engine.h"

namespace cairn::cache::testing {

inline constexpr int64_t kT0 = 1700000000000;  // 2023-11-14, an arbitrary "now"

inline Reply ok() {
  return Ok{};
}
inline Reply nil() {
  return Nil{};
}
inline Reply num(int64_t v) {
  return v;
}
inline Reply bulk(std::string s) {
  return Bytes(std::move(s));
}
inline std::string error_text(const Reply& r) {
  const auto* e = std::get_if<Error>(&r);
  return e != nullptr ? e->message : std::string("<not an error>");
}

inline Put put(std::string k, std::string v, Expiry x = Expiry::none()) {
  Put p;
  p.key = std::move(k);
  p.value = std::move(v);
  p.expiry = x;
  return p;
}

// An engine whose time the test moves: every apply is stamped with now.
struct Clocked {
  explicit Clocked(Config c = {}) : engine(c) {}
  Reply apply(const Command& cmd) {
    Reply r = engine.apply(cmd, now);
    // The check is O(n): every apply while small, then every 1024th.
    if (engine.dbsize() < 256 || ++applies % 1024 == 0) engine.check_invariants();
    return r;
  }
  Reply set(std::string k, std::string v, Expiry x = Expiry::none()) {
    Put p;
    p.key = std::move(k);
    p.value = std::move(v);
    p.expiry = x;
    return apply(p);
  }
  std::optional<Bytes> get(const std::string& k) { return engine.get(k); }
  void advance(int64_t ms) {
    now += ms;
    apply(Tick{});
  }
  Engine engine;
  int64_t now = kT0;
  uint64_t applies = 0;
};

}  // namespace cairn::cache::testing
