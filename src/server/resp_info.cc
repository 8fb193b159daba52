// INFO, CONFIG GET and WAIT; see resp_info.h. INFO's layout is Redis's genRedisInfoString:
// "# Section\r\n", one "field:value\r\n" per line, sections separated by a blank line.
#include "server/resp_info.h"

#include <fmt/format.h>
#include <unistd.h>

#include <algorithm>
#include <cctype>
#include <functional>

#include "cache/policy.h"
#include "cache/strings.h"
#include "common/version.h"
#include "node/allocator.h"

namespace cairn::server {
namespace {

std::string lower(std::string_view s) {
  std::string out(s);
  for (char& c : out)
    c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  return out;
}

// Redis's bytesToHuman.
std::string human(uint64_t n) {
  const double d = static_cast<double>(n);
  if (n < 1024) return fmt::format("{}B", n);
  if (n < 1024ull * 1024) return fmt::format("{:.2f}K", d / 1024);
  if (n < 1024ull * 1024 * 1024) return fmt::format("{:.2f}M", d / (1024 * 1024));
  return fmt::format("{:.2f}G", d / (1024.0 * 1024 * 1024));
}

struct Section {
  std::string_view name;
  bool in_default;
  std::function<void(std::string&)> write;
};

void line(std::string& out, std::string_view field, const auto& value) {
  fmt::format_to(std::back_inserter(out), "{}:{}\r\n", field, value);
}

void server_section(const RespContext& ctx, std::string& out) {
  const auto up = std::chrono::duration_cast<std::chrono::seconds>(
                      std::chrono::steady_clock::now() - ctx.started)
                      .count();
  line(out, "redis_version", kRedisVersion);
  line(out, "cairn_version", kVersion);
  line(out, "redis_mode", "standalone");
  line(out, "arch_bits", sizeof(void*) * 8);
  line(out, "process_id", getpid());
  line(out, "tcp_port", ctx.port);
  line(out, "uptime_in_seconds", up);
  line(out, "uptime_in_days", up / 86400);
  line(out, "io_threads_active", ctx.config.threads > 1 ? 1 : 0);
}

void clients_section(const RespContext& ctx, std::string& out) {
  line(out, "connected_clients", ctx.counters.connected.load());
  line(out, "maxclients", ctx.config.max_connections);
}

std::string ratio(uint64_t a, uint64_t b) {
  return fmt::format("{:.2f}", b == 0 ? 0.0 : static_cast<double>(a) / static_cast<double>(b));
}

// Redis's fields and order. used_memory is the engine's own count (what --max-memory limits); the
// allocator's and the process's figures beside it show what the rest of the node costs: the log,
// client buffers, snapshots in flight, freed pages kept for reuse (allocator_dirty, bounded by
// the node: docs/node.md, "Memory").
void memory_section(const RespContext& ctx, const cache::Stats& st, std::string& out) {
  const node::AllocatorStats a = node::allocator_stats();
  const uint64_t rss = node::resident_set_bytes();
  line(out, "used_memory", st.used_memory);
  line(out, "used_memory_human", human(st.used_memory));
  line(out, "used_memory_rss", rss);
  line(out, "used_memory_rss_human", human(rss));
  line(out, "allocator_allocated", a.allocated);
  line(out, "allocator_active", a.active);
  line(out, "allocator_resident", a.resident);
  line(out, "allocator_dirty", a.dirty);
  line(out, "allocator_purges", ctx.node.memory_purges());
  line(out, "maxmemory", st.max_memory);
  line(out, "maxmemory_human", human(st.max_memory));
  line(out, "maxmemory_policy", cache::policy_name(ctx.node.engine().config().policy));
  line(out, "allocator_frag_ratio", ratio(a.active, a.allocated));
  line(out, "allocator_rss_ratio", ratio(a.resident, a.active));
  line(out, "mem_fragmentation_ratio", ratio(rss, st.used_memory));
  line(out, "mem_allocator", a.known ? "jemalloc" : "libc");
  line(out, "lazyfree_pending_objects", st.lazyfree_pending);
}

void stats_section(const RespContext& ctx, const cache::Stats& st, std::string& out) {
  const RespCounters& c = ctx.counters;
  line(out, "total_connections_received", c.connections_received.load());
  line(out, "total_commands_processed", c.commands.load());
  line(out, "total_net_input_bytes", c.bytes_in.load());
  line(out, "total_net_output_bytes", c.bytes_out.load());
  line(out, "rejected_connections", c.rejected.load());
  line(out, "expired_keys", st.expirations);
  line(out, "evicted_keys", st.evictions);
  line(out, "keyspace_hits", st.hits);
  line(out, "keyspace_misses", st.misses);
  line(out, "total_protocol_errors", c.protocol_errors.load());
  // cairn's: native clients' sessions (docs/protocol.md, "Client sessions").
  line(out, "client_sessions", st.sessions);
  line(out, "session_repeats", st.session_repeats);
  // Redis 7.2's names (7.0 does not count these).
  line(out, "client_query_buffer_limit_disconnections", c.query_buffer_limit_disconnections.load());
  line(out, "client_output_buffer_limit_disconnections",
       c.output_buffer_limit_disconnections.load());
}

// Redis's fields where they have a meaning here (a leader is a "master" whose replicas are the
// other members), then the Raft state under raft_*.
void replication_section(const net::StatusResponse& s, std::string& out) {
  const bool leader = s.role == "leader";
  line(out, "role", leader ? "master" : "slave");
  line(out, "connected_slaves", leader && !s.members.empty() ? s.members.size() - 1 : 0);
  line(out, "raft_node_id", s.node_id);
  line(out, "raft_role", s.role);
  line(out, "raft_term", s.term);
  line(out, "raft_leader_id", s.leader_id);
  line(out, "raft_commit_index", s.commit_index);
  line(out, "raft_applied_index", s.applied_index);
  line(out, "raft_last_index", s.last_index);
  size_t voters = 0;
  std::string members;
  for (const auto& m : s.members) {
    if (m.voter) ++voters;
    if (!members.empty()) members += ',';
    members += fmt::format("{}={}{}", m.id, m.addr, m.voter ? "" : "(learner)");
  }
  line(out, "raft_voters", voters);
  line(out, "raft_members", members);
}

void keyspace_section(const cache::Stats& st, std::string& out) {
  if (st.keys == 0) return;  // Redis lists only databases that hold keys
  line(out, "db0", fmt::format("keys={},expires={},avg_ttl=0", st.keys, st.keys_with_expiry));
}

}  // namespace

std::string build_info(const RespContext& ctx, const net::StatusResponse& status,
                       const std::vector<std::string>& sections) {
  const cache::Stats st = ctx.node.engine().stats();
  const Section all[] = {
      {"server", true, [&](std::string& o) { server_section(ctx, o); }},
      {"clients", true, [&](std::string& o) { clients_section(ctx, o); }},
      {"memory", true, [&](std::string& o) { memory_section(ctx, st, o); }},
      {"stats", true, [&](std::string& o) { stats_section(ctx, st, o); }},
      {"replication", true, [&](std::string& o) { replication_section(status, o); }},
      {"keyspace", true, [&](std::string& o) { keyspace_section(st, o); }},
  };
  std::vector<std::string> wanted;
  for (const auto& s : sections)
    wanted.push_back(lower(s));
  const bool everything = std::any_of(wanted.begin(), wanted.end(), [](const std::string& s) {
    return s == "all" || s == "everything";
  });
  const bool defaults =
      wanted.empty() || std::find(wanted.begin(), wanted.end(), "default") != wanted.end();
  std::string out;
  int written = 0;
  for (const Section& sec : all) {
    const bool named = std::find(wanted.begin(), wanted.end(), sec.name) != wanted.end();
    if (!everything && !named && !(defaults && sec.in_default)) continue;
    if (written++ > 0) out += "\r\n";
    std::string title(sec.name);
    title[0] = static_cast<char>(std::toupper(static_cast<unsigned char>(title[0])));
    out += "# " + title + "\r\n";
    sec.write(out);
  }
  return out;
}

std::vector<std::pair<std::string, std::string>> config_params(const RespContext& ctx) {
  const auto& cache = ctx.node.engine().config();
  const auto colon = ctx.bound.rfind(':');
  return {
      {"appendonly", "no"},
      {"bind", colon == std::string::npos ? ctx.bound : ctx.bound.substr(0, colon)},
      {"client-output-buffer-limit", format_output_limits(ctx.limits.output_all())},
      {"client-query-buffer-limit", std::to_string(ctx.limits.query_buffer_limit())},
      {"cluster-enabled", "no"},
      {"databases", "1"},
      {"io-threads", std::to_string(ctx.config.threads)},
      {"maxclients", std::to_string(ctx.config.max_connections)},
      {"maxmemory", std::to_string(cache.max_memory)},
      {"maxmemory-policy", std::string(cache::policy_name(cache.policy))},
      {"port", std::to_string(ctx.port)},
      {"proto-max-bulk-len", std::to_string(cache.max_value_bytes)},
      {"save", ""},
      {"timeout", "0"},
  };
}

bool glob_match_nocase(std::string_view pattern, std::string_view name) {
  return cache::glob_match(lower(pattern), lower(name));
}

int64_t replicas_holding_acknowledged_writes(const net::StatusResponse& status) {
  int64_t voters = 0;
  for (const auto& m : status.members)
    if (m.voter) ++voters;
  return voters / 2;
}

}  // namespace cairn::server
