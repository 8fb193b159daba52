// Admission of a new node: asks a member of a running cluster (any member; followers forward to
// the leader) to add this node, over the native protocol, until it is added or told why not.
#pragma once

#include <chrono>
#include <string>

#include "common/result.h"
#include "net/messages.h"

namespace cairn::node {

// One attempt: sends AdminRequest{AddNode{id, self_addr}} to `member` and waits for the answer.
// On success, the members' addresses as the leader knows them ("1=host:port,2=..."), so the new
// node can answer the leader before its first snapshot brings the membership; on failure the
// answer's error text (or the connection's).
Result<std::string, std::string> request_admission(const std::string& member, net::NodeId id,
                                                   const std::string& self_addr,
                                                   std::chrono::milliseconds timeout);

}  // namespace cairn::node
