// RequestParser: multibulk and inline requests, pipelining, every split point of a stream, the
// limits, every protocol error text as redis-server 7.0 sends it, and no allocation driven by an
// announced length.
#include "server/resp/parser.h"

#include <gtest/gtest.h>

#include <optional>
#include <random>
#include <string>
#include <vector>

#include "allocation_probe.h"

namespace {
// Bytes requested from operator new while `f` runs.
template <typename F>
size_t bytes_allocated_by(F&& f) {
  return cairn::testing::allocations_during(std::forward<F>(f)).bytes;
}
}  // namespace

namespace cairn::server::resp {
namespace {

using Args = std::vector<std::string>;

// What a connection sees after feeding a whole stream: the requests, and how it ended.
struct Outcome {
  std::vector<Args> requests;
  std::string error;     // empty unless the stream hit a protocol error
  size_t left_over = 0;  // bytes still buffered (an incomplete request)
  bool operator==(const Outcome&) const = default;
};

std::ostream& operator<<(std::ostream& os, const Outcome& o) {
  os << "{";
  for (const Args& a : o.requests) {
    os << "[";
    for (const std::string& s : a)
      os << "\"" << s << "\" ";
    os << "] ";
  }
  return os << "error=\"" << o.error << "\" left_over=" << o.left_over << "}";
}

// Drains every request the buffer holds, as a connection would after a read.
void drain(RequestParser& p, std::string& buf, Outcome& out) {
  while (out.error.empty()) {
    const ParseResult r = p.parse(buf);
    if (r.status == ParseStatus::kError) {
      out.error = p.error();
      return;
    }
    ASSERT_LE(r.consumed, buf.size());
    if (r.status == ParseStatus::kComplete) {
      Args args;
      for (std::string_view a : p.args())
        args.emplace_back(a);
      EXPECT_FALSE(args.empty()) << "a complete request has arguments";
      out.requests.push_back(std::move(args));
    }
    buf.erase(0, r.consumed);
    if (r.status == ParseStatus::kNeedMore) return;
  }
}

// Feeds `stream` in reads cut at `cuts` (sorted offsets), into a buffer that is reallocated
// between reads so that nothing may depend on the bytes staying in place.
Outcome feed(std::string_view stream, const std::vector<size_t>& cuts = {},
             ParserLimits limits = {}) {
  RequestParser p(limits);
  Outcome out;
  std::string buf;
  size_t at = 0;
  std::vector<size_t> ends = cuts;
  ends.push_back(stream.size());
  for (size_t end : ends) {
    std::string moved = buf;  // a fresh allocation: the old bytes move
    moved.append(stream.substr(at, end - at));
    buf.swap(moved);
    at = end;
    drain(p, buf, out);
    if (!out.error.empty()) return out;
  }
  out.left_over = buf.size();
  return out;
}

Outcome complete(std::vector<Args> requests) {
  return Outcome{std::move(requests), "", 0};
}
Outcome failed(std::vector<Args> requests, std::string error) {
  return Outcome{std::move(requests), std::move(error), 0};
}
Outcome partial(std::vector<Args> requests, size_t left_over) {
  return Outcome{std::move(requests), "", left_over};
}

std::string multibulk(const Args& args) {
  std::string s = "*" + std::to_string(args.size()) + "\r\n";
  for (const std::string& a : args)
    s += "$" + std::to_string(a.size()) + "\r\n" + a + "\r\n";
  return s;
}

struct Case {
  const char* name;
  std::string input;
  Outcome expected;
};

std::vector<Case> cases() {
  using namespace std::string_literals;
  return {
      // Multibulk.
      {"set", multibulk({"SET", "key", "value"}), complete({{"SET", "key", "value"}})},
      {"binary_bulk", "*2\r\n$4\r\nECHO\r\n$5\r\na\r\n\0b\r\n"s, complete({{"ECHO", "a\r\n\0b"s}})},
      {"empty_bulk", "*2\r\n$4\r\nECHO\r\n$0\r\n\r\n", complete({{"ECHO", ""}})},
      {"zero_and_negative_counts_are_skipped", "*0\r\n*-1\r\n*-5\r\n*1\r\n$4\r\nPING\r\n",
       complete({{"PING"}})},
      // Redis skips the two bytes after a bulk and the byte after a line's '\r' unchecked.
      {"bulk_terminator_unchecked", "*1\r\n$4\r\nPINGxx", complete({{"PING"}})},
      {"line_feed_unchecked", "*1\rX$4\rYPING\r\n", complete({{"PING"}})},
      {"negative_int_min_count", "*-9223372036854775808\r\n", complete({})},
      // Inline.
      {"inline_crlf", "PING\r\n", complete({{"PING"}})},
      {"inline_lf", "PING\n", complete({{"PING"}})},
      {"inline_words", "  set\tkey   value \r\n", complete({{"set", "key", "value"}})},
      {"inline_blank_lines_skipped", "\r\n\n   \r\n\t\nPING\n", complete({{"PING"}})},
      {"inline_cr_inside_line_separates", "a\rb\n", complete({{"a", "b"}})},
      {"inline_vt_ff_inside_word", "a\vb\fc d\n", complete({{"a\vb\fc", "d"}})},
      {"inline_vt_ff_between_words", "\va \f b\n", complete({{"a", "b"}})},
      {"inline_nul_is_a_byte", "ECHO a\0b\n"s, complete({{"ECHO", "a\0b"s}})},
      {"inline_double_quotes", "SET \"a b\" \"\"\n", complete({{"SET", "a b", ""}})},
      {"inline_single_quotes", "SET 'a b' ''\n", complete({{"SET", "a b", ""}})},
      {"inline_escapes", R"(E "\n\r\t\b\a\\\"\q")"s + "\n", complete({{"E", "\n\r\t\b\a\\\"q"}})},
      {"inline_hex", R"(E "\x41\x4a\x00\xfF")"s + "\n", complete({{"E", "AJ\0\xff"s}})},
      {"inline_hex_needs_two_digits", R"(E "\x4" "\x4g" "\xZZ")"s + "\n",
       complete({{"E", "x4", "x4g", "xZZ"}})},
      {"inline_single_quote_escapes", R"(E 'it\'s' 'a\nb' 'c\\d')"s + "\n",
       complete({{"E", "it's", R"(a\nb)", R"(c\\d)"}})},
      {"inline_quote_after_prefix", "E ab\"cd\" x'y z'\n", complete({{"E", "abcd", "xy z"}})},
      {"inline_quote_then_tab_or_cr", "E \"a\"\t'b'\r\n", complete({{"E", "a", "b"}})},
      {"inline_then_multibulk", "PING\r\n" + multibulk({"GET", "k"}) + "ECHO x\n",
       complete({{"PING"}, {"GET", "k"}, {"ECHO", "x"}})},
      // Incomplete.
      {"partial_multibulk", "*2\r\n$3\r\nGET\r\n$1\r\n", partial({}, 17)},
      {"partial_inline", "PING", partial({}, 4)},
      {"partial_after_complete", "PING\r\n*1\r\n", partial({{"PING"}}, 4)},
      {"blank_lines_then_partial", "\r\n\r\nPI", partial({}, 2)},
      {"cr_without_lf", "*1\r", partial({}, 3)},
      {"bulk_missing_terminator", "*1\r\n$4\r\nPING\r", partial({}, 13)},
      // Protocol errors, with the exact text redis-server 7.0 sends.
      {"count_not_a_number", "*x\r\n", failed({}, "ERR Protocol error: invalid multibulk length")},
      {"count_empty", "*\r\n", failed({}, "ERR Protocol error: invalid multibulk length")},
      {"count_leading_zero", "*01\r\n", failed({}, "ERR Protocol error: invalid multibulk length")},
      {"count_plus_sign", "*+1\r\n", failed({}, "ERR Protocol error: invalid multibulk length")},
      {"count_minus_zero", "*-0\r\n", failed({}, "ERR Protocol error: invalid multibulk length")},
      {"count_trailing_space", "*1 \r\n",
       failed({}, "ERR Protocol error: invalid multibulk length")},
      {"count_above_limit", "*1048577\r\n",
       failed({}, "ERR Protocol error: invalid multibulk length")},
      {"count_overflows", "*9223372036854775808\r\n",
       failed({}, "ERR Protocol error: invalid multibulk length")},
      {"bulk_len_not_a_number", "*1\r\n$x\r\n",
       failed({}, "ERR Protocol error: invalid bulk length")},
      {"bulk_len_negative", "*1\r\n$-1\r\n", failed({}, "ERR Protocol error: invalid bulk length")},
      {"bulk_len_empty", "*1\r\n$\r\n", failed({}, "ERR Protocol error: invalid bulk length")},
      {"bulk_len_leading_zero", "*1\r\n$04\r\nPING\r\n",
       failed({}, "ERR Protocol error: invalid bulk length")},
      {"bulk_len_zeros", "*1\r\n$00\r\n\r\n",
       failed({}, "ERR Protocol error: invalid bulk length")},
      {"bulk_len_19_digits", "*1\r\n$1000000000000000000\r\n",
       failed({}, "ERR Protocol error: invalid bulk length")},
      {"bulk_len_int64_max", "*1\r\n$9223372036854775807\r\n",
       failed({}, "ERR Protocol error: invalid bulk length")},
      {"bulk_len_overflow", "*1\r\n$9223372036854775808\r\n",
       failed({}, "ERR Protocol error: invalid bulk length")},
      {"count_18_digits", "*100000000000000000\r\n",
       failed({}, "ERR Protocol error: invalid multibulk length")},
      {"bulk_len_space", "*1\r\n$4 \r\nPING\r\n",
       failed({}, "ERR Protocol error: invalid bulk length")},
      {"bulk_len_above_limit", "*1\r\n$536870913\r\n",
       failed({}, "ERR Protocol error: invalid bulk length")},
      {"expected_dollar", "*1\r\nx\r\n", failed({}, "ERR Protocol error: expected '$', got 'x'")},
      {"expected_dollar_got_colon", "*2\r\n$1\r\na\r\n:1\r\n",
       failed({}, "ERR Protocol error: expected '$', got ':'")},
      {"expected_dollar_got_cr", "*1\r\n\r\n",
       failed({}, "ERR Protocol error: expected '$', got ' '")},
      {"expected_dollar_got_nul", "*1\r\n\0\r\n"s,
       failed({}, "ERR Protocol error: expected '$', got '")},
      {"unbalanced_double", "SET \"abc\n",
       failed({}, "ERR Protocol error: unbalanced quotes in request")},
      {"unbalanced_single", "SET 'abc\n",
       failed({}, "ERR Protocol error: unbalanced quotes in request")},
      {"closing_quote_needs_space", "SET \"a\"b\n",
       failed({}, "ERR Protocol error: unbalanced quotes in request")},
      {"closing_single_quote_needs_space", "SET 'a'b\n",
       failed({}, "ERR Protocol error: unbalanced quotes in request")},
      {"escaped_quote_at_end", "SET \"a\\\"\n",
       failed({}, "ERR Protocol error: unbalanced quotes in request")},
      {"backslash_at_end", "SET \"a\\\n",
       failed({}, "ERR Protocol error: unbalanced quotes in request")},
      {"requests_before_error_survive", "PING\r\n" + multibulk({"GET", "k"}) + "*1\r\n?\r\n",
       failed({{"PING"}, {"GET", "k"}}, "ERR Protocol error: expected '$', got '?'")},
      {"too_big_inline", std::string(64 * 1024 + 1, 'a'),
       failed({}, "ERR Protocol error: too big inline request")},
      {"too_big_mbulk_count", "*" + std::string(64 * 1024, '1'),
       failed({}, "ERR Protocol error: too big mbulk count string")},
      {"too_big_bulk_count", "*1\r\n$" + std::string(64 * 1024, '1'),
       failed({}, "ERR Protocol error: too big bulk count string")},
      // Just within the limits.
      {"inline_at_limit_waits", std::string(64 * 1024, 'a'), partial({}, 64 * 1024)},
      {"inline_at_limit_completes", std::string(64 * 1024, 'a') + "\n",
       complete({{std::string(64 * 1024, 'a')}})},
      {"mbulk_count_at_limit_waits", "*" + std::string(64 * 1024 - 1, '1'), partial({}, 64 * 1024)},
      {"bulk_at_limit_waits", "*1\r\n$536870912\r\n", partial({}, 16)},
  };
}

TEST(RequestParser, TableInOneRead) {
  for (const Case& c : cases()) {
    EXPECT_EQ(feed(c.input), c.expected) << c.name;
  }
}

// Every way of cutting each input in two, and one byte at a time, gives the same outcome.
TEST(RequestParser, TableAtEverySplitPoint) {
  for (const Case& c : cases()) {
    if (c.input.size() > 4096) continue;  // the long ones are covered byte by byte below
    for (size_t cut = 0; cut <= c.input.size(); ++cut) {
      EXPECT_EQ(feed(c.input, {cut}), c.expected) << c.name << " cut at " << cut;
    }
    std::vector<size_t> bytes;
    for (size_t i = 1; i < c.input.size(); ++i)
      bytes.push_back(i);
    EXPECT_EQ(feed(c.input, bytes), c.expected) << c.name << " byte by byte";
  }
}

TEST(RequestParser, LongInputsByteByByte) {
  for (const Case& c : cases()) {
    if (c.input.size() <= 4096) continue;
    std::vector<size_t> cuts;
    for (size_t i = 1; i < c.input.size(); i += 97)
      cuts.push_back(i);
    EXPECT_EQ(feed(c.input, cuts), c.expected) << c.name;
  }
}

// A pipelined buffer of many kinds of request, cut at every point into two and three reads.
TEST(RequestParser, PipelineAtEverySplitPoint) {
  std::string stream;
  std::vector<Args> expected;
  const std::vector<Args> requests = {{"SET", "k1", "v\r\n1"},
                                      {"GET", "k1"},
                                      {"MGET", "a", "b", ""},
                                      {"DEL", std::string("\0x", 2)}};
  for (const Args& r : requests) {
    stream += multibulk(r);
    expected.push_back(r);
  }
  stream += "\r\nPING\r\n*0\r\nECHO \"a b\" 'c'\n";
  expected.push_back({"PING"});
  expected.push_back({"ECHO", "a b", "c"});
  stream += multibulk({"INCR", "n"});
  expected.push_back({"INCR", "n"});
  ASSERT_EQ(feed(stream), complete(expected));
  for (size_t i = 0; i <= stream.size(); ++i) {
    EXPECT_EQ(feed(stream, {i}), complete(expected)) << "cut at " << i;
    for (size_t j = i; j <= stream.size(); j += 7) {
      EXPECT_EQ(feed(stream, {i, j}), complete(expected)) << "cuts at " << i << ", " << j;
    }
  }
}

TEST(RequestParser, RandomReadSizesOverManyRequests) {
  std::mt19937 rng(7);
  std::string stream;
  std::vector<Args> expected;
  for (int i = 0; i < 500; ++i) {
    Args a{"SET", "key:" + std::to_string(i), std::string(rng() % 300, static_cast<char>(i))};
    stream += multibulk(a);
    expected.push_back(std::move(a));
  }
  for (int round = 0; round < 20; ++round) {
    std::vector<size_t> cuts;
    for (size_t at = 0; (at += 1 + rng() % 2000) < stream.size();)
      cuts.push_back(at);
    EXPECT_EQ(feed(stream, cuts), complete(expected)) << "round " << round;
  }
}

TEST(RequestParser, ConfigurableLimits) {
  ParserLimits small;
  small.max_bulk_len = 10;
  small.max_multibulk_len = 3;
  small.max_inline_len = 8;
  EXPECT_EQ(feed("*1\r\n$10\r\n0123456789\r\n", {}, small), complete({{"0123456789"}}));
  EXPECT_EQ(feed("*1\r\n$11\r\n", {}, small),
            failed({}, "ERR Protocol error: invalid bulk length"));
  EXPECT_EQ(feed(multibulk({"a", "b", "c"}), {}, small), complete({{"a", "b", "c"}}));
  EXPECT_EQ(feed("*4\r\n", {}, small), failed({}, "ERR Protocol error: invalid multibulk length"));
  EXPECT_EQ(feed("12345678\n", {}, small), complete({{"12345678"}}));
  EXPECT_EQ(feed("123456789", {}, small), failed({}, "ERR Protocol error: too big inline request"));
  EXPECT_EQ(feed("*12345678", {}, small),
            failed({}, "ERR Protocol error: too big mbulk count string"));
  EXPECT_EQ(feed("*1\r\n$12345678", {}, small),
            failed({}, "ERR Protocol error: too big bulk count string"));
  // The same with the line end present: a `$` line of 8 characters fits, one of 9 does not.
  EXPECT_EQ(feed("*1\r\n$1234567\r\n", {}, small),
            failed({}, "ERR Protocol error: invalid bulk length"));
  EXPECT_EQ(feed("*1\r\n$12345678\r\n", {}, small),
            failed({}, "ERR Protocol error: too big bulk count string"));
  EXPECT_EQ(feed("*1234567\r\n", {}, small),
            failed({}, "ERR Protocol error: invalid multibulk length"));
  EXPECT_EQ(feed("*12345678\r\n", {}, small),
            failed({}, "ERR Protocol error: too big mbulk count string"));
  // A line longer than the limit is refused even when its end arrived in the same read.
  EXPECT_EQ(feed("123456789\n", {}, small),
            failed({}, "ERR Protocol error: too big inline request"));
}

TEST(RequestParser, ErrorIsStickyUntilReset) {
  RequestParser p;
  EXPECT_EQ(p.parse("*x\r\n").status, ParseStatus::kError);
  EXPECT_EQ(p.parse("PING\r\n").status, ParseStatus::kError);
  EXPECT_EQ(p.error(), "ERR Protocol error: invalid multibulk length");
  p.reset();
  EXPECT_TRUE(p.error().empty());
  const ParseResult r = p.parse("PING\r\n");
  EXPECT_EQ(r.status, ParseStatus::kComplete);
  EXPECT_EQ(r.consumed, 6u);
}

TEST(RequestParser, ConsumedCountsSkippedAndParsedBytes) {
  RequestParser p;
  ParseResult r = p.parse("\r\n*0\r\nPING\r\nEC");
  EXPECT_EQ(r.status, ParseStatus::kComplete);
  EXPECT_EQ(r.consumed, 12u);
  EXPECT_TRUE(p.last_was_inline());
  r = p.parse("\n\nEC");
  EXPECT_EQ(r.status, ParseStatus::kNeedMore);
  EXPECT_EQ(r.consumed, 2u);  // the blank lines, not the "EC" that follows
  r = p.parse("ECHO hi\r\n");
  ASSERT_EQ(r.status, ParseStatus::kComplete);
  ASSERT_EQ(p.args().size(), 2u);
  EXPECT_EQ(p.args()[1], "hi");
  r = p.parse("*1\r\n$4\r\nPING\r\n");
  EXPECT_EQ(r.status, ParseStatus::kComplete);
  EXPECT_FALSE(p.last_was_inline());
}

// Arguments of an unquoted inline request and of a multibulk request point into the buffer.
TEST(RequestParser, ArgumentsPointIntoTheBuffer) {
  RequestParser p;
  const std::string buf = "*2\r\n$3\r\nGET\r\n$1\r\nk\r\nSET a b\r\n";
  ASSERT_EQ(p.parse(buf).status, ParseStatus::kComplete);
  EXPECT_EQ(p.args()[0].data(), buf.data() + 8);
  EXPECT_EQ(p.args()[1].data(), buf.data() + 17);
  ASSERT_EQ(p.parse(std::string_view(buf).substr(20)).status, ParseStatus::kComplete);
  EXPECT_EQ(p.args()[2].data(), buf.data() + 26);
}

TEST(RequestParser, PendingBulkBytes) {
  RequestParser p;
  EXPECT_EQ(p.pending_bulk_bytes(), 0u);
  ASSERT_EQ(p.parse("*1\r\n$10\r\nabc").status, ParseStatus::kNeedMore);
  EXPECT_EQ(p.pending_bulk_bytes(), 9u);  // 10 + CRLF - 3 received
  ASSERT_EQ(p.parse("*1\r\n$10\r\nabcdefghij\r\n").status, ParseStatus::kComplete);
  EXPECT_EQ(p.pending_bulk_bytes(), 0u);
}

// A client announcing a gigabyte, or a million arguments, costs nothing until it sends them.
// Caught mutation: resp-args-reserve-bounded
TEST(RequestParser, AnnouncedLengthsAllocateNothing) {
  ParserLimits big;
  big.max_bulk_len = 4ull * 1024 * 1024 * 1024;
  RequestParser p(big);
  const std::string huge_bulk_a = "*1\r\n$1000000000\r\nabc";
  const std::string huge_bulk_b = "*1\r\n$1000000000\r\nabcdef";
  const std::string many_args = "*1048576\r\n$1\r\na\r\n";
  size_t bytes = bytes_allocated_by([&] {
    EXPECT_EQ(p.parse(huge_bulk_a).status, ParseStatus::kNeedMore);
    EXPECT_EQ(p.parse(huge_bulk_b).status, ParseStatus::kNeedMore);
  });
  EXPECT_EQ(p.pending_bulk_bytes(), 1000000000u - 4);
  EXPECT_LT(bytes, 4096u);
  p.reset();
  // The slices for a million arguments would be 24 MiB; room for 1024 is 24 KiB.
  bytes = bytes_allocated_by(
      [&] { EXPECT_EQ(p.parse(many_args).status, ParseStatus::kNeedMore); });
  EXPECT_EQ(p.pending_bulk_bytes(), 0u);
  EXPECT_LT(bytes, 64u * 1024);
}

// A buffer shorter than the one seen before (a caller that dropped bytes) restarts the request
// rather than reading state that no longer matches.
TEST(RequestParser, ShorterBufferRestartsTheRequest) {
  RequestParser p;
  ASSERT_EQ(p.parse("*2\r\n$3\r\nGET\r\n$1").status, ParseStatus::kNeedMore);
  ASSERT_EQ(p.parse("*1\r\n$4\r\nPING\r\n").status, ParseStatus::kComplete);
  ASSERT_EQ(p.args().size(), 1u);
  EXPECT_EQ(p.args()[0], "PING");
  ASSERT_EQ(p.parse("*1\r\n$4\r\nPI").status, ParseStatus::kNeedMore);
  EXPECT_EQ(p.parse("").status, ParseStatus::kNeedMore);
  ASSERT_EQ(p.parse("ECHO x\n").status, ParseStatus::kComplete);  // now an inline request
  ASSERT_EQ(p.args().size(), 2u);
  EXPECT_EQ(p.args()[1], "x");
}

TEST(ParseRedisInt, AcceptsWhatString2llAccepts) {
  const std::vector<std::pair<std::string, std::optional<int64_t>>> cases = {
      {"0", 0},
      {"1", 1},
      {"-1", -1},
      {"9223372036854775807", INT64_MAX},
      {"-9223372036854775808", INT64_MIN},
      {"9223372036854775808", std::nullopt},
      {"-9223372036854775809", std::nullopt},
      {"18446744073709551616", std::nullopt},
      {"00", std::nullopt},
      {"01", std::nullopt},
      {"-0", std::nullopt},
      {"+1", std::nullopt},
      {"-", std::nullopt},
      {"", std::nullopt},
      {" 1", std::nullopt},
      {"1 ", std::nullopt},
      {"1a", std::nullopt},
      {"000000000000000000001", std::nullopt},
  };
  for (const auto& [text, want] : cases) {
    int64_t v = 42;
    const bool ok = parse_redis_int(text, v);
    EXPECT_EQ(ok, want.has_value()) << text;
    if (ok && want) {
      EXPECT_EQ(v, *want) << text;
    }
  }
}

}  // namespace
}  // namespace cairn::server::resp
