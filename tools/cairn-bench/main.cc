// cairn-bench: a load generator for the native protocol. Pipelined asynchronous requests over a
// few connections and one or two I/O threads; a progress line each second on stderr; a summary
// (text or --json) on stdout with throughput and latency percentiles in microseconds.
#include <CLI/CLI.hpp>
#include <cstdio>
#include <iostream>
#include <thread>

#include "client/duration.h"
#include "common/version.h"
#include "workload.h"

namespace {

using namespace cairn;
using Clock = std::chrono::steady_clock;

constexpr int kExitUsage = 2;

double us(uint64_t ns) {
  return static_cast<double>(ns) / 1000.0;
}

std::vector<std::string> split_commas(const std::string& text) {
  std::vector<std::string> out;
  for (size_t start = 0; start <= text.size();) {
    size_t comma = std::min(text.find(',', start), text.size());
    if (comma > start) out.push_back(text.substr(start, comma - start));
    start = comma + 1;
  }
  return out;
}

void progress(const bench::Totals& t, double seconds, uint64_t ops_in_second) {
  std::fprintf(stderr, "[%5.0fs] %9llu ops/s  errors %llu  p50 %.0fus  p99 %.0fus\n", seconds,
               static_cast<unsigned long long>(ops_in_second),
               static_cast<unsigned long long>(t.errors.load()), us(t.latency_ns.quantile(0.50)),
               us(t.latency_ns.quantile(0.99)));
}

void summary(const bench::Config& c, bench::Totals& t, double seconds, bool json) {
  const auto& h = t.latency_ns;
  double rate = seconds > 0 ? static_cast<double>(t.ok.load()) / seconds : 0;
  uint64_t writes = t.ok - t.reads;
  if (json) {
    std::printf(
        "{\"ops\":%llu,\"seconds\":%.3f,\"ops_per_sec\":%.0f,\"errors\":%llu,\"reads\":%llu,"
        "\"read_hits\":%llu,\"writes\":%llu,\"latency_us\":{\"p50\":%.1f,\"p90\":%.1f,"
        "\"p99\":%.1f,\"p99_9\":%.1f,\"max\":%.1f},\"connections\":%zu,\"pipeline\":%zu,"
        "\"value_size\":%zu,\"read_ratio\":%.3f,\"keys\":%llu,\"stale_reads\":%s,"
        "\"sessions\":%s}\n",
        static_cast<unsigned long long>(t.ok.load()), seconds, rate,
        static_cast<unsigned long long>(t.errors.load()),
        static_cast<unsigned long long>(t.reads.load()),
        static_cast<unsigned long long>(t.hits.load()), static_cast<unsigned long long>(writes),
        us(h.quantile(0.5)), us(h.quantile(0.9)), us(h.quantile(0.99)), us(h.quantile(0.999)),
        us(h.max()), c.connections, c.pipeline, c.value_size, c.read_ratio,
        static_cast<unsigned long long>(c.keys), c.stale_reads ? "true" : "false",
        c.sessions ? "true" : "false");
    return;
  }
  std::printf("ops         %llu in %.2f s\n", static_cast<unsigned long long>(t.ok.load()),
              seconds);
  std::printf("throughput  %.0f ops/s\n", rate);
  std::printf("errors      %llu\n", static_cast<unsigned long long>(t.errors.load()));
  std::printf("reads       %llu (%llu hits), writes %llu\n",
              static_cast<unsigned long long>(t.reads.load()),
              static_cast<unsigned long long>(t.hits.load()),
              static_cast<unsigned long long>(writes));
  std::printf("latency us  p50 %.1f  p90 %.1f  p99 %.1f  p99.9 %.1f  max %.1f\n",
              us(h.quantile(0.5)), us(h.quantile(0.9)), us(h.quantile(0.99)), us(h.quantile(0.999)),
              us(h.max()));
}

}  // namespace

int main(int argc, char** argv) {
  CLI::App app{"cairn-bench: load generator for cairn's native protocol", "cairn-bench"};
  app.set_version_flag("--version", std::string(kVersion));
  app.footer(
      "A progress line each second on stderr; the summary (ops/s, latency percentiles p50, p90, "
      "p99, p99.9 and max in microseconds) on stdout.\n"
      "Exit status: 0 when requests succeeded; 1 when none did; 2 bad usage.\n");
  bench::Config c;
  std::string addrs = "127.0.0.1:9000", duration = "10s", timeout = "5s";
  bool json = false;
  app.add_option("--addr", addrs, "HOST:PORT[,HOST:PORT...]; connections spread over them")
      ->capture_default_str();
  app.add_option("--connections", c.connections, "TCP connections")
      ->check(CLI::Range(size_t{1}, size_t{10'000}))
      ->capture_default_str();
  app.add_option("--pipeline", c.pipeline, "requests in flight per connection")
      ->check(CLI::Range(size_t{1}, size_t{4096}))
      ->capture_default_str();
  app.add_option("--keys", c.keys, "key space: keys key:0 .. key:N-1, chosen uniformly")
      ->check(CLI::Range(uint64_t{1}, UINT64_MAX))
      ->capture_default_str();
  app.add_option("--value-size", c.value_size, "bytes per value written")
      ->check(CLI::Range(size_t{0}, size_t{8} << 20))
      ->capture_default_str();
  app.add_option("--read-ratio", c.read_ratio, "fraction of requests that are reads")
      ->check(CLI::Range(0.0, 1.0))
      ->capture_default_str();
  auto* dur = app.add_option("--duration", duration, "run this long: 500ms, 10s, 5m...")
                  ->capture_default_str();
  app.add_option("--requests", c.requests, "run until N requests complete instead")
      ->check(CLI::Range(uint64_t{1}, UINT64_MAX))
      ->excludes(dur);
  app.add_flag("--stale-reads", c.stale_reads, "reads served from the answering node at once");
  app.add_flag("--sessions", c.sessions,
               "writes in a client session per connection, numbered as the C++ client numbers "
               "them (exactly-once writes)");
  app.add_option("--seed", c.seed, "seed of the key and read/write choices")->capture_default_str();
  app.add_option("--threads", c.threads, "I/O threads")
      ->check(CLI::Range(size_t{1}, size_t{64}))
      ->capture_default_str();
  app.add_option("--timeout", timeout, "per request")->capture_default_str();
  app.add_flag("--json", json, "print the summary as one JSON object");
  try {
    app.parse(argc, argv);
  } catch (const CLI::ParseError& e) {
    int rc = app.exit(e);
    return rc == 0 ? 0 : kExitUsage;
  }
  c.addrs = split_commas(addrs);
  for (const auto& a : c.addrs) {
    if (auto hp = client::split_host_port(a); !hp.ok()) {
      std::cerr << "cairn-bench: --addr: " << hp.error().message() << "\n";
      return kExitUsage;
    }
  }
  if (c.addrs.empty()) {
    std::cerr << "cairn-bench: --addr: no address given\n";
    return kExitUsage;
  }
  for (auto [flag, text, out] : {std::tuple{"--duration", &duration, &c.duration},
                                 std::tuple{"--timeout", &timeout, &c.timeout}}) {
    auto d = client::parse_duration(*text);
    if (!d.ok() || d->count() == 0) {
      std::cerr << "cairn-bench: " << flag << ": "
                << (d.ok() ? "must be more than 0" : d.error().message()) << "\n";
      return kExitUsage;
    }
    *out = *d;
  }

  bench::Workload load(c);
  auto start = Clock::now();
  load.start();
  auto next_tick = start + std::chrono::seconds(1);
  uint64_t last_ok = 0;
  auto finished = [&] { return c.requests ? load.done() : Clock::now() - start >= c.duration; };
  while (!finished()) {
    // With --requests the end comes whenever the last answer does: look every millisecond.
    auto until = c.requests ? Clock::now() + std::chrono::milliseconds(1) : start + c.duration;
    std::this_thread::sleep_until(std::min(next_tick, until));
    if (Clock::now() >= next_tick) {
      uint64_t ok = load.totals().ok;
      progress(load.totals(), std::chrono::duration<double>(Clock::now() - start).count(),
               ok - last_ok);
      last_ok = ok;
      next_tick += std::chrono::seconds(1);
      load.revive();
    }
  }
  load.stop_issuing();
  // Requests in flight still count; each ends within its timeout.
  auto drain_deadline = Clock::now() + c.timeout + std::chrono::seconds(1);
  while (load.in_flight() > 0 && Clock::now() < drain_deadline) {
    std::this_thread::sleep_for(std::chrono::milliseconds(1));
  }
  double seconds = std::chrono::duration<double>(Clock::now() - start).count();
  auto& t = load.totals();
  summary(c, t, seconds, json);
  if (!t.first_error.empty()) std::cerr << "cairn-bench: first error: " << t.first_error << "\n";
  return t.ok == 0 ? 1 : 0;
}
