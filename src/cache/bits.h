// Bitmaps over string values, with the rules of Redis 7.0's bitops.c: bit 0 is the most
// significant bit of the first byte; a string reads as if padded with zero bytes on the right;
// ranges take negative indexes from the end, in bytes or (BIT) in bits. Pure functions over the
// value's bytes, thread-safe; the engine applies SETBIT and BITOP, the RESP layer serves the reads.
#pragma once

#include <cstdint>
#include <optional>
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

// A BITCOUNT / BITPOS range as given: start and end in bytes, or in bits when `bits`. The
// default, 0 to -1, is the whole value.
struct BitRange {
  int64_t start = 0;
  int64_t end = -1;
  bool bits = false;
};

// BITCOUNT key [start end [BYTE|BIT]].
int64_t bit_count(std::string_view value, BitRange range);

// BITPOS key bit [start [end [BYTE|BIT]]] on an existing key: the first bit equal to `bit` (0 or
// 1), or -1. Looking for a 0 without an explicit end finds the first padding bit past the value.
int64_t bit_pos(std::string_view value, int bit, BitRange range, bool end_given);

enum class BitOpKind : uint8_t { kAnd, kOr, kXor, kNot };

// BITOP: the result of combining the sources (a missing key is an empty string), as long as the
// longest of them. NOT takes exactly one source.
std::string bit_op(BitOpKind op, const std::vector<std::string_view>& sources);

// BITFIELD: integers of 1 to 64 bits (unsigned: 1 to 63) at any bit offset, big-endian as the
// bits are numbered. OVERFLOW (WRAP by default) says what SET and INCRBY do with a value that does
// not fit: wrap around, saturate, or FAIL (nothing written, a nil answer).
enum class BitFieldOverflow : uint8_t { kWrap, kSat, kFail };

struct BitFieldOp {
  enum class Kind : uint8_t { kGet, kSet, kIncrBy };
  Kind kind = Kind::kGet;
  bool is_signed = false;
  uint8_t bits = 1;
  uint64_t offset = 0;  // in bits, a '#N' offset already multiplied by the width
  int64_t value = 0;    // SET's value, INCRBY's increment
  BitFieldOverflow overflow = BitFieldOverflow::kWrap;
  bool operator==(const BitFieldOp&) const = default;
};

// The bytes a value needs so that every SET and INCRBY of `ops` falls inside it (0 if none write).
uint64_t bit_field_reach(const std::vector<BitFieldOp>& ops);

// Runs `ops` in order over data[0, len), which covers every write (bit_field_reach): one answer
// per op, the value read, the old value for SET, the new one for INCRBY, nullopt where OVERFLOW
// FAIL refused the write. Reads past len see zeros.
std::vector<std::optional<int64_t>> bit_field(char* data, size_t len,
                                              const std::vector<BitFieldOp>& ops);
// BITFIELD_RO: only GETs, on a value that is not modified.
std::vector<std::optional<int64_t>> bit_field_get(std::string_view value,
                                                  const std::vector<BitFieldOp>& ops);

}  // namespace cairn::cache
