// Framing: the 4-byte big-endian header append_frame writes, and FrameDecoder reassembling frames
// from a stream cut into arbitrary pieces, refusing oversized lengths before growing its buffer.
#include "net/frame.h"

#include <gtest/gtest.h>

#include <algorithm>
#include <cstring>
#include <random>
#include <vector>

#include "net/codec.h"

namespace cairn::net {
namespace {

std::vector<uint8_t> header_of(const std::string& frame) {
  return {frame.begin(), frame.begin() + 4};
}

std::string frame_of(const Message& m) {
  std::string out;
  NetStatus st = append_frame(m, out);
  EXPECT_TRUE(st.ok()) << st.error().to_string();
  return out;
}

// Copies `bytes` into the decoder through prepare/commit, as a socket read would.
void feed(FrameDecoder& d, std::string_view bytes) {
  auto room = d.prepare(bytes.size());
  ASSERT_GE(room.size(), bytes.size());
  if (bytes.empty()) return;  // room.data() may be null: memcpy must not see it
  std::memcpy(room.data(), bytes.data(), bytes.size());
  d.commit(bytes.size());
}

// Drains every complete frame, returning copies of their payloads.
std::vector<std::string> drain(FrameDecoder& d) {
  std::vector<std::string> out;
  while (auto f = d.next()) {
    out.emplace_back(reinterpret_cast<const char*>(f->payload.data()), f->payload.size());
  }
  return out;
}

Message decode(const std::string& payload) {
  auto r =
      decode_message(std::span(reinterpret_cast<const uint8_t*>(payload.data()), payload.size()));
  EXPECT_TRUE(r.ok()) << r.error().to_string();
  return r.ok() ? *r : Message{};
}

std::vector<Message> some_messages() {
  return {PingRequest{7, "127.0.0.1:9000"},
          PongResponse{2, "10.0.0.2:9000", 1},
          ClientRequest{1, PutCommand{"k", std::string("v\0v", 3), 1000}},
          ClientResponse{1, true, std::nullopt, std::nullopt, "v"},
          RaftMessageWrapper{std::string(300, 'r')},
          ClientRequest{2, ClearCommand{}}};
}

TEST(AppendFrame, GoldenHeaderIsBigEndianPayloadLength) {
  // Ping{7, "127.0.0.1:9000"}: 4 (tag) + 8 (node_id) + 8 (length) + 14 = 34 = 0x22 bytes.
  const std::string f = frame_of(PingRequest{7, "127.0.0.1:9000"});
  EXPECT_EQ(header_of(f), (std::vector<uint8_t>{0x00, 0x00, 0x00, 0x22}));
  EXPECT_EQ(f.size(), 4u + 0x22);
  EXPECT_EQ(f.substr(4), encode_message(PingRequest{7, "127.0.0.1:9000"}));

  // Raft payload 4 + 8 + data: pick data sizes so every header byte is distinct.
  EXPECT_EQ(header_of(frame_of(RaftMessageWrapper{std::string(0x1234 - 12, 'x')})),
            (std::vector<uint8_t>{0x00, 0x00, 0x12, 0x34}));
  EXPECT_EQ(header_of(frame_of(RaftMessageWrapper{std::string(0xabcdef - 12, 'x')})),
            (std::vector<uint8_t>{0x00, 0xab, 0xcd, 0xef}));
}

TEST(AppendFrame, AppendsAfterExistingBytes) {
  std::string out = "abc";
  ASSERT_TRUE(append_frame(ClientRequest{1, ClearCommand{}}, out).ok());
  ASSERT_TRUE(append_frame(ClientRequest{2, ClearCommand{}}, out).ok());
  EXPECT_EQ(out.substr(0, 3), "abc");
  EXPECT_EQ(out.size(), 3u + 2 * (4 + 16));
  EXPECT_EQ(out.substr(3, 4), std::string("\0\0\0\x10", 4));
  EXPECT_EQ(out.substr(23, 4), std::string("\0\0\0\x10", 4));
}

TEST(AppendFrame, ExactlyMaxPayloadIsAccepted) {
  std::string out;
  ASSERT_TRUE(append_frame(RaftMessageWrapper{std::string(kMaxFrameSize - 12, 'x')}, out).ok());
  EXPECT_EQ(header_of(out), (std::vector<uint8_t>{0x01, 0x00, 0x00, 0x00}));
  EXPECT_EQ(out.size(), kMaxFrameSize + 4);
}

TEST(AppendFrame, OversizedMessageIsASerializationErrorAndLeavesOutputAlone) {
  std::string out = "keep";
  NetStatus st = append_frame(RaftMessageWrapper{std::string(kMaxFrameSize - 11, 'x')}, out);
  ASSERT_FALSE(st.ok());
  EXPECT_EQ(st.error().kind(), NetworkError::Kind::kSerialization);
  EXPECT_EQ(st.error().detail(),
            "Raft message of 16777217 bytes exceeds the 16777216 byte frame limit");
  EXPECT_EQ(out, "keep");
}

TEST(AppendFrames, AMessageThatFitsAFrameIsOneFrame) {
  std::string one, parts;
  const Message msg = RaftMessageWrapper{std::string(kMaxFrameSize - 12, 'x')};
  ASSERT_TRUE(append_frame(msg, one).ok());
  ASSERT_TRUE(append_frames(msg, parts, 64u << 20).ok());
  EXPECT_EQ(parts, one);
}

TEST(AppendFrames, ALargerMessageIsCutIntoPartsThatJoinToIt) {
  std::string value(kMaxFrameSize + kPartSize / 2, '\0');
  for (size_t i = 0; i < value.size(); ++i)
    value[i] = static_cast<char>(i % 251);
  const Message msg = RaftMessageWrapper{value};
  std::string out = "keep";
  ASSERT_TRUE(append_frames(msg, out, 64u << 20).ok());
  ASSERT_EQ(out.substr(0, 4), "keep");
  FrameDecoder d;
  const std::string_view frames = std::string_view(out).substr(4);
  auto room = d.prepare(frames.size());
  std::memcpy(room.data(), frames.data(), frames.size());
  d.commit(frames.size());
  std::string joined;
  size_t parts = 0;
  while (auto f = d.next()) {
    auto m = decode_message(f->payload);
    ASSERT_TRUE(m.ok()) << m.error().to_string();
    const auto& part = std::get<MessagePart>(*m);
    EXPECT_EQ(part.total, encoded_size(msg));
    EXPECT_LE(part.data.size(), kPartSize);
    joined += part.data;
    ++parts;
  }
  EXPECT_EQ(parts, (encoded_size(msg) + kPartSize - 1) / kPartSize);
  auto whole = decode_message({reinterpret_cast<const uint8_t*>(joined.data()), joined.size()});
  ASSERT_TRUE(whole.ok()) << whole.error().to_string();
  EXPECT_TRUE(*whole == msg);
}

TEST(AppendFrames, AMessageOverTheLimitIsAnErrorAndLeavesOutputAlone) {
  std::string out = "keep";
  NetStatus st = append_frames(RaftMessageWrapper{std::string(20u << 20, 'x')}, out, 20u << 20);
  ASSERT_FALSE(st.ok());
  EXPECT_EQ(st.error().detail(),
            "Raft message of 20971532 bytes exceeds the 20971520 byte limit of a message in parts");
  EXPECT_EQ(out, "keep");
}

TEST(FrameDecoder, FreshDecoderHasNothing) {
  FrameDecoder d;
  EXPECT_FALSE(d.next().has_value());
  EXPECT_FALSE(d.broken());
  EXPECT_EQ(d.buffered(), 0u);
}

TEST(FrameDecoder, PartialHeaderWaitsForMore) {
  FrameDecoder d;
  feed(d, std::string("\0\0\0", 3));
  EXPECT_FALSE(d.next().has_value());
  EXPECT_FALSE(d.broken());
  EXPECT_EQ(d.buffered(), 3u);
}

TEST(FrameDecoder, ByteAtATime) {
  std::string stream;
  for (const Message& m : some_messages())
    stream += frame_of(m);
  FrameDecoder d;
  std::vector<std::string> got;
  for (char c : stream) {
    feed(d, std::string_view(&c, 1));
    for (auto& p : drain(d))
      got.push_back(std::move(p));
  }
  ASSERT_EQ(got.size(), some_messages().size());
  for (size_t i = 0; i < got.size(); ++i)
    EXPECT_EQ(decode(got[i]), some_messages()[i]) << i;
  EXPECT_EQ(d.buffered(), 0u);
  EXPECT_FALSE(d.broken());
}

TEST(FrameDecoder, ManyFramesInOneChunk) {
  std::string stream;
  for (uint64_t i = 0; i < 5000; ++i) {
    ASSERT_TRUE(append_frame(ClientRequest{i, GetCommand{"key" + std::to_string(i)}}, stream).ok());
  }
  FrameDecoder d;
  feed(d, stream);
  const auto got = drain(d);
  ASSERT_EQ(got.size(), 5000u);
  for (uint64_t i = 0; i < 5000; ++i) {
    EXPECT_EQ(decode(got[i]), Message(ClientRequest{i, GetCommand{"key" + std::to_string(i)}}));
  }
  EXPECT_EQ(d.buffered(), 0u);
}

// Two frames cut into two chunks at every possible point, including inside either header.
TEST(FrameDecoder, FramesSplitAcrossChunksAtEveryPoint) {
  const std::string a = frame_of(PingRequest{1, "a:1"});
  const std::string b = frame_of(ClientRequest{9, PutCommand{"key", "value", std::nullopt}});
  const std::string stream = a + b;
  for (size_t cut = 0; cut <= stream.size(); ++cut) {
    FrameDecoder d;
    feed(d, std::string_view(stream).substr(0, cut));
    auto got = drain(d);
    EXPECT_EQ(got.size(), cut >= a.size() + b.size() ? 2u : cut >= a.size() ? 1u : 0u) << cut;
    feed(d, std::string_view(stream).substr(cut));
    for (auto& p : drain(d))
      got.push_back(std::move(p));
    ASSERT_EQ(got.size(), 2u) << cut;
    EXPECT_EQ(got[0], a.substr(4));
    EXPECT_EQ(got[1], b.substr(4));
  }
}

TEST(FrameDecoder, RandomChunkingPreservesEveryFrame) {
  std::mt19937 rng(7);
  std::string stream;
  std::vector<std::string> want;
  for (int i = 0; i < 300; ++i) {
    const Message m = RaftMessageWrapper{std::string(rng() % 3000, static_cast<char>(i))};
    want.push_back(encode_message(m));
    stream += frame_of(m);
  }
  FrameDecoder d;
  std::vector<std::string> got;
  for (size_t pos = 0; pos < stream.size();) {
    const size_t n = std::min<size_t>(1 + rng() % 5000, stream.size() - pos);
    feed(d, std::string_view(stream).substr(pos, n));
    pos += n;
    for (auto& p : drain(d))
      got.push_back(std::move(p));
  }
  EXPECT_EQ(got, want);
}

TEST(FrameDecoder, ExactlyMaxFrameIsAccepted) {
  std::string stream;
  ASSERT_TRUE(append_frame(RaftMessageWrapper{std::string(kMaxFrameSize - 12, 'z')}, stream).ok());
  stream += frame_of(PingRequest{1, "after:1"});
  FrameDecoder d;
  std::vector<std::string> got;
  for (size_t pos = 0; pos < stream.size(); pos += 65536) {
    feed(d, std::string_view(stream).substr(pos, 65536));
    for (auto& p : drain(d))
      got.push_back(std::move(p));
  }
  ASSERT_EQ(got.size(), 2u);
  EXPECT_EQ(got[0].size(), kMaxFrameSize);
  EXPECT_EQ(std::get<RaftMessageWrapper>(decode(got[0])).data.size(), kMaxFrameSize - 12);
  EXPECT_EQ(decode(got[1]), Message(PingRequest{1, "after:1"}));
  EXPECT_FALSE(d.broken());
}

// The header alone condemns the frame: the decoder never grows its buffer toward the length.
TEST(FrameDecoder, OneByteOverMaxIsRefusedBeforeTheBufferGrows) {
  FrameDecoder d;
  feed(d, std::string("\x01\x00\x00\x01", 4));
  EXPECT_FALSE(d.next().has_value());
  EXPECT_TRUE(d.broken());
  EXPECT_EQ(d.error().kind(), NetworkError::Kind::kDeserialization);
  EXPECT_EQ(d.error().detail(), "frame of 16777217 bytes exceeds the 16777216 byte limit");
  EXPECT_NE(d.error().to_string().find("16777217"), std::string::npos);
  EXPECT_LT(d.capacity(), 4096u);

  // The stream cannot be resynchronised: later bytes, even whole valid frames, yield nothing.
  feed(d, frame_of(PingRequest{1, "a:1"}));
  EXPECT_FALSE(d.next().has_value());
  EXPECT_TRUE(d.broken());
  EXPECT_LT(d.capacity(), 4096u);
}

TEST(FrameDecoder, MaximalHeaderIsRefused) {
  FrameDecoder d;
  feed(d, std::string("\xff\xff\xff\xff", 4));
  EXPECT_FALSE(d.next().has_value());
  EXPECT_TRUE(d.broken());
  EXPECT_EQ(d.error().detail(), "frame of 4294967295 bytes exceeds the 16777216 byte limit");
  EXPECT_LT(d.capacity(), 4096u);
}

TEST(FrameDecoder, OversizedFrameAfterGoodOnesStillDeliversTheGoodOnes) {
  std::string stream = frame_of(PingRequest{1, "a:1"}) + frame_of(PingRequest{2, "b:2"});
  stream += std::string("\x02\x00\x00\x00", 4);
  FrameDecoder d;
  feed(d, stream);
  EXPECT_EQ(drain(d).size(), 2u);
  EXPECT_TRUE(d.broken());
}

TEST(FrameDecoder, CustomLimit) {
  FrameDecoder d(100);
  feed(d, std::string("\0\0\0\x64", 4) + std::string(100, 'x'));  // exactly 100: accepted
  auto got = drain(d);
  ASSERT_EQ(got.size(), 1u);
  EXPECT_EQ(got[0].size(), 100u);
  feed(d, std::string("\0\0\0\x65", 4));  // 101: refused
  EXPECT_FALSE(d.next().has_value());
  EXPECT_TRUE(d.broken());
  EXPECT_EQ(d.error().detail(), "frame of 101 bytes exceeds the 100 byte limit");
}

// A zero-length frame is a well-formed frame with an empty payload (which no message fits); it
// does not break the stream.
TEST(FrameDecoder, ZeroLengthFrame) {
  FrameDecoder d;
  feed(d, std::string("\0\0\0\0", 4) + frame_of(PingRequest{3, "c:3"}));
  auto f = d.next();
  ASSERT_TRUE(f.has_value());
  EXPECT_EQ(f->payload.size(), 0u);
  auto r = decode_message(f->payload);
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.error().kind(), NetworkError::Kind::kDeserialization);
  EXPECT_NE(r.error().detail().find("truncated input"), std::string::npos);
  auto g = d.next();
  ASSERT_TRUE(g.has_value());
  EXPECT_EQ(
      decode(std::string(reinterpret_cast<const char*>(g->payload.data()), g->payload.size())),
      Message(PingRequest{3, "c:3"}));
  EXPECT_FALSE(d.broken());
}

TEST(FrameDecoder, EmptyCommitChangesNothing) {
  FrameDecoder d;
  d.prepare(16);
  d.commit(0);
  EXPECT_FALSE(d.next().has_value());
  EXPECT_FALSE(d.broken());
  EXPECT_EQ(d.buffered(), 0u);
}

// Once the header of a large frame is in, room for the whole frame is made at once so the
// rest can arrive in one read.
TEST(FrameDecoder, ReservesRoomForAnAnnouncedFrame) {
  const std::string f = frame_of(RaftMessageWrapper{std::string(1 << 20, 'q')});
  FrameDecoder d;
  feed(d, std::string_view(f).substr(0, 100));
  EXPECT_FALSE(d.next().has_value());
  EXPECT_GE(d.capacity(), f.size());
  const auto room = d.prepare(1);
  EXPECT_GE(room.size(), f.size() - 100);
}

TEST(FrameDecoder, GivesMemoryBackAfterALargeFrame) {
  FrameDecoder d;
  feed(d, frame_of(RaftMessageWrapper{std::string(4 << 20, 'L')}));
  auto got = drain(d);
  ASSERT_EQ(got.size(), 1u);
  EXPECT_GE(d.capacity(), 4u << 20);
  // The next read asks for ordinary room: the large buffer is released.
  d.prepare(4096);
  EXPECT_LE(d.capacity(), 64u * 1024);
  feed(d, frame_of(PingRequest{1, "a:1"}));
  EXPECT_EQ(drain(d).size(), 1u);
  EXPECT_LE(d.capacity(), 64u * 1024);
}

// A partial frame left at the end of the buffer is slid to the front instead of growing.
TEST(FrameDecoder, SlidesPartialFrameInsteadOfGrowing) {
  const std::string a = frame_of(RaftMessageWrapper{std::string(1000, 'a')});
  const std::string b = frame_of(RaftMessageWrapper{std::string(1000, 'b')});
  FrameDecoder d;
  feed(d, a + b.substr(0, 500));
  ASSERT_EQ(drain(d).size(), 1u);
  const size_t cap = d.capacity();
  EXPECT_EQ(d.buffered(), 500u);
  feed(d, std::string_view(b).substr(500));
  const auto got = drain(d);
  ASSERT_EQ(got.size(), 1u);
  EXPECT_EQ(got[0], b.substr(4));
  EXPECT_LE(d.capacity(), std::max<size_t>(cap, b.size()));
}

}  // namespace
}  // namespace cairn::net
