#include "net/frame.h"

#include <fmt/format.h>

#include <cstring>

#include "net/codec.h"

namespace cairn::net {

namespace {

constexpr size_t kShrinkAbove = 1024 * 1024;

// Appends a frame of `len` bytes to `out`: its 4-byte big-endian length, then room for the
// payload, which the caller writes at the pointer returned.
char* append_frame_header(size_t len, std::string& out) {
  const size_t start = out.size();
  out.resize(start + kFrameHeaderSize + len);
  const auto be = static_cast<uint32_t>(len);
  const char header[kFrameHeaderSize] = {static_cast<char>(be >> 24), static_cast<char>(be >> 16),
                                         static_cast<char>(be >> 8), static_cast<char>(be)};
  std::memcpy(out.data() + start, header, kFrameHeaderSize);
  return out.data() + start + kFrameHeaderSize;
}

}  // namespace

NetStatus append_frame(const Message& msg, std::string& out) {
  // Sized first, so the frame is built in place with one allocation at most, and an oversized
  // message is refused before anything is written.
  const size_t len = encoded_size(msg);
  if (len > kMaxFrameSize) {
    return Err{NetworkError::serialization(
        fmt::format("{} message of {} bytes exceeds the {} byte frame limit",
                    message_kind_name(msg), len, kMaxFrameSize))};
  }
  encode_into(msg, append_frame_header(len, out));
  return {};
}

NetStatus append_frames(const Message& msg, std::string& out, size_t max_message) {
  const size_t len = encoded_size(msg);
  if (len <= kMaxFrameSize) return append_frame(msg, out);
  if (len > max_message) {
    return Err{NetworkError::serialization(
        fmt::format("{} message of {} bytes exceeds the {} byte limit of a message in parts",
                    message_kind_name(msg), len, max_message))};
  }
  std::string whole(len, '\0');
  encode_into(msg, whole.data());
  const size_t parts = (len + kPartSize - 1) / kPartSize;
  out.reserve(out.size() + len + parts * 64);
  for (size_t at = 0; at < len; at += kPartSize) {
    const std::string_view slice(whole.data() + at, std::min(kPartSize, len - at));
    const size_t part_len = encoded_part_size(slice);  // a part always fits a frame
    encode_part_into(len, slice, append_frame_header(part_len, out));
  }
  return {};
}

std::span<uint8_t> FrameDecoder::prepare(size_t min_room) {
  if (begin_ == end_) {
    begin_ = end_ = 0;
    // Give back the memory of a past large frame once it has been consumed.
    if (buf_.size() > kShrinkAbove && min_room <= kShrinkAbove) {
      buf_.resize(min_room);
      buf_.shrink_to_fit();
    }
  } else if (begin_ > 0 && buf_.size() - end_ < min_room) {
    // Slide the partial frame to the front instead of growing.
    std::copy(buf_.begin() + static_cast<ptrdiff_t>(begin_),
              buf_.begin() + static_cast<ptrdiff_t>(end_), buf_.begin());
    end_ -= begin_;
    begin_ = 0;
  }
  if (buf_.size() - end_ < min_room) buf_.resize(end_ + min_room);
  return {buf_.data() + end_, buf_.size() - end_};
}

std::optional<FrameDecoder::Frame> FrameDecoder::next() {
  if (broken_ || end_ - begin_ < kFrameHeaderSize) return std::nullopt;
  const uint8_t* h = buf_.data() + begin_;
  const size_t len = (size_t{h[0]} << 24) | (size_t{h[1]} << 16) | (size_t{h[2]} << 8) | h[3];
  if (len > max_frame_) {
    broken_ = true;
    error_ = NetworkError::deserialization(
        fmt::format("frame of {} bytes exceeds the {} byte limit", len, max_frame_));
    return std::nullopt;
  }
  if (end_ - begin_ < kFrameHeaderSize + len) {
    // Make room for the rest of this frame now, so the next read can complete it in one go.
    if (buf_.size() - begin_ < kFrameHeaderSize + len) {
      prepare(kFrameHeaderSize + len - (end_ - begin_));
    }
    return std::nullopt;
  }
  Frame f{{buf_.data() + begin_ + kFrameHeaderSize, len}};
  begin_ += kFrameHeaderSize + len;
  return f;
}

}  // namespace cairn::net
