// bincode encoding and decoding of whole messages (the payload of one frame).
// Stateless functions; safe from any thread.
#pragma once

#include <cstdint>
#include <span>
#include <string>
#include <string_view>

#include "net/error.h"
#include "net/messages.h"

namespace cairn::net {

// The exact number of bytes encode_into() writes for `msg`.
size_t encoded_size(const Message& msg);
// Writes the bincode encoding of `msg` to `dst`, which must hold encoded_size(msg) bytes.
void encode_into(const Message& msg, char* dst);

// The same for a MessagePart holding `slice` of a message `total` bytes long, without building the
// part: a large message is cut into parts with each slice copied once (append_frames).
size_t encoded_part_size(std::string_view slice);
void encode_part_into(uint64_t total, std::string_view slice, char* dst);

// Appends the bincode encoding of `msg` to `out`.
void encode_message(const Message& msg, std::string& out);
std::string encode_message(const Message& msg);

// Decodes exactly one message that must fill `payload`. Any defect - truncation, an unknown
// variant tag, a length beyond the payload, invalid UTF-8 in a text field, an invalid bool or
// Option byte, trailing bytes - is a Deserialization error naming what was wrong and where.
NetResult<Message> decode_message(std::span<const uint8_t> payload);

}  // namespace cairn::net
