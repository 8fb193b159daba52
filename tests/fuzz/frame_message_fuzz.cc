// libFuzzer target for the native protocol's receive path: arbitrary bytes go through
// FrameDecoder, cut into reads of sizes chosen by the input, and every frame's payload through
// decode_message. Checked on every input, beyond "no crash, over-read, leak or UB" (ASan/UBSan):
//  - the decoder yields exactly the frames a simple reference parse of the stream finds, and is
//    broken exactly when the reference meets a length above the limit;
//  - its buffer never grows beyond one maximal frame plus one read;
//  - a payload either decodes or fails with a Deserialization error that says something;
//  - a payload that decodes re-encodes to the identical bytes, and append_frame rebuilds the frame.
//
// Input layout: byte 0 chooses the read sizes and the frame limit; the rest is the stream.
// A violated property aborts with a message, which libFuzzer reports as a crash.
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <span>
#include <string>

#include "net/codec.h"
#include "net/frame.h"

namespace {

using cairn::net::FrameDecoder;
using cairn::net::kFrameHeaderSize;
using cairn::net::NetworkError;

// A small limit keeps most inputs fast; the real 16 MiB limit is used for 1 in 16 of them.
constexpr size_t kSmallMaxFrame = 64 * 1024;

void require(bool ok, const char* property) {
  if (!ok) {
    std::fprintf(stderr, "frame_message_fuzz: property violated: %s\n", property);
    std::abort();
  }
}

size_t read_be32(const uint8_t* p) {
  return (size_t{p[0]} << 24) | (size_t{p[1]} << 16) | (size_t{p[2]} << 8) | size_t{p[3]};
}

void check_payload(std::span<const uint8_t> payload) {
  auto msg = cairn::net::decode_message(payload);
  if (!msg.ok()) {
    require(msg.error().kind() == NetworkError::Kind::kDeserialization,
            "a decode failure is a Deserialization error");
    require(!msg.error().detail().empty(), "a decode failure says what is wrong");
    return;
  }
  const std::string again = cairn::net::encode_message(*msg);
  require(again.size() == payload.size() &&
              (payload.empty() || std::memcmp(again.data(), payload.data(), payload.size()) == 0),
          "a decoded message re-encodes to the identical bytes");
  std::string frame;
  require(cairn::net::append_frame(*msg, frame).ok(), "a decoded message can be framed");
  require(frame.size() == kFrameHeaderSize + payload.size() &&
              read_be32(reinterpret_cast<const uint8_t*>(frame.data())) == payload.size() &&
              frame.compare(kFrameHeaderSize, std::string::npos, again) == 0,
          "append_frame writes the header and the payload");
  require(cairn::net::message_kind_name(*msg) != nullptr, "every kind has a name");
}

// Cuts the stream into reads: everything at once, a byte at a time, or pseudo-random sizes.
class Chunker {
 public:
  explicit Chunker(uint8_t control)
      : mode_(control & 0x3), limit_(size_t{1} << ((control >> 2) & 0x7)), state_(control + 1u) {}
  size_t next(size_t left) {
    size_t n = left;
    if (mode_ == 1) {
      n = 1;
    } else if (mode_ >= 2) {
      state_ = state_ * 1103515245u + 12345u;
      n = 1 + (state_ >> 16) % (limit_ * 64);  // 1 .. 64 << (0..7) bytes
    }
    return n < left ? n : left;
  }

 private:
  unsigned mode_;
  size_t limit_;
  uint32_t state_;
};

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  if (size == 0) return 0;
  const uint8_t control = data[0];
  const std::span<const uint8_t> stream(data + 1, size - 1);

  // The bytes may also be one bare payload.
  check_payload(stream);

  const size_t max_frame = (control & 0xf0) == 0xf0 ? cairn::net::kMaxFrameSize : kSmallMaxFrame;
  FrameDecoder decoder(max_frame);
  Chunker chunker(control);

  size_t fed = 0;  // bytes given to the decoder so far
  size_t ref = 0;  // reference parser: offset of the next frame header in the stream
  bool ref_broken = false;
  size_t largest_read = 0;
  while (fed < stream.size()) {
    const size_t n = chunker.next(stream.size() - fed);
    largest_read = n > largest_read ? n : largest_read;
    auto room = decoder.prepare(n);
    require(room.size() >= n, "prepare gives the room asked for");
    std::memcpy(room.data(), stream.data() + fed, n);
    decoder.commit(n);
    fed += n;

    while (auto frame = decoder.next()) {
      // The reference must also see a complete, acceptable frame here.
      require(!ref_broken && fed - ref >= kFrameHeaderSize, "no frame without a header");
      const size_t len = read_be32(stream.data() + ref);
      require(len <= max_frame, "no frame above the limit");
      require(fed - ref - kFrameHeaderSize >= len, "no frame before all its bytes arrived");
      require(frame->payload.size() == len &&
                  (len == 0 || std::memcmp(frame->payload.data(),
                                           stream.data() + ref + kFrameHeaderSize, len) == 0),
              "the frame is the reference's next frame, byte for byte");
      ref += kFrameHeaderSize + len;
      check_payload(frame->payload);
    }
    // The reference agrees that no further complete frame is available yet.
    if (!ref_broken && fed - ref >= kFrameHeaderSize) {
      const size_t len = read_be32(stream.data() + ref);
      if (len > max_frame) {
        ref_broken = true;
      } else {
        require(fed - ref - kFrameHeaderSize < len, "every complete frame is delivered");
      }
    }
    require(decoder.broken() == ref_broken, "broken exactly when a length exceeds the limit");
    require(decoder.capacity() <= max_frame + kFrameHeaderSize + largest_read,
            "the buffer stays within one maximal frame plus one read");
    if (decoder.broken()) {
      require(decoder.error().kind() == NetworkError::Kind::kDeserialization &&
                  !decoder.error().detail().empty(),
              "an oversized frame is a Deserialization error that says so");
      break;
    }
    require(decoder.buffered() == fed - ref, "buffered() counts the bytes not yet delivered");
  }
  return 0;
}
