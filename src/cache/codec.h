// The byte encoding of a stamped cache command, as it travels in a Raft log entry's data.
// Pure functions; thread-safe. The node layer proposes encode_entry(cmd, leader_time) and applies
// decode_entry(data) on every replica.
//
// Format (all integers little-endian; lengths and counts as LEB128 varints):
//   version u8 (= 1) | time_ms i64 | tag u8 (index of the Command alternative) | fields
// Fields follow the struct's declaration order: Bytes as varint length + bytes, enums and bools
// as u8, integers as i64 (a session write's numbers as varints), Expiry as kind u8 + ms i64, key
// lists as varint count + Bytes each.
// Decoding refuses unknown versions and tags, out-of-range enums, lengths past the end and
// trailing bytes, with a message naming the problem; it never allocates more than the input size.
#pragma once

#include <cstdint>
#include <span>
#include <string>
#include <string_view>

#include "cache/command.h"
#include "common/result.h"

namespace cairn::cache {

inline constexpr uint8_t kCommandCodecVersion = 1;

struct StampedCommand {
  Command command;
  int64_t time_ms = 0;
  bool operator==(const StampedCommand&) const = default;
};

struct CodecError {
  std::string message;  // e.g. "cache entry: unknown command tag 42"
};

std::string encode_entry(const Command& command, int64_t time_ms);
// The same, appended to `out` (which keeps its capacity across calls: no allocation per command).
void encode_entry_to(std::string& out, const Command& command, int64_t time_ms);
Result<StampedCommand, CodecError> decode_entry(std::string_view data);
// The bytes encode_entry_to(out, Put{key, value, condition, get_old, expiry}, time_ms) appends,
// from views: a front end encodes a SET straight from the request, without building a Command.
void encode_put_to(std::string& out, std::string_view key, std::string_view value,
                   PutCondition condition, bool get_old, const Expiry& expiry, int64_t time_ms);
// The same for PutMany (MSET, MSETNX) from the request's alternating keys and values.
void encode_put_many_to(std::string& out, std::span<const std::string_view> keys_and_values,
                        bool if_none_exist, int64_t time_ms);
// Where time_ms sits in an encoded entry. A command is encoded where it arrives with any time;
// the leader stamps its own time into the bytes when it proposes them (stamp_entry_time).
inline constexpr size_t kEntryTimeOffset = 1;
inline constexpr size_t kEntryMinBytes = 10;  // version, time, tag
void stamp_entry_time(char* entry, int64_t time_ms);
// The key of an encoded single-key command, read without decoding the rest (to prefetch its
// place in the table ahead of applying it); empty for other commands or malformed bytes.
std::string_view peek_key(std::string_view entry);
// The same, into `out`: a Put decoded over a Put reuses its strings' capacity, so applying a
// stream of Puts through one StampedCommand allocates nothing per command. On failure `out`
// holds a partly decoded command.
Status<CodecError> decode_entry_into(std::string_view data, StampedCommand& out);
// The same, but a Put's value takes over `data`'s memory instead of being copied out of it: for
// a value of hundreds of MB (a large write's assembled fragments) that copy is most of the cost.
Status<CodecError> decode_entry_taking(std::string&& data, StampedCommand& out);

// A Reply, for a leader answering a node that forwarded a command to it:
//   tag u8 (index of the Reply alternative) | int64 as i64 | Bytes as varint length + bytes |
//   Error as code u8 + message Bytes. Same refusals as decode_entry.
std::string encode_reply(const Reply& reply);
Result<Reply, CodecError> decode_reply(std::string_view data);

}  // namespace cairn::cache
