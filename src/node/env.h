// Env: what a Node takes from outside itself, its files aside: the task queue its decisions run on
// and who runs it, the clocks, a periodic tick, randomness, where long work runs (snapshot builds),
// what syncs its log, the transport to its peers, and how a joining node asks to be admitted. The
// node decides; the Env does (docs/ARCHITECTURE.md, "Decisions and I/O").
//
// cairn-server gives each node a ThreadEnv: an io_context run by a thread of its own, the
// system's clocks, a steady timer, TCP peers (net::RaftTransport). A simulator of whole nodes gives
// each one a simulated Env instead - time that moves only when the simulator says, a network it
// controls - and runs every node's task queue itself, one task at a time, on one thread, so a run
// is a function of its seed. The node's code is the same in both.
#pragma once

#include <asio/io_context.hpp>
#include <asio/steady_timer.hpp>
#include <chrono>
#include <cstdint>
#include <functional>
#include <memory>
#include <random>
#include <thread>

#include "common/result.h"
#include "net/transport.h"
#include "node/log_syncer.h"

namespace cairn::node {

using Clock = std::chrono::steady_clock;

// Work running away from the task queue (Env::background). Destroying the handle waits for the
// work to end, or drops it if it has not begun.
class BackgroundWork {
 public:
  virtual ~BackgroundWork() = default;
};
using Spawn = std::function<std::unique_ptr<BackgroundWork>(std::function<void()> work)>;

// Runs `work` on a thread of its own at a lower priority (nice 10 on Linux: where cores are
// short, the node and network threads come first). The handle joins the thread.
std::unique_ptr<BackgroundWork> run_on_thread(std::function<void()> work);

class Env {
 public:
  virtual ~Env() = default;

  // The node's task queue: every entry point posts its work here and every decision runs here,
  // one task at a time, in the order posted. A front end may run its connections on it too
  // (Node::io_context()).
  asio::io_context& io() { return io_; }

  // Monotonic time: deadlines, timeouts, the recovery window. Any thread.
  virtual Clock::time_point now() const = 0;
  // Milliseconds since the Unix epoch: what a leader stamps on the entries it proposes (expiry is
  // decided from it on every replica). Node thread.
  virtual int64_t wall_ms() const = 0;
  // A random 64-bit number: Raft's seed for election timeouts, the incarnation that keeps request
  // ids of one run apart from the previous run's. Not thread-safe.
  virtual uint64_t random() = 0;

  // Calls `tick` on the task queue every `every`, the next period starting when the call
  // returns, until stop_ticks(). One ticker at a time.
  virtual void start_ticks(Clock::duration every, std::function<void()> tick) = 0;
  // No tick runs after this returns (on the task queue).
  virtual void stop_ticks() = 0;

  // Runs `work` away from the task queue: long work (a snapshot build, seconds of compression)
  // that must not stall the node. The work hands its result back by posting to io().
  virtual std::unique_ptr<BackgroundWork> background(std::function<void()> work) = 0;

  // The transport to the node's peers (made once, in Node::create).
  virtual std::unique_ptr<net::PeerTransport> make_transport(net::TransportConfig config) = 0;

  // What syncs the log away from the task queue (--storage disk --fsync always); `synced` posts
  // to the task queue. `started` is a testing knob (NodeConfig::log_sync_started).
  virtual std::unique_ptr<LogSync> log_syncer(LogSync::Synced synced, LogSync::Failed failed,
                                              std::function<void()> started) = 0;

  // A joining node asks `member` (an address of a running cluster's node) to admit it as node
  // `id` at `self_addr`; `done` runs on the task queue, once: the admission's answer (join.h) or
  // why there is none, within `timeout`. One request at a time.
  using Admitted = std::function<void(Result<std::string, std::string>)>;
  virtual void request_admission(const std::string& member, net::NodeId id,
                                 const std::string& self_addr, std::chrono::milliseconds timeout,
                                 Admitted done) = 0;

  // Starts running the task queue. It runs until the node releases it (the node holds a work
  // guard while it runs, and stops the queue when it has stopped).
  virtual void run() = 0;
  // Waits until the task queue has stopped running; at once when called from the task queue
  // itself or when it never ran. Not thread-safe against run().
  virtual void wait() = 0;

 protected:
  asio::io_context io_;
};

// The real world: a thread of its own runs the task queue; the system's clocks; TCP peers.
class ThreadEnv final : public Env {
 public:
  ThreadEnv() : ticker_(io_) {}
  ~ThreadEnv() override;

  Clock::time_point now() const override { return Clock::now(); }
  int64_t wall_ms() const override;
  uint64_t random() override { return (uint64_t{device_()} << 32) | device_(); }
  void start_ticks(Clock::duration every, std::function<void()> tick) override;
  void stop_ticks() override;
  std::unique_ptr<BackgroundWork> background(std::function<void()> work) override {
    return run_on_thread(std::move(work));
  }
  std::unique_ptr<net::PeerTransport> make_transport(net::TransportConfig config) override;
  std::unique_ptr<LogSync> log_syncer(LogSync::Synced synced, LogSync::Failed failed,
                                      std::function<void()> started) override {
    return std::make_unique<LogSyncer>(std::move(synced), std::move(failed), std::move(started));
  }
  // Over the native protocol, from a thread of its own (node/join.h).
  void request_admission(const std::string& member, net::NodeId id, const std::string& self_addr,
                         std::chrono::milliseconds timeout, Admitted done) override;
  void run() override;
  void wait() override;

 private:
  void schedule_tick();

  std::random_device device_;
  asio::steady_timer ticker_;
  Clock::duration every_{};
  std::function<void()> tick_;
  bool ticking_ = false;  // task queue only
  std::thread thread_;
  std::thread admission_;  // the request_admission() under way, or the last one
};

}  // namespace cairn::node
