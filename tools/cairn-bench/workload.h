// The load cairn-bench generates: `connections` Connections spread over the addresses and over
// a few EventLoops, each keeping `pipeline` requests in flight and sending the next one from the
// completion of the last, so no thread ever waits for an answer.
//
// Threading: Workload's public methods are called from the main thread; each Worker's requests
// complete on its loop's thread and touch only that worker (under its mutex) and the shared
// atomic counters and histograms.
#pragma once

#include <atomic>
#include <chrono>
#include <cstdint>
#include <memory>
#include <mutex>
#include <random>
#include <string>
#include <vector>

#include "client/connection.h"
#include "histogram.h"

namespace cairn::bench {

struct Config {
  std::vector<std::string> addrs{"127.0.0.1:9000"};
  size_t connections = 4;
  size_t pipeline = 16;
  uint64_t keys = 100'000;
  size_t value_size = 100;
  double read_ratio = 0.9;
  std::chrono::milliseconds duration{10'000};
  uint64_t requests = 0;  // when non-zero: stop after this many instead of after `duration`
  bool stale_reads = false;
  // Writes in a client session per connection (docs/protocol.md, "Client sessions"), as the C++
  // client sends them: what exactly-once writes cost.
  bool sessions = false;
  uint64_t seed = 1;
  size_t threads = 1;  // EventLoops
  std::chrono::milliseconds timeout{5000};
};

// Counters shared by every worker.
struct Totals {
  std::atomic<uint64_t> issued{0};
  std::atomic<uint64_t> ok{0};
  std::atomic<uint64_t> errors{0};
  std::atomic<uint64_t> reads{0};
  std::atomic<uint64_t> hits{0};
  std::mutex first_error_mu;
  std::string first_error;  // the first error seen, for the summary
  Histogram latency_ns;
};

class Workload {
 public:
  explicit Workload(Config config);
  ~Workload();

  void start();
  // Stops sending new requests; answers to those in flight are still counted.
  void stop_issuing() { stopping_.store(true); }
  // Requests sent and not yet completed, over every connection.
  uint64_t in_flight() const;
  // Reconnects workers whose connection failed (at most once per call: call it each second).
  void revive();
  bool done() const;  // with --requests: all of them completed
  Totals& totals() { return totals_; }

 private:
  class Worker;
  Config config_;
  Totals totals_;
  std::atomic<bool> stopping_{false};
  std::vector<std::unique_ptr<client::EventLoop>> loops_;
  std::vector<std::unique_ptr<Worker>> workers_;
};

}  // namespace cairn::bench
