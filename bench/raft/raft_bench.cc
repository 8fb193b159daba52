// Benchmark of the Raft core alone: three RawNodes in one process, messages handed over
// directly (no network, no serialization, no disk: MemStorage). Measures committed entries per
// second for batches of 100-byte proposals, and heap allocations per committed entry (global
// operator new is counted). Single-threaded.
#include <benchmark/benchmark.h>

#include <atomic>
#include <cstdlib>
#include <deque>
#include <memory>
#include <new>
#include <vector>

#include "raft/raw_node.h"

namespace {
std::atomic<std::uint64_t> g_allocs{0};
}  // namespace

// Replacing the global allocation functions (to count them) is what GCC's heuristic flags here.
#pragma GCC diagnostic push
#pragma GCC diagnostic ignored "-Wmismatched-new-delete"
void* operator new(std::size_t n) {
  g_allocs.fetch_add(1, std::memory_order_relaxed);
  if (void* p = std::malloc(n == 0 ? 1 : n)) return p;
  throw std::bad_alloc();
}
void operator delete(void* p) noexcept {
  std::free(p);
}
void operator delete(void* p, std::size_t) noexcept {
  std::free(p);
}

namespace {

using namespace cairn::raft;

class BenchCluster {
 public:
  explicit BenchCluster(int n, std::size_t max_inflight) {
    ConfState cs;
    for (int i = 1; i <= n; ++i)
      cs.add_voters(static_cast<NodeId>(i));
    for (int i = 1; i <= n; ++i) {
      auto s = std::make_unique<MemStorage>();
      s->set_conf_state(cs);
      Config c;
      c.id = static_cast<NodeId>(i);
      c.max_inflight_msgs = max_inflight;
      auto rn = RawNode::create(c, s.get());
      storages_.push_back(std::move(s));
      nodes_.push_back(std::move(rn).value());
    }
    nodes_[0]->campaign();
    pump();
  }

  RawNode& leader() { return *nodes_[0]; }
  std::uint64_t applied_on_leader() const { return applied_[0]; }

  // Handles every Ready and delivers every message until the cluster is quiet.
  void pump() {
    bool busy = true;
    while (busy) {
      busy = false;
      for (std::size_t i = 0; i < nodes_.size(); ++i) {
        RawNode& n = *nodes_[i];
        while (n.has_ready()) {
          busy = true;
          Ready rd = n.ready();
          storages_[i]->append(std::move(rd.entries));
          if (rd.hard_state) storages_[i]->set_hard_state(*rd.hard_state);
          for (auto& m : rd.messages)
            queue_.push_back(std::move(m));
          applied_[i] += rd.committed_entries.size();
          n.advance(rd);
          compact(i);
        }
      }
      while (!queue_.empty()) {
        busy = true;
        Message m = std::move(queue_.front());
        queue_.pop_front();
        (void)nodes_[m.to() - 1]->step(std::move(m));
      }
    }
  }

 private:
  // Keeps MemStorage small so the benchmark measures Raft, not a growing vector.
  void compact(std::size_t i) {
    const Index applied = nodes_[i]->raft().log().applied();
    if (applied > storages_[i]->first_index() + 4096) {
      (void)storages_[i]->compact(applied - 1024);
    }
  }

  std::vector<std::unique_ptr<MemStorage>> storages_;
  std::vector<std::unique_ptr<RawNode>> nodes_;
  std::deque<Message> queue_;
  std::uint64_t applied_[8] = {};
};

// One iteration: the leader takes `batch` proposals of 100 bytes, then the cluster runs until
// they are committed and applied everywhere (one replication round trip for the batch).
void BM_CommitBatched(benchmark::State& state) {
  const auto batch = static_cast<int>(state.range(0));
  BenchCluster c(3, 256);
  const std::string payload(100, 'x');
  std::uint64_t entries = 0;
  const std::uint64_t allocs_before = g_allocs.load();
  for (auto _ : state) {
    for (int k = 0; k < batch; ++k) {
      if (!c.leader().propose(payload).ok()) state.SkipWithError("proposal refused");
    }
    c.pump();
    entries += static_cast<std::uint64_t>(batch);
  }
  const std::uint64_t allocs = g_allocs.load() - allocs_before;
  state.SetItemsProcessed(static_cast<std::int64_t>(entries));
  state.SetBytesProcessed(static_cast<std::int64_t>(entries * payload.size()));
  state.counters["allocs/entry"] =
      benchmark::Counter(static_cast<double>(allocs) / static_cast<double>(entries));
}
BENCHMARK(BM_CommitBatched)->Arg(1)->Arg(16)->Arg(64)->Arg(256)->Arg(1024);

// Same, but the batch goes in as one proposal (RawNode::propose_batch): one append and one
// MsgAppend per follower for the whole batch, as a node layer batching client writes would do.
void BM_CommitProposeBatch(benchmark::State& state) {
  const auto batch = static_cast<std::size_t>(state.range(0));
  BenchCluster c(3, 256);
  const std::string payload(100, 'x');
  std::uint64_t entries = 0;
  const std::uint64_t allocs_before = g_allocs.load();
  for (auto _ : state) {
    if (!c.leader().propose_batch(std::vector<std::string>(batch, payload)).ok()) {
      state.SkipWithError("proposal refused");
    }
    c.pump();
    entries += batch;
  }
  const std::uint64_t allocs = g_allocs.load() - allocs_before;
  state.SetItemsProcessed(static_cast<std::int64_t>(entries));
  state.SetBytesProcessed(static_cast<std::int64_t>(entries * payload.size()));
  state.counters["allocs/entry"] =
      benchmark::Counter(static_cast<double>(allocs) / static_cast<double>(entries));
}
BENCHMARK(BM_CommitProposeBatch)->Arg(1)->Arg(16)->Arg(64)->Arg(256)->Arg(1024);

// Steady-state tick cost of an idle three-node cluster (heartbeats only), per tick of all nodes.
void BM_IdleTick(benchmark::State& state) {
  BenchCluster c(3, 256);
  for (auto _ : state) {
    c.leader().tick();
    c.pump();
  }
}
BENCHMARK(BM_IdleTick);

}  // namespace

BENCHMARK_MAIN();
