// Connection: one TCP connection to one node, pipelined. Any number of requests may be in flight;
// the connection gives each a request_id of its own and matches answers by it, in whatever order
// they come. It connects on creation (asynchronously, within connect_timeout) and never
// reconnects: once closed or broken it fails everything outstanding and stays closed, and the
// owner makes a new one (Client does this per node, in its pool).
//
// Every request ends in exactly one call of its callback, on the EventLoop's thread:
//  * an answer (ClientResponse or StatusResponse);
//  * kTimeout when no answer came within its timeout (it may still be carried out);
//  * kUnreachable when it was never written (connect failed, or the connection broke first);
//  * kConnectionLost when the connection broke after it was written (outcome unknown);
//  * kClosed when close() came first.
// Callbacks must be quick and must not block: they run on the thread that does the I/O.
//
// Threading: submit(), close(), alive() and outstanding() are safe from any thread.
#pragma once

#include <chrono>
#include <cstdint>
#include <functional>
#include <memory>
#include <string>

#include "client/error.h"
#include "client/event_loop.h"
#include "net/messages.h"

namespace cairn::client {

namespace detail {
class ConnectionImpl;
}

struct ConnectionOptions {
  std::chrono::milliseconds connect_timeout{2000};
};

class Connection {
 public:
  using Callback = std::function<void(Result<net::Message>)>;

  // Starts connecting to `addr` ("host:port", "[v6]:port") on `loop`.
  Connection(EventLoop& loop, std::string addr, ConnectionOptions options = {});
  // Closes the connection (as close()).
  ~Connection();
  Connection(const Connection&) = delete;
  Connection& operator=(const Connection&) = delete;

  // Sends a ClientRequest, SessionRequest, StatusRequest or AdminRequest; its request_id is
  // replaced by the connection's own. Other messages fail with kInvalidArgument.
  void submit(net::Message request, std::chrono::milliseconds timeout, Callback done);

  // Fails everything outstanding with kClosed and closes the socket. Idempotent.
  void close();

  // False once the connection has failed or been closed; a new request would fail at once.
  bool alive() const;
  // Requests submitted and not yet completed.
  size_t outstanding() const;
  const std::string& addr() const;

 private:
  std::shared_ptr<detail::ConnectionImpl> impl_;
};

// Splits "host:port" or "[v6]:port"; the error is a sentence for people.
Result<std::pair<std::string, std::string>> split_host_port(const std::string& addr);

}  // namespace cairn::client
