#include "net/bincode.h"

#include <fmt/format.h>

namespace cairn::net::bincode {

bool Reader::fail(std::string reason) {
  if (!failed_) {
    failed_ = true;
    error_ = fmt::format("{} (at byte {})", reason, pos_);
  }
  return false;
}

bool Reader::fail_truncated(size_t n, const char* what) {
  if (failed_) return false;
  return fail(fmt::format("truncated input: {} needs {} bytes, {} left", what, n, remaining()));
}

bool Reader::boolean(bool& v, const char* field) {
  uint8_t b = 0;
  if (!u8(b)) return false;
  if (b > 1) return fail(fmt::format("invalid bool {:#04x} in {}", b, field));
  v = b == 1;
  return true;
}

bool Reader::bytes(std::string& v, const char* field) {
  uint64_t len = 0;
  if (!u64(len)) return false;
  // The length is checked against what is really there before anything is allocated, so a
  // forged length costs nothing.
  if (len > remaining()) {
    return fail(fmt::format("length {} of {} exceeds the {} bytes left", len, field, remaining()));
  }
  v.assign(reinterpret_cast<const char*>(in_.data() + pos_), static_cast<size_t>(len));
  pos_ += static_cast<size_t>(len);
  return true;
}

bool Reader::str(std::string& v, const char* field) {
  if (!bytes(v, field)) return false;
  if (!is_valid_utf8(v)) return fail(fmt::format("{} is not valid UTF-8", field));
  return true;
}

bool Reader::opt_tag(bool& present, const char* field) {
  uint8_t tag = 0;
  if (!u8(tag)) return false;
  if (tag > 1) return fail(fmt::format("invalid Option tag {:#04x} in {}", tag, field));
  present = tag == 1;
  return true;
}

bool Reader::opt_u64(std::optional<uint64_t>& v, const char* field) {
  bool present = false;
  if (!opt_tag(present, field)) return false;
  v.reset();
  if (!present) return true;
  uint64_t x = 0;
  if (!u64(x)) return false;
  v = x;
  return true;
}

bool Reader::opt_bytes(std::optional<std::string>& v, const char* field) {
  bool present = false;
  if (!opt_tag(present, field)) return false;
  v.reset();
  if (!present) return true;
  return bytes(v.emplace(), field);
}

bool Reader::opt_str(std::optional<std::string>& v, const char* field) {
  bool present = false;
  if (!opt_tag(present, field)) return false;
  v.reset();
  if (!present) return true;
  return str(v.emplace(), field);
}

bool is_valid_utf8(std::string_view s) {
  const auto* p = reinterpret_cast<const unsigned char*>(s.data());
  const auto* end = p + s.size();
  while (p < end) {
    // Fast path: eight ASCII bytes at a time (addresses and error texts are nearly all ASCII).
    if (end - p >= 8) {
      uint64_t word = 0;
      std::memcpy(&word, p, 8);
      if ((word & 0x8080808080808080ull) == 0) {
        p += 8;
        continue;
      }
    }
    unsigned c = *p;
    if (c < 0x80) {
      ++p;
      continue;
    }
    size_t n = 0;
    uint32_t cp = 0;
    uint32_t min = 0;
    if ((c & 0xe0) == 0xc0) {
      n = 1, cp = c & 0x1f, min = 0x80;
    } else if ((c & 0xf0) == 0xe0) {
      n = 2, cp = c & 0x0f, min = 0x800;
    } else if ((c & 0xf8) == 0xf0) {
      n = 3, cp = c & 0x07, min = 0x10000;
    } else {
      return false;
    }
    if (static_cast<size_t>(end - p) <= n) return false;
    for (size_t i = 1; i <= n; ++i) {
      if ((p[i] & 0xc0) != 0x80) return false;
      cp = (cp << 6) | (p[i] & 0x3f);
    }
    if (cp < min || cp > 0x10ffff || (cp >= 0xd800 && cp <= 0xdfff)) return false;
    p += n + 1;
  }
  return true;
}

}  // namespace cairn::net::bincode
