// Redis's parsing and formatting rules (util.c) and glob matching, as the engine applies them.
#include "cache/strings.h"

#include <gtest/gtest.h>

namespace cairn::cache {
namespace {

TEST(ParseInt64, AcceptsRedisIntegers) {
  EXPECT_EQ(parse_int64("0"), 0);
  EXPECT_EQ(parse_int64("-1"), -1);
  EXPECT_EQ(parse_int64("9223372036854775807"), INT64_MAX);
  EXPECT_EQ(parse_int64("-9223372036854775808"), INT64_MIN);
}

TEST(ParseInt64, RejectsWhatRedisRejects) {
  for (const char* s : {"", "-", "+1", " 1", "1 ", "01", "-0", "1.0", "9223372036854775808",
                        "-9223372036854775809", "abc", "123456789012345678901"}) {
    EXPECT_FALSE(parse_int64(s).has_value()) << s;
  }
}

TEST(LongDouble, ParsesAndFormatsLikeIncrByFloat) {
  EXPECT_EQ(format_long_double(*parse_long_double("10.5")), "10.5");
  EXPECT_EQ(format_long_double(*parse_long_double("5.0e3")), "5000");
  EXPECT_EQ(format_long_double(*parse_long_double("3")), "3");
  EXPECT_EQ(format_long_double(*parse_long_double("-0")), "0");
  EXPECT_EQ(format_long_double(*parse_long_double("10.5") + *parse_long_double("0.1")), "10.6");
  EXPECT_FALSE(parse_long_double(" 1").has_value());
  EXPECT_FALSE(parse_long_double("1x").has_value());
  EXPECT_FALSE(parse_long_double("nan").has_value());
  EXPECT_FALSE(parse_long_double("").has_value());
  EXPECT_FALSE(parse_long_double(std::string("1\0", 2)).has_value());
}

TEST(GlobMatch, FollowsRedisStringmatch) {
  EXPECT_TRUE(glob_match("*", "anything"));
  EXPECT_TRUE(glob_match("h?llo", "hello"));
  EXPECT_TRUE(glob_match("h*llo", "heeeello"));
  EXPECT_TRUE(glob_match("h[ae]llo", "hallo"));
  EXPECT_FALSE(glob_match("h[ae]llo", "hillo"));
  EXPECT_TRUE(glob_match("h[^e]llo", "hallo"));
  EXPECT_FALSE(glob_match("h[^e]llo", "hello"));
  EXPECT_TRUE(glob_match("h[a-b]llo", "hbllo"));
  EXPECT_TRUE(glob_match("h\\*llo", "h*llo"));
  EXPECT_FALSE(glob_match("h\\*llo", "hello"));
  EXPECT_TRUE(glob_match("user:*:name", "user:42:name"));
  EXPECT_FALSE(glob_match("user:*:name", "user:42:age"));
  EXPECT_TRUE(glob_match("a*", "a"));
}

}  // namespace
}  // namespace cairn::cache
