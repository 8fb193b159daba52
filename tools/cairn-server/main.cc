// cairn-server: one cairn node. It serves the native protocol on --listen (clients and peers)
// and the Redis protocol on --resp, runs its share of the Raft cluster given by --peers (or joins
// one with --join), and shuts down gracefully on SIGINT/SIGTERM: a leader hands leadership over,
// waiting requests are answered, then connections drain.
#include <spdlog/spdlog.h>

#include <asio/io_context.hpp>
#include <asio/signal_set.hpp>
#include <thread>

#include "fd_limit.h"
#include "flags.h"
#include "net/server.h"
#include "node/node.h"
#include "node/node_handler.h"
#include "server/resp_server.h"

// jemalloc's settings, read when it starts (the MALLOC_CONF environment variable overrides them).
// Transparent huge pages: the Raft log and the keyspace grow by fresh memory under a write load,
// and faulting it in 2 MiB rather than 4 KiB at a time cuts the page faults (which dominated the
// cost of 1 KiB writes). No decay: freed pages are kept for reuse rather than returned to the
// system after ten idle seconds, which made the first burst after a pause fault everything in
// again (pipelined 1 KiB SETs after 15 s idle: 180k ops/s with decay, 488k without). Memory is
// bounded by --max-memory and the log's compaction, as in caches that keep their slabs.
// Unused when linked against another allocator.
extern "C" {
// NOLINTNEXTLINE: the name is jemalloc's.
const char* malloc_conf = "thp:always,metadata_thp:auto,dirty_decay_ms:-1,muzzy_decay_ms:-1";
}

int main(int argc, char** argv) {
  auto parsed = cairn::tools::parse_flags(argc, argv);
  if (auto* exit_now = std::get_if<cairn::tools::ExitNow>(&parsed)) return exit_now->code;
  auto& f = std::get<cairn::tools::ServerFlags>(parsed);
  spdlog::set_level(spdlog::level::from_str(f.log_level));
  const auto fit = cairn::tools::fit_connections_to_fd_limit(f.max_connections);
  if (!fit.warning.empty()) spdlog::warn("{}", fit.warning);
  f.max_connections = fit.max_connections;

  // Bind first, so a taken port is reported before the node starts talking to peers.
  auto node = cairn::node::Node::create(f.node);
  if (!node.ok()) {
    spdlog::error("{}", node.error());
    return 2;
  }
  cairn::net::ServerConfig config;
  config.listen = f.node.listen;
  config.node_id = f.node.id;
  config.threads = f.threads;
  config.max_connections = f.max_connections;
  auto handler = std::make_shared<cairn::node::NodeHandler>(**node);
  auto server = cairn::net::NetworkServer::create(config, handler);
  if (!server.ok()) {
    spdlog::error("{}", server.error().to_string());
    return 1;
  }
  spdlog::info("node {}: native protocol on {}; {}; data dir {}", f.node.id, f.node.listen,
               !f.node.join.empty()   ? "joining through " + f.node.join
               : f.node.peers.empty() ? std::string("a single-node cluster")
                                      : fmt::format("{} initial members", f.node.peers.size()),
               f.node.data_dir);
  cairn::server::RespServerConfig resp_config;
  resp_config.listen = f.resp;
  resp_config.threads = f.resp_threads;
  resp_config.max_connections = f.max_connections;
  auto resp = cairn::server::RespServer::create(resp_config, **node);
  if (!resp.ok()) {
    spdlog::error("{}", resp.error());
    return 1;
  }
  (*node)->start();
  (*resp)->start();

  // Signals are waited for on their own thread: stopping the node blocks while it hands over.
  asio::io_context signals_io;
  asio::signal_set signals(signals_io, SIGINT, SIGTERM);
  auto stop_server = (*server)->shutdown_handle();
  cairn::node::Node* n = node->get();
  cairn::server::RespServer* redis = resp->get();
  signals.async_wait([&, n, redis, stop_server](std::error_code ec, int sig) {
    if (ec) return;
    spdlog::info("node {}: signal {}, shutting down", n->id(), sig);
    redis->stop();  // first: its answers in flight need the node
    n->stop(f.shutdown_grace);
    stop_server.shutdown();
  });
  std::thread signal_thread([&] { signals_io.run(); });
  (*server)->run();
  signals_io.stop();
  signal_thread.join();
  (*resp)->stop();
  (*node)->stop(std::chrono::milliseconds(0));
  spdlog::info("node {}: stopped", f.node.id);
  return 0;
}
