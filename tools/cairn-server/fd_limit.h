// Fitting --max-connections to the process's open-file limit, as Redis fits maxclients: with more
// connections allowed than descriptors available, accept fails with "too many open files" and
// clients time out instead of hearing that the server is full.
#pragma once

#include <cstddef>
#include <string>

namespace cairn::tools {

struct FdFit {
  size_t max_connections = 0;  // per front end (native and Redis each)
  std::string warning;         // empty when nothing had to change
};

// Raises the soft RLIMIT_NOFILE toward what `requested` connections on each of the two front ends
// need (plus a reserve for peers, files and listeners), up to the hard limit; if that is still
// short, lowers the connections to what fits.
FdFit fit_connections_to_fd_limit(size_t requested);

}  // namespace cairn::tools
