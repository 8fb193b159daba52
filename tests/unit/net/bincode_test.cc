// bincode primitives: the Writer's byte layout, the Reader's bounds and error text, and the
// strict UTF-8 check used for Rust `String` fields.
#include "net/bincode.h"

#include <gtest/gtest.h>

#include <limits>
#include <string>
#include <vector>

namespace cairn::net::bincode {
namespace {

std::span<const uint8_t> as_span(const std::string& s) {
  return {reinterpret_cast<const uint8_t*>(s.data()), s.size()};
}

std::string hex(const std::string& s) {
  static constexpr char kDigits[] = "0123456789abcdef";
  std::string out;
  for (char c : s) {
    const auto b = static_cast<uint8_t>(c);
    if (!out.empty()) out.push_back(' ');
    out.push_back(kDigits[b >> 4]);
    out.push_back(kDigits[b & 0xf]);
  }
  return out;
}

TEST(BincodeWriter, IntegersAreLittleEndianFixedWidth) {
  std::string out;
  Writer w(out);
  w.u8(0xab);
  w.u32(0x01020304);
  w.u64(0x0102030405060708);
  w.i64(-2);
  EXPECT_EQ(hex(out), "ab 04 03 02 01 08 07 06 05 04 03 02 01 fe ff ff ff ff ff ff ff");
}

TEST(BincodeWriter, BoolOptionAndBytes) {
  std::string out;
  Writer w(out);
  w.boolean(true);
  w.boolean(false);
  w.opt_u64(std::nullopt);
  w.opt_u64(5);
  w.bytes(std::string("a\0", 2));
  w.str("");
  w.opt_bytes(std::nullopt);
  w.opt_bytes("z");
  EXPECT_EQ(hex(out),
            "01 00 00 01 05 00 00 00 00 00 00 00 02 00 00 00 00 00 00 00 61 00 "
            "00 00 00 00 00 00 00 00 00 01 01 00 00 00 00 00 00 00 7a");
}

TEST(BincodeWriter, AppendsWithoutClearing) {
  std::string out = "pre";
  Writer w(out);
  w.u8(1);
  EXPECT_EQ(out, std::string("pre\x01"));
}

// The three sinks agree: SizeCounter counts exactly what Writer appends and SpanWriter fills.
TEST(BincodeSinks, SizeCounterAndSpanWriterMatchWriter) {
  auto write_all = [](auto& w) {
    w.u8(9);
    w.boolean(true);
    w.u32(0xfeedface);
    w.u64(42);
    w.i64(-1);
    w.bytes("");
    w.bytes(std::string("\0\1\2", 3));
    w.str("h\xc3\xa9");
    w.opt_u64(std::nullopt);
    w.opt_u64(7);
    w.opt_bytes(std::nullopt);
    w.opt_bytes(std::string(300, 'b'));
  };
  std::string appended;
  Writer w(appended);
  write_all(w);
  SizeCounter counter;
  write_all(counter);
  EXPECT_EQ(counter.size(), appended.size());
  // SpanWriter into a buffer with guard bytes on both sides: exactly the middle is written.
  std::string span(appended.size() + 16, '\x5a');
  SpanWriter sw(span.data() + 8);
  write_all(sw);
  EXPECT_EQ(span.substr(8, appended.size()), appended);
  EXPECT_EQ(span.substr(0, 8), std::string(8, '\x5a'));
  EXPECT_EQ(span.substr(8 + appended.size()), std::string(8, '\x5a'));
}

TEST(BincodeReader, ReadsWhatWriterWrote) {
  std::string buf;
  Writer w(buf);
  const uint64_t max = std::numeric_limits<uint64_t>::max();
  w.u8(0xff);
  w.boolean(true);
  w.u32(0xdeadbeef);
  w.u64(max);
  w.i64(std::numeric_limits<int64_t>::min());
  w.bytes(std::string("\0\xff", 2));
  w.str("h\xc3\xa9");
  w.opt_u64(max);
  w.opt_bytes(std::nullopt);
  w.opt_bytes("");

  Reader r(as_span(buf));
  uint8_t a = 0;
  bool b = false;
  uint32_t c = 0;
  uint64_t d = 0;
  int64_t e = 0;
  std::string f, g;
  std::optional<uint64_t> h;
  std::optional<std::string> i = "stale", j;
  ASSERT_TRUE(r.u8(a) && r.boolean(b, "b") && r.u32(c) && r.u64(d) && r.i64(e) && r.bytes(f, "f") &&
              r.str(g, "g") && r.opt_u64(h, "h") && r.opt_bytes(i, "i") && r.opt_str(j, "j"))
      << r.error().to_string();
  EXPECT_EQ(a, 0xff);
  EXPECT_TRUE(b);
  EXPECT_EQ(c, 0xdeadbeefu);
  EXPECT_EQ(d, max);
  EXPECT_EQ(e, std::numeric_limits<int64_t>::min());
  EXPECT_EQ(f, std::string("\0\xff", 2));
  EXPECT_EQ(g, "h\xc3\xa9");
  EXPECT_EQ(h, max);
  EXPECT_EQ(i, std::nullopt);  // a None overwrites what the output held before
  EXPECT_EQ(j, std::string());
  EXPECT_EQ(r.remaining(), 0u);
  EXPECT_EQ(r.position(), buf.size());
  EXPECT_FALSE(r.failed());
}

TEST(BincodeReader, NeverReadsPastItsSpan) {
  // The span covers only the first 3 bytes of a longer buffer: the u32 must not see the 4th.
  const std::string buf("\x01\x02\x03\x04", 4);
  Reader r(as_span(buf).first(3));
  uint32_t v = 0;
  EXPECT_FALSE(r.u32(v));
  EXPECT_EQ(r.error().kind(), NetworkError::Kind::kDeserialization);
  EXPECT_EQ(r.error().detail(), "truncated input: u32 needs 4 bytes, 3 left (at byte 0)");
  EXPECT_EQ(r.position(), 0u);
}

TEST(BincodeReader, StaysFailedAfterTheFirstError) {
  const std::string buf("\x07\x00\x00\x00\x00\x00\x00\x00\x09", 9);
  Reader r(as_span(buf));
  bool b = false;
  uint8_t x = 0;
  EXPECT_FALSE(r.boolean(b, "flag"));
  EXPECT_TRUE(r.failed());
  // Bytes remain, but every later read fails and the first error is the one kept.
  EXPECT_FALSE(r.u8(x));
  EXPECT_FALSE(r.fail("second problem"));
  EXPECT_EQ(r.error().detail(), "invalid bool 0x07 in flag (at byte 1)");
}

TEST(BincodeReader, LengthBeyondInputIsRefusedWithoutConsuming) {
  const std::string buf(
      "\xff\xff\xff\xff\xff\xff\xff\xff"
      "abc",
      11);
  Reader r(as_span(buf));
  std::string s = "untouched";
  EXPECT_FALSE(r.bytes(s, "Thing.data"));
  EXPECT_EQ(r.error().detail(),
            "length 18446744073709551615 of Thing.data exceeds the 3 bytes left (at byte 8)");
  EXPECT_EQ(s, "untouched");
}

TEST(BincodeReader, StrRefusesInvalidUtf8) {
  const std::string buf("\x02\x00\x00\x00\x00\x00\x00\x00\xc0\x80", 10);
  Reader r(as_span(buf));
  std::string s;
  EXPECT_FALSE(r.str(s, "Ping.raft_addr"));
  EXPECT_EQ(r.error().detail(), "Ping.raft_addr is not valid UTF-8 (at byte 10)");
  // The same bytes are fine as a byte string.
  Reader r2(as_span(buf));
  EXPECT_TRUE(r2.bytes(s, "key"));
  EXPECT_EQ(s, "\xc0\x80");
}

TEST(BincodeReader, OptionAndBoolTagsAreStrict) {
  for (int tag = 2; tag < 256; ++tag) {
    const std::string buf(1, static_cast<char>(tag));
    Reader r1(as_span(buf));
    std::optional<uint64_t> o;
    EXPECT_FALSE(r1.opt_u64(o, "o"));
    EXPECT_NE(r1.error().detail().find("invalid Option tag"), std::string::npos);
    Reader r2(as_span(buf));
    bool b = false;
    EXPECT_FALSE(r2.boolean(b, "b"));
    EXPECT_NE(r2.error().detail().find("invalid bool"), std::string::npos);
  }
}

TEST(BincodeReader, SomeWithoutItsValueIsTruncated) {
  const std::string buf("\x01\x05\x00", 3);
  Reader r(as_span(buf));
  std::optional<uint64_t> o;
  EXPECT_FALSE(r.opt_u64(o, "ttl"));
  EXPECT_EQ(r.error().detail(), "truncated input: u64 needs 8 bytes, 2 left (at byte 1)");
}

struct Utf8Case {
  std::string bytes;
  bool valid;
  const char* what;
};

TEST(BincodeUtf8, Table) {
  const Utf8Case cases[] = {
      {"", true, "empty"},
      {"hello, world", true, "ASCII"},
      {std::string("a\0b", 3), true, "NUL is a valid code point"},
      {"\x7f", true, "U+007F, last 1-byte"},
      {"\xc2\x80", true, "U+0080, first 2-byte"},
      {"\xdf\xbf", true, "U+07FF, last 2-byte"},
      {"\xe0\xa0\x80", true, "U+0800, first 3-byte"},
      {"\xed\x9f\xbf", true, "U+D7FF, just below the surrogates"},
      {"\xee\x80\x80", true, "U+E000, just above the surrogates"},
      {"\xef\xbf\xbf", true, "U+FFFF"},
      {"\xf0\x90\x80\x80", true, "U+10000, first 4-byte"},
      {"\xf4\x8f\xbf\xbf", true, "U+10FFFF, the last code point"},
      {"caf\xc3\xa9 \xe2\x82\xac \xf0\x9f\x98\x80", true, "mixed widths"},
      {"\xef\xbb\xbf", true, "BOM is a valid code point"},
      {"\x80", false, "lone continuation byte"},
      {"\xbf", false, "lone continuation byte 0xbf"},
      {"\xc0\x80", false, "overlong NUL"},
      {"\xc0\xaf", false, "overlong '/' (2 bytes)"},
      {"\xc1\xbf", false, "overlong U+007F"},
      {"\xe0\x80\xaf", false, "overlong '/' (3 bytes)"},
      {"\xe0\x9f\xbf", false, "overlong U+07FF"},
      {"\xf0\x80\x80\xaf", false, "overlong '/' (4 bytes)"},
      {"\xf0\x8f\xbf\xbf", false, "overlong U+FFFF"},
      {"\xed\xa0\x80", false, "U+D800, first surrogate"},
      {"\xed\xbf\xbf", false, "U+DFFF, last surrogate"},
      {"\xed\xa0\xbd\xed\xb8\x80", false, "CESU-8 surrogate pair"},
      {"\xf4\x90\x80\x80", false, "U+110000"},
      {"\xf5\x80\x80\x80", false, "lead byte 0xf5"},
      {"\xf7\xbf\xbf\xbf", false, "lead byte 0xf7 (U+1FFFFF)"},
      {"\xf8\x88\x80\x80\x80", false, "5-byte form"},
      {"\xfc\x84\x80\x80\x80\x80", false, "6-byte form"},
      {"\xfe", false, "0xfe"},
      {"\xff", false, "0xff"},
      {"\xc3", false, "2-byte sequence cut after its lead"},
      {"\xe2\x82", false, "3-byte sequence cut"},
      {"\xf0\x9f\x98", false, "4-byte sequence cut"},
      {"ok\xe2\x82", false, "cut sequence at the end of text"},
      {"\xc3(", false, "continuation replaced by ASCII"},
      {"\xe2\x28\xa1", false, "second byte not a continuation"},
      {"\xe2\x82\x28", false, "third byte not a continuation"},
      {"\xf0\x9f\x98\x28", false, "fourth byte not a continuation"},
      {"\xc3\xa9\xa9", false, "extra continuation byte"},
  };
  for (const auto& c : cases) {
    EXPECT_EQ(is_valid_utf8(c.bytes), c.valid) << c.what << ": " << hex(c.bytes);
  }
}

// The checker skips ASCII eight bytes at a time: a defect must be found wherever it falls
// relative to those words, with ASCII before and after it.
TEST(BincodeUtf8, TableWithAsciiPaddingAtEveryOffset) {
  const Utf8Case cases[] = {
      {"\xc3\xa9", true, "U+00E9"},
      {"\xf4\x8f\xbf\xbf", true, "U+10FFFF"},
      {"\xe2\x82\xac", true, "U+20AC"},
      {"\x80", false, "lone continuation byte"},
      {"\xc0\xaf", false, "overlong"},
      {"\xed\xa0\x80", false, "surrogate"},
      {"\xf4\x90\x80\x80", false, "U+110000"},
      {"\xe2\x82", false, "cut sequence"},
      {"\xff", false, "0xff"},
  };
  for (const auto& c : cases) {
    for (size_t before = 0; before <= 17; ++before) {
      for (size_t after = 0; after <= 17; ++after) {
        const std::string s = std::string(before, 'a') + c.bytes + std::string(after, 'z');
        ASSERT_EQ(is_valid_utf8(s), c.valid)
            << c.what << " after " << before << " before " << after;
      }
    }
  }
  // A high bit in any one byte of a long ASCII run is caught.
  for (size_t i = 0; i < 40; ++i) {
    std::string s(40, 'x');
    s[i] = '\x80';
    ASSERT_FALSE(is_valid_utf8(s)) << i;
  }
  EXPECT_TRUE(is_valid_utf8(std::string(1000, 'x')));
}

// Every code point encodes to valid UTF-8 except the surrogates; checked exhaustively.
TEST(BincodeUtf8, EveryCodePoint) {
  for (uint32_t cp = 0; cp <= 0x10ffff; ++cp) {
    std::string s;
    if (cp < 0x80) {
      s.push_back(static_cast<char>(cp));
    } else if (cp < 0x800) {
      s.push_back(static_cast<char>(0xc0 | (cp >> 6)));
      s.push_back(static_cast<char>(0x80 | (cp & 0x3f)));
    } else if (cp < 0x10000) {
      s.push_back(static_cast<char>(0xe0 | (cp >> 12)));
      s.push_back(static_cast<char>(0x80 | ((cp >> 6) & 0x3f)));
      s.push_back(static_cast<char>(0x80 | (cp & 0x3f)));
    } else {
      s.push_back(static_cast<char>(0xf0 | (cp >> 18)));
      s.push_back(static_cast<char>(0x80 | ((cp >> 12) & 0x3f)));
      s.push_back(static_cast<char>(0x80 | ((cp >> 6) & 0x3f)));
      s.push_back(static_cast<char>(0x80 | (cp & 0x3f)));
    }
    const bool surrogate = cp >= 0xd800 && cp <= 0xdfff;
    ASSERT_EQ(is_valid_utf8(s), !surrogate) << "U+" << std::hex << cp;
    // Every strict prefix of a multi-byte sequence is incomplete.
    for (size_t n = 1; n < s.size(); ++n)
      ASSERT_FALSE(is_valid_utf8(std::string_view(s).substr(0, n))) << "U+" << std::hex << cp;
  }
}

// Every two-byte string agrees with a reference rule written independently of the decoder.
TEST(BincodeUtf8, AllTwoByteStrings) {
  for (int a = 0; a < 256; ++a) {
    for (int b = 0; b < 256; ++b) {
      const char s[2] = {static_cast<char>(a), static_cast<char>(b)};
      bool want = false;
      if (a < 0x80) {
        want = b < 0x80;  // two ASCII characters
      } else if (a >= 0xc2 && a <= 0xdf) {
        want = b >= 0x80 && b <= 0xbf;  // one 2-byte character
      }
      ASSERT_EQ(is_valid_utf8(std::string_view(s, 2)), want) << a << " " << b;
    }
  }
}

}  // namespace
}  // namespace cairn::net::bincode
