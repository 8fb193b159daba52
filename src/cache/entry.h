// One cache entry: a single heap block holding a fixed 24-byte header, then the key bytes, then
// the value bytes. Owned by the Keyspace (apply thread); readers see entries only under the
// engine's shared lock, and the only field they may write is `policy` (atomically).
//
// Why one block: with 16-byte keys and 32-byte values the whole entry is 72 bytes, which glibc
// serves from an 80-byte chunk; a std::string key plus value would cost two extra allocations.
//
// Invariants:
//  1. key length < 2^20 (1 MiB); the engine refuses longer keys before building an entry.
//  2. expiry code 0 means "no expiry"; otherwise code = max(expire_ms, 0) + 1, 44 bits, so
//     absolute expiries from the Unix epoch to the year 2527 are representable. Times before the
//     epoch are stored as 0: expired for any clock >= 0, including a simulator's logical clock.
//  3. `next` links entries of one hash bucket; it is only written under the exclusive lock.
#pragma once

#include <atomic>
#include <cstddef>
#include <cstdint>
#include <string_view>

namespace cairn::cache {

inline constexpr int kKeyLenBits = 20;
inline constexpr uint64_t kMaxKeyLen = (uint64_t{1} << kKeyLenBits) - 1;
inline constexpr uint64_t kMaxExpiryCode = (uint64_t{1} << (64 - kKeyLenBits)) - 1;
// Largest absolute expiry (ms since the Unix epoch) an entry can hold.
inline constexpr int64_t kMaxExpireMs = static_cast<int64_t>(kMaxExpiryCode) - 1;
inline constexpr int64_t kNoExpiry = -1;

struct Entry {
  Entry* next = nullptr;
  uint64_t meta = 0;                // bits 0..19: key length; bits 20..63: expiry code
  std::atomic<uint32_t> policy{0};  // owned by the eviction policy (see policy.h)
  uint32_t value_len = 0;

  size_t key_len() const { return static_cast<size_t>(meta & kMaxKeyLen); }
  const char* key_data() const { return reinterpret_cast<const char*>(this + 1); }
  char* key_data() { return reinterpret_cast<char*>(this + 1); }
  const char* value_data() const { return key_data() + key_len(); }
  char* value_data() { return key_data() + key_len(); }
  std::string_view key() const { return {key_data(), key_len()}; }
  std::string_view value() const { return {value_data(), value_len}; }

  bool has_expiry() const { return (meta >> kKeyLenBits) != 0; }
  // Absolute expiry in ms since the Unix epoch, or kNoExpiry.
  int64_t expire_ms() const {
    uint64_t code = meta >> kKeyLenBits;
    return code == 0 ? kNoExpiry : static_cast<int64_t>(code) - 1;
  }
  // REQUIRES: ms == kNoExpiry or ms <= kMaxExpireMs.
  void set_expire_ms(int64_t ms);
  // True if the entry has an expiry at or before `now_ms` (Redis: expired when now >= when).
  bool expired_at(int64_t now_ms) const { return has_expiry() && expire_ms() <= now_ms; }
};
static_assert(sizeof(Entry) == 24, "the header layout is part of the memory budget");

// Allocates an entry holding key and value (expiry none, policy word 0).
// REQUIRES: key.size() <= kMaxKeyLen, value.size() < 2^32.
Entry* entry_new(std::string_view key, std::string_view value);
// Allocates an entry with `value_len` bytes of uninitialized value; the caller fills them.
Entry* entry_new_uninit(std::string_view key, size_t value_len);
void entry_free(Entry* e);

// Bytes the allocator really holds for a request of n bytes: glibc malloc serves n + 8 rounded up
// to 16 (minimum 32) from its heap, and large requests by mmap rounded up to pages.
size_t malloc_footprint(size_t n);
// Footprint of an entry with these lengths.
inline size_t entry_footprint(size_t key_len, size_t value_len) {
  return malloc_footprint(sizeof(Entry) + key_len + value_len);
}
inline size_t entry_footprint(const Entry* e) {
  return entry_footprint(e->key_len(), e->value_len);
}

}  // namespace cairn::cache
