// Framing: every message travels as a 4-byte big-endian payload length, then the payload.
//
//   +--------------------------------+--------------------------+
//   | length: u32, big-endian        | payload: `length` bytes  |
//   +--------------------------------+--------------------------+
//
// A length above kMaxFrameSize is refused as soon as the header is seen, before any buffer is
// grown for it. FrameDecoder is single-threaded: one per connection.
#pragma once

#include <cstdint>
#include <span>
#include <string>
#include <vector>

#include "net/error.h"
#include "net/messages.h"

namespace cairn::net {

inline constexpr size_t kFrameHeaderSize = 4;
inline constexpr size_t kMaxFrameSize = size_t{16} * 1024 * 1024;  // payload bytes

// Appends one frame carrying `msg` to `out`. Fails (Serialization) only if the encoded message is
// larger than kMaxFrameSize; `out` is then left as it was.
NetStatus append_frame(const Message& msg, std::string& out);

// Between peers a message may be larger than a frame: up to `max_message` bytes it is sent as
// MessagePart frames of at most kPartSize bytes of it each, back to back (which the receiving
// server joins: ServerConnection). Below kMaxFrameSize this is append_frame. Fails (Serialization)
// above max_message, leaving `out` as it was.
inline constexpr size_t kPartSize = size_t{4} * 1024 * 1024;
NetStatus append_frames(const Message& msg, std::string& out, size_t max_message);

// Reassembles frames from a byte stream that arrives in arbitrary pieces: a frame may be split
// across reads and one read may carry many frames. Usage:
//
//   auto buf = decoder.prepare(n);           // room for up to n more bytes
//   size_t got = read(socket, buf);
//   decoder.commit(got);
//   while (auto frame = decoder.next()) { ... frame->payload ... }   // then check decoder.error()
class FrameDecoder {
 public:
  explicit FrameDecoder(size_t max_frame = kMaxFrameSize) : max_frame_(max_frame) {}

  std::span<uint8_t> prepare(size_t min_room);
  void commit(size_t n) { end_ += n; }

  // The next complete payload, valid until the next call to prepare() or next(); an empty
  // optional when more bytes are needed or the stream is broken (see error()).
  struct Frame {
    std::span<const uint8_t> payload;
  };
  std::optional<Frame> next();

  // Set once a frame header announced more than the maximum; the stream cannot be resynchronised,
  // so the connection must be closed.
  bool broken() const { return broken_; }
  const NetworkError& error() const { return error_; }
  size_t buffered() const { return end_ - begin_; }
  size_t capacity() const { return buf_.size(); }

 private:
  size_t max_frame_;
  std::vector<uint8_t> buf_;
  size_t begin_ = 0;  // first unconsumed byte
  size_t end_ = 0;    // one past the last received byte
  bool broken_ = false;
  NetworkError error_;
};

}  // namespace cairn::net
