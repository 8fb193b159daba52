// How cairn-cli prints a node's status: lines for people, or one JSON object for scripts.
#pragma once

#include <string>

#include "net/messages.h"

namespace cairn::cli {

std::string status_text(const net::StatusResponse& s);
// {"node_id":1,"role":"leader",...,"members":[{"id":1,"addr":"...","voter":true}]}
std::string status_json(const net::StatusResponse& s);
// One member a line: "ID ADDR voter|learner[ leader]".
std::string members_text(const net::StatusResponse& s);

}  // namespace cairn::cli
