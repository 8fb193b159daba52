// XXH3-64 of bytes that arrive in pieces: a snapshot written, received or read back in steps.
// The hash state lives on the heap (xxhash's own allocation, 64-byte aligned) and goes with
// its owner.
#pragma once

#include <xxhash.h>

#include <cstddef>
#include <cstdint>
#include <memory>

#include "common/result.h"

namespace cairn {

class Xxh3Stream {
 public:
  Xxh3Stream() : state_(XXH3_createState()) {
    CAIRN_CHECK(state_ != nullptr);
    XXH3_64bits_reset(state_.get());
  }
  void update(const void* data, size_t n) { XXH3_64bits_update(state_.get(), data, n); }
  uint64_t digest() const { return XXH3_64bits_digest(state_.get()); }

 private:
  struct Free {
    void operator()(XXH3_state_t* s) const { XXH3_freeState(s); }
  };
  std::unique_ptr<XXH3_state_t, Free> state_;
};

}  // namespace cairn
