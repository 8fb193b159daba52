// The native protocol's commands in the cache engine's terms, and outcomes as native responses.
// Pure functions; thread-safe.
#pragma once

#include <optional>
#include <variant>

#include "cache/command.h"
#include "cache/engine.h"
#include "net/messages.h"
#include "node/outcome.h"

namespace cairn::node {

// A read the node serves from its own engine once it is allowed to (after a read barrier, or at
// once for a stale read).
struct ReadOp {
  enum class Kind : uint8_t { kGet, kExists, kTtl } kind = Kind::kGet;
  net::Bytes key;
  bool stale = false;  // serve from local state without confirming leadership
};

// Classifies a native command: a write to replicate through the log, or a read.
using Operation = std::variant<cache::Command, ReadOp>;
Operation to_operation(const net::CacheCommand& cmd);

// The native answer to an outcome (request_id left 0 for the caller to set). Integers become
// decimal text in `value`; an engine error becomes success=false with its text.
net::ClientResponse to_response(const Outcome& outcome);

// Serves a read against the engine (any thread).
cache::Reply serve_read(const cache::Engine& engine, const ReadOp& op);

// The answer a leader sends back for a forwarded request, and its reading at the origin:
// engine replies travel encoded (cache::encode_reply) so no distinction is lost on the way.
net::ClientResponse outcome_to_forward_reply(const Outcome& outcome, bool engine_command);
Outcome forward_reply_to_outcome(const net::ClientResponse& resp, bool engine_command);

}  // namespace cairn::node
