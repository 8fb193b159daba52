// Bitmap helpers: see bits.h. Counting works a 64-bit word at a time (std::popcount); searching
// skips whole bytes that cannot hold the bit looked for.
#include "cache/bits.h"

#include <algorithm>
#include <bit>
#include <cstring>

namespace cairn::cache {
namespace {

// An inclusive range of bit positions; empty when first > last.
struct BitSpan {
  int64_t first = 0;
  int64_t last = -1;
};

// Redis's normalisation of [start, end] over `len` units: negative indexes count from the end,
// then both are clamped into the value. The result is in bits.
BitSpan to_bits(BitRange r, size_t value_len) {
  const int64_t total = static_cast<int64_t>(value_len) * (r.bits ? 8 : 1);
  int64_t start = r.start < 0 ? total + r.start : r.start;
  int64_t end = r.end < 0 ? total + r.end : r.end;
  start = std::max<int64_t>(start, 0);
  end = std::max<int64_t>(end, 0);
  end = std::min(end, total - 1);
  if (start > end) return {};
  if (r.bits) return {start, end};
  return {start * 8, end * 8 + 7};
}

uint8_t byte_at(std::string_view v, int64_t i) {
  return static_cast<uint8_t>(v[static_cast<size_t>(i)]);
}

// The bits of one byte from position `from` to `to` (0 = most significant), inclusive.
uint8_t byte_mask(int from, int to) {
  return static_cast<uint8_t>((0xffu >> from) & (0xffu << (7 - to)));
}

int64_t count_bytes(const char* p, size_t n) {
  int64_t count = 0;
  size_t i = 0;
  for (; i + 8 <= n; i += 8) {
    uint64_t word;
    std::memcpy(&word, p + i, 8);
    count += std::popcount(word);
  }
  for (; i < n; ++i)
    count += std::popcount(static_cast<uint8_t>(p[i]));
  return count;
}

int64_t count_span(std::string_view v, BitSpan s) {
  if (s.first > s.last) return 0;
  const int64_t first_byte = s.first / 8, last_byte = s.last / 8;
  const int from = static_cast<int>(s.first % 8), to = static_cast<int>(s.last % 8);
  if (first_byte == last_byte)
    return std::popcount<uint8_t>(byte_at(v, first_byte) & byte_mask(from, to));
  int64_t count = std::popcount<uint8_t>(byte_at(v, first_byte) & byte_mask(from, 7));
  count += count_bytes(v.data() + first_byte + 1, static_cast<size_t>(last_byte - first_byte - 1));
  count += std::popcount<uint8_t>(byte_at(v, last_byte) & byte_mask(0, to));
  return count;
}

// The first position in [s.first, s.last] holding `bit`, or -1.
int64_t find_in_span(std::string_view v, int bit, BitSpan s) {
  const uint8_t skip = bit != 0 ? 0x00 : 0xff;  // a byte that cannot hold the bit
  for (int64_t pos = s.first; pos <= s.last;) {
    const uint8_t b = byte_at(v, pos / 8);
    if (pos % 8 == 0 && b == skip && pos + 7 <= s.last) {
      pos += 8;
      continue;
    }
    if (((b >> (7 - pos % 8)) & 1) == bit) return pos;
    ++pos;
  }
  return -1;
}

}  // namespace

int get_bit(std::string_view value, uint64_t offset) {
  const uint64_t byte = offset >> 3;
  if (byte >= value.size()) return 0;
  return (static_cast<uint8_t>(value[byte]) >> (7 - (offset & 7))) & 1;
}

int64_t bit_count(std::string_view value) {
  return count_bytes(value.data(), value.size());
}

int64_t bit_count(std::string_view value, BitRange range) {
  // Both ends negative and in the wrong order count nothing, before clamping could make them meet.
  if (range.start < 0 && range.end < 0 && range.start > range.end) return 0;
  return count_span(value, to_bits(range, value.size()));
}

int64_t bit_pos(std::string_view value, int bit) {
  const BitSpan all{0, static_cast<int64_t>(value.size()) * 8 - 1};
  if (all.first > all.last) return -1;  // an empty string holds neither bit
  const int64_t pos = find_in_span(value, bit, all);
  return pos < 0 && bit == 0 ? all.last + 1 : pos;
}

int64_t bit_pos(std::string_view value, int bit, BitRange range, bool end_given) {
  if (!end_given) range.end = -1;
  const BitSpan s = to_bits(range, value.size());
  if (s.first > s.last) return -1;
  const int64_t pos = find_in_span(value, bit, s);
  // Past the value the string reads as zeros, but not past an end the caller gave.
  if (pos < 0 && bit == 0 && !end_given) return s.last + 1;
  return pos;
}

std::string bit_op(BitOpKind op, const std::vector<std::string_view>& sources) {
  size_t len = 0;
  for (auto s : sources)
    len = std::max(len, s.size());
  std::string out(len, '\0');
  if (sources.empty()) return out;
  if (op == BitOpKind::kNot) {
    const std::string_view s = sources.front();
    for (size_t i = 0; i < len; ++i)
      out[i] = static_cast<char>(~static_cast<uint8_t>(s[i]));
    return out;
  }
  // Missing bytes of a shorter source are zeros: for AND they clear the result.
  std::memcpy(out.data(), sources.front().data(), sources.front().size());
  for (size_t k = 1; k < sources.size(); ++k) {
    const std::string_view s = sources[k];
    for (size_t i = 0; i < len; ++i) {
      const uint8_t a = static_cast<uint8_t>(out[i]);
      const uint8_t b = i < s.size() ? static_cast<uint8_t>(s[i]) : 0;
      out[i] = static_cast<char>(op == BitOpKind::kAnd  ? a & b
                                 : op == BitOpKind::kOr ? a | b
                                                        : a ^ b);
    }
  }
  return out;
}

}  // namespace cairn::cache
