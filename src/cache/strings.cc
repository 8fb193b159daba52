// Redis-compatible parsing, formatting and glob matching (see strings.h).
#include "cache/strings.h"

#include <cctype>
#include <cerrno>
#include <cmath>
#include <cstdio>
#include <cstdlib>
#include <cstring>

namespace cairn::cache {

std::optional<int64_t> parse_int64(std::string_view s) {
  if (s.empty() || s.size() > 20) return std::nullopt;
  size_t i = 0;
  bool negative = false;
  if (s[0] == '-') {
    negative = true;
    i = 1;
    if (s.size() == 1) return std::nullopt;
  }
  if (s[i] == '0') {
    // Only "0" itself; "-0" and "01" are not integers for Redis.
    if (s.size() == 1) return 0;
    return std::nullopt;
  }
  uint64_t v = 0;
  for (; i < s.size(); ++i) {
    if (s[i] < '0' || s[i] > '9') return std::nullopt;
    uint64_t digit = static_cast<uint64_t>(s[i] - '0');
    if (v > (UINT64_MAX - digit) / 10) return std::nullopt;
    v = v * 10 + digit;
  }
  if (negative) {
    if (v > uint64_t{1} << 63) return std::nullopt;
    return static_cast<int64_t>(0 - v);
  }
  if (v > static_cast<uint64_t>(INT64_MAX)) return std::nullopt;
  return static_cast<int64_t>(v);
}

std::string format_int64(int64_t v) {
  return std::to_string(v);
}

std::optional<long double> parse_long_double(std::string_view s) {
  constexpr size_t kMaxChars = 5 * 1024;  // MAX_LONG_DOUBLE_CHARS
  if (s.empty() || s.size() >= kMaxChars) return std::nullopt;
  std::string buf(s);
  if (std::strlen(buf.c_str()) != buf.size()) return std::nullopt;  // embedded NUL
  if (std::isspace(static_cast<unsigned char>(buf[0]))) return std::nullopt;
  errno = 0;
  char* end = nullptr;
  long double v = std::strtold(buf.c_str(), &end);
  if (*end != '\0') return std::nullopt;
  if (errno == ERANGE && (v == HUGE_VALL || v == -HUGE_VALL || std::fpclassify(v) == FP_ZERO))
    return std::nullopt;
  if (errno == EINVAL || std::isnan(v)) return std::nullopt;
  return v;
}

std::string format_long_double(long double v) {
  if (std::isinf(v)) return v > 0 ? "inf" : "-inf";
  char buf[5 * 1024];
  int n = std::snprintf(buf, sizeof buf, "%.17Lf", v);
  if (n < 0 || static_cast<size_t>(n) >= sizeof buf) return "0";
  size_t len = static_cast<size_t>(n);
  if (std::memchr(buf, '.', len) != nullptr) {
    while (len > 0 && buf[len - 1] == '0')
      --len;
    if (len > 0 && buf[len - 1] == '.') --len;
  }
  if (len == 2 && buf[0] == '-' && buf[1] == '0') return "0";
  return std::string(buf, len);
}

namespace {

// Past this many nested '*', a pattern matches nothing, as in redis-server 7.0.15: the recursion
// (one level per '*') stays far from the stack's end whatever a client sends.
constexpr int kMaxNesting = 1000;

// Redis's stringmatchlen, with its two bounds on what a client's pattern may cost. `no_longer` is
// set once the rest of the pattern after some '*' matched nowhere in the rest of the string: then
// no earlier '*' can help by taking more characters (the rest would have to match even later), so
// every level gives up at once. Without it, "a*a*a*...b" against a long run of 'a' tries every way
// of splitting the run, and one KEYS held the node thread for minutes.
bool match(const char* p, size_t plen, const char* s, size_t slen, bool& no_longer, int nesting) {
  if (nesting > kMaxNesting) return false;
  while (plen > 0 && slen > 0) {
    switch (p[0]) {
      case '*':
        while (plen > 1 && p[1] == '*') {
          ++p;
          --plen;
        }
        if (plen == 1) return true;
        while (slen > 0) {
          if (match(p + 1, plen - 1, s, slen, no_longer, nesting + 1)) return true;
          if (no_longer) return false;
          ++s;
          --slen;
        }
        no_longer = true;
        return false;
      case '?':
        ++s;
        --slen;
        break;
      case '[': {
        ++p;
        --plen;
        bool negate = plen > 0 && p[0] == '^';
        if (negate) {
          ++p;
          --plen;
        }
        bool matched = false;
        while (plen > 0) {
          if (p[0] == '\\' && plen >= 2) {
            ++p;
            --plen;
            if (p[0] == s[0]) matched = true;
          } else if (p[0] == ']') {
            break;
          } else if (plen >= 3 && p[1] == '-') {
            unsigned char lo = static_cast<unsigned char>(p[0]);
            unsigned char hi = static_cast<unsigned char>(p[2]);
            if (lo > hi) std::swap(lo, hi);
            auto c = static_cast<unsigned char>(s[0]);
            if (c >= lo && c <= hi) matched = true;
            p += 2;
            plen -= 2;
          } else if (p[0] == s[0]) {
            matched = true;
          }
          ++p;
          --plen;
        }
        if (plen == 0) {  // unterminated class: Redis treats the end as ']'
          ++plen;
          --p;
        }
        if (negate) matched = !matched;
        if (!matched) return false;
        ++s;
        --slen;
        break;
      }
      case '\\':
        if (plen >= 2) {
          ++p;
          --plen;
        }
        [[fallthrough]];
      default:
        if (p[0] != s[0]) return false;
        ++s;
        --slen;
        break;
    }
    ++p;
    --plen;
    if (slen == 0) {
      while (plen > 0 && p[0] == '*') {
        ++p;
        --plen;
      }
      break;
    }
  }
  return plen == 0 && slen == 0;
}

}  // namespace

bool glob_match(std::string_view pattern, std::string_view s) {
  bool no_longer = false;
  return match(pattern.data(), pattern.size(), s.data(), s.size(), no_longer, 0);
}

}  // namespace cairn::cache
