// cairn-sim: runs the deterministic Raft simulator (tests/sim) over a range of seeds.
//
//   cairn-sim --nodes 3 --seeds 1-500 --steps 3000
//   cairn-sim --whole-nodes --nodes 3 --seeds 1-500 --seconds 20 [--storage disk]
//
// The first drives the Raft core (simulator.h); --whole-nodes drives whole cairn nodes, the code
// cairn-server runs, on simulated time (node_sim.h), with their log in memory or on a simulated
// disk.
//
// Exits 0 if every seed passes, 1 on the first violation (printing the seed, a replay command
// and a trace of the last steps before it) or when the linearizability checker gave up on more
// than 1 in 100 of all the key histories of the run (the bound in tests/sim/simulator.h), 2 on
// invalid arguments. Single-threaded.
#include <fmt/format.h>
#include <unistd.h>
#include <CLI/CLI.hpp>
#include <chrono>
#include <csignal>
#include <cstdio>
#include <cstring>
#include <string>

#include "common/version.h"
#include "node_sim.h"
#include "simulator.h"

namespace {

// The seed being run, for the abort handler: a broken invariant inside the core aborts the
// process, and the person reading the log still needs to know how to replay it.
char g_replay[256] = "";

extern "C" void on_abort(int) {
  const char* msg = "\ncairn-sim: aborted by a failed invariant check inside the Raft core\n";
  ssize_t ignored = write(2, msg, std::strlen(msg));
  ignored = write(2, g_replay, std::strlen(g_replay));
  (void)ignored;
  std::signal(SIGABRT, SIG_DFL);
  std::abort();
}

bool parse_seeds(const std::string& s, std::uint64_t* lo, std::uint64_t* hi) {
  try {
    const auto dash = s.find('-');
    std::size_t used = 0;
    if (dash == std::string::npos) {
      *lo = *hi = std::stoull(s, &used);
      return used == s.size();
    }
    *lo = std::stoull(s.substr(0, dash), &used);
    if (used != dash) return false;
    const std::string rest = s.substr(dash + 1);
    *hi = std::stoull(rest, &used);
    return used == rest.size() && *lo <= *hi;
  } catch (const std::exception&) {
    return false;
  }
}

// Runs the whole-node simulator over seeds lo..hi; the exit status as main's.
int run_whole_nodes(int nodes, std::uint64_t lo, std::uint64_t hi, int seconds, bool disk,
                    bool verbose, std::size_t trace_lines, std::size_t checker_states) {
  const auto t0 = std::chrono::steady_clock::now();
  const std::string replay =
      std::string("cairn-sim --whole-nodes --nodes {} --seeds {} --seconds {}") +
      (disk ? " --storage disk" : "");
  cairn::sim::NodeSimStats total;
  for (std::uint64_t seed = lo; seed <= hi; ++seed) {
    fmt::format_to_n(g_replay, sizeof g_replay - 1, "seed {}; replay: {}\n{}", seed,
                     fmt::format(fmt::runtime(replay), nodes, seed, seconds), '\0');
    cairn::sim::NodeSimOptions o;
    o.seed = seed;
    o.nodes = nodes;
    o.duration = std::chrono::seconds(seconds);
    o.trace_lines = trace_lines;
    o.checker_max_states = checker_states;
    o.disk = disk;
    const cairn::sim::NodeSimResult r = cairn::sim::run_node_simulation(o);
    const cairn::sim::NodeSimStats& st = r.stats;
    if (!r.ok) {
      o.trace = true;  // the same run again, traced
      const cairn::sim::NodeSimResult t = cairn::sim::run_node_simulation(o);
      fmt::print("FAIL seed {} (whole nodes, nodes={}) at {} ms: {}\nknobs: {}\nreplay: {}\n", seed,
                 nodes, r.at_ms, r.violation, r.config,
                 fmt::format(fmt::runtime(replay), nodes, seed, seconds));
      fmt::print("last {} trace lines:\n", t.trace.size());
      for (const auto& line : t.trace)
        fmt::print("  {}\n", line);
      return 1;
    }
    if (verbose || st.keys_undecided > 0)
      fmt::print(
          "seed {} ok: writes={} incrs={} reads={} unknown={} leaders={} faults={} pauses={} "
          "crashes={} lost={} snapshot_chunks={} commit={} undecided={} [{}]\n",
          seed, st.writes_ok, st.incrs_ok, st.reads_ok, st.unknown, st.leaders, st.faults,
          st.pauses, st.crashes, st.messages_lost, st.snapshot_chunks, st.committed,
          st.keys_undecided, r.config);
    total.add(st);
  }
  const double secs = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
  // The same give-up bound as the Raft core's simulator (simulator.h).
  cairn::sim::SimStats keys;
  keys.keys_checked = total.keys_checked;
  keys.keys_undecided = total.keys_undecided;
  if (const std::string why = cairn::sim::undecided_over_bound(keys); !why.empty()) {
    fmt::print("FAIL seeds {}-{} (whole nodes, nodes={}): {}\n", lo, hi, nodes, why);
    return 1;
  }
  fmt::print(
      "ok: {} seeds x {} s, {} whole nodes, {:.1f} s; {} writes, {} increments and {} reads "
      "acknowledged, {} stale reads ({} compared with the replicas' state), {} compare-and-sets "
      "answered ({} swapped), {} puts with a time to live "
      "acknowledged ({} keys expired), {} unknown, {} increments resent ({} answered from the "
      "session table), {} "
      "leaders, {} faults ({} pauses, {} crashes, {} graceful shutdowns, {} nodes replaced of "
      "{} begun), {} messages lost, "
      "{} snapshot chunks sent, {} of {} key histories too large to decide\n",
      hi - lo + 1, seconds, nodes, secs, total.writes_ok, total.incrs_ok, total.reads_ok,
      total.stale_reads, total.stale_reads_checked, total.cas_ok, total.cas_swapped,
      total.expiring_puts_ok, total.expirations, total.unknown, total.incr_resends, total.repeats,
      total.leaders, total.faults, total.pauses, total.crashes, total.shutdowns, total.nodes_added,
      total.membership_changes, total.messages_lost, total.snapshot_chunks, total.keys_undecided,
      total.keys_checked);
  if (disk)
    fmt::print(
        "on disk: {} of the crashes were power losses ({} of the whole cluster at once; {} left "
        "a torn log tail, {} of them with unwritten sectors), {} lost the log and snapshots\n",
        total.power_losses, total.cluster_power_losses, total.torn_tails, total.zeroed_tails,
        total.logs_lost);
  return 0;
}

}  // namespace

int main(int argc, char** argv) {
  CLI::App app{"cairn-sim: deterministic simulation of a cairn Raft cluster under faults",
               "cairn-sim"};
  app.set_version_flag("--version", std::string(cairn::kVersion));
  app.footer(
      "Without --whole-nodes the Raft core is simulated; with it, whole cairn nodes (the code "
      "cairn-server runs) on simulated time.\n"
      "Exit status: 0 when every seed passes; 1 on the first violation (printing the seed, a "
      "replay "
      "command and a trace), or when the linearizability checker gave up on more than 1 in 100 "
      "key histories; 2 on invalid arguments.\n");
  int nodes = 3;
  std::string seeds = "1-100";
  int steps = 3000;
  bool verbose = false;
  std::size_t trace_lines = 80;
  app.add_option("--nodes", nodes, "Cluster size")->check(CLI::Range(1, 9))->capture_default_str();
  app.add_option("--seeds", seeds, "Seed or inclusive range A-B")->capture_default_str();
  app.add_option("--steps", steps, "Time units of faults and load per seed")
      ->check(CLI::Range(1, 100'000'000))
      ->capture_default_str();
  app.add_option("--trace-lines", trace_lines, "Trace lines to print on failure")
      ->capture_default_str();
  app.add_flag("-v,--verbose", verbose, "Print one line per seed");
  std::size_t checker_states = cairn::sim::SimOptions{}.checker_max_states;
  app.add_option("--checker-states", checker_states,
                 "State budget of the linearizability checker per key history")
      ->check(CLI::Range(std::size_t{1}, std::size_t{1} << 40))
      ->capture_default_str();
  bool whole_nodes = false;
  app.add_flag("--whole-nodes", whole_nodes,
               "Simulate whole cairn nodes (the server's node code) instead of the Raft core");
  int seconds = 20;
  app.add_option("--seconds", seconds, "With --whole-nodes: simulated seconds of faults and load")
      ->check(CLI::Range(1, 100'000))
      ->capture_default_str();
  std::string storage = "memory";
  app.add_option("--storage", storage,
                 "With --whole-nodes: where the nodes keep their log: memory (every crash loses "
                 "it) or disk (a simulated disk; crashes lose what was not synced)")
      ->check(CLI::IsMember({"memory", "disk"}))
      ->capture_default_str();
  bool live = false;
  app.add_flag("--live-trace", live,
               "Print the trace to stderr as the run goes (to see what led to an abort)");
  try {
    app.parse(argc, argv);
  } catch (const CLI::ParseError& e) {
    const int rc = app.exit(e);
    return e.get_exit_code() == 0 ? rc : 2;
  }
  std::uint64_t lo = 0, hi = 0;
  if (!parse_seeds(seeds, &lo, &hi)) {
    std::fprintf(stderr, "cairn-sim: --seeds must be N or A-B with A <= B, got '%s'\n",
                 seeds.c_str());
    return 2;
  }
  std::signal(SIGABRT, on_abort);
  if (whole_nodes)
    return run_whole_nodes(nodes, lo, hi, seconds, storage == "disk", verbose, trace_lines,
                           checker_states);

  const auto t0 = std::chrono::steady_clock::now();
  cairn::sim::SimStats total;
  for (std::uint64_t seed = lo; seed <= hi; ++seed) {
    std::snprintf(g_replay, sizeof g_replay,
                  "seed %llu; replay: cairn-sim --nodes %d --seeds %llu --steps %d --live-trace\n",
                  static_cast<unsigned long long>(seed), nodes,
                  static_cast<unsigned long long>(seed), steps);
    cairn::sim::SimOptions o{nodes, seed, steps, live, trace_lines, live, checker_states};
    cairn::sim::SimResult r = cairn::sim::run_simulation(o);
    if (!r.ok) {
      // Replay the same seed with tracing on: the run is deterministic, so it fails identically.
      o.trace = true;
      cairn::sim::SimResult t = cairn::sim::run_simulation(o);
      std::printf("FAIL seed %llu (nodes=%d steps=%d) at t=%llu: %s\n",
                  static_cast<unsigned long long>(seed), nodes, steps,
                  static_cast<unsigned long long>(r.time), r.violation.c_str());
      std::printf("knobs: %s\n", r.config.c_str());
      std::printf("replay: cairn-sim --nodes %d --seeds %llu --steps %d\n", nodes,
                  static_cast<unsigned long long>(seed), steps);
      std::printf("last %zu trace lines:\n", t.trace.size());
      for (const auto& line : t.trace)
        std::printf("  %s\n", line.c_str());
      return 1;
    }
    if (verbose || r.stats.keys_undecided > 0) {
      std::printf(
          "seed %llu ok: commit=%llu writes=%llu reads=%llu unknown=%llu leaders=%llu "
          "confchanges=%llu snapshots=%llu crashes=%llu liveness=%llu ticks undecided=%llu "
          "[%s]\n",
          static_cast<unsigned long long>(seed), static_cast<unsigned long long>(r.stats.committed),
          static_cast<unsigned long long>(r.stats.writes_ok),
          static_cast<unsigned long long>(r.stats.reads_ok),
          static_cast<unsigned long long>(r.stats.unknown),
          static_cast<unsigned long long>(r.stats.leaders),
          static_cast<unsigned long long>(r.stats.conf_changes),
          static_cast<unsigned long long>(r.stats.snapshots_sent),
          static_cast<unsigned long long>(r.stats.crashes),
          static_cast<unsigned long long>(r.stats.liveness_ticks),
          static_cast<unsigned long long>(r.stats.keys_undecided), r.config.c_str());
    }
    total.add(r.stats);
  }
  const double secs = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
  if (const std::string why = cairn::sim::undecided_over_bound(total); !why.empty()) {
    std::printf("FAIL seeds %s (nodes=%d steps=%d): %s\n", seeds.c_str(), nodes, steps,
                why.c_str());
    return 1;
  }
  std::printf(
      "ok: %llu seeds x %d steps, %d nodes, %.1f s; committed %llu entries, %llu writes and "
      "%llu reads checked linearizable, %llu leaders, %llu conf changes, %llu crashes, "
      "worst liveness %llu ticks, %llu of %llu key histories too large to decide\n",
      static_cast<unsigned long long>(hi - lo + 1), steps, nodes, secs,
      static_cast<unsigned long long>(total.committed),
      static_cast<unsigned long long>(total.writes_ok),
      static_cast<unsigned long long>(total.reads_ok),
      static_cast<unsigned long long>(total.leaders),
      static_cast<unsigned long long>(total.conf_changes),
      static_cast<unsigned long long>(total.crashes),
      static_cast<unsigned long long>(total.liveness_ticks),
      static_cast<unsigned long long>(total.keys_undecided),
      static_cast<unsigned long long>(total.keys_checked));
  return 0;
}
