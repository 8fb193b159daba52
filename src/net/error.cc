#include "net/error.h"

#include <asio/error.hpp>

namespace cairn::net {

NetworkError NetworkError::connection_failed(std::string addr, std::string reason) {
  return {Kind::kConnectionFailed, std::move(addr), std::move(reason), {}};
}
NetworkError NetworkError::connection_closed() {
  return {Kind::kConnectionClosed, {}, {}, {}};
}
NetworkError NetworkError::send_failed(std::string reason) {
  return {Kind::kSendFailed, {}, std::move(reason), {}};
}
NetworkError NetworkError::receive_failed(std::string reason) {
  return {Kind::kReceiveFailed, {}, std::move(reason), {}};
}
NetworkError NetworkError::serialization(std::string reason) {
  return {Kind::kSerialization, {}, std::move(reason), {}};
}
NetworkError NetworkError::deserialization(std::string reason) {
  return {Kind::kDeserialization, {}, std::move(reason), {}};
}
NetworkError NetworkError::io(std::error_code code, std::string context) {
  return {Kind::kIo, {}, std::move(context), code};
}

const char* to_string(NetworkError::Kind kind) {
  switch (kind) {
    case NetworkError::Kind::kConnectionFailed:
      return "ConnectionFailed";
    case NetworkError::Kind::kConnectionClosed:
      return "ConnectionClosed";
    case NetworkError::Kind::kSendFailed:
      return "SendFailed";
    case NetworkError::Kind::kReceiveFailed:
      return "ReceiveFailed";
    case NetworkError::Kind::kSerialization:
      return "Serialization";
    case NetworkError::Kind::kDeserialization:
      return "Deserialization";
    case NetworkError::Kind::kIo:
      return "Io";
  }
  return "Unknown";
}

std::string NetworkError::to_string() const {
  switch (kind_) {
    case Kind::kConnectionFailed: {
      std::string s = "connection to " + addr_ + " failed: " + detail_;
      if (detail_.find("refused") != std::string::npos) {
        s += " (is a cairn-server listening on " + addr_ + "?)";
      }
      return s;
    }
    case Kind::kConnectionClosed:
      return "connection closed by the peer";
    case Kind::kSendFailed:
      return "send failed: " + detail_;
    case Kind::kReceiveFailed:
      return "receive failed: " + detail_;
    case Kind::kSerialization:
      return "cannot encode message: " + detail_;
    case Kind::kDeserialization:
      return "malformed message: " + detail_;
    case Kind::kIo: {
      std::string s = "I/O error";
      if (!detail_.empty()) s += " (" + detail_ + ")";
      return s + ": " + code_.message();
    }
  }
  return "unknown network error";
}

}  // namespace cairn::net
