// NodeHandler: the native protocol's entry into a Node. NetworkServer calls it on its I/O threads
// for every message, from clients and peers alike; it hands each to the node and answers through
// the Responder when the node answers.
//
// Peers: a node's connections to its peers open with a PeerHello naming its cluster, which the
// handler keeps with the connection. Raft, forwarding and snapshot messages are taken only on a
// connection whose hello named this node's cluster; any other is dropped and counted (a node of
// another cluster, or anything else that speaks the protocol, cannot step this node's Raft core).
#pragma once

#include <atomic>
#include <memory>

#include "net/handler.h"
#include "node/node.h"

namespace cairn::node {

class NodeHandler final : public net::AsyncMessageHandler {
 public:
  explicit NodeHandler(Node& node) : node_(node) {}
  void handle(net::Message msg, net::Responder responder) override;
  // Messages in parts are taken only from this cluster's members.
  size_t max_message_in_parts(uint64_t connection_tag) const override;

  // Node-to-node messages dropped because their connection is not of this cluster.
  uint64_t refused() const { return refused_.load(); }

 private:
  // True when `responder`'s connection said hello as a member of this node's cluster; otherwise
  // counts the message and logs (at most one line per 10 s).
  bool from_our_cluster(const net::Responder& responder, const net::Message& msg);

  Node& node_;
  std::atomic<uint64_t> refused_{0};
  std::atomic<int64_t> last_log_ms_{0};
};

}  // namespace cairn::node
