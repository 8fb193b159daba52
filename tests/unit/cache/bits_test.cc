// Bitmap helpers (bits.h) against a bit-by-bit model of Redis's rules: the range normalisation of
// bitcountCommand and bitposCommand, padding with zeros, and BITOP over sources of any length.
#include "cache/bits.h"

#include <gtest/gtest.h>

#include <random>

namespace cairn::cache {
namespace {

int model_bit(const std::string& v, int64_t i) {
  if (i < 0 || i / 8 >= static_cast<int64_t>(v.size())) return 0;
  return (static_cast<uint8_t>(v[static_cast<size_t>(i / 8)]) >> (7 - i % 8)) & 1;
}

// [first, last] in bits after Redis's normalisation; first > last when empty.
std::pair<int64_t, int64_t> model_span(const std::string& v, BitRange r) {
  const int64_t total = static_cast<int64_t>(v.size()) * (r.bits ? 8 : 1);
  int64_t s = r.start < 0 ? total + r.start : r.start;
  int64_t e = r.end < 0 ? total + r.end : r.end;
  if (s < 0) s = 0;
  if (e < 0) e = 0;
  if (e >= total) e = total - 1;
  if (s > e) return {0, -1};
  return r.bits ? std::pair{s, e} : std::pair{s * 8, e * 8 + 7};
}

TEST(Bits, GetBitCountsFromTheMostSignificantBitAndPadsWithZeros) {
  const std::string v("\x80\x01", 2);
  EXPECT_EQ(get_bit(v, 0), 1);
  EXPECT_EQ(get_bit(v, 1), 0);
  EXPECT_EQ(get_bit(v, 15), 1);
  EXPECT_EQ(get_bit(v, 16), 0);
  EXPECT_EQ(get_bit(v, uint64_t{1} << 40), 0);
}

TEST(Bits, CountAndPositionMatchABitByBitModel) {
  std::mt19937_64 rng(11);
  for (int round = 0; round < 20000; ++round) {
    std::string v(rng() % 12, '\0');
    for (auto& c : v)
      c = static_cast<char>(rng() % 4 == 0 ? 0xff : rng() % 4 == 0 ? 0 : rng());
    const uint64_t span = v.size() * 8 + 20;
    const auto bound = [&] {
      return static_cast<int64_t>(rng() % span) - static_cast<int64_t>(span / 2);
    };
    BitRange r{bound(), bound(), rng() % 2 == 0};
    SCOPED_TRACE("len " + std::to_string(v.size()) + " range " + std::to_string(r.start) + " " +
                 std::to_string(r.end) + (r.bits ? " BIT" : " BYTE"));
    auto [first, last] = model_span(v, r);
    int64_t ones = 0;
    for (int64_t i = first; i <= last; ++i)
      ones += model_bit(v, i);
    if (r.start < 0 && r.end < 0 && r.start > r.end) ones = 0;
    EXPECT_EQ(bit_count(v, r), ones);
    for (int bit : {0, 1}) {
      for (bool end_given : {false, true}) {
        BitRange q = r;
        if (!end_given) q.end = -1;
        auto [f, l] = model_span(v, q);
        int64_t want = -1;
        for (int64_t i = f; i <= l && want < 0; ++i)
          if (model_bit(v, i) == bit) want = i;
        if (want < 0 && bit == 0 && !end_given && f <= l) want = l + 1;
        EXPECT_EQ(bit_pos(v, bit, r, end_given), want) << "bit " << bit << " end " << end_given;
      }
    }
  }
}

TEST(Bits, WholeValueCountAndPosition) {
  const BitRange all;
  EXPECT_EQ(bit_count(std::string(100, '\xff'), all), 800);
  EXPECT_EQ(bit_pos("", 0, all, false), -1);  // an empty string holds no bit at all
  EXPECT_EQ(bit_pos("", 1, all, false), -1);
  EXPECT_EQ(bit_pos(std::string(3, '\xff'), 0, all, false), 24);  // the first padding bit
  EXPECT_EQ(bit_pos(std::string(3, '\xff'), 1, all, false), 0);
  EXPECT_EQ(bit_pos(std::string("\0\0\x10", 3), 1, all, false), 19);
  EXPECT_EQ(bit_pos(std::string(3, '\0'), 1, all, false), -1);
}

TEST(Bits, OperationsPadShorterSourcesWithZeros) {
  const std::string a("\xf0\x0f\xff", 3), b("\xff", 1);
  EXPECT_EQ(bit_op(BitOpKind::kAnd, {a, b}), std::string("\xf0\0\0", 3));
  EXPECT_EQ(bit_op(BitOpKind::kOr, {a, b}), std::string("\xff\x0f\xff", 3));
  EXPECT_EQ(bit_op(BitOpKind::kXor, {a, b, b}), a);
  EXPECT_EQ(bit_op(BitOpKind::kNot, {a}), std::string("\x0f\xf0\0", 3));
  EXPECT_EQ(bit_op(BitOpKind::kOr, {"", ""}), "");
}

// The overflow rules of Redis's checkSignedBitfieldOverflow / checkUnsignedBitfieldOverflow at
// the edges of the widths, INT64's included.
TEST(Bits, FieldsWrapSaturateOrFailAtTheEdgesOfTheirWidth) {
  using Op = BitFieldOp;
  using O = BitFieldOverflow;
  std::string v(16, '\0');
  const auto run = [&](Op op) { return bit_field(v.data(), v.size(), {op}).front(); };
  EXPECT_EQ(run({Op::Kind::kSet, true, 64, 0, INT64_MIN, O::kWrap}), 0);
  EXPECT_EQ(run({Op::Kind::kIncrBy, true, 64, 0, -1, O::kWrap}), INT64_MAX);
  EXPECT_EQ(run({Op::Kind::kIncrBy, true, 64, 0, 1, O::kSat}), INT64_MAX);
  EXPECT_EQ(run({Op::Kind::kIncrBy, true, 64, 0, 1, O::kFail}), std::nullopt);
  EXPECT_EQ(run({Op::Kind::kSet, false, 4, 64, -1, O::kWrap}), 0);  // stores 15
  EXPECT_EQ(run({Op::Kind::kGet, false, 4, 64, 0, O::kWrap}), 15);
  EXPECT_EQ(run({Op::Kind::kIncrBy, false, 4, 64, 1, O::kWrap}), 0);
  EXPECT_EQ(run({Op::Kind::kIncrBy, false, 4, 64, -1, O::kSat}), 0);
  EXPECT_EQ(run({Op::Kind::kSet, true, 3, 70, 4, O::kSat}), 0);  // stores 3, the i3 maximum
  EXPECT_EQ(run({Op::Kind::kGet, true, 3, 70, 0, O::kWrap}), 3);
  EXPECT_EQ(run({Op::Kind::kIncrBy, true, 3, 70, -10, O::kSat}), -4);
  EXPECT_EQ(run({Op::Kind::kGet, false, 63, 1, 0, O::kWrap}), INT64_MAX);  // u63 max
  EXPECT_EQ(bit_field_reach({{Op::Kind::kGet, false, 8, 800, 0, O::kWrap},
                             {Op::Kind::kSet, true, 9, 15, 0, O::kWrap}}),
            3u);
}

}  // namespace
}  // namespace cairn::cache
