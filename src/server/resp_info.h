// INFO, CONFIG GET and WAIT: the server's state as Redis clients and tools ask for it, with
// cairn's Raft state in INFO's replication section.
//
// Threading: pure functions; callers pass a status snapshot taken on the node thread.
#pragma once

#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "net/messages.h"
#include "server/resp_context.h"

namespace cairn::server {

// The Redis version cairn answers as (HELLO, INFO): the protocol and command set it follows.
inline constexpr std::string_view kRedisVersion = "7.0.15";

// INFO's text for the given section names (none: the default sections; "all"/"everything": all).
std::string build_info(const RespContext& ctx, const net::StatusResponse& status,
                       const std::vector<std::string>& sections);

// CONFIG GET's parameters and their values, in Redis's names.
std::vector<std::pair<std::string, std::string>> config_params(const RespContext& ctx);

// Glob match ignoring case, as CONFIG GET matches parameter names.
bool glob_match_nocase(std::string_view pattern, std::string_view name);

// WAIT's answer: an acknowledged write is committed, so it is on a majority of voters; other
// than this node, that is at least floor(voters / 2) of them (0 for a single node).
int64_t replicas_holding_acknowledged_writes(const net::StatusResponse& status);

}  // namespace cairn::server
