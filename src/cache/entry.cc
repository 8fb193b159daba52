// Entry allocation and the allocator footprint model (see entry.h). Apply thread only.
#include "cache/entry.h"

#include <cstring>
#include <new>

#include "common/result.h"

namespace cairn::cache {

void Entry::set_expire_ms(int64_t ms) {
  uint64_t code = 0;
  if (ms != kNoExpiry) {
    CAIRN_CHECK(ms <= kMaxExpireMs);
    code = ms <= 0 ? 1 : static_cast<uint64_t>(ms) + 1;
  }
  meta = (meta & kMaxKeyLen) | (code << kKeyLenBits);
}

Entry* entry_new_uninit(std::string_view key, size_t value_len) {
  CAIRN_CHECK(key.size() <= kMaxKeyLen);
  CAIRN_CHECK(value_len <= UINT32_MAX);
  void* block = ::operator new(sizeof(Entry) + key.size() + value_len);
  auto* e = new (block) Entry;
  e->meta = key.size();
  e->value_len = static_cast<uint32_t>(value_len);
  if (!key.empty()) std::memcpy(e->key_data(), key.data(), key.size());
  return e;
}

Entry* entry_new(std::string_view key, std::string_view value) {
  Entry* e = entry_new_uninit(key, value.size());
  if (!value.empty()) std::memcpy(e->value_data(), value.data(), value.size());
  return e;
}

void entry_free(Entry* e) {
  e->~Entry();
  ::operator delete(static_cast<void*>(e));
}

size_t malloc_footprint(size_t n) {
  // glibc's default mmap threshold is 128 KiB; above it a block is its own mapping.
  constexpr size_t kMmapThreshold = 128 * 1024;
  if (n >= kMmapThreshold) return (n + 16 + 4095) & ~size_t{4095};
  size_t chunk = (n + 8 + 15) & ~size_t{15};
  return chunk < 32 ? 32 : chunk;
}

}  // namespace cairn::cache
