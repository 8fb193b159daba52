// The log-entry encoding of stamped commands: every command round-trips, and malformed bytes
// (truncations at every point, unknown tags and enums, trailing bytes) are refused clearly.
#include "cache/codec.h"

#include <gtest/gtest.h>

#include <optional>
#include <random>

#include "allocation_probe.h"
#include "test_util.h"

namespace cairn::cache {
namespace {

std::vector<Command> every_command() {
  Put put = testing::put(std::string("k\0y", 3), "value", Expiry::relative(1500));
  put.condition = PutCondition::kIfPresent;
  put.get_old = true;
  return {put,
          Delete{{"a", "", std::string(300, 'x')}},
          Clear{},
          Expire{"k", Expiry::absolute(-5), ExpireCondition::kLt},
          Persist{"k"},
          IncrBy{"n", INT64_MIN},
          IncrByFloat{"f", "1.5e3"},
          Append{"k", "tail"},
          SetRange{"k", INT64_MAX, "v"},
          GetDel{"k"},
          GetEx{"k", Expiry::persist()},
          CompareAndSet{"k", "old", "new", Expiry::keep()},
          Tick{},
          Evict{{"x", "y"}},
          PutMany{{"a", "1", std::string("b\0", 2), ""}, true},
          OpenSession{},
          SessionWrite{7, 300, 2, encode_entry(IncrBy{"n", 1}, 0)},
          Rename{"from", std::string("t\0", 2), true},
          Copy{"from", "to", true},
          SetBit{"k", uint64_t{4294967295}, true},
          BitOp{BitOpKind::kXor, "d", {"a", std::string("\0b", 2)}},
          BitField{"k",
                   {{BitFieldOp::Kind::kIncrBy, true, 64, uint64_t{1} << 40, INT64_MIN,
                     BitFieldOverflow::kFail},
                    {BitFieldOp::Kind::kGet, false, 63, 0, 0, BitFieldOverflow::kSat}}}};
}

TEST(Codec, EveryCommandRoundTrips) {
  const auto cmds = every_command();
  ASSERT_EQ(cmds.size(), std::variant_size_v<Command>);
  for (size_t i = 0; i < cmds.size(); ++i) {
    SCOPED_TRACE(i);
    ASSERT_EQ(cmds[i].index(), i);
    std::string bytes = encode_entry(cmds[i], 1700000000123);
    auto decoded = decode_entry(bytes);
    ASSERT_TRUE(decoded.ok()) << decoded.error().message;
    EXPECT_EQ(decoded->command, cmds[i]);
    EXPECT_EQ(decoded->time_ms, 1700000000123);
  }
}

TEST(Codec, EveryExpireConditionRoundTrips) {
  for (auto c : {ExpireCondition::kAlways, ExpireCondition::kNx, ExpireCondition::kXx,
                 ExpireCondition::kGt, ExpireCondition::kLt, ExpireCondition::kXxLt}) {
    const Command cmd = Expire{"k", Expiry::relative(5), c};
    auto decoded = decode_entry(encode_entry(cmd, 1));
    ASSERT_TRUE(decoded.ok()) << decoded.error().message;
    EXPECT_EQ(decoded->command, cmd);
  }
}

TEST(Codec, DecodingIntoAReusedCommandMatchesAFreshDecode) {
  // Every command decoded over every other (the Put-over-Put case reuses the strings): the
  // result is always what a fresh decode gives, whatever the target held before.
  const auto cmds = every_command();
  std::vector<Command> targets = cmds;
  targets.push_back(testing::put(std::string(100, 'K'), std::string(1000, 'V')));
  for (const Command& before : targets) {
    for (const Command& cmd : cmds) {
      StampedCommand into{before, 7};
      const std::string bytes = encode_entry(cmd, 99);
      auto st = decode_entry_into(bytes, into);
      ASSERT_TRUE(st.ok()) << st.error().message;
      EXPECT_EQ(into.command, cmd);
      EXPECT_EQ(into.time_ms, 99);
    }
  }
  // A short Put over a long one keeps no stale bytes, and a refused entry says why.
  StampedCommand into{testing::put("a-long-key-of-many-bytes", std::string(64, 'x')), 0};
  ASSERT_TRUE(decode_entry_into(encode_entry(testing::put("k", "v"), 1), into).ok());
  EXPECT_EQ(into.command, Command{testing::put("k", "v")});
  const std::string bytes = encode_entry(testing::put("key", "value"), 1);
  auto bad = decode_entry_into(std::string_view(bytes).substr(0, bytes.size() - 3), into);
  ASSERT_FALSE(bad.ok());
  EXPECT_EQ(bad.error().message.rfind("cache entry: ", 0), 0u) << bad.error().message;
}

TEST(Codec, DecodingTakingTheBytesGivesWhatACopyingDecodeGives) {
  // Every command (a Put's value takes the input's memory; the rest decode as usual), and every
  // truncation of a Put is refused as the copying decode refuses it.
  for (const Command& cmd : every_command()) {
    SCOPED_TRACE(cmd.index());
    StampedCommand out;
    ASSERT_TRUE(decode_entry_taking(encode_entry(cmd, 42), out).ok());
    EXPECT_EQ(out.command, cmd);
    EXPECT_EQ(out.time_ms, 42);
  }
  Put big = testing::put("key", std::string(1 << 20, 'v'), Expiry::relative(10));
  std::string bytes = encode_entry(big, 3);
  const char* memory = bytes.data();
  StampedCommand out;
  ASSERT_TRUE(decode_entry_taking(std::move(bytes), out).ok());
  ASSERT_EQ(out.command, Command{big});
  EXPECT_EQ(std::get<Put>(out.command).value.data(), memory);  // taken over, not copied
  const std::string whole = encode_entry(big, 3);
  for (size_t cut : {size_t{1}, size_t{9}, size_t{12}, whole.size() / 2, whole.size() - 1}) {
    auto st = decode_entry_taking(whole.substr(0, cut), out);
    ASSERT_FALSE(st.ok()) << cut;
    EXPECT_EQ(st.error().message, decode_entry(whole.substr(0, cut)).error().message);
  }
  EXPECT_FALSE(decode_entry_taking(whole + "x", out).ok());
}

TEST(Codec, PeekKeyReadsTheKeyOfSingleKeyCommandsOnly) {
  for (const Command& cmd : every_command()) {
    SCOPED_TRACE(cmd.index());
    const std::string bytes = encode_entry(cmd, 5);
    const std::string_view key = peek_key(bytes);
    std::visit(
        [&](const auto& c) {
          if constexpr (requires { c.key; })
            EXPECT_EQ(key, c.key);
          else
            EXPECT_TRUE(key.empty());
        },
        cmd);
    // Truncated or foreign bytes give no key, never a read past the end.
    for (size_t cut = 0; cut < bytes.size(); ++cut) {
      const std::string_view k = peek_key(std::string_view(bytes).substr(0, cut));
      EXPECT_LE(k.size(), cut);
    }
  }
  EXPECT_TRUE(peek_key("").empty());
  EXPECT_TRUE(peek_key(std::string(20, '\x7f')).empty());
}

TEST(Codec, PutManyFromViewsAndOddCountsRefused) {
  const std::vector<std::string_view> kv = {"k1", "v1", "k2", std::string_view("v\0", 2)};
  std::string bytes;
  encode_put_many_to(bytes, kv, false, 5);
  EXPECT_EQ(bytes, encode_entry(PutMany{{"k1", "v1", "k2", std::string("v\0", 2)}, false}, 5));
  // A count of keys and values that is odd cannot come from a request: refused.
  std::string odd;
  encode_put_many_to(odd, std::span(kv).first(3), true, 5);
  auto r = decode_entry(odd);
  ASSERT_FALSE(r.ok());
  EXPECT_NE(r.error().message.find("odd count"), std::string::npos) << r.error().message;
}

TEST(Codec, EveryTruncationIsRefused) {
  for (const Command& cmd : every_command()) {
    std::string bytes = encode_entry(cmd, 42);
    for (size_t cut = 0; cut < bytes.size(); ++cut) {
      auto r = decode_entry(std::string_view(bytes).substr(0, cut));
      if (r.ok()) {
        // Only a prefix that is itself a complete encoding of the same command may decode;
        // commands end with their last field, so no proper prefix can.
        ADD_FAILURE() << "prefix of " << cut << "/" << bytes.size() << " decoded";
      } else {
        EXPECT_EQ(r.error().message.rfind("cache entry: ", 0), 0u) << r.error().message;
      }
    }
  }
}

TEST(Codec, RefusesBadVersionTagEnumsAndTrailingBytes) {
  std::string good = encode_entry(Expire{"k", Expiry::relative(5), ExpireCondition::kNx}, 1);
  std::string bad = good;
  bad[0] = 2;
  EXPECT_EQ(decode_entry(bad).error().message,
            "cache entry: unsupported version 2 (this build reads 1)");
  bad = good;
  bad[9] = 99;
  EXPECT_EQ(decode_entry(bad).error().message, "cache entry: unknown command tag 99");
  bad = good;
  bad.back() = 7;  // the expire condition
  EXPECT_NE(decode_entry(bad).error().message.find("unknown expire condition 7"),
            std::string::npos);
  EXPECT_NE(decode_entry(good + "x").error().message.find("trailing bytes"), std::string::npos);
}

// A Delete announcing `count` keys with a single byte after the count.
std::string delete_announcing(uint64_t count) {
  std::string bytes = encode_entry(Delete{}, 1);
  bytes.pop_back();  // the empty count
  uint64_t v = count;
  for (; v >= 0x80; v >>= 7)
    bytes.push_back(static_cast<char>((v & 0x7f) | 0x80));
  bytes.push_back(static_cast<char>(v));
  bytes.push_back(1);
  return bytes;
}

// Counts below what allocation can refuse (2^20 keys would be a 32 MiB vector) show that the
// count is checked against the input before anything is reserved for it.
// Caught mutation: cache-codec-key-count
TEST(Codec, HugeLengthsAndCountsAreRefusedWithoutAllocating) {
  for (uint64_t count : {uint64_t{1} << 20, uint64_t{1} << 26, uint64_t{1} << 62}) {
    const std::string bytes = delete_announcing(count);
    std::optional<decltype(decode_entry(bytes))> r;
    const auto used = cairn::testing::allocations_during([&] { r.emplace(decode_entry(bytes)); });
    ASSERT_FALSE(r->ok()) << count;
    EXPECT_NE(r->error().message.find("key count of " + std::to_string(count)), std::string::npos)
        << r->error().message;
    EXPECT_LT(used.largest, 4096u) << count;
  }
}

TEST(Codec, RandomBytesNeverCrash) {
  std::mt19937_64 rng(3);
  int decoded = 0;
  for (int i = 0; i < 20000; ++i) {
    std::string bytes = encode_entry(every_command()[rng() % 14], 7);
    // Flip a few random bytes.
    for (int f = 0; f < 3; ++f)
      bytes[rng() % bytes.size()] = static_cast<char>(rng());
    auto r = decode_entry(bytes);
    decoded += r.ok() ? 1 : 0;
  }
  EXPECT_GT(decoded, 0);  // some flips land in payload bytes and still decode
}

}  // namespace
}  // namespace cairn::cache

namespace cairn::cache {
namespace {

TEST(ReplyCodec, EveryReplyRoundTripsAndEveryTruncationIsRefused) {
  const std::vector<Reply> replies = {Ok{},
                                      Nil{},
                                      int64_t{-42},
                                      int64_t{INT64_MIN},
                                      Bytes("v\0al", 4),
                                      Bytes(),
                                      Error{ErrorCode::kNotInteger, std::string(kErrNotInteger)},
                                      Array{},
                                      Array{{Nil{}, int64_t{INT64_MIN}, Bytes("x\0", 2)}}};
  for (const Reply& r : replies) {
    const std::string bytes = encode_reply(r);
    auto back = decode_reply(bytes);
    ASSERT_TRUE(back.ok()) << back.error().message;
    EXPECT_EQ(*back, r);
    for (size_t cut = 0; cut < bytes.size(); ++cut)
      EXPECT_FALSE(decode_reply(bytes.substr(0, cut)).ok()) << "cut at " << cut;
    EXPECT_FALSE(decode_reply(bytes + "x").ok());
  }
  EXPECT_NE(decode_reply("\x09").error().message.find("unknown reply tag 9"), std::string::npos);
  EXPECT_FALSE(decode_reply(std::string("\x04\x7f\x00", 3)).ok());  // unknown error code
}

}  // namespace
}  // namespace cairn::cache
