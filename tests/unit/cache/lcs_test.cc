// LCS (lcs.h): Redis's documented example, the ranges its walk reports, and the table limit.
#include "cache/lcs.h"

#include <gtest/gtest.h>

namespace cairn::cache {
namespace {

TEST(Lcs, FindsTheSubsequenceAndItsRangesFromTheEnd) {
  auto r = lcs("ohmytext", "mynewtext", true, 1 << 20);
  ASSERT_TRUE(r.has_value());
  EXPECT_EQ(r->length, 6u);
  EXPECT_EQ(r->text, "mytext");
  const std::vector<LcsMatch> want = {{4, 7, 5, 8}, {2, 3, 0, 1}};
  EXPECT_EQ(r->matches, want);
  EXPECT_EQ(r->matches[0].length(), 4u);
}

TEST(Lcs, LengthOnlyAndEmptyStrings) {
  auto r = lcs("ohmytext", "mynewtext", false, 1 << 20);
  ASSERT_TRUE(r.has_value());
  EXPECT_EQ(r->length, 6u);
  EXPECT_TRUE(r->text.empty());
  EXPECT_TRUE(r->matches.empty());
  r = lcs("", "abc", true, 1 << 20);
  ASSERT_TRUE(r.has_value());
  EXPECT_EQ(r->length, 0u);
  EXPECT_TRUE(r->matches.empty());
}

// The table takes (|a|+1)*(|b|+1) cells of 4 bytes; past the limit there is no answer.
TEST(Lcs, RefusesATableOverTheLimit) {
  const std::string a(99, 'a'), b(99, 'a');
  EXPECT_TRUE(lcs(a, b, true, 100 * 100 * 4).has_value());
  EXPECT_FALSE(lcs(a, b, true, 100 * 100 * 4 - 1).has_value());
}

}  // namespace
}  // namespace cairn::cache
