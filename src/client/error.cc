#include "client/error.h"

namespace cairn::client {

const char* to_string(Error::Kind kind) {
  switch (kind) {
    case Error::Kind::kInvalidArgument:
      return "invalid argument";
    case Error::Kind::kUnreachable:
      return "unreachable";
    case Error::Kind::kConnectionLost:
      return "connection lost";
    case Error::Kind::kTimeout:
      return "timeout";
    case Error::Kind::kOutcomeUnknown:
      return "outcome unknown";
    case Error::Kind::kUnavailable:
      return "unavailable";
    case Error::Kind::kServer:
      return "server error";
    case Error::Kind::kProtocol:
      return "protocol error";
    case Error::Kind::kClosed:
      return "closed";
  }
  return "unknown";
}

std::string Error::to_string() const {
  return std::string(client::to_string(kind_)) + ": " + message_;
}

}  // namespace cairn::client
