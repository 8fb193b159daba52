// Eviction policies: which entry to drop when the engine is over its memory limit. Owned by the
// Engine. Eviction is a node-local decision (a miss is a legal cache answer), so a policy may use
// reads that only this node served.
//
// Thread safety: on_access() may run on any reader thread concurrently with everything else and
// touches only the entry's atomic policy word. Every other member runs on the apply thread under
// the engine's exclusive lock.
//
// The policy word (Entry::policy) belongs to the policy:
//   allkeys-lru:    a 32-bit logical access clock (wrapping), as Redis's 24-bit LRU field.
//   sieve, s3-fifo: bits 0..1 frequency (SIEVE: bit 0 = visited), bit 2 = in main queue (S3-FIFO),
//                   bits 3..31 = the entry's slot in its FIFO ring (see fifo_ring.h).
#pragma once

#include <cstddef>
#include <cstdint>
#include <memory>
#include <optional>
#include <string_view>

#include "cache/entry.h"

namespace cairn::cache {

class Table;

enum class EvictionPolicy : uint8_t {
  kNoEviction,  // writes that need memory fail with the OOM error
  kAllKeysLru,  // Redis's sampled LRU (5 samples, pool of 16): the baseline
  kSieve,       // SIEVE (Zhang et al., NSDI'24)
  kS3Fifo,      // S3-FIFO (Yang et al., SOSP'23): the default, chosen by measurement
};

std::string_view policy_name(EvictionPolicy p);
// Parses Redis-style names: "noeviction", "allkeys-lru", "sieve", "s3-fifo".
std::optional<EvictionPolicy> parse_policy(std::string_view name);

class Policy {
 public:
  virtual ~Policy() = default;
  // A new entry entered the keyspace.
  virtual void on_insert(Entry* e, uint64_t hash) = 0;
  // A read or write touched e. Any thread; atomics only.
  virtual void on_access(Entry* e) = 0;
  // e is leaving the keyspace (deleted, expired or evicted); it is still valid during the call.
  virtual void on_remove(Entry* e) = 0;
  // e, already passed to on_remove() (handed out for replicated eviction), is now leaving the
  // keyspace: drop any reference still held to it (allkeys-lru's sample pool may hold one).
  virtual void forget(Entry* e) { (void)e; }
  // `fresh` takes the place of `old` (same key, new block): keep its position and history.
  virtual void on_replace(Entry* old, Entry* fresh) = 0;
  // The entry to evict next, never `protect`; nullptr if there is none. The engine then removes
  // it (calling on_remove).
  virtual Entry* victim(const Entry* protect) = 0;
  // The keyspace was emptied.
  virtual void clear() = 0;
  // Bytes the policy's own structures hold.
  virtual size_t memory() const = 0;
  // How many entries the policy's queues hold, for invariant checks (none for sampling policies).
  virtual std::optional<size_t> tracked() const { return std::nullopt; }
};

std::unique_ptr<Policy> make_policy(EvictionPolicy p, const Table& table, uint64_t seed);

}  // namespace cairn::cache
