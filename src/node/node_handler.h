// NodeHandler: the native protocol's entry into a Node. NetworkServer calls it on its I/O threads
// for every message, from clients and peers alike; it hands each to the node and answers through
// the Responder when the node answers.
#pragma once

#include <memory>

#include "net/handler.h"
#include "node/node.h"

namespace cairn::node {

class NodeHandler final : public net::AsyncMessageHandler {
 public:
  explicit NodeHandler(Node& node) : node_(node) {}
  void handle(net::Message msg, net::Responder responder) override;

 private:
  Node& node_;
};

}  // namespace cairn::node
