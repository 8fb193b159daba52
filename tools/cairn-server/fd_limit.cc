#include "fd_limit.h"

#include <fmt/format.h>
#include <sys/resource.h>

#include <algorithm>

namespace cairn::tools {

// Descriptors kept for everything but client connections: listeners, two lanes per peer, the
// log's segment, snapshot and state files, the event loops' own.
constexpr rlim_t kReserve = 64;

FdFit fit_connections_to_fd_limit(size_t requested) {
  FdFit fit{requested, {}};
  rlimit lim{};
  if (getrlimit(RLIMIT_NOFILE, &lim) != 0) return fit;
  const rlim_t needed = 2 * static_cast<rlim_t>(requested) + kReserve;
  if (lim.rlim_cur != RLIM_INFINITY && lim.rlim_cur < needed) {
    rlimit raised = lim;
    raised.rlim_cur = lim.rlim_max == RLIM_INFINITY ? needed : std::min(needed, lim.rlim_max);
    if (setrlimit(RLIMIT_NOFILE, &raised) == 0) lim = raised;
  }
  if (lim.rlim_cur == RLIM_INFINITY || lim.rlim_cur >= needed) return fit;
  const rlim_t usable = lim.rlim_cur > kReserve + 2 ? (lim.rlim_cur - kReserve) / 2 : 1;
  fit.max_connections = static_cast<size_t>(usable);
  fit.warning = fmt::format(
      "the open-file limit is {} (ulimit -n), too low for --max-connections {} on each front end: "
      "lowered to {}; raise the limit to allow more",
      lim.rlim_cur, requested, fit.max_connections);
  return fit;
}

}  // namespace cairn::tools
