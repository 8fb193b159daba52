// Primitives of the bincode 1.x default layout (what Rust's `bincode::serialize` writes):
// fixed-width little-endian integers, u32 enum tags, u64-length-prefixed strings and byte
// vectors, Option as a 0/1 byte then the value, bool as a 0/1 byte. docs/protocol.md has the
// full layout. Writer appends to a caller-owned buffer; Reader never reads past its span and
// never allocates more than the bytes it has actually been given.
#pragma once

#include <bit>
#include <cstdint>
#include <cstring>
#include <optional>
#include <span>
#include <string>
#include <string_view>

#include "net/error.h"

namespace cairn::net::bincode {

// Wire integers are little-endian; on a big-endian host they are swapped (C++23's
// std::byteswap, written out).
template <typename T>
constexpr T byteswap(T v) {
  T out = 0;
  for (size_t i = 0; i < sizeof(T); ++i)
    out = static_cast<T>((out << 8) | ((v >> (8 * i)) & 0xff));
  return out;
}

// The composite writes, defined once over a sink's primitives (u8, u32, u64, bytes). Three
// sinks share them: Writer appends to a string, SizeCounter only counts, SpanWriter fills memory
// sized by SizeCounter - so the size and the bytes of a message can never disagree.
template <typename Sink>
class WriterOps {
 public:
  void boolean(bool v) { self().u8(v ? 1 : 0); }
  void i64(int64_t v) { self().u64(static_cast<uint64_t>(v)); }
  // Rust's String: the same layout as bytes; the caller guarantees UTF-8 (checked on decode).
  void str(std::string_view v) { self().bytes(v); }
  void opt_u64(const std::optional<uint64_t>& v) {
    boolean(v.has_value());
    if (v) self().u64(*v);
  }
  void opt_bytes(const std::optional<std::string>& v) {
    boolean(v.has_value());
    if (v) self().bytes(*v);
  }

 protected:
  // Little-endian bytes of an integer, whatever the host's byte order.
  template <typename T>
  static void store_le(char* dst, T v) {
    if constexpr (std::endian::native == std::endian::big) v = byteswap(v);
    std::memcpy(dst, &v, sizeof(T));
  }

 private:
  Sink& self() { return static_cast<Sink&>(*this); }
};

// Appends to a caller-owned string.
class Writer : public WriterOps<Writer> {
 public:
  explicit Writer(std::string& out) : out_(out) {}
  void u8(uint8_t v) { out_.push_back(static_cast<char>(v)); }
  void u32(uint32_t v) { le(v); }
  void u64(uint64_t v) { le(v); }
  void bytes(std::string_view v) {
    u64(v.size());
    out_.append(v);
  }

 private:
  template <typename T>
  void le(T v) {
    char b[sizeof(T)];
    store_le(b, v);
    out_.append(b, sizeof(T));
  }
  std::string& out_;
};

// Counts the bytes the other sinks would write.
class SizeCounter : public WriterOps<SizeCounter> {
 public:
  void u8(uint8_t) { n_ += 1; }
  void u32(uint32_t) { n_ += 4; }
  void u64(uint64_t) { n_ += 8; }
  void bytes(std::string_view v) { n_ += 8 + v.size(); }
  size_t size() const { return n_; }

 private:
  size_t n_ = 0;
};

// Writes into memory the caller has sized with SizeCounter; never checks bounds itself.
class SpanWriter : public WriterOps<SpanWriter> {
 public:
  explicit SpanWriter(char* dst) : p_(dst) {}
  void u8(uint8_t v) { *p_++ = static_cast<char>(v); }
  void u32(uint32_t v) { le(v); }
  void u64(uint64_t v) { le(v); }
  void bytes(std::string_view v) {
    u64(v.size());
    if (!v.empty()) std::memcpy(p_, v.data(), v.size());
    p_ += v.size();
  }

 private:
  template <typename T>
  void le(T v) {
    store_le(p_, v);
    p_ += sizeof(T);
  }
  char* p_;
};

// Every read returns false after recording a Deserialization error; once failed, the reader
// stays failed, so a decoder may check once at the end of a struct.
class Reader {
 public:
  explicit Reader(std::span<const uint8_t> in) : in_(in) {}

  bool u8(uint8_t& v) {
    if (!need(1, "u8")) return false;
    v = in_[pos_++];
    return true;
  }
  bool u32(uint32_t& v) { return le(v, "u32"); }
  bool u64(uint64_t& v) { return le(v, "u64"); }
  bool i64(int64_t& v) {
    uint64_t u = 0;
    if (!u64(u)) return false;
    v = static_cast<int64_t>(u);
    return true;
  }
  bool boolean(bool& v, const char* field);
  bool bytes(std::string& v, const char* field);
  bool str(std::string& v, const char* field);  // bytes + UTF-8 validation
  bool opt_u64(std::optional<uint64_t>& v, const char* field);
  bool opt_bytes(std::optional<std::string>& v, const char* field);
  bool opt_str(std::optional<std::string>& v, const char* field);

  bool fail(std::string reason);
  bool failed() const { return failed_; }
  size_t remaining() const { return in_.size() - pos_; }
  size_t position() const { return pos_; }
  NetworkError error() const { return NetworkError::deserialization(error_); }

 private:
  // Inline on the hot path; the out-of-line part only builds the error.
  bool need(size_t n, const char* what) {
    if (!failed_ && remaining() >= n) [[likely]]
      return true;
    return fail_truncated(n, what);
  }
  bool fail_truncated(size_t n, const char* what);
  template <typename T>
  bool le(T& v, const char* what) {
    if (!need(sizeof(T), what)) return false;
    std::memcpy(&v, in_.data() + pos_, sizeof(T));
    if constexpr (std::endian::native == std::endian::big) v = byteswap(v);
    pos_ += sizeof(T);
    return true;
  }
  bool opt_tag(bool& present, const char* field);

  std::span<const uint8_t> in_;
  size_t pos_ = 0;
  bool failed_ = false;
  std::string error_;
};

// Strict UTF-8 check (no overlongs, no surrogates, nothing above U+10FFFF), as Rust's String.
bool is_valid_utf8(std::string_view s);

}  // namespace cairn::net::bincode
