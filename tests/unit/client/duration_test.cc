#include "client/duration.h"

#include <gtest/gtest.h>

namespace cairn::client {
namespace {

using namespace std::chrono_literals;

TEST(ParseDuration, UnitsAndPlainMilliseconds) {
  EXPECT_EQ(*parse_duration("250"), 250ms);
  EXPECT_EQ(*parse_duration("500ms"), 500ms);
  EXPECT_EQ(*parse_duration("10s"), 10s);
  EXPECT_EQ(*parse_duration("5m"), 5min);
  EXPECT_EQ(*parse_duration("1h"), 1h);
  EXPECT_EQ(*parse_duration("0"), 0ms);
}

TEST(ParseDuration, BadInputNamesTheText) {
  for (const char* bad : {"", "s", "10x", "-5s", "1.5s", "10 s", "99999999999999999999h"}) {
    auto r = parse_duration(bad);
    ASSERT_FALSE(r.ok()) << bad;
    EXPECT_EQ(r.error().kind(), Error::Kind::kInvalidArgument);
    EXPECT_NE(r.error().message().find(std::string("'") + bad + "'"), std::string::npos);
  }
  EXPECT_FALSE(parse_duration("9223372036854775807h").ok());
}

}  // namespace
}  // namespace cairn::client
