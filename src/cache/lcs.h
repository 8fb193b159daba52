// LCS: the longest common subsequence of two string values, as Redis 7.0's lcsCommand computes it
// (the dynamic-programming table, then one walk back from its end that also yields the matching
// ranges, last first). Pure functions, thread-safe; the RESP layer serves the command.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace cairn::cache {

// A run of bytes common to both strings: [a_start, a_end] in the first, [b_start, b_end] in the
// second, inclusive.
struct LcsMatch {
  uint32_t a_start = 0, a_end = 0, b_start = 0, b_end = 0;
  uint32_t length() const { return a_end - a_start + 1; }
  bool operator==(const LcsMatch&) const = default;
};

struct LcsResult {
  uint32_t length = 0;
  std::string text;               // the subsequence itself (when asked for)
  std::vector<LcsMatch> matches;  // from the end of the strings backwards (when asked for)
};

// The table needs (|a|+1)*(|b|+1) 4-byte cells; Redis refuses more than `max_table_bytes`
// (proto-max-bulk-len), and so does this: nullopt then. `walk`: build text and matches, not only
// the length.
std::optional<LcsResult> lcs(std::string_view a, std::string_view b, bool walk,
                             uint64_t max_table_bytes);

}  // namespace cairn::cache
