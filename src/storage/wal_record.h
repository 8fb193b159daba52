// The WAL's record and segment-header formats (see wal.h for the layout), as pure functions over
// bytes, so recovery's decisions - record, torn tail or damage - are testable without files.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>

namespace cairn::storage {

inline constexpr std::string_view kSegmentMagic = "CAIRNWL1";
inline constexpr size_t kSegmentHeaderBytes = 16;
// Length (u32), a check of the length alone (u32), checksum of type and body (u64). The length
// has its own check so that a damaged length is told from a record cut short by a crash (both
// would otherwise claim bytes past the end of the file).
inline constexpr size_t kRecordHeaderBytes = 16;
// A payload larger than this is damage, not data: no entry of ours comes near it.
inline constexpr uint32_t kMaxRecordPayload = 1u << 30;

enum RecordType : uint8_t { kEntry = 1, kHardState = 2, kSnapshotMark = 3 };

// Appends one record (header, type, body) to `out`.
void encode_record(std::string& out, uint8_t type, std::string_view body);
// The same in two steps, for a body serialized straight into `out`: begin_record() appends the
// header's room and the type and returns where the record starts; the caller appends the body;
// finish_record() fills in the length and checksums.
size_t begin_record(std::string& out, uint8_t type);
void finish_record(std::string& out, size_t start);
std::string encode_segment_header(uint64_t seq);
// The sequence number in a segment header, or false if the header is not ours.
bool decode_segment_header(std::string_view bytes, uint64_t* seq);

struct Parsed {
  enum Kind {
    kRecord,  // a whole record: type and body are set, `size` bytes were consumed
    kEnd,     // no bytes left
    kTorn,    // an incomplete record, or zeros to the end: a write cut short by a crash
    kDamaged  // anything else: `why` says what
  } kind = kEnd;
  uint8_t type = 0;
  std::string_view body;
  size_t size = 0;  // kRecord: bytes consumed; kDamaged by a checksum: the record's extent
  std::string why;
};
// Parses the record at the front of `bytes` (the rest of a segment from some offset).
Parsed parse_record(std::string_view bytes);

// True when [from, to) of a segment's bytes holds a whole 512-byte sector (aligned in the file)
// of zeros: what a write cut short by a crash leaves where its data never reached the disk (a
// damaged byte does not zero a whole sector).
bool spans_zero_sector(std::string_view segment, size_t from, size_t to);
// True when, from a 512-byte sector boundary inside (from, to) to the end of the segment, every
// byte is zero: a record whose last sectors never reached the disk, though the file's size says
// they did. (spans_zero_sector misses it when the record ends less than a sector past the
// boundary.)
bool zero_from_sector_within(std::string_view segment, size_t from, size_t to);

void put_u64(std::string& out, uint64_t v);
uint64_t get_u64(const char* p);

}  // namespace cairn::storage
