// One accepted connection of a NetworkServer. Owned by its own coroutines (and, briefly, by
// answers posted to it); the server keeps only a weak reference for shutdown.
//
// Threading: every member is touched only on the connection's strand, except the immutable
// configuration and post_answer(), which any thread may call.
#pragma once

#include <asio/awaitable.hpp>
#include <asio/ip/tcp.hpp>
#include <asio/steady_timer.hpp>
#include <atomic>
#include <functional>
#include <memory>
#include <string>

#include "net/frame.h"
#include "net/handler.h"
#include "net/server.h"

namespace cairn::net::detail {

// Appends the framed `answer` to `out`. An answer too large for a frame becomes, for a
// ClientResponse, an error response with the same request_id so the client is not left waiting;
// other kinds are dropped. Returns false when nothing was appended.
bool append_answer(const Message& answer, std::string& out);

class ServerConnection : public std::enable_shared_from_this<ServerConnection> {
 public:
  struct Options {
    size_t max_frame;
    size_t max_in_flight;
    size_t max_pending_output;
    std::chrono::milliseconds drain_timeout;
  };

  ServerConnection(asio::ip::tcp::socket socket, uint64_t id, Options options,
                   std::shared_ptr<MessageHandler> sync, std::shared_ptr<AsyncMessageHandler> async,
                   std::shared_ptr<NetworkServer::Counters> counters,
                   std::function<void(uint64_t)> on_closed);

  void start();
  // Graceful stop: read no more, answer what is in flight (within drain_timeout), then close.
  void stop();
  // From a Responder on any thread: `frame` holds zero or one framed answers.
  void post_answer(std::string frame);
  // See Responder::set_connection_tag.
  void set_tag(uint64_t tag) { tag_.store(tag, std::memory_order_relaxed); }
  uint64_t tag() const { return tag_.load(std::memory_order_relaxed); }

 private:
  asio::awaitable<void> read_loop();
  asio::awaitable<void> write_loop();
  void dispatch(Message&& msg);
  // Joins a MessagePart to the message being put together, dispatching it once whole. False (the
  // connection is then closed as for a bad frame) when this connection may not send parts or the
  // part does not fit the message announced; `why` says how.
  bool take_part(MessagePart&& part, std::string& why);
  bool over_limits() const;
  void flush_or_wake_writer();
  void close_now(const char* why);
  void start_drain_deadline();

  asio::ip::tcp::socket socket_;  // bound to this connection's strand
  const uint64_t id_;
  const Options options_;
  const std::shared_ptr<MessageHandler> sync_;
  const std::shared_ptr<AsyncMessageHandler> async_;
  const std::shared_ptr<NetworkServer::Counters> counters_;
  const std::function<void(uint64_t)> on_closed_;
  std::string peer_;  // "ip:port" for logs
  std::atomic<uint64_t> tag_{0};

  // Timers used as condition variables: cancel() wakes the coroutine waiting on them.
  asio::steady_timer writer_wake_;
  asio::steady_timer reader_wake_;
  asio::steady_timer drain_deadline_;

  FrameDecoder decoder_;
  std::string assembling_;  // the MessageParts received so far of a message too large for a frame
  uint64_t assembling_total_ = 0;  // its announced size (0: none under way)
  std::string pending_;            // framed answers not yet handed to the socket
  std::string writing_;            // the buffer of the write in progress
  size_t in_flight_ = 0;           // async requests handed out and not yet answered or released
  bool writing_now_ = false;
  bool reading_done_ = false;
  bool stopping_ = false;
  bool protocol_error_ = false;  // oversized frame or undecodable message: read no more
  bool closed_ = false;
};

}  // namespace cairn::net::detail
