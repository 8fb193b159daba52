// cairn-server: one cairn node. Today it serves the native protocol's Ping/Pong on --listen;
// the Raft node, cache and Redis front end are wired in as they land.
#include <spdlog/spdlog.h>

#include <CLI/CLI.hpp>
#include <asio/io_context.hpp>
#include <asio/signal_set.hpp>
#include <thread>

#include "net/address.h"
#include "net/server.h"
#include "ping_handler.h"

namespace {

constexpr int kExitUsage = 2;

struct Flags {
  uint64_t id = 1;
  std::string listen = "127.0.0.1:9000";
  std::string resp = "127.0.0.1:6380";
  unsigned threads = 1;
  size_t max_connections = 10'000;
  std::string log_level = "info";
};

}  // namespace

int main(int argc, char** argv) {
  Flags f;
  CLI::App app{"cairn-server: a node of the cairn distributed cache"};
  app.add_option("--id", f.id, "this node's id (>= 1)")->check(CLI::Range(uint64_t{1}, UINT64_MAX));
  app.add_option("--listen", f.listen, "native protocol address HOST:PORT");
  app.add_option("--resp", f.resp, "Redis protocol address HOST:PORT (not served yet)");
  app.add_option("--threads", f.threads, "I/O threads")->check(CLI::Range(1u, 256u));
  app.add_option("--max-connections", f.max_connections, "open connections allowed at once")
      ->check(CLI::Range(size_t{1}, size_t{1} << 20));
  app.add_option("--log-level", f.log_level, "trace, debug, info, warn, error or off")
      ->check(CLI::IsMember({"trace", "debug", "info", "warn", "error", "critical", "off"}));
  try {
    app.parse(argc, argv);
  } catch (const CLI::ParseError& e) {
    int rc = app.exit(e);
    return rc == 0 ? 0 : kExitUsage;
  }
  spdlog::set_level(spdlog::level::from_str(f.log_level));

  for (const auto& [flag, value] : {std::pair{"--listen", f.listen}, {"--resp", f.resp}}) {
    if (auto ep = cairn::net::parse_endpoint(value, true); !ep.ok()) {
      fmt::print(stderr, "cairn-server: {}: {}\n", flag, ep.error());
      return kExitUsage;
    }
  }

  cairn::net::ServerConfig config;
  config.listen = f.listen;
  config.node_id = f.id;
  config.threads = f.threads;
  config.max_connections = f.max_connections;
  auto handler = std::make_shared<cairn::tools::PingHandler>(f.id, f.listen);
  auto server = cairn::net::NetworkServer::create(config, handler);
  if (!server.ok()) {
    spdlog::error("{}", server.error().to_string());
    return 1;
  }
  spdlog::info("Redis protocol on {} is not served yet; the flag is accepted for compatibility",
               f.resp);

  // Signals are waited for on their own io_context so the server's threads stay free.
  asio::io_context signals_io;
  asio::signal_set signals(signals_io, SIGINT, SIGTERM);
  auto stop = (*server)->shutdown_handle();
  signals.async_wait([stop](std::error_code ec, int sig) {
    if (!ec) {
      spdlog::info("received signal {}, shutting down", sig);
      stop.shutdown();
    }
  });
  std::thread signal_thread([&] { signals_io.run(); });
  (*server)->run();
  signals_io.stop();
  signal_thread.join();
  return 0;
}
