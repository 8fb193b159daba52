#include "flags.h"

#include <fmt/format.h>

#include <CLI/CLI.hpp>
#include <cctype>
#include <charconv>

#include "cache/policy.h"
#include "common/version.h"
#include "net/address.h"

namespace cairn::tools {
namespace {

constexpr int kExitUsage = 2;

std::string lower(std::string_view s) {
  std::string out(s);
  for (char& c : out)
    c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  return out;
}

std::optional<std::string> check_endpoint(const std::string& flag, const std::string& value,
                                          bool allow_port_zero) {
  auto ep = net::parse_endpoint(value, allow_port_zero);
  if (ep.ok()) return std::nullopt;
  return fmt::format("{} {}: {}", flag, value, ep.error());
}

}  // namespace

std::optional<uint64_t> parse_bytes(std::string_view text) {
  uint64_t n = 0;
  auto [end, ec] = std::from_chars(text.data(), text.data() + text.size(), n);
  if (ec != std::errc() || end == text.data()) return std::nullopt;
  const std::string unit = lower(text.substr(static_cast<size_t>(end - text.data())));
  uint64_t mult = 1;
  if (unit.empty() || unit == "b")
    mult = 1;
  else if (unit == "k" || unit == "kb")
    mult = 1ull << 10;
  else if (unit == "m" || unit == "mb")
    mult = 1ull << 20;
  else if (unit == "g" || unit == "gb")
    mult = 1ull << 30;
  else
    return std::nullopt;
  if (n > UINT64_MAX / mult) return std::nullopt;
  return n * mult;
}

Result<std::map<net::NodeId, std::string>, std::string> parse_peers(std::string_view text) {
  std::map<net::NodeId, std::string> peers;
  while (!text.empty()) {
    const size_t comma = text.find(',');
    std::string_view item = text.substr(0, comma);
    text = comma == std::string_view::npos ? std::string_view() : text.substr(comma + 1);
    const size_t eq = item.find('=');
    if (eq == std::string_view::npos) return Err{fmt::format("'{}' is not ID=HOST:PORT", item)};
    net::NodeId id = 0;
    auto idtext = item.substr(0, eq);
    auto [end, ec] = std::from_chars(idtext.data(), idtext.data() + idtext.size(), id);
    if (ec != std::errc() || end != idtext.data() + idtext.size() || id == 0)
      return Err{fmt::format("'{}' is not a node id (an integer of at least 1)", idtext)};
    std::string addr(item.substr(eq + 1));
    if (auto bad = check_endpoint("address", addr, false)) return Err{*bad};
    if (!peers.emplace(id, addr).second) return Err{fmt::format("node id {} appears twice", id)};
  }
  if (peers.empty()) return Err{std::string("no members given")};
  return peers;
}

std::variant<ServerFlags, ExitNow> parse_flags(int argc, char** argv) {
  ServerFlags f;
  node::NodeConfig& n = f.node;
  std::string peers, max_memory = "0", eviction = "s3-fifo", compact_bytes = "64mb";
  std::string snapshot_chunk = "1mb", wal_segment = "64mb";
  std::string storage = "disk", fsync = "always";
  uint64_t tick_ms = 100, timeout_ms = 5000, grace_ms = 10'000;
  bool no_forward = false;

  CLI::App app{"cairn-server: a node of the cairn distributed cache", "cairn-server"};
  app.set_version_flag("--version", std::string(kVersion));
  app.footer(
      "With no flags: a single-node cluster, native protocol on 127.0.0.1:9000, Redis protocol on "
      "127.0.0.1:6380, data in cairn-data/node-1. Flags given on the command line win over "
      "--config. Sizes are bytes or 512kb, 24mb, 1gb. SIGINT or SIGTERM shut the node down "
      "gracefully (a leader hands leadership over first), within --shutdown-grace-ms.\n"
      "Exit status: 0 after a graceful shutdown; 1 when a listening address cannot be bound; 2 on "
      "an invalid flag, or when the node cannot start (e.g. a damaged data directory).\n");
  app.set_config("--config", "", "read options from a TOML file (keys are the long option names)")
      ->check(CLI::ExistingFile);
  app.allow_config_extras(false);
  app.add_option("--id", n.id, "this node's id (>= 1)")
      ->capture_default_str()
      ->check(CLI::Range(uint64_t{1}, UINT64_MAX));
  app.add_option("--listen", n.listen, "native protocol address HOST:PORT (clients and peers)")
      ->capture_default_str();
  app.add_option("--resp", f.resp, "Redis protocol address HOST:PORT")->capture_default_str();
  app.add_option("--peers", peers,
                 "initial cluster ID=HOST:PORT,... including this node; none: a single node");
  app.add_option("--join", n.join, "HOST:PORT of a member of a running cluster to join");
  app.add_option("--data-dir", n.data_dir,
                 "directory for the node's persistent state (default cairn-data/node-<id>)");
  app.add_option("--cluster-token", n.cluster_token,
                 "with --peers: names the cluster (its id is made from the member ids and this) "
                 "instead of the members' addresses; needed when founders reach each other at "
                 "different addresses (NAT, proxies), and then the same on every founder");
  app.add_option("--storage", storage,
                 "disk: the log and snapshots in --data-dir (a restart keeps the data); memory: "
                 "the log in memory (a restarted node recovers from the others; a single node "
                 "starts empty)")
      ->capture_default_str()
      ->check(CLI::IsMember({"memory", "disk"}));
  app.add_option("--fsync", fsync,
                 "with --storage disk: always (sync before acknowledging) or never (hand data to "
                 "the OS: survives a process crash, not a machine's)")
      ->capture_default_str()
      ->check(CLI::IsMember({"always", "never"}));
  app.add_option("--max-memory", max_memory,
                 "memory limit for data: bytes, or 512kb, 24mb, 1gb; 0 = none")
      ->capture_default_str();
  app.add_option("--eviction", eviction, "s3-fifo, sieve, allkeys-lru or noeviction")
      ->capture_default_str();
  app.add_option("--log-level", f.log_level, "trace, debug, info, warn, error or off")
      ->capture_default_str()
      ->check(CLI::IsMember({"trace", "debug", "info", "warn", "error", "critical", "off"}));
  app.add_option("--threads", f.threads, "native protocol I/O threads")
      ->capture_default_str()
      ->check(CLI::Range(1u, 256u));
  app.add_option("--resp-threads", f.resp_threads,
                 "Redis protocol I/O threads; 0 serves Redis clients on the node thread")
      ->capture_default_str()
      ->check(CLI::Range(0u, 256u));
  app.add_option("--max-connections", f.max_connections, "open connections allowed at once")
      ->capture_default_str()
      ->check(CLI::Range(size_t{1}, size_t{1} << 20));
  app.add_option("--tick-ms", tick_ms, "Raft tick interval in milliseconds")
      ->capture_default_str()
      ->check(CLI::Range(uint64_t{1}, uint64_t{10'000}));
  app.add_option("--election-ticks", n.election_ticks,
                 "election timeout in ticks (randomized up to twice this)")
      ->capture_default_str()
      ->check(CLI::Range(3, 1000));
  app.add_option("--request-timeout-ms", timeout_ms, "how long a request may wait for the log")
      ->capture_default_str()
      ->check(CLI::Range(uint64_t{1}, uint64_t{3'600'000}));
  app.add_option("--snapshot-entries", n.snapshot_entries,
                 "applied entries between log compactions (snapshots are built when needed)")
      ->capture_default_str()
      ->check(CLI::Range(uint64_t{10}, UINT64_MAX));
  app.add_option("--compact-bytes", compact_bytes,
                 "applied log bytes between compactions: bytes, or a size like 64mb (>= 1mb)")
      ->capture_default_str();
  app.add_option("--wal-segment-bytes", wal_segment,
                 "with --storage disk: the log's segment size (a new file starts past it; its "
                 "space is allocated ahead): bytes, or a size like 64mb (1mb to 1gb)")
      ->capture_default_str();
  app.add_option("--snapshot-chunk-bytes", snapshot_chunk,
                 "a snapshot travels to a follower in chunks of this size: bytes, or a size like "
                 "1mb (4kb to 8mb)")
      ->capture_default_str();
  app.add_option("--shutdown-grace-ms", grace_ms, "bound on a graceful shutdown")
      ->capture_default_str()
      ->check(CLI::Range(uint64_t{0}, uint64_t{600'000}));
  app.add_flag("--no-forward", no_forward,
               "followers answer writes with \"not leader\" and a leader hint instead of "
               "forwarding them");
  try {
    app.parse(argc, argv);
  } catch (const CLI::ParseError& e) {
    const int rc = app.exit(e);
    return ExitNow{rc == 0 ? 0 : kExitUsage};
  }

  auto fail = [](const std::string& msg) {
    fmt::print(stderr, "cairn-server: {}\n", msg);
    return ExitNow{kExitUsage};
  };
  if (auto bad = check_endpoint("--listen", n.listen, true)) return fail(*bad);
  if (auto bad = check_endpoint("--resp", f.resp, true)) return fail(*bad);
  if (!n.join.empty())
    if (auto bad = check_endpoint("--join", n.join, false)) return fail(*bad);
  if (!peers.empty()) {
    auto parsed = parse_peers(peers);
    if (!parsed.ok()) return fail(fmt::format("--peers: {}", parsed.error()));
    n.peers = std::move(*parsed);
    if (!n.peers.count(n.id))
      return fail(fmt::format("--peers must include this node (--id {})", n.id));
    if (n.peers[n.id] != n.listen)
      return fail(fmt::format("--peers gives node {} the address {}, but --listen is {}", n.id,
                              n.peers[n.id], n.listen));
  }
  if (!n.peers.empty() && !n.join.empty())
    return fail("--peers and --join cannot be used together");
  if (!n.cluster_token.empty() && !n.join.empty())
    return fail(
        "--cluster-token names a cluster being founded; a node that joins learns the cluster's id "
        "when it is admitted");
  auto bytes = parse_bytes(max_memory);
  if (!bytes)
    return fail(fmt::format("--max-memory {}: expected bytes or a size like 24mb", max_memory));
  n.cache.max_memory = *bytes;
  auto compact = parse_bytes(compact_bytes);
  if (!compact || *compact < (1u << 20))
    return fail(fmt::format("--compact-bytes {}: expected a size of at least 1mb", compact_bytes));
  n.compact_bytes = *compact;
  // A chunk and its envelope must fit one frame (16 MiB) with room to spare.
  auto chunk = parse_bytes(snapshot_chunk);
  if (!chunk || *chunk < (4u << 10) || *chunk > (8u << 20))
    return fail(
        fmt::format("--snapshot-chunk-bytes {}: expected a size from 4kb to 8mb", snapshot_chunk));
  n.snapshot_chunk_bytes = *chunk;
  auto segment = parse_bytes(wal_segment);
  if (!segment || *segment < (1u << 20) || *segment > (1u << 30))
    return fail(
        fmt::format("--wal-segment-bytes {}: expected a size from 1mb to 1gb", wal_segment));
  n.wal_segment_bytes = *segment;
  auto policy = cache::parse_policy(lower(eviction));
  if (!policy)
    return fail(
        fmt::format("--eviction {}: expected s3-fifo, sieve, allkeys-lru or noeviction", eviction));
  n.cache.policy = *policy;
  if (auto bad = cache::validate(n.cache)) return fail(*bad);
  if (n.data_dir.empty()) n.data_dir = fmt::format("cairn-data/node-{}", n.id);
  n.tick = std::chrono::milliseconds(tick_ms);
  n.request_timeout = std::chrono::milliseconds(timeout_ms);
  n.forward = !no_forward;
  n.durable = storage == "disk";
  n.fsync = fsync == "always";
  f.shutdown_grace = std::chrono::milliseconds(grace_ms);
  return f;
}

}  // namespace cairn::tools
