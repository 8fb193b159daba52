#include "server/input_buffer.h"

#include <sys/mman.h>
#include <unistd.h>

#include <cstring>
#include <new>

namespace cairn::server {

void InputBuffer::grow(size_t bytes, size_t keep) {
  if (bytes <= cap_) return;
  if (bytes < kMapFrom) {
    char* grown = new char[bytes];  // not zero-filled: only bytes read are looked at
    if (keep > 0) std::memcpy(grown, data_, keep);
    reset();
    data_ = grown;
    cap_ = bytes;
    return;
  }
  const auto page = static_cast<size_t>(sysconf(_SC_PAGESIZE));
  const size_t size = (bytes + page - 1) / page * page;
  void* p = mapped_
                ? mremap(data_, cap_, size, MREMAP_MAYMOVE)
                : mmap(nullptr, size, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
  if (p == MAP_FAILED) throw std::bad_alloc();
  if (!mapped_) {
    if (keep > 0) std::memcpy(p, data_, keep);
    reset();
  }
  data_ = static_cast<char*>(p);
  cap_ = size;
  mapped_ = true;
}

void InputBuffer::reset() {
  if (mapped_)
    munmap(data_, cap_);
  else
    delete[] data_;
  data_ = nullptr;
  cap_ = 0;
  mapped_ = false;
}

}  // namespace cairn::server
