// Bitmaps over string values, with the rules of Redis 7.0's bitops.c: bit 0 is the most
// significant bit of the first byte; a string reads as if padded with zero bytes on the right;
// ranges take negative indexes from the end, in bytes or (BIT) in bits. Pure functions over the
// value's bytes, thread-safe; the engine applies SETBIT and BITOP, the RESP layer serves the reads.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

namespace cairn::cache {

inline constexpr std::string_view kErrBitOffset =
    "ERR bit offset is not an integer or out of range";
inline constexpr std::string_view kErrBitValue = "ERR bit is not an integer or out of range";

// True if a bit offset fits a string of at most max_bytes bytes (Redis checks offset/8 against
// proto-max-bulk-len).
inline bool bit_offset_fits(uint64_t offset, uint64_t max_bytes) {
  return (offset >> 3) < max_bytes;
}

int get_bit(std::string_view value, uint64_t offset);

// A BITCOUNT / BITPOS range as given: start and end in bytes, or in bits when `bits`.
struct BitRange {
  int64_t start = 0;
  int64_t end = -1;
  bool bits = false;
};

// BITCOUNT key [start end [BYTE|BIT]]: the whole value without a range.
int64_t bit_count(std::string_view value);
int64_t bit_count(std::string_view value, BitRange range);

// BITPOS key bit [start [end [BYTE|BIT]]] on an existing key: the first bit equal to `bit` (0 or
// 1), or -1. Looking for a 0 without an explicit end finds the first padding bit past the value.
int64_t bit_pos(std::string_view value, int bit);
int64_t bit_pos(std::string_view value, int bit, BitRange range, bool end_given);

enum class BitOpKind : uint8_t { kAnd, kOr, kXor, kNot };

// BITOP: the result of combining the sources (a missing key is an empty string), as long as the
// longest of them. NOT takes exactly one source.
std::string bit_op(BitOpKind op, const std::vector<std::string_view>& sources);

}  // namespace cairn::cache
