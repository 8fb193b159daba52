// The client library's error: what went wrong, whether the request may have been carried out,
// and a sentence a person can act on. A value type; safe to copy between threads.
#pragma once

#include <string>

#include "common/result.h"

namespace cairn::client {

class Error {
 public:
  enum class Kind {
    kInvalidArgument,  // the caller's input cannot be sent (bad address, frame too large)
    kUnreachable,      // no connection to the node; the request was never sent
    kConnectionLost,   // the connection broke after the request was sent: outcome unknown
    kTimeout,          // no answer within the request timeout: outcome unknown
    kOutcomeUnknown,   // the node said "timeout" or "dropped": a write may still be applied
    kUnavailable,      // no leader, busy or shutting down, still so after every retry
    kServer,           // the node refused the command itself (e.g. not an integer)
    kProtocol,         // the node's answer was not what the protocol allows
    kClosed,           // the client or connection was closed before an answer came
  };

  Error() = default;
  Error(Kind kind, std::string message) : kind_(kind), message_(std::move(message)) {}

  Kind kind() const { return kind_; }
  const std::string& message() const { return message_; }
  // "<kind>: <message>", e.g. "unreachable: could not connect to 127.0.0.1:9000: Connection
  // refused (is a cairn-server listening there?)".
  std::string to_string() const;

  // True when a write may or may not have been applied: retrying it could apply it twice.
  bool outcome_unknown() const {
    return kind_ == Kind::kConnectionLost || kind_ == Kind::kTimeout ||
           kind_ == Kind::kOutcomeUnknown;
  }

 private:
  Kind kind_ = Kind::kProtocol;
  std::string message_;
};

const char* to_string(Error::Kind kind);

template <typename T>
using Result = cairn::Result<T, Error>;
using Status = cairn::Status<Error>;

}  // namespace cairn::client
