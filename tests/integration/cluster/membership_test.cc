// Membership with real processes: a node joins with --join (learner first, promoted once caught
// up), a node is removed, leadership is transferred, the leader itself is removed, all while a
// client keeps writing.
#include <gtest/gtest.h>
#include <signal.h>

#include <atomic>
#include <mutex>
#include <thread>

#include "harness.h"

namespace cairn::itest {
namespace {

bool has_member(const net::StatusResponse& s, uint64_t id, bool voter) {
  for (const auto& m : s.members)
    if (m.id == id && m.voter == voter) return true;
  return false;
}

bool lacks_member(const net::StatusResponse& s, uint64_t id) {
  for (const auto& m : s.members)
    if (m.id == id) return false;
  return true;
}

// Writes unique keys until stopped (or a bound), remembering the acknowledged ones.
class Writer {
 public:
  explicit Writer(const LocalCluster& cluster) : client_(cluster.client(3s)) {
    thread_ = std::thread([this] {
      for (int i = 0; i < 20000 && !stop_.load(); ++i) {
        const std::string key = "w" + std::to_string(i);
        if (client_->set(key, key).ok()) {
          std::lock_guard lock(mu_);
          acked_.push_back(key);
        }
      }
    });
  }
  ~Writer() { stop(); }
  void stop() {
    stop_ = true;
    if (thread_.joinable()) thread_.join();
  }
  std::vector<std::string> acked() {
    std::lock_guard lock(mu_);
    return acked_;
  }

 private:
  std::unique_ptr<client::Client> client_;
  std::atomic<bool> stop_{false};
  std::mutex mu_;
  std::vector<std::string> acked_;
  std::thread thread_;
};

TEST(Membership, JoinRemoveAndTransferUnderLoad) {
  ClusterOptions o;
  o.nodes = 3;
  LocalCluster cluster(o);
  const uint64_t first = cluster.wait_for_leader(10s);
  ASSERT_NE(first, 0u) << cluster.logs();
  Writer writer(cluster);

  // Node 4 joins through node 1 and is promoted once it has caught up.
  cluster.start_joiner(4, 1);
  ASSERT_TRUE(LocalCluster::eventually(
      [&] {
        auto s = cluster.status(first);
        return s && has_member(*s, 4, /*voter=*/true);
      },
      20s))
      << cluster.logs();

  // Leadership moves to the newcomer on request.
  auto admin = cluster.client();
  auto st = admin->transfer_leader(4);
  ASSERT_TRUE(st.ok()) << st.error().to_string() << "\n" << cluster.logs();
  ASSERT_EQ(cluster.wait_for_leader(10s), 4u) << cluster.logs();

  // A founding member leaves; the others keep serving.
  const uint64_t gone = first == 4 ? 3 : (first == 2 ? 3 : 2);
  st = admin->remove_node(gone);
  ASSERT_TRUE(st.ok()) << st.error().to_string();
  ASSERT_TRUE(LocalCluster::eventually(
      [&] {
        auto s = cluster.status(4);
        return s && lacks_member(*s, gone);
      },
      10s));
  cluster.process(gone).signal(SIGKILL);
  cluster.process(gone).wait_exit(5s);
  // Removing a node that is not a member is refused with a reason.
  auto again = admin->remove_node(gone);
  ASSERT_FALSE(again.ok());
  EXPECT_NE(again.error().message().find("not a member"), std::string::npos)
      << again.error().to_string();

  // The leader itself leaves: it hands leadership over and the rest carry on.
  st = admin->remove_node(4);
  ASSERT_TRUE(st.ok()) << st.error().to_string();
  std::vector<uint64_t> rest;
  for (uint64_t id : cluster.ids())
    if (id != 4 && id != gone) rest.push_back(id);
  const uint64_t after = cluster.wait_for_leader(10s, rest);
  ASSERT_NE(after, 0u) << cluster.logs();
  ASSERT_TRUE(LocalCluster::eventually(
      [&] {
        auto s = cluster.status(after);
        return s && lacks_member(*s, 4);
      },
      10s));

  // The changes may take less time than a few writes: let the writer show the smaller cluster
  // takes writes too.
  const size_t before = writer.acked().size();
  EXPECT_TRUE(LocalCluster::eventually([&] { return writer.acked().size() >= before + 50; }, 20s));
  writer.stop();
  const auto acked = writer.acked();
  auto reader = cluster.client();
  for (const auto& key : acked) {
    auto v = reader->get(key);
    ASSERT_TRUE(v.ok()) << v.error().to_string();
    ASSERT_EQ(v->value_or("<lost>"), key);
  }
  // Node 4 held the data when it left; the remaining members hold everything since.
  auto local = cluster.client_of(after, 1s);
  auto v = local->get(acked.back(), /*stale=*/true);
  ASSERT_TRUE(v.ok());
  EXPECT_EQ(v->value_or("<lost>"), acked.back());
}

}  // namespace
}  // namespace cairn::itest
