// Primitives of the bincode 1.x default layout (what Rust's `bincode::serialize` writes):
// fixed-width little-endian integers, u32 enum tags, u64-length-prefixed strings and byte
// vectors, Option as a 0/1 byte then the value, bool as a 0/1 byte. docs/protocol.md has the
// full layout. Writer appends to a caller-owned buffer; Reader never reads past its span and
// never allocates more than the bytes it has actually been given.
#pragma once

#include <cstdint>
#include <cstring>
#include <optional>
#include <span>
#include <string>
#include <string_view>

#include "net/error.h"

namespace cairn::net::bincode {

class Writer {
 public:
  explicit Writer(std::string& out) : out_(out) {}

  void u8(uint8_t v) { out_.push_back(static_cast<char>(v)); }
  void boolean(bool v) { u8(v ? 1 : 0); }
  void u32(uint32_t v) { le(v); }
  void u64(uint64_t v) { le(v); }
  void i64(int64_t v) { le(static_cast<uint64_t>(v)); }
  void bytes(std::string_view v) {
    u64(v.size());
    out_.append(v);
  }
  // Rust's String: the same layout as bytes; the caller guarantees UTF-8 (checked on decode).
  void str(std::string_view v) { bytes(v); }
  void opt_u64(const std::optional<uint64_t>& v) {
    boolean(v.has_value());
    if (v) u64(*v);
  }
  void opt_bytes(const std::optional<std::string>& v) {
    boolean(v.has_value());
    if (v) bytes(*v);
  }

 private:
  template <typename T>
  void le(T v) {
    char b[sizeof(T)];
    for (size_t i = 0; i < sizeof(T); ++i)
      b[i] = static_cast<char>((v >> (8 * i)) & 0xff);
    out_.append(b, sizeof(T));
  }
  std::string& out_;
};

// Every read returns false after recording a Deserialization error; once failed, the reader
// stays failed, so a decoder may check once at the end of a struct.
class Reader {
 public:
  explicit Reader(std::span<const uint8_t> in) : in_(in) {}

  bool u8(uint8_t& v);
  bool boolean(bool& v, const char* field);
  bool u32(uint32_t& v);
  bool u64(uint64_t& v);
  bool i64(int64_t& v);
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
  bool need(size_t n, const char* what);
  bool opt_tag(bool& present, const char* field);

  std::span<const uint8_t> in_;
  size_t pos_ = 0;
  bool failed_ = false;
  std::string error_;
};

// Strict UTF-8 check (no overlongs, no surrogates, nothing above U+10FFFF), as Rust's String.
bool is_valid_utf8(std::string_view s);

}  // namespace cairn::net::bincode
