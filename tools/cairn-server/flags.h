// cairn-server's command line and config file: every option, its default, and the checks that
// turn a bad value into a message naming the option (the caller exits with code 2).
#pragma once

#include <cstdint>
#include <string>
#include <variant>

#include "node/node_config.h"

namespace cairn::tools {

struct ServerFlags {
  node::NodeConfig node;
  std::string resp = "127.0.0.1:6380";
  unsigned threads = 1;       // native protocol I/O threads
  unsigned resp_threads = 0;  // Redis protocol I/O threads; 0: on the node thread
  size_t max_connections = 10'000;
  std::string log_level = "info";
  std::chrono::milliseconds shutdown_grace{10'000};
};

// A parse outcome: the flags, or an exit code with what was already printed (help, version, or
// an error message on stderr).
struct ExitNow {
  int code;
};
std::variant<ServerFlags, ExitNow> parse_flags(int argc, char** argv);

// "1048576", "512kb", "24mb", "1gb" (case-insensitive; k/m/g and kb/mb/gb are powers of 1024).
std::optional<uint64_t> parse_bytes(std::string_view text);
// "1=127.0.0.1:9001,2=127.0.0.1:9002": the initial members. Error text on failure.
Result<std::map<net::NodeId, std::string>, std::string> parse_peers(std::string_view text);

}  // namespace cairn::tools
