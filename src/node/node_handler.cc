#include "node/node_handler.h"

#include <spdlog/spdlog.h>

#include "common/overloaded.h"
#include "net/raft_message.h"

namespace cairn::node {
namespace {

// Respond is copyable (std::function); the Responder is not, so it is shared.
Respond reply_with_id(net::Responder responder, uint64_t request_id) {
  auto shared = std::make_shared<net::Responder>(std::move(responder));
  return [shared, request_id](net::ClientResponse resp) {
    resp.request_id = request_id;
    shared->reply(net::Message{std::move(resp)});
  };
}

}  // namespace

bool NodeHandler::from_our_cluster(const net::Responder& responder, const net::Message& msg) {
  const uint64_t theirs = responder.connection_tag();
  const uint64_t ours = node_.cluster_id();
  if (theirs != 0 && theirs == ours) return true;
  const uint64_t n = refused_.fetch_add(1) + 1;
  const int64_t now = std::chrono::duration_cast<std::chrono::milliseconds>(
                          std::chrono::steady_clock::now().time_since_epoch())
                          .count();
  int64_t last = last_log_ms_.load();
  if (now - last >= 10'000 && last_log_ms_.compare_exchange_strong(last, now))
    spdlog::warn(
        "node {}: refused a {} message from a connection {} (this node's cluster is {:016x}); {} "
        "refused so far",
        node_.id(), net::message_kind_name(msg),
        theirs == 0 ? std::string("that did not say which cluster it is of")
                    : fmt::format("of cluster {:016x}", theirs),
        ours, n);
  return false;
}

size_t NodeHandler::max_message_in_parts(uint64_t connection_tag) const {
  return connection_tag != 0 && connection_tag == node_.cluster_id() ? node_.max_peer_message() : 0;
}

void NodeHandler::handle(net::Message msg, net::Responder responder) {
  switch (msg.index()) {  // node-to-node traffic: only from this cluster's members
    case net::message_index<net::RaftMessageWrapper>:
    case net::message_index<net::ForwardRequest>:
    case net::message_index<net::ForwardReply>:
    case net::message_index<net::SnapshotChunk>:
    case net::message_index<net::SnapshotAck>:
      if (!from_our_cluster(responder, msg)) return;
      break;
    default:
      break;
  }
  std::visit(
      Overloaded{[&](net::PeerHello& m) {
                   responder.set_connection_tag(m.cluster_id);
                   if (m.cluster_id != 0 && m.cluster_id == node_.cluster_id() && !m.addr.empty())
                     node_.learn_address(m.node_id, m.addr);
                 },
                 [&](net::RaftMessageWrapper& m) {
                   auto raft = net::to_raft_message(m);
                   if (!raft.ok()) {
                     spdlog::warn("node {}: dropping a Raft message: {}", node_.id(),
                                  raft.error().to_string());
                     return;
                   }
                   if (raft->msg_type() == eraftpb::MsgSnapshot) {
                     // A snapshot comes only in checked chunks (SnapshotReceiver), never as one
                     // message that nothing has checked.
                     spdlog::warn(
                         "node {}: dropping a snapshot from node {} sent as one Raft "
                         "message, not in chunks",
                         node_.id(), raft->from());
                     return;
                   }
                   node_.step(std::move(*raft));
                 },
                 [&](net::ClientRequest& m) {
                   node_.submit(std::move(m.command),
                                reply_with_id(std::move(responder), m.request_id));
                 },
                 [&](net::SessionRequest& m) {
                   const uint64_t id = m.request_id;
                   node_.submit_session(std::move(m), reply_with_id(std::move(responder), id));
                 },
                 [&](net::PingRequest&) {
                   const net::NodeId leader = node_.leader_id();
                   responder.reply(net::PongResponse{
                       node_.id(), node_.listen_addr(),
                       leader == 0 ? std::nullopt : std::optional<net::NodeId>(leader)});
                 },
                 [&](net::ForwardRequest& m) { node_.receive_forward(std::move(m)); },
                 [&](net::ForwardReply& m) { node_.receive_forward_reply(std::move(m.response)); },
                 [&](net::StatusRequest& m) {
                   auto shared = std::make_shared<net::Responder>(std::move(responder));
                   node_.status([shared, id = m.request_id](net::StatusResponse s) {
                     s.request_id = id;
                     shared->reply(net::Message{std::move(s)});
                   });
                 },
                 [&](net::AdminRequest& m) {
                   Respond respond = reply_with_id(std::move(responder), m.request_id);
                   node_.admin(std::move(m.command),
                               [respond](const Outcome& o) { respond(to_response(o)); });
                 },
                 [&](net::SnapshotChunk& m) { node_.receive_snapshot_chunk(m); },
                 [&](net::SnapshotAck& m) { node_.receive_snapshot_ack(std::move(m)); },
                 // Answers are not requests: a peer or client that sends one gets nothing back.
                 [&](auto&) {
                   spdlog::debug("node {}: ignoring a {} message", node_.id(),
                                 net::message_kind_name(msg));
                 }},
      msg);
}

}  // namespace cairn::node
