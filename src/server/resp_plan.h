// Runs a WritePlan against the node: one execute() per cache command, all issued at once (the
// leader proposes them in order, usually in one batch), and one combined answer when the last
// has been applied.
//
// Threading: run_plan() from any thread; `done` is called exactly once, on the node thread (or
// at once on the caller's thread when the node has stopped).
#pragma once

#include <functional>
#include <optional>
#include <string>

#include "node/node.h"
#include "server/resp_commands.h"

namespace cairn::server {

struct PlanResult {
  std::optional<std::string> cluster_error;  // the cluster could not carry it out (Outcome::error)
  cache::Reply reply;                        // else the answer, already combined per shape
};

void run_plan(node::Node& node, WritePlan plan, std::function<void(PlanResult)> done);

}  // namespace cairn::server
