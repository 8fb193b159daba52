// cairn-bench's parts: the log-bucket histogram's accuracy, and a short workload against a fake
// node that must complete exactly the requests asked for.
#include <gtest/gtest.h>

#include <random>

#include "fake_node.h"
#include "histogram.h"
#include "workload.h"

namespace cairn::bench {
namespace {

using namespace std::chrono_literals;

TEST(Histogram, SmallValuesAreExact) {
  Histogram h;
  for (uint64_t v = 1; v <= 50; v++)
    h.record(v);
  EXPECT_EQ(h.count(), 50u);
  EXPECT_EQ(h.quantile(0.5), 25u);
  EXPECT_EQ(h.quantile(1.0), 50u);
  EXPECT_EQ(h.max(), 50u);
}

TEST(Histogram, QuantilesWithinTwoPercentAtAnyScale) {
  std::mt19937_64 rng(7);
  std::vector<uint64_t> values;
  Histogram h;
  for (int i = 0; i < 100'000; i++) {
    uint64_t v = rng() >> (rng() % 60);  // spread over many powers of two
    values.push_back(v);
    h.record(v);
  }
  std::sort(values.begin(), values.end());
  for (double q : {0.5, 0.9, 0.99, 0.999}) {
    auto exact = static_cast<double>(values[static_cast<size_t>(q * 100'000) - 1]);
    auto got = static_cast<double>(h.quantile(q));
    EXPECT_GE(got, exact) << q;
    EXPECT_LE(got, exact * 1.02 + 1) << q;
  }
  EXPECT_EQ(h.quantile(1.0), values.back());
}

TEST(Histogram, BucketBoundsAreContiguous) {
  for (size_t i = 1; i < Histogram::kBuckets - 1; i++) {
    ASSERT_EQ(Histogram::index(Histogram::highest(i - 1) + 1), i) << i;
    ASSERT_EQ(Histogram::index(Histogram::highest(i)), i) << i;
  }
  EXPECT_EQ(Histogram::index(UINT64_MAX), Histogram::kBuckets - 1);
}

TEST(Histogram, MergeAddsCounts) {
  Histogram a, b;
  a.record(10);
  b.record(1000);
  b.record(2000);
  a.merge(b);
  EXPECT_EQ(a.count(), 3u);
  EXPECT_EQ(a.max(), 2000u);
}

TEST(Workload, CompletesExactlyTheRequestedNumber) {
  client::testing::FakeServer s(1);
  Config c;
  c.addrs = {s.addr()};
  c.connections = 3;
  c.pipeline = 8;
  c.keys = 50;
  c.read_ratio = 0.5;
  c.requests = 2000;
  Workload load(c);
  load.start();
  ASSERT_TRUE(net::testing::wait_until([&] { return load.done(); }, 20s));
  ASSERT_TRUE(net::testing::wait_until([&] { return load.in_flight() == 0; }));
  auto& t = load.totals();
  EXPECT_EQ(t.ok, 2000u);
  EXPECT_EQ(t.errors, 0u) << t.first_error;
  EXPECT_EQ(t.latency_ns.count(), 2000u);
  EXPECT_GT(t.reads, 0u);
  EXPECT_LT(t.reads, 2000u);
  EXPECT_EQ(s.node->client_requests(), 2000);
}

TEST(Workload, CountsErrorsWhenNoNodeListens) {
  Config c;
  c.addrs = {client::testing::unused_addr()};
  c.connections = 2;
  c.requests = 10;
  Workload load(c);
  load.start();
  ASSERT_TRUE(
      net::testing::wait_until([&] { return load.in_flight() == 0 && load.totals().errors > 0; }));
  EXPECT_EQ(load.totals().ok, 0u);
  EXPECT_NE(load.totals().first_error.find("unreachable"), std::string::npos);
}

}  // namespace
}  // namespace cairn::bench
