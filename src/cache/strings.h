// String helpers with Redis's exact rules: integer and long-double parsing and formatting
// (util.c: string2ll, string2ld, ld2string) and glob matching (stringmatchlen). Pure functions,
// thread-safe.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

namespace cairn::cache {

// Strict int64 parse: optional '-', digits, no leading zeros (except "0"), no spaces or '+'.
std::optional<int64_t> parse_int64(std::string_view s);
std::string format_int64(int64_t v);

// Redis's string2ld: strtold over the whole string, no leading space, no NaN, no overflow.
std::optional<long double> parse_long_double(std::string_view s);
// Redis's ld2string in human mode: "%.17Lf" with trailing zeros (and a bare '.') removed.
std::string format_long_double(long double v);

// Glob-style match as Redis's KEYS/SCAN MATCH: *, ?, [abc], [^a], [a-z], \x.
bool glob_match(std::string_view pattern, std::string_view s);

}  // namespace cairn::cache
