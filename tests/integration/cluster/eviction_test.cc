// Memory limits in a cluster: eviction is replicated (the leader's engine chooses the victims and
// proposes them as an Evict entry), so every replica holds the same keys, and each stays near the
// limit.
#include <gtest/gtest.h>

#include <algorithm>
#include <cstdio>
#include <future>
#include <set>

#include "harness.h"

namespace cairn::itest {
namespace {

constexpr int kKeys = 6000;  // of 1000-byte values: about 6 MB into a 2 MB cache
constexpr int kRound = 50;   // keys written between two bursts of reads

std::string key_name(int i) {
  return "key" + std::to_string(i);
}

// Reads `key` twice on one node's own state (a stale read), which marks it as used there.
void touch(client::Client& c, const std::string& key) {
  for (int n = 0; n < 2; ++n)
    ASSERT_TRUE(c.get(key, /*stale=*/true).ok());
}

// The keys node `id` holds, read from its own state with pipelined stale gets.
std::set<std::string> keys_held(LocalCluster& cluster, uint64_t id) {
  auto c = cluster.client_of(id, 10s);
  std::set<std::string> held;
  for (int from = 0; from < kKeys; from += 500) {
    std::vector<std::pair<std::string, std::future<client::Client::Reply>>> pending;
    for (int i = from; i < std::min(from + 500, kKeys); ++i)
      pending.emplace_back(key_name(i), c->submit(net::StaleGetCommand{key_name(i)}));
    for (auto& [key, f] : pending) {
      auto r = f.get();
      EXPECT_TRUE(r.ok()) << "node " << id << ": " << r.error().to_string();
      if (r.ok() && r->has_value()) held.insert(key);
    }
  }
  return held;
}

// Proves that replicas evict the same keys, by comparing the sets of keys every replica holds
// (not their counts: with values of one size, any choice of victims leaves the same count). To
// give a replica deciding on its own a reason to choose differently, the leader and one follower
// each read a different third of every freshly written batch of keys, which S3-FIFO then keeps
// over the others. Fails if each replica evicts by its own policy on apply (tried:
// evict_on_apply = true in the node's cache config): the follower keeps the keys it read and
// drops the ones the leader read.
TEST(Eviction, EveryReplicaEvictsTheSameKeysAndStaysNearTheLimit) {
  ClusterOptions o;
  o.nodes = 3;
  o.extra_args = {"--max-memory=2mb", "--eviction=s3-fifo"};
  LocalCluster cluster(o);
  const uint64_t leader = cluster.wait_for_leader(30s);
  ASSERT_NE(leader, 0u) << cluster.logs();
  const uint64_t reader = cluster.others(leader).front();
  auto c = cluster.client();
  auto on_leader = cluster.client_of(leader);
  auto on_reader = cluster.client_of(reader);
  const std::string value(1000, 'v');
  for (int round = 0; round < kKeys; round += kRound) {
    for (int i = round; i < round + kRound; ++i) {
      auto st = c->set(key_name(i), value);
      ASSERT_TRUE(st.ok()) << st.error().to_string();
    }
    // The follower reads only what it has applied: wait for the round's last key there.
    const std::string last = key_name(round + kRound - 1);
    ASSERT_TRUE(LocalCluster::eventually(
        [&] {
          auto v = on_reader->get(last, /*stale=*/true);
          return v.ok() && v->has_value();
        },
        30s))
        << "node " << reader << " did not apply " << last;
    for (int i = round; i < round + kRound; ++i) {
      if (i % 3 == 0) {
        ASSERT_NO_FATAL_FAILURE(touch(*on_reader, key_name(i)));
      } else if (i % 3 == 1) {
        ASSERT_NO_FATAL_FAILURE(touch(*on_leader, key_name(i)));
      }
    }
  }

  // Once writing has stopped, eviction settles and every replica holds the same keys. The applied
  // index itself keeps moving (the leader's clock ticks, which change no key without a TTL), so
  // the sets are read until they agree, or until the bound, after which they are compared and
  // any difference is shown.
  std::map<uint64_t, std::set<std::string>> held;
  LocalCluster::eventually(
      [&] {
        for (uint64_t id : cluster.ids())
          held[id] = keys_held(cluster, id);
        for (uint64_t id : cluster.ids())
          if (held[id] != held[leader]) return false;
        return true;
      },
      60s);
  std::vector<net::StatusResponse> seen;
  for (uint64_t id : cluster.ids()) {
    auto s = cluster.status(id);
    ASSERT_TRUE(s.has_value()) << "node " << id << " does not answer";
    seen.push_back(*s);
  }
  const auto& reference = held.at(leader);
  EXPECT_LT(reference.size(), static_cast<size_t>(kKeys));
  EXPECT_GT(reference.size(), 500u);
  for (const auto& [id, keys] : held) {
    if (id == leader) continue;
    std::vector<std::string> only_here, only_leader;
    std::set_difference(keys.begin(), keys.end(), reference.begin(), reference.end(),
                        std::back_inserter(only_here));
    std::set_difference(reference.begin(), reference.end(), keys.begin(), keys.end(),
                        std::back_inserter(only_leader));
    EXPECT_TRUE(only_here.empty() && only_leader.empty())
        << "node " << id << " holds " << keys.size() << " keys, the leader " << reference.size()
        << "; " << only_here.size() << " only on node " << id << " (first "
        << (only_here.empty() ? "-" : only_here.front()) << "), " << only_leader.size()
        << " only on the leader (first " << (only_leader.empty() ? "-" : only_leader.front())
        << ")";
  }
  for (const auto& s : seen)
    EXPECT_LE(s.used_memory, (2u << 20) + (256u << 10)) << "node " << s.node_id;
  // The most recent write survived eviction everywhere.
  for (const auto& [id, keys] : held)
    EXPECT_TRUE(keys.contains(key_name(kKeys - 1))) << "node " << id;
}

// A flood of pipelined writes, several times the limit, under each policy: used memory on every
// replica stays within the limit plus a fixed slack, sampled after every window of writes. Before,
// one 1024-key eviction at a time could not keep up (12x over a 4 MB limit with S3-FIFO); now the
// leader proposes the room a batch needs just before the batch. Under noeviction the writes past
// the limit are refused and memory holds exactly. Caught mutation: node-make-room-before-batch.
class PipelinedFlood : public ::testing::TestWithParam<std::string> {};

TEST_P(PipelinedFlood, UsedMemoryStaysWithinTheLimitOnEveryReplica) {
  constexpr uint64_t kLimit = 2u << 20;
  constexpr uint64_t kSlack = 1u << 20;  // docs/cache.md: max(1 MB, 1%)
  constexpr int kWrites = 60000;         // 100-byte values: about 9x the limit with overheads
  constexpr int kWindow = 2000;          // writes in flight at once
  ClusterOptions o;
  o.extra_args = {"--max-memory=2mb", "--eviction=" + GetParam()};
  LocalCluster cluster(o);
  ASSERT_NE(cluster.wait_for_leader(30s), 0u) << cluster.logs();
  auto c = cluster.client(10s);
  const std::string value(100, 'v');
  uint64_t worst = 0, refused = 0;
  for (int from = 0; from < kWrites; from += kWindow) {
    std::vector<std::future<client::Client::Reply>> window;
    for (int i = from; i < from + kWindow; ++i)
      window.push_back(c->submit(net::PutCommand{"flood" + std::to_string(i), value, {}}));
    for (auto& f : window) {
      auto r = f.get();
      if (!r.ok()) ++refused;
    }
    for (uint64_t id : cluster.ids()) {
      auto s = cluster.status(id, 5s);
      ASSERT_TRUE(s.has_value()) << "node " << id << " does not answer";
      worst = std::max(worst, s->used_memory);
      ASSERT_LE(s->used_memory, kLimit + kSlack)
          << "node " << id << " uses " << s->used_memory << " bytes after " << from + kWindow
          << " writes (limit " << kLimit << ")";
    }
  }
  std::printf("%s: worst used memory %.2f of the limit; %llu writes refused\n", GetParam().c_str(),
              static_cast<double>(worst) / kLimit, static_cast<unsigned long long>(refused));
  if (GetParam() == "noeviction") {
    EXPECT_GT(refused, 0u) << "noeviction accepted writes far past the limit";
  } else {
    EXPECT_EQ(refused, 0u) << "an evicting policy refused writes";
    EXPECT_GT(worst, kLimit / 2) << "the data never came near the limit: nothing was tested";
  }
}

INSTANTIATE_TEST_SUITE_P(Policies, PipelinedFlood,
                         ::testing::Values("s3-fifo", "sieve", "allkeys-lru", "noeviction"),
                         [](const auto& param_info) {
                           std::string n = param_info.param;
                           std::replace(n.begin(), n.end(), '-', '_');
                           return n;
                         });

}  // namespace
}  // namespace cairn::itest
