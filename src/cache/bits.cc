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

int64_t bit_count(std::string_view value, BitRange range) {
  // Both ends negative and in the wrong order count nothing, before clamping could make them meet.
  if (range.start < 0 && range.end < 0 && range.start > range.end) return 0;
  return count_span(value, to_bits(range, value.size()));
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
  // (A missing key is an empty view whose data() may be null: memcpy must not see it.)
  if (!sources.front().empty())
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

namespace {

uint64_t read_bits(const char* data, size_t len, uint64_t offset, unsigned bits) {
  uint64_t v = 0;
  for (unsigned i = 0; i < bits; ++i, ++offset) {
    const uint64_t byte = offset >> 3;
    const unsigned bit =
        byte < len ? (static_cast<uint8_t>(data[byte]) >> (7 - (offset & 7))) & 1u : 0u;
    v = (v << 1) | bit;
  }
  return v;
}

void write_bits(char* data, uint64_t offset, unsigned bits, uint64_t v) {
  for (unsigned i = 0; i < bits; ++i, ++offset) {
    const auto mask = static_cast<uint8_t>(0x80u >> (offset & 7));
    auto& b = reinterpret_cast<uint8_t&>(data[offset >> 3]);
    if ((v >> (bits - 1 - i)) & 1u) {
      b = static_cast<uint8_t>(b | mask);
    } else {
      b = static_cast<uint8_t>(b & ~mask);
    }
  }
}

int64_t as_signed(uint64_t raw, unsigned bits) {
  if (bits < 64 && (raw & (uint64_t{1} << (bits - 1))) != 0) raw |= ~uint64_t{0} << bits;
  return static_cast<int64_t>(raw);
}

// Redis's checkUnsignedBitfieldOverflow / checkSignedBitfieldOverflow: whether value + incr fits
// the width, and if not, the value WRAP or SAT stores (in *out).
bool unsigned_overflow(uint64_t value, int64_t incr, unsigned bits, BitFieldOverflow how,
                       uint64_t* out) {
  const uint64_t max = bits == 64 ? UINT64_MAX : (uint64_t{1} << bits) - 1;
  const auto maxincr = static_cast<int64_t>(max - value);
  const auto minincr = static_cast<int64_t>(-value);
  const auto wrap = [&] { *out = (value + static_cast<uint64_t>(incr)) & max; };
  if (value > max || (incr > 0 && incr > maxincr)) {
    if (how == BitFieldOverflow::kWrap) wrap();
    if (how == BitFieldOverflow::kSat) *out = max;
    return true;
  }
  if (incr < 0 && incr < minincr) {
    if (how == BitFieldOverflow::kWrap) wrap();
    if (how == BitFieldOverflow::kSat) *out = 0;
    return true;
  }
  *out = value + static_cast<uint64_t>(incr);
  return false;
}

bool signed_overflow(int64_t value, int64_t incr, unsigned bits, BitFieldOverflow how,
                     int64_t* out) {
  const int64_t max = bits == 64 ? INT64_MAX : (int64_t{1} << (bits - 1)) - 1;
  const int64_t min = -max - 1;
  // As Redis: maxincr and minincr may wrap, but are only used once `value` is known in range.
  const auto maxincr =
      static_cast<int64_t>(static_cast<uint64_t>(max) - static_cast<uint64_t>(value));
  const auto minincr =
      static_cast<int64_t>(static_cast<uint64_t>(min) - static_cast<uint64_t>(value));
  const auto wrap = [&] {
    uint64_t c = static_cast<uint64_t>(value) + static_cast<uint64_t>(incr);
    if (bits < 64) {
      const uint64_t mask = ~uint64_t{0} << bits;
      c = (c & (uint64_t{1} << (bits - 1))) != 0 ? c | mask : c & ~mask;
    }
    *out = static_cast<int64_t>(c);
  };
  if (value > max || (bits != 64 && incr > maxincr) || (value >= 0 && incr > 0 && incr > maxincr)) {
    if (how == BitFieldOverflow::kWrap) wrap();
    if (how == BitFieldOverflow::kSat) *out = max;
    return true;
  }
  if (value < min || (bits != 64 && incr < minincr) || (value < 0 && incr < 0 && incr < minincr)) {
    if (how == BitFieldOverflow::kWrap) wrap();
    if (how == BitFieldOverflow::kSat) *out = min;
    return true;
  }
  *out = static_cast<int64_t>(static_cast<uint64_t>(value) + static_cast<uint64_t>(incr));
  return false;
}

std::optional<int64_t> run_op(char* data, size_t len, const BitFieldOp& op) {
  const uint64_t raw = read_bits(data, len, op.offset, op.bits);
  if (op.kind == BitFieldOp::Kind::kGet)
    return op.is_signed ? as_signed(raw, op.bits) : static_cast<int64_t>(raw);
  const bool incr = op.kind == BitFieldOp::Kind::kIncrBy;
  uint64_t stored = 0;
  int64_t answer = 0;
  bool overflow = false;
  if (op.is_signed) {
    const int64_t old = as_signed(raw, op.bits);
    int64_t next = 0;
    overflow = incr ? signed_overflow(old, op.value, op.bits, op.overflow, &next)
                    : signed_overflow(op.value, 0, op.bits, op.overflow, &next);
    stored = static_cast<uint64_t>(next);
    answer = incr ? next : old;
  } else {
    uint64_t next = 0;
    overflow =
        incr ? unsigned_overflow(raw, op.value, op.bits, op.overflow, &next)
             : unsigned_overflow(static_cast<uint64_t>(op.value), 0, op.bits, op.overflow, &next);
    stored = next;
    answer = incr ? static_cast<int64_t>(next) : static_cast<int64_t>(raw);
  }
  if (overflow && op.overflow == BitFieldOverflow::kFail) return std::nullopt;
  write_bits(data, op.offset, op.bits, stored);
  return answer;
}

}  // namespace

uint64_t bit_field_reach(const std::vector<BitFieldOp>& ops) {
  uint64_t reach = 0;
  for (const auto& op : ops)
    if (op.kind != BitFieldOp::Kind::kGet)
      reach = std::max(reach, ((op.offset + op.bits - 1) >> 3) + 1);
  return reach;
}

std::vector<std::optional<int64_t>> bit_field(char* data, size_t len,
                                              const std::vector<BitFieldOp>& ops) {
  std::vector<std::optional<int64_t>> out;
  out.reserve(ops.size());
  for (const auto& op : ops)
    out.push_back(run_op(data, len, op));
  return out;
}

std::vector<std::optional<int64_t>> bit_field_get(std::string_view value,
                                                  const std::vector<BitFieldOp>& ops) {
  std::vector<std::optional<int64_t>> out;
  out.reserve(ops.size());
  for (const auto& op : ops) {
    const uint64_t raw = read_bits(value.data(), value.size(), op.offset, op.bits);
    out.push_back(op.is_signed ? as_signed(raw, op.bits) : static_cast<int64_t>(raw));
  }
  return out;
}

}  // namespace cairn::cache
