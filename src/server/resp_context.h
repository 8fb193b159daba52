// What every RESP session of one server shares: the node, the server's configuration and the
// counters INFO reports. Owned by RespServer and kept alive by its sessions (shared_ptr).
//
// Threading: config and node are fixed after construction; counters are atomics.
#pragma once

#include <atomic>
#include <chrono>
#include <cstdint>
#include <string>

#include "node/node.h"
#include "server/resp_barrier.h"
#include "server/resp_limits.h"

namespace cairn::server {

struct RespServerConfig {
  std::string listen = "127.0.0.1:6380";  // port 0 picks a free port: see local_endpoint()
  // I/O threads; 0 runs the connections on the node's own thread (no hand-off between threads,
  // Redis's model: best when cores are scarce).
  unsigned threads = 1;
  size_t max_connections = 10'000;  // beyond this, new connections are closed at once
  // Per connection: stop parsing (even within one read) while this many answers are outstanding
  // or this many answer bytes are unsent, so a client pipelining without reading cannot grow the
  // server's memory; parsing resumes as the answers drain.
  size_t max_in_flight = 4096;
  size_t max_pending_output = 16 * 1024 * 1024;
  // Initial client-query-buffer-limit and client-output-buffer-limit (CONFIG SET changes them).
  uint64_t query_buffer_limit = kDefaultQueryBufferLimit;
  OutputBufferLimits output_buffer_limits = kDefaultOutputBufferLimits;
  // How long stop() lets connections finish answering what they have already received.
  std::chrono::milliseconds drain_timeout{5000};
};

struct RespCounters {
  std::atomic<uint64_t> connections_received{0};
  std::atomic<uint64_t> connected{0};
  std::atomic<uint64_t> rejected{0};
  std::atomic<uint64_t> commands{0};
  std::atomic<uint64_t> bytes_in{0};
  std::atomic<uint64_t> bytes_out{0};
  std::atomic<uint64_t> protocol_errors{0};
  // Clients closed for exceeding client-query-buffer-limit / client-output-buffer-limit.
  std::atomic<uint64_t> query_buffer_limit_disconnections{0};
  std::atomic<uint64_t> output_buffer_limit_disconnections{0};
  std::atomic<uint64_t> next_client_id{1};
};

struct RespContext {
  RespContext(node::Node& n, RespServerConfig c)
      : node(n),
        config(std::move(c)),
        limits(config.query_buffer_limit, config.output_buffer_limits) {}
  node::Node& node;
  const RespServerConfig config;
  ClientLimits limits;  // the buffer limits as CONFIG SET last set them
  RespCounters counters;
  // Steady-clock milliseconds of the last "closed for a buffer limit" log line (at most one a
  // second, whatever the number of clients closed).
  std::atomic<int64_t> limit_logged_ms{0};
  std::string bound;  // the address actually listened on, "host:port"
  uint16_t port = 0;
  std::shared_ptr<BarrierGroup> barriers;  // set by RespServer before any session starts
  // Sessions run on the node thread (config.threads == 0), so they may ask the node whether a
  // linearizable read can be served at once (Node::can_read_now).
  bool on_node_thread = false;
  const std::chrono::steady_clock::time_point started = std::chrono::steady_clock::now();
};

}  // namespace cairn::server
