// The handler cairn-server runs until the Raft node exists: answers Ping with Pong and tells
// clients plainly that cache commands are not served by this build yet. Thread-safe: immutable.
#pragma once

#include <string>

#include "net/handler.h"

namespace cairn::tools {

class PingHandler : public net::MessageHandler {
 public:
  PingHandler(net::NodeId id, std::string advertised_addr)
      : id_(id), addr_(std::move(advertised_addr)) {}
  std::optional<net::Message> handle(net::Message msg) override;

 private:
  const net::NodeId id_;
  const std::string addr_;
};

}  // namespace cairn::tools
