// NetworkError: the seed's seven failure kinds, each with a message a person can act on.
// A value type; safe to copy between threads.
#pragma once

#include <string>
#include <system_error>

#include "common/result.h"

namespace cairn::net {

class NetworkError {
 public:
  enum class Kind {
    kConnectionFailed,  // could not connect to `addr`; `detail` says why
    kConnectionClosed,  // the peer closed the connection
    kSendFailed,        // writing to an established connection failed
    kReceiveFailed,     // reading from an established connection failed
    kSerialization,     // a message could not be encoded
    kDeserialization,   // bytes received are not a valid message
    kIo,                // any other I/O failure, with its error code
  };

  static NetworkError connection_failed(std::string addr, std::string reason);
  static NetworkError connection_closed();
  static NetworkError send_failed(std::string reason);
  static NetworkError receive_failed(std::string reason);
  static NetworkError serialization(std::string reason);
  static NetworkError deserialization(std::string reason);
  static NetworkError io(std::error_code code, std::string context = {});

  NetworkError() = default;
  Kind kind() const { return kind_; }
  const std::string& addr() const { return addr_; }  // only for kConnectionFailed
  const std::string& detail() const { return detail_; }
  std::error_code code() const { return code_; }  // only for kIo

  // Full sentence for logs and users, e.g. "connection to 127.0.0.1:9000 failed: Connection
  // refused (is a cairn-server listening there?)".
  std::string to_string() const;

 private:
  NetworkError(Kind kind, std::string addr, std::string detail, std::error_code code)
      : kind_(kind), addr_(std::move(addr)), detail_(std::move(detail)), code_(code) {}

  Kind kind_ = Kind::kIo;
  std::string addr_;
  std::string detail_;
  std::error_code code_;
};

const char* to_string(NetworkError::Kind kind);

template <typename T>
using NetResult = Result<T, NetworkError>;
using NetStatus = Status<NetworkError>;

}  // namespace cairn::net
