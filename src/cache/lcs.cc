// LCS (see lcs.h), step for step as Redis's lcsCommand so that ties resolve and ranges split the
// same way: on a mismatch the walk moves up when the cell above is strictly larger, else left.
#include "cache/lcs.h"

#include <algorithm>

namespace cairn::cache {

std::optional<LcsResult> lcs(std::string_view a, std::string_view b, bool walk,
                             uint64_t max_table_bytes) {
  const uint64_t alen = a.size(), blen = b.size();
  const uint64_t cells = (alen + 1) * (blen + 1);
  if (alen >= UINT32_MAX - 1 || blen >= UINT32_MAX - 1 || cells * 4 > max_table_bytes)
    return std::nullopt;
  const uint64_t row = blen + 1;
  std::vector<uint32_t> dp(cells, 0);
  const auto at = [&](uint64_t i, uint64_t j) -> uint32_t& { return dp[i * row + j]; };
  for (uint64_t i = 1; i <= alen; ++i)
    for (uint64_t j = 1; j <= blen; ++j)
      at(i, j) = a[i - 1] == b[j - 1] ? at(i - 1, j - 1) + 1 : std::max(at(i - 1, j), at(i, j - 1));

  LcsResult out;
  out.length = at(alen, blen);
  if (!walk) return out;
  out.text.assign(out.length, '\0');
  uint32_t left = out.length;
  const auto none = static_cast<uint32_t>(alen);  // "no range open", as Redis marks it
  LcsMatch range{none, 0, 0, 0};
  uint64_t i = alen, j = blen;
  while (i > 0 && j > 0) {
    bool emit = false;
    if (a[i - 1] == b[j - 1]) {
      out.text[--left] = a[i - 1];
      const auto ai = static_cast<uint32_t>(i - 1), bj = static_cast<uint32_t>(j - 1);
      if (range.a_start == none) {
        range = {ai, ai, bj, bj};
      } else if (range.a_start == ai + 1 && range.b_start == bj + 1) {
        range.a_start = ai;  // contiguous: the range grows backwards
        range.b_start = bj;
      } else {
        emit = true;
      }
      if (range.a_start == 0 || range.b_start == 0) emit = true;
      --i;
      --j;
    } else {
      if (at(i - 1, j) > at(i, j - 1)) {
        --i;
      } else {
        --j;
      }
      if (range.a_start != none) emit = true;
    }
    if (emit) {
      out.matches.push_back(range);
      range.a_start = none;
    }
  }
  return out;
}

}  // namespace cairn::cache
