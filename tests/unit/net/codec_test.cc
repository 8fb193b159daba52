// Codec tests: golden bytes written by hand from the bincode layout (docs/protocol.md), not
// produced by our encoder, plus round trips and refusal of malformed input.
#include "net/codec.h"

#include <gtest/gtest.h>

#include <limits>
#include <optional>
#include <random>
#include <string_view>
#include <variant>
#include <vector>

#include "allocation_probe.h"

namespace cairn::net {
namespace {

constexpr uint64_t kMax = std::numeric_limits<uint64_t>::max();

// Bytes written by hand: each element is one byte value (0..255) or a run of ASCII text.
std::vector<uint8_t> golden(std::initializer_list<std::variant<int, std::string_view>> parts) {
  std::vector<uint8_t> out;
  for (const auto& p : parts) {
    if (const int* b = std::get_if<int>(&p)) {
      EXPECT_TRUE(*b >= 0 && *b <= 255) << "not a byte: " << *b;
      out.push_back(static_cast<uint8_t>(*b));
    } else {
      for (char c : std::get<std::string_view>(p))
        out.push_back(static_cast<uint8_t>(c));
    }
  }
  return out;
}

std::vector<uint8_t> encoded(const Message& m) {
  std::string s = encode_message(m);
  return {s.begin(), s.end()};
}

// Asserts `bytes` is what `msg` encodes to and that it decodes back to `msg`.
void expect_golden(const Message& msg, const std::vector<uint8_t>& bytes) {
  EXPECT_EQ(encoded(msg), bytes) << message_kind_name(msg);
  auto back = decode_message(bytes);
  ASSERT_TRUE(back.ok()) << back.error().to_string();
  EXPECT_EQ(*back, msg);
}

// Decodes `bytes`, expects a Deserialization error whose text contains `needle`, and returns it.
std::string expect_refused(const std::vector<uint8_t>& bytes, std::string_view needle) {
  auto r = decode_message(bytes);
  if (r.ok()) {
    ADD_FAILURE() << "decoded a " << message_kind_name(*r) << " from malformed input";
    return {};
  }
  EXPECT_EQ(r.error().kind(), NetworkError::Kind::kDeserialization);
  EXPECT_NE(r.error().detail().find(needle), std::string::npos)
      << "error '" << r.error().detail() << "' does not mention '" << needle << "'";
  return r.error().detail();
}

// ---- Golden bytes: one test per seed kind, every CacheCommand variant, optionals both ways ----

TEST(CodecGolden, Raft) {
  expect_golden(RaftMessageWrapper{std::string("\x01\x02\x00\xff", 4)},
                golden({0, 0, 0, 0,                 // tag 0 = Raft
                        4, 0, 0, 0, 0, 0, 0, 0,     // data length 4 (u64 LE)
                        0x01, 0x02, 0x00, 0xff}));  // data
  expect_golden(RaftMessageWrapper{}, golden({0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0}));
}

TEST(CodecGolden, ClientRequestPutWithTtl) {
  expect_golden(
      ClientRequest{0x0102030405060708, PutCommand{"k", std::string("v\0", 2), 1000}},
      golden({1,    0,    0,    0,                                     // tag 1 = ClientRequest
              0x08, 0x07, 0x06, 0x05, 0x04, 0x03, 0x02, 0x01,          // request_id, little-endian
              0,    0,    0,    0,                                     // command tag 0 = Put
              1,    0,    0,    0,    0,    0,    0,    0,    "k",     // key
              2,    0,    0,    0,    0,    0,    0,    0,    "v", 0,  // value (binary-safe)
              1,    0xe8, 0x03, 0,    0,    0,    0,    0,    0}));    // ttl_ms Some(1000)
}

TEST(CodecGolden, ClientRequestPutWithoutTtl) {
  expect_golden(ClientRequest{1, PutCommand{"key", "", std::nullopt}},
                golden({1, 0, 0, 0, 1, 0, 0, 0, 0,     0, 0, 0,  // ClientRequest, request_id 1
                        0, 0, 0, 0,                              // Put
                        3, 0, 0, 0, 0, 0, 0, 0, "key",           // key
                        0, 0, 0, 0, 0, 0, 0, 0,                  // value "" (length 0)
                        0}));                                    // ttl_ms None
}

TEST(CodecGolden, ClientRequestDelete) {
  expect_golden(ClientRequest{2, DeleteCommand{"ab"}},
                golden({1, 0, 0, 0, 2, 0, 0, 0, 0,   0, 0, 0,  // ClientRequest, request_id 2
                        1, 0, 0, 0,                            // command tag 1 = Delete
                        2, 0, 0, 0, 0, 0, 0, 0, "ab"}));
}

TEST(CodecGolden, ClientRequestClear) {
  expect_golden(ClientRequest{3, ClearCommand{}},
                golden({1, 0, 0, 0, 3, 0, 0, 0, 0, 0, 0, 0,  // ClientRequest, request_id 3
                        2, 0, 0, 0}));                       // tag 2 = Clear, no fields
}

TEST(CodecGolden, ClientRequestGet) {
  expect_golden(ClientRequest{0xff, GetCommand{"user:1"}},
                golden({1, 0, 0, 0, 0xff, 0, 0, 0, 0,       0, 0, 0,  // request_id 255
                        3, 0, 0, 0,                                   // tag 3 = Get
                        6, 0, 0, 0, 0,    0, 0, 0, "user:1"}));
}

TEST(CodecGolden, ClientResponseAllNone) {
  expect_golden(ClientResponse{42, true, std::nullopt, std::nullopt, std::nullopt},
                golden({2, 0, 0, 0,               // tag 2 = ClientResponse
                        42, 0, 0, 0, 0, 0, 0, 0,  // request_id
                        1,                        // success true
                        0, 0, 0}));               // error, leader_hint, value: None
}

TEST(CodecGolden, ClientResponseNotLeader) {
  expect_golden(ClientResponse{7, false, "not leader", 3, std::nullopt},
                golden({2, 0,  0, 0, 7, 0, 0, 0, 0, 0,
                        0, 0,                                      // request_id 7
                        0,                                         // success false
                        1, 10, 0, 0, 0, 0, 0, 0, 0, "not leader",  // error Some("not leader")
                        1, 3,  0, 0, 0, 0, 0, 0, 0,                // leader_hint Some(3)
                        0}));                                      // value None
}

TEST(CodecGolden, ClientResponseWithValue) {
  expect_golden(ClientResponse{8, true, std::nullopt, std::nullopt, std::string("\x00hi", 3)},
                golden({2, 0, 0, 0, 8, 0, 0, 0, 0, 0, 0,   0, 1,  // request_id 8, success
                        0, 0,                                     // error None, leader_hint None
                        1, 3, 0, 0, 0, 0, 0, 0, 0, 0, "hi"}));    // value Some("\0hi")
}

TEST(CodecGolden, Ping) {
  expect_golden(PingRequest{7, "127.0.0.1:9000"}, golden({3,
                                                          0,
                                                          0,
                                                          0,  // tag 3 = Ping
                                                          7,
                                                          0,
                                                          0,
                                                          0,
                                                          0,
                                                          0,
                                                          0,
                                                          0,  // node_id
                                                          14,
                                                          0,
                                                          0,
                                                          0,
                                                          0,
                                                          0,
                                                          0,
                                                          0,  // raft_addr length
                                                          "127.0.0.1:9000"}));
}

TEST(CodecGolden, PongWithLeader) {
  expect_golden(PongResponse{2, "10.0.0.2:9000", 1},
                golden({4,  0, 0, 0,              // tag 4 = Pong
                        2,  0, 0, 0, 0, 0, 0, 0,  // node_id
                        13, 0, 0, 0, 0, 0, 0, 0, "10.0.0.2:9000",
                        1,  1, 0, 0, 0, 0, 0, 0, 0}));  // leader_id Some(1)
}

TEST(CodecGolden, PongWithoutLeader) {
  expect_golden(PongResponse{0x1122334455667788, "h:1", std::nullopt},
                golden({4, 0, 0, 0, 0x88, 0x77, 0x66, 0x55, 0x44,  0x33, 0x22, 0x11,  // node_id
                        3, 0, 0, 0, 0,    0,    0,    0,    "h:1",                    // raft_addr
                        0}));  // leader_id None
}

TEST(CodecGolden, MaxIntegersAreAllOnes) {
  expect_golden(
      PongResponse{kMax, "", kMax},
      golden({4, 0,    0,    0,    0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff,  // node_id
              0, 0,    0,    0,    0,    0,    0,    0,                             // ""
              1, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff}));
}

TEST(Codec, KindNames) {
  EXPECT_STREQ(message_kind_name(RaftMessageWrapper{}), "Raft");
  EXPECT_STREQ(message_kind_name(ClientRequest{}), "ClientRequest");
  EXPECT_STREQ(message_kind_name(ClientResponse{}), "ClientResponse");
  EXPECT_STREQ(message_kind_name(PingRequest{}), "Ping");
  EXPECT_STREQ(message_kind_name(PongResponse{}), "Pong");
  EXPECT_STREQ(message_kind_name(ForwardRequest{}), "Forward");
  EXPECT_STREQ(message_kind_name(ForwardReply{}), "ForwardReply");
  EXPECT_STREQ(message_kind_name(StatusRequest{}), "StatusRequest");
  EXPECT_STREQ(message_kind_name(StatusResponse{}), "StatusResponse");
  EXPECT_STREQ(message_kind_name(AdminRequest{}), "AdminRequest");
  EXPECT_STREQ(message_kind_name(SnapshotChunk{}), "SnapshotChunk");
  EXPECT_STREQ(message_kind_name(SnapshotAck{}), "SnapshotAck");
  EXPECT_STREQ(message_kind_name(PeerHello{}), "PeerHello");
  EXPECT_STREQ(message_kind_name(MessagePart{}), "MessagePart");
}

TEST(Codec, EncodeAppendsToExistingBuffer) {
  std::string out = "xy";
  encode_message(PingRequest{1, "a"}, out);
  EXPECT_EQ(out.substr(0, 2), "xy");
  EXPECT_EQ(out.substr(2), encode_message(PingRequest{1, "a"}));
}

// ---- Round trips ----

std::string all_byte_values() {
  std::string s;
  for (int i = 0; i < 256; ++i)
    s.push_back(static_cast<char>(i));
  return s + std::string(3, '\0');
}

std::vector<Message> sample_messages() {
  const std::string bin = all_byte_values();
  return {
      RaftMessageWrapper{},
      RaftMessageWrapper{bin},
      ClientRequest{0, PutCommand{"", "", std::nullopt}},
      ClientRequest{kMax, PutCommand{bin, bin, kMax}},
      ClientRequest{kMax, PutCommand{"k", std::string(100000, 'v'), 0}},
      ClientRequest{5, DeleteCommand{""}},
      ClientRequest{6, DeleteCommand{bin}},
      ClientRequest{kMax, ClearCommand{}},
      ClientRequest{8, GetCommand{""}},
      ClientRequest{9, GetCommand{bin}},
      ClientResponse{},
      ClientResponse{kMax, true, "", kMax, ""},
      ClientResponse{1, false, "caf\xc3\xa9 \xe2\x82\xac \xf0\x9f\x98\x80", 0, bin},
      PingRequest{},
      PingRequest{kMax, "[::1]:9000"},
      PongResponse{},
      PongResponse{kMax, "\xe4\xb8\xad:1", 0},
      ClientRequest{10, IncrCommand{"n", -5}},
      ClientRequest{11, CompareAndSetCommand{"k", bin, "new", 1000}},
      ClientRequest{12, CompareAndSetCommand{"k", "", "", std::nullopt}},
      ClientRequest{13, ExpireCommand{"k", kMax}},
      ClientRequest{14, PersistCommand{bin}},
      ClientRequest{15, AppendCommand{"k", bin}},
      ClientRequest{16, GetDelCommand{"k"}},
      ClientRequest{17, ExistsCommand{"k"}},
      ClientRequest{18, TtlCommand{"k"}},
      ClientRequest{19, StaleGetCommand{bin}},
      ForwardRequest{2, 1, kMax, EngineCommand{bin}},
      ForwardRequest{3, 0, 7, AdminCommand{AddNodeCommand{4, "127.0.0.1:9004"}}},
      ForwardRequest{3, 0, 8, AdminCommand{RemoveNodeCommand{4}}},
      ForwardReply{ClientResponse{kMax, false, "not leader", 2, bin}},
      StatusRequest{kMax},
      StatusResponse{},
      StatusResponse{1,
                     2,
                     "leader",
                     3,
                     2,
                     10,
                     9,
                     11,
                     {{1, "127.0.0.1:9001", true}, {4, "127.0.0.1:9004", false}},
                     5,
                     1 << 20},
      AdminRequest{1, AddNodeCommand{4, "127.0.0.1:9004"}},
      AdminRequest{2, RemoveNodeCommand{kMax}},
      AdminRequest{3, TransferLeaderCommand{2}},
      SnapshotChunk{1, kMax, 0, 10, kMax, std::string("\x08\x05", 2), bin},
      SnapshotChunk{2, 3, 1 << 20, 3 << 20, 0, "", std::string(1000, 'x')},
      SnapshotAck{3, kMax, 0, SnapshotAckStatus::kResend, std::nullopt},
      SnapshotAck{3, 1, 99, SnapshotAckStatus::kFailed, "checksum mismatch"},
      PeerHello{kMax, 3, "10.0.0.3:9000"},
      PeerHello{1, 2, ""},
      MessagePart{kMax, bin},
      MessagePart{32u << 20, ""},
  };
}

// A SnapshotAck with a status beyond the four known is refused, naming the field.
TEST(Codec, UnknownSnapshotAckStatusIsRefused) {
  std::string bytes = encode_message(SnapshotAck{1, 2, 3, SnapshotAckStatus::kDone, std::nullopt});
  bytes[4 + 24] = 4;  // the status, after tag, from, transfer_id and received
  auto back =
      decode_message(std::span(reinterpret_cast<const uint8_t*>(bytes.data()), bytes.size()));
  ASSERT_FALSE(back.ok());
  EXPECT_NE(back.error().to_string().find("SnapshotAck.status 4"), std::string::npos)
      << back.error().to_string();
}

TEST(CodecRoundTrip, SampleMessages) {
  for (const Message& m : sample_messages()) {
    std::string bytes = encode_message(m);
    auto back =
        decode_message(std::span(reinterpret_cast<const uint8_t*>(bytes.data()), bytes.size()));
    ASSERT_TRUE(back.ok()) << message_kind_name(m) << ": " << back.error().to_string();
    EXPECT_EQ(*back, m) << message_kind_name(m);
  }
}

// encoded_size is exact and encode_into writes exactly that many bytes, the same ones
// encode_message produces.
TEST(CodecRoundTrip, EncodedSizeAndEncodeIntoAgree) {
  for (const Message& m : sample_messages()) {
    const std::string bytes = encode_message(m);
    ASSERT_EQ(encoded_size(m), bytes.size()) << message_kind_name(m);
    std::string buf(bytes.size() + 8, '\x77');
    encode_into(m, buf.data() + 4);
    EXPECT_EQ(buf.substr(4, bytes.size()), bytes) << message_kind_name(m);
    EXPECT_EQ(buf.substr(0, 4), std::string(4, '\x77'));
    EXPECT_EQ(buf.substr(4 + bytes.size()), std::string(4, '\x77'));
  }
}

TEST(CodecRoundTrip, RandomMessages) {
  std::mt19937_64 rng(20261125);
  auto blob = [&] {
    std::string s(rng() % 40, '\0');
    for (char& c : s)
      c = static_cast<char>(rng() & 0xff);
    return s;
  };
  auto opt = [&]() -> std::optional<uint64_t> {
    if (rng() % 2) return std::nullopt;
    return rng();
  };
  for (int i = 0; i < 2000; ++i) {
    // Built by a returning lambda: assigning into a default-constructed variant trips a GCC 12
    // maybe-uninitialized false positive.
    const Message m = [&]() -> Message {
      switch (rng() % 8) {
        case 0:
          return RaftMessageWrapper{blob()};
        case 1:
          return ClientRequest{rng(), PutCommand{blob(), blob(), opt()}};
        case 2:
          return ClientRequest{rng(), DeleteCommand{blob()}};
        case 3:
          return ClientRequest{rng(), ClearCommand{}};
        case 4:
          return ClientRequest{rng(), GetCommand{blob()}};
        case 5: {
          std::optional<std::string> err;
          if (rng() % 2) err = std::string(rng() % 20, 'e');
          std::optional<std::string> value;
          if (rng() % 2) value = blob();
          return ClientResponse{rng(), rng() % 2 == 0, err, opt(), value};
        }
        case 6:
          return PingRequest{rng(), std::string(rng() % 30, 'a')};
        default:
          return PongResponse{rng(), std::string(rng() % 30, 'b'), opt()};
      }
    }();
    std::string bytes = encode_message(m);
    auto back =
        decode_message(std::span(reinterpret_cast<const uint8_t*>(bytes.data()), bytes.size()));
    ASSERT_TRUE(back.ok()) << back.error().to_string();
    ASSERT_EQ(*back, m);
  }
}

// ---- Refusals ----

TEST(CodecRefuses, EmptyPayload) {
  expect_refused({}, "truncated input: u32 needs 4 bytes, 0 left");
}

// Every strict prefix of every valid message is refused as truncated (a fixed-width read runs
// out) or as a length beyond the bytes left (a string is cut); never decoded, never over-read.
TEST(CodecRefuses, TruncationAtEveryCutPoint) {
  size_t cuts = 0;
  for (const Message& m : sample_messages()) {
    if (std::holds_alternative<ClientRequest>(m) &&
        std::get<ClientRequest>(m).command.index() == 0 &&
        std::get<PutCommand>(std::get<ClientRequest>(m).command).value.size() > 1000) {
      continue;  // the 100 KB value would make this quadratic for no extra coverage
    }
    const std::vector<uint8_t> full = encoded(m);
    for (size_t cut = 0; cut < full.size(); ++cut) {
      // A fresh heap copy of exactly `cut` bytes, so AddressSanitizer sees any over-read.
      std::vector<uint8_t> prefix(full.begin(), full.begin() + static_cast<ptrdiff_t>(cut));
      auto r = decode_message(prefix);
      ASSERT_FALSE(r.ok()) << message_kind_name(m) << " cut at " << cut;
      ASSERT_EQ(r.error().kind(), NetworkError::Kind::kDeserialization);
      const std::string& why = r.error().detail();
      ASSERT_TRUE(why.find("truncated input") != std::string::npos ||
                  why.find("exceeds the") != std::string::npos)
          << why;
      ++cuts;
    }
  }
  EXPECT_GT(cuts, 1500u);
}

TEST(CodecRefuses, TruncatedErrorSaysWhatAndWhere) {
  // A Ping cut inside its node_id: tag read (4 bytes), then the u64 needs 8 bytes, 3 are left.
  EXPECT_EQ(expect_refused(golden({3, 0, 0, 0, 7, 0, 0}), "truncated"),
            "truncated input: u64 needs 8 bytes, 3 left (at byte 4)");
}

TEST(CodecRefuses, UnknownMessageTag) {
  EXPECT_EQ(expect_refused(golden({15, 0, 0, 0}), "unknown Message variant tag 15"),
            "unknown Message variant tag 15 (known: 0..14) (at byte 4)");
  expect_refused(golden({0xff, 0xff, 0xff, 0xff, 0, 0}), "unknown Message variant tag 4294967295");
  // A big-endian tag (a common client mistake) is an unknown little-endian one.
  expect_refused(golden({0, 0, 0, 3, 7, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0}),
                 "unknown Message variant tag 50331648");
}

TEST(CodecRefuses, UnknownCacheCommandTag) {
  EXPECT_EQ(expect_refused(golden({1, 0, 0, 0, 9, 0, 0, 0, 0, 0, 0, 0, 14, 0, 0, 0}),
                           "unknown CacheCommand variant tag 14"),
            "unknown CacheCommand variant tag 14 (known: 0..13) (at byte 16)");
  // Unknown admin and forwarded-command tags.
  expect_refused(golden({5, 0, 0, 0, 2, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0,  // Forward, origin, hops
                         1, 0, 0, 0, 0, 0, 0, 0, 2, 0, 0, 0}),
                 "unknown ForwardedCommand variant tag 2 (known: 0..1)");
  expect_refused(golden({9, 0, 0, 0, 1, 0, 0, 0, 0, 0, 0, 0, 3, 0, 0, 0}),
                 "unknown AdminCommand variant tag 3 (known: 0..2)");
}

// A forged member count is refused before the vector is sized for it.
TEST(CodecRefuses, AbsurdMemberCount) {
  std::vector<uint8_t> bytes = {8, 0, 0, 0};
  for (int field = 0; field < 2; ++field)  // request_id, node_id
    bytes.insert(bytes.end(), 8, 0);
  bytes.insert(bytes.end(), 8, 0);         // role ""
  for (int field = 0; field < 5; ++field)  // term, leader, commit, applied, last
    bytes.insert(bytes.end(), 8, 0);
  bytes.insert(bytes.end(), 8, 0xff);  // members count 2^64 - 1
  expect_refused(bytes, "Status.members count 18446744073709551615 exceeds the 0 bytes left");
  expect_refused(golden({1, 0, 0, 0, 9, 0, 0, 0, 0, 0, 0, 0, 0, 0, 1, 0, 1, 0, 0, 0, 0, 0, 0, 0}),
                 "unknown CacheCommand variant tag 65536");
}

TEST(CodecRefuses, LengthBeyondBuffer) {
  EXPECT_EQ(expect_refused(golden({0, 0, 0, 0, 5, 0, 0, 0, 0, 0, 0, 0, 1, 2, 3, 4}), "Raft.data"),
            "length 5 of Raft.data exceeds the 4 bytes left (at byte 12)");
  expect_refused(
      golden({3, 0, 0, 0, 1, 0, 0, 0, 0, 0, 0, 0, 15, 0, 0, 0, 0, 0, 0, 0, "127.0.0.1:9000"}),
      "length 15 of Ping.raft_addr exceeds the 14 bytes left");
  expect_refused(golden({1, 0, 0, 0, 1, 0, 0, 0, 0,   0, 0, 0, 0, 0, 0, 0,  // Put
                         1, 0, 0, 0, 0, 0, 0, 0, "k",                       // key
                         0, 0, 0, 0, 0, 0, 0, 1}),                          // value len 2^56
                 "length 72057594037927936 of Put.value exceeds the 0 bytes left");
}

// Forged lengths up to u64 max are refused before anything is allocated for them.
TEST(CodecRefuses, AbsurdLengthsAllocateNothing) {
  const std::vector<std::vector<uint8_t>> hostile = {
      golden({0, 0, 0, 0, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff}),
      golden({0, 0, 0, 0, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0x7f, 1, 2, 3}),
      golden({0, 0, 0, 0, 0, 0, 0, 0, 1, 0, 0, 0}),                                   // 4 GiB
      golden({1,    0,    0,    0,    1,    0,    0,    0,   0, 0, 0, 0, 3, 0, 0, 0,  // Get
              0xfe, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff}),
      golden({2,    0,    0,    0,    1,    0,    0,    0,    0,
              0,    0,    0,    0,    1,  // ClientResponse.error
              0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, "x"}),
      golden({4, 0, 0, 0, 1, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0x80, 0, 0, 0, 0}),  // Pong
  };
  for (const auto& bytes : hostile) {
    std::optional<decltype(decode_message(bytes))> r;
    const auto used = cairn::testing::allocations_during([&] { r.emplace(decode_message(bytes)); });
    ASSERT_FALSE(r->ok());
    EXPECT_NE(r->error().detail().find("exceeds the"), std::string::npos) << r->error().detail();
    EXPECT_LT(used.largest, 4096u) << r->error().detail();
  }
  expect_refused(hostile[0], "length 18446744073709551615 of Raft.data exceeds the 0 bytes left");
}

std::vector<uint8_t> ping_with_addr(std::string_view addr) {
  std::vector<uint8_t> b = golden({3, 0, 0, 0, 1, 0, 0, 0, 0, 0, 0, 0});
  for (size_t i = 0; i < 8; ++i)
    b.push_back(static_cast<uint8_t>((addr.size() >> (8 * i)) & 0xff));
  b.insert(b.end(), addr.begin(), addr.end());
  return b;
}

std::vector<uint8_t> pong_with_addr(std::string_view addr) {
  std::vector<uint8_t> b = ping_with_addr(addr);
  b[0] = 4;
  b.push_back(0);  // leader_id None
  return b;
}

std::vector<uint8_t> response_with_error(std::string_view text) {
  std::vector<uint8_t> b = golden({2, 0, 0, 0, 1, 0, 0, 0, 0, 0, 0, 0, 0, 1});
  for (size_t i = 0; i < 8; ++i)
    b.push_back(static_cast<uint8_t>((text.size() >> (8 * i)) & 0xff));
  b.insert(b.end(), text.begin(), text.end());
  b.push_back(0);  // leader_hint None
  b.push_back(0);  // value None
  return b;
}

TEST(CodecRefuses, InvalidUtf8InTextFields) {
  const std::string_view bad[] = {
      "\xc0\xaf",          // overlong '/'
      "\xe0\x80\xaf",      // overlong, 3 bytes
      "\xf0\x80\x80\xaf",  // overlong, 4 bytes
      "\xed\xa0\x80",      // U+D800, a surrogate
      "\xed\xbf\xbf",      // U+DFFF
      "\xf4\x90\x80\x80",  // U+110000, above the Unicode range
      "\xf8\x88\x80\x80\x80",
      "\xe2\x82",  // truncated sequence
      "ok\xc3",    // truncated at the end
      "\x80",      // lone continuation byte
      "\xff",
      "a\xc3(b",  // continuation byte missing
  };
  for (std::string_view s : bad) {
    expect_refused(ping_with_addr(s), "Ping.raft_addr is not valid UTF-8");
    expect_refused(pong_with_addr(s), "Pong.raft_addr is not valid UTF-8");
    expect_refused(response_with_error(s), "ClientResponse.error is not valid UTF-8");
  }
  // The same fields accept valid multi-byte text, including U+10FFFF, the largest code point.
  for (std::string_view s : {"\xc3\xa9", "\xe2\x82\xac", "\xf4\x8f\xbf\xbf", ""}) {
    EXPECT_TRUE(decode_message(ping_with_addr(s)).ok());
    EXPECT_TRUE(decode_message(pong_with_addr(s)).ok());
    EXPECT_TRUE(decode_message(response_with_error(s)).ok());
  }
}

// Keys, values and Raft data are bytes, not text: any byte sequence is accepted there.
TEST(Codec, BinaryFieldsAreNotCheckedForUtf8) {
  std::vector<uint8_t> get = golden({1, 0, 0, 0, 1, 0, 0, 0, 0,    0,   0, 0, 3, 0, 0, 0,  // Get
                                     2, 0, 0, 0, 0, 0, 0, 0, 0xc0, 0xaf});
  auto r = decode_message(get);
  ASSERT_TRUE(r.ok()) << r.error().to_string();
  EXPECT_EQ(std::get<GetCommand>(std::get<ClientRequest>(*r).command).key, "\xc0\xaf");
}

TEST(CodecRefuses, InvalidBool) {
  EXPECT_EQ(expect_refused(golden({2, 0, 0, 0, 1, 0, 0, 0, 0, 0, 0, 0, 2, 0, 0, 0}),
                           "invalid bool 0x02 in ClientResponse.success"),
            "invalid bool 0x02 in ClientResponse.success (at byte 13)");
  expect_refused(golden({2, 0, 0, 0, 1, 0, 0, 0, 0, 0, 0, 0, 0xff, 0, 0, 0}),
                 "invalid bool 0xff in ClientResponse.success");
}

TEST(CodecRefuses, InvalidOptionTag) {
  expect_refused(golden({2, 0, 0, 0, 1, 0, 0, 0, 0, 0, 0, 0, 1, 2, 0, 0}),
                 "invalid Option tag 0x02 in ClientResponse.error");
  expect_refused(golden({2, 0, 0, 0, 1, 0, 0, 0, 0, 0, 0, 0, 1, 0, 0x80, 0}),
                 "invalid Option tag 0x80 in ClientResponse.leader_hint");
  expect_refused(golden({2, 0, 0, 0, 1, 0, 0, 0, 0, 0, 0, 0, 1, 0, 0, 3}),
                 "invalid Option tag 0x03 in ClientResponse.value");
  expect_refused(golden({4, 0, 0, 0, 1, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0xff}),
                 "invalid Option tag 0xff in Pong.leader_id");
  expect_refused(golden({1, 0, 0, 0, 1, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0,  // Put
                         0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0,  // "", ""
                         2}),
                 "invalid Option tag 0x02 in Put.ttl_ms");
}

TEST(CodecRefuses, TrailingBytes) {
  EXPECT_EQ(expect_refused(golden({2, 0, 0, 0, 1, 0, 0, 0, 0, 0, 0, 0, 1, 0, 0, 0, 0}),
                           "1 trailing bytes after a complete message"),
            "1 trailing bytes after a complete message (at byte 16)");
  std::vector<uint8_t> two_pings = ping_with_addr("a:1");
  const std::vector<uint8_t> again = ping_with_addr("a:1");
  two_pings.insert(two_pings.end(), again.begin(), again.end());
  expect_refused(two_pings, "23 trailing bytes");
  expect_refused(golden({2, 0, 0, 0, 1, 0, 0, 0, 0, 0, 0, 0, 1, 0, 0, 0, 0, 0, 0}),
                 "3 trailing bytes");
}

// The first defect is the one reported, even when more follow.
TEST(CodecRefuses, ReportsFirstDefect) {
  expect_refused(golden({2, 0, 0, 0, 1, 0, 0, 0, 0, 0, 0, 0, 7, 9, 9, 9, 9}), "invalid bool 0x07");
}

}  // namespace
}  // namespace cairn::net
