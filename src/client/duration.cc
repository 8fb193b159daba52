#include "client/duration.h"

#include <charconv>
#include <cstdint>
#include <limits>
#include <string>

namespace cairn::client {

Result<std::chrono::milliseconds> parse_duration(std::string_view text) {
  auto bad = [&](const char* why) {
    return Err(Error(Error::Kind::kInvalidArgument,
                     "invalid duration '" + std::string(text) + "': " + why +
                         " (expected e.g. 500ms, 10s, 5m, 1h or a number of milliseconds)"));
  };
  uint64_t n = 0;
  auto [end, ec] = std::from_chars(text.data(), text.data() + text.size(), n);
  if (ec == std::errc::result_out_of_range) return bad("too large");
  if (ec != std::errc() || end == text.data()) return bad("no number");
  std::string_view unit(end, static_cast<size_t>(text.data() + text.size() - end));
  uint64_t scale = 0;
  if (unit.empty() || unit == "ms") {
    scale = 1;
  } else if (unit == "s") {
    scale = 1000;
  } else if (unit == "m") {
    scale = 60'000;
  } else if (unit == "h") {
    scale = 3'600'000;
  } else {
    return bad("unknown unit");
  }
  constexpr auto kMax = static_cast<uint64_t>(std::numeric_limits<int64_t>::max());
  if (n > kMax / scale) return bad("too large");
  return std::chrono::milliseconds(static_cast<int64_t>(n * scale));
}

}  // namespace cairn::client
