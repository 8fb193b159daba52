// Durations as people type them on a command line: "500ms", "10s", "5m", "1h", or a plain
// number of milliseconds.
#pragma once

#include <chrono>
#include <string_view>

#include "client/error.h"

namespace cairn::client {

// The error (kInvalidArgument) names the text and the accepted forms.
Result<std::chrono::milliseconds> parse_duration(std::string_view text);

}  // namespace cairn::client
