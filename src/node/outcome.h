// Outcome: how a request to the node ended, whatever front end sent it. Either the engine applied
// (or read) it and `reply` holds the engine's answer - which may itself be a command error such
// as "value is not an integer" - or the cluster could not carry it out and `error` says why in the
// words of net/client_errors.h, with the leader's id when it is known.
#pragma once

#include <functional>
#include <optional>
#include <string>

#include "cache/command.h"
#include "net/messages.h"

namespace cairn::node {

struct Outcome {
  std::optional<cache::Reply> reply;
  std::string error;
  std::optional<net::NodeId> leader_hint;

  static Outcome of(cache::Reply r) { return Outcome{std::move(r), {}, std::nullopt}; }
  static Outcome fail(std::string why, std::optional<net::NodeId> hint = std::nullopt) {
    return Outcome{std::nullopt, std::move(why), hint};
  }
  bool ok() const { return reply.has_value(); }
};

// Called exactly once with the outcome.
using Done = std::function<void(Outcome)>;

}  // namespace cairn::node
