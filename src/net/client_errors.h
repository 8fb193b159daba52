// The error texts a node puts in ClientResponse.error when it could not carry out a request for a
// reason of the cluster's, not of the command's. Clients compare the prefix before any ':' to
// decide what to do; the rest of the text is detail for people.
//
// Two kinds matter to a client:
//  * never executed (safe to retry anywhere): kNotLeader, kNoLeader, kShuttingDown, kBusy,
//    kNoSpace, kMaxClients;
//  * outcome unknown (a write may or may not have been applied): kTimeout, kDropped.
#pragma once

#include <string_view>

namespace cairn::net::errors {

// This node cannot serve the request and forwarding is off or exhausted; retry on leader_hint.
inline constexpr std::string_view kNotLeader = "not leader";
// No leader is known (an election is under way); retry after a short pause.
inline constexpr std::string_view kNoLeader = "no leader";
// The node is shutting down; retry on another node.
inline constexpr std::string_view kShuttingDown = "shutting down";
// Too many requests are waiting for the log; retry after a short pause.
inline constexpr std::string_view kBusy = "busy";
// No answer within the node's request timeout; a write may still be applied later.
inline constexpr std::string_view kTimeout = "timeout";
// Leadership changed before the entry committed; a write may or may not have been applied.
inline constexpr std::string_view kDropped = "dropped";
// The node's disk has no room for its log (docs/storage.md, "Out of space"); the write was refused
// before it reached the log. Writes resume once space is freed.
inline constexpr std::string_view kNoSpace = "no space";
// The key or value exceeds a configured limit; never retried.
inline constexpr std::string_view kTooLarge = "too large";
// Sent with request_id 0 on a connection the node refuses because it already has its maximum of
// connections open, just before it closes it; nothing sent on it was read. Retry later, or on
// another node.
inline constexpr std::string_view kMaxClients = "max number of clients reached";

// True when `error` starts with `kind` followed by the end of the text or ':'.
constexpr bool is(std::string_view error, std::string_view kind) {
  return error.substr(0, kind.size()) == kind &&
         (error.size() == kind.size() || error[kind.size()] == ':');
}

// A client session's write refused by the cluster's session table (docs/protocol.md, "Client
// sessions"): the session or the write's first answer is no longer known, and this attempt was
// not applied. The text starts with this word and a space, not a ':'.
inline constexpr std::string_view kSessionRefused = "SESSION ";
constexpr bool session_refused(std::string_view error) {
  return error.substr(0, kSessionRefused.size()) == kSessionRefused;
}

// The request was certainly not carried out, so it may be sent again.
constexpr bool never_executed(std::string_view error) {
  return is(error, kNotLeader) || is(error, kNoLeader) || is(error, kShuttingDown) ||
         is(error, kBusy) || is(error, kNoSpace) || is(error, kMaxClients);
}

}  // namespace cairn::net::errors
