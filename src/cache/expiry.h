// ExpiryIndex: the keys that have an expiry, ordered by expiry time, for active expiry.
// Owned by the Engine; changed by the apply thread under the exclusive lock, read under the
// shared lock.
//
// Algorithm. Whether a key is expired is always decided from the engine's replicated clock
// (the largest entry time applied so far), never from a wall clock, so every replica that has
// applied the same prefix of the log agrees, and the clock never moves backwards.
//  - Lazy expiry: a read treats an expired entry as absent (it cannot delete under the shared
//    lock); a write that finds an expired entry deletes it first.
//  - Active expiry: after every applied command the engine deletes up to
//    Config::active_expire_per_apply of the earliest-expiring keys whose time has come, and a Tick
//    deletes up to Config::active_expire_per_tick. Redis samples random keys with a TTL because
//    its expires dict is unordered; keeping the index ordered costs one tree node per key with a
//    TTL (accounted) but makes the bound exact: a key is reclaimed by the first apply after its
//    expiry at which fewer than the budget of keys expired before it remain.
#pragma once

#include <cstddef>
#include <cstdint>
#include <set>
#include <utility>

#include "cache/entry.h"

namespace cairn::cache {

class ExpiryIndex {
 public:
  void add(Entry* e) { set_.emplace(e->expire_ms(), e); }
  void remove(Entry* e) { set_.erase({e->expire_ms(), e}); }
  void clear() { set_.clear(); }
  // The index's nodes, leaving it empty in O(1); freeing them is the caller's (another thread's).
  using Nodes = std::set<std::pair<int64_t, Entry*>>;
  Nodes take() { return std::exchange(set_, {}); }
  size_t size() const { return set_.size(); }
  // The earliest entry expired at `now_ms`, or nullptr.
  Entry* first_expired(int64_t now_ms) const {
    if (set_.empty() || set_.begin()->first > now_ms) return nullptr;
    return set_.begin()->second;
  }
  // True if some entry expires after `after_ms` and at or before `upto_ms`.
  bool any_between(int64_t after_ms, int64_t upto_ms) const {
    if (upto_ms <= after_ms) return false;
    auto it = set_.lower_bound({after_ms + 1, nullptr});
    return it != set_.end() && it->first <= upto_ms;
  }
  // Bytes held: one red-black tree node (32-byte header + 16-byte pair) per key with a TTL.
  size_t memory() const { return set_.size() * malloc_footprint(48); }

 private:
  Nodes set_;
};

}  // namespace cairn::cache
