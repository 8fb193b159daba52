// A connection's input buffer. A large one (a value of hundreds of MB arriving) lives in a mapping
// of its own that grows with mremap: its pages move to the larger range, its bytes are not copied.
// Grown by doubling into fresh memory, a 300 MB value would be copied about 300 MB over in all,
// on the thread that may serve every client and the node's heartbeats (--resp-threads 0).
#pragma once

#include <cstddef>

namespace cairn::server {

class InputBuffer {
 public:
  InputBuffer() = default;
  InputBuffer(const InputBuffer&) = delete;
  InputBuffer& operator=(const InputBuffer&) = delete;
  ~InputBuffer() { reset(); }

  char* data() const { return data_; }
  size_t capacity() const { return cap_; }
  // Room for at least `bytes`, the first `keep` bytes kept. Throws std::bad_alloc when the memory
  // cannot be had, as operator new does.
  void grow(size_t bytes, size_t keep);
  void reset();

 private:
  // From this size on the buffer is a mapping of its own.
  static constexpr size_t kMapFrom = size_t{1} << 20;
  char* data_ = nullptr;
  size_t cap_ = 0;
  bool mapped_ = false;
};

}  // namespace cairn::server
