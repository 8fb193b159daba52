#include "storage/wal_record.h"

#include <xxhash.h>

#include <algorithm>
#include <cstring>

namespace cairn::storage {
namespace {

// What a disk writes whole or not at all: the unit of a torn write.
constexpr size_t kSector = 512;

uint32_t get_u32(const char* p) {
  uint32_t v = 0;
  for (int i = 3; i >= 0; --i)
    v = (v << 8) | static_cast<unsigned char>(p[i]);
  return v;
}

// Over the type and body (contiguous in a record), seeded with the length, so a damaged length
// fails the check too.
uint64_t checksum(uint32_t length, std::string_view type_and_body) {
  return XXH3_64bits_withSeed(type_and_body.data(), type_and_body.size(), length);
}

uint32_t length_check(uint32_t length) {
  unsigned char b[4];
  for (int i = 0; i < 4; ++i)
    b[i] = static_cast<unsigned char>((length >> (8 * i)) & 0xff);
  return static_cast<uint32_t>(XXH3_64bits_withSeed(b, 4, 0x63616972'6e574c31ull));
}

bool all_zero(std::string_view bytes) {
  return std::all_of(bytes.begin(), bytes.end(), [](char c) { return c == 0; });
}

}  // namespace

void put_u64(std::string& out, uint64_t v) {
  for (int i = 0; i < 8; ++i)
    out.push_back(static_cast<char>((v >> (8 * i)) & 0xff));
}

uint64_t get_u64(const char* p) {
  uint64_t v = 0;
  for (int i = 7; i >= 0; --i)
    v = (v << 8) | static_cast<unsigned char>(p[i]);
  return v;
}

bool spans_zero_sector(std::string_view segment, size_t from, size_t to) {
  to = std::min(to, segment.size());
  for (size_t s = (from + kSector - 1) / kSector * kSector; s + kSector <= to; s += kSector)
    if (all_zero(segment.substr(s, kSector))) return true;
  return false;
}

bool zero_from_sector_within(std::string_view segment, size_t from, size_t to) {
  const size_t last = segment.find_last_not_of('\0');
  const size_t zeros_from = last == std::string_view::npos ? 0 : last + 1;
  const size_t boundary = (std::max(zeros_from, from + 1) + kSector - 1) / kSector * kSector;
  return boundary < std::min(to, segment.size());
}

size_t begin_record(std::string& out, uint8_t type) {
  const size_t start = out.size();
  out.append(kRecordHeaderBytes, '\0');
  out.push_back(static_cast<char>(type));
  return start;
}

void finish_record(std::string& out, size_t start) {
  const auto length = static_cast<uint32_t>(out.size() - start - kRecordHeaderBytes);
  const uint32_t check = length_check(length);
  const uint64_t sum =
      checksum(length, std::string_view(out).substr(start + kRecordHeaderBytes, length));
  for (size_t i = 0; i < 4; ++i) {
    out[start + i] = static_cast<char>((length >> (8 * i)) & 0xff);
    out[start + 4 + i] = static_cast<char>((check >> (8 * i)) & 0xff);
  }
  for (size_t i = 0; i < 8; ++i)
    out[start + 8 + i] = static_cast<char>((sum >> (8 * i)) & 0xff);
}

void encode_record(std::string& out, uint8_t type, std::string_view body) {
  const size_t start = begin_record(out, type);
  out.append(body);
  finish_record(out, start);
}

std::string encode_segment_header(uint64_t seq) {
  std::string out(kSegmentMagic);
  put_u64(out, seq);
  return out;
}

bool decode_segment_header(std::string_view bytes, uint64_t* seq) {
  if (bytes.size() < kSegmentHeaderBytes || bytes.substr(0, kSegmentMagic.size()) != kSegmentMagic)
    return false;
  *seq = get_u64(bytes.data() + kSegmentMagic.size());
  return true;
}

Parsed parse_record(std::string_view bytes) {
  Parsed p;
  if (bytes.empty()) return p;
  // A crash can leave a record cut short, or the file extended by zeros the data never reached.
  if (all_zero(bytes)) {
    p.kind = Parsed::kTorn;
    return p;
  }
  if (bytes.size() < kRecordHeaderBytes) {
    p.kind = Parsed::kTorn;
    return p;
  }
  const uint32_t len = get_u32(bytes.data());
  if (length_check(len) != get_u32(bytes.data() + 4) || len == 0 || len > kMaxRecordPayload) {
    p.kind = Parsed::kDamaged;
    p.why = "record length " + std::to_string(len) + " is impossible";
    return p;
  }
  if (bytes.size() - kRecordHeaderBytes < len) {
    p.kind = Parsed::kTorn;
    return p;
  }
  const uint64_t stored = get_u64(bytes.data() + 8);
  const auto type = static_cast<uint8_t>(bytes[kRecordHeaderBytes]);
  const std::string_view body = bytes.substr(kRecordHeaderBytes + 1, len - 1);
  if (checksum(len, bytes.substr(kRecordHeaderBytes, len)) != stored) {
    p.kind = Parsed::kDamaged;
    p.why = "checksum mismatch";
    p.size = kRecordHeaderBytes + len;  // the extent the record claims, for the torn-write test
    return p;
  }
  if (type != kEntry && type != kHardState && type != kSnapshotMark) {
    p.kind = Parsed::kDamaged;
    p.why = "unknown record type " + std::to_string(type);
    return p;
  }
  p.kind = Parsed::kRecord;
  p.type = type;
  p.body = body;
  p.size = kRecordHeaderBytes + len;
  return p;
}

}  // namespace cairn::storage
