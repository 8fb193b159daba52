// The native protocol's commands in the cache engine's terms, and the engine's replies as native
// responses. Pure functions; thread-safe.
#pragma once

#include <optional>
#include <variant>

#include "cache/command.h"
#include "cache/engine.h"
#include "net/messages.h"

namespace cairn::node {

// A read the node serves from its own engine once it is allowed to (ReadIndex, or at once for a
// stale read).
struct ReadOp {
  enum class Kind : uint8_t { kGet, kExists, kTtl } kind = Kind::kGet;
  net::Bytes key;
  bool stale = false;  // serve from local state without confirming leadership
};

// Classifies a native command: a write to replicate through the log, or a read.
using Operation = std::variant<cache::Command, ReadOp>;
Operation to_operation(const net::CacheCommand& cmd);

// The answer to a write, from the engine's reply (request_id left 0 for the caller to set).
// Integers become decimal text in `value`; an engine error becomes success=false with its text.
net::ClientResponse to_response(const cache::Reply& reply);

// Serves a read against the engine (any thread).
net::ClientResponse serve_read(const cache::Engine& engine, const ReadOp& op);

// A failure response with `error` and an optional leader hint.
net::ClientResponse failure(std::string error, std::optional<net::NodeId> leader_hint = {});

}  // namespace cairn::node
