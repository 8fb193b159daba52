// How NetworkServer hands decoded messages to the rest of the node.
//
// Two forms:
//  * MessageHandler: the seed's synchronous form. handle() runs on an I/O thread and its answer
//    (if any) is written back at once. It must be quick and must not block.
//  * AsyncMessageHandler: handle() receives a Responder and may answer later from any thread -
//    e.g. when the request's Raft entry commits - without holding an I/O thread meanwhile.
// Both are called concurrently from several I/O threads: implementations must be thread-safe.
#pragma once

#include <memory>
#include <optional>

#include "net/messages.h"

namespace cairn::net {

class MessageHandler {
 public:
  virtual ~MessageHandler() = default;
  // Return a message to send back on the same connection, or nullopt for none.
  virtual std::optional<Message> handle(Message msg) = 0;
  // The largest message this connection may send in MessageParts (0: none), given its tag (see
  // Responder::set_connection_tag): parts come only from peers the handler trusts.
  virtual size_t max_message_in_parts(uint64_t /*connection_tag*/) const { return 0; }
};

namespace detail {
class ServerConnection;
}

// Answers one request, at most once, from any thread. Move-only. A Responder that is destroyed
// without answering releases the request's slot and sends nothing. Answers for a connection that
// has since closed are discarded. Must not be used after its NetworkServer is destroyed.
class Responder {
 public:
  Responder() = default;
  explicit Responder(std::weak_ptr<detail::ServerConnection> conn) : conn_(std::move(conn)) {}
  Responder(Responder&&) noexcept = default;
  Responder& operator=(Responder&& other) noexcept;
  Responder(const Responder&) = delete;
  Responder& operator=(const Responder&) = delete;
  ~Responder();

  // Encodes `msg` on the calling thread and queues it on the connection.
  void reply(const Message& msg);
  // Completes the request without an answer.
  void finish();
  bool done() const { return conn_.expired(); }
  // A value kept with the request's connection, which later requests on it see (0 until set):
  // the node layer keeps the cluster id a peer's hello named. Use before reply() or finish().
  void set_connection_tag(uint64_t tag);
  uint64_t connection_tag() const;

 private:
  std::weak_ptr<detail::ServerConnection> conn_;
};

class AsyncMessageHandler {
 public:
  virtual ~AsyncMessageHandler() = default;
  // Must return promptly; keep `responder` to answer later (or let it go to answer nothing).
  virtual void handle(Message msg, Responder responder) = 0;
  // As MessageHandler::max_message_in_parts.
  virtual size_t max_message_in_parts(uint64_t /*connection_tag*/) const { return 0; }
};

}  // namespace cairn::net
