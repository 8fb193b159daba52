// A Node in this process, alone in its cluster (the multi-node behaviour is tested with real
// processes in tests/integration/cluster): writes, read barriers, native commands, status, and
// that every request is answered exactly once, also when the node stops with work in flight.
#include "node/node.h"

#include "node/identity.h"

#include <gtest/gtest.h>

#include <asio/post.hpp>
#include <atomic>
#include <condition_variable>
#include <filesystem>
#include <fstream>
#include <future>
#include <mutex>

#include "cache/codec.h"
#include "cache/snapshot.h"
#include "net/client_errors.h"
#include "storage/snapshot_files.h"

namespace cairn::node {
namespace {

using namespace std::chrono_literals;

std::string temp_dir() {
  std::string tmpl = (std::filesystem::temp_directory_path() / "cairn-node-XXXXXX").string();
  return mkdtemp(tmpl.data());
}

// Node 1 alone, with fast ticks.
NodeConfig test_config(const std::string& dir) {
  NodeConfig c;
  c.id = 1;
  c.listen = "127.0.0.1:1";  // never bound: no peers to talk to
  c.data_dir = dir;
  c.tick = 5ms;
  return c;
}

class SingleNode : public ::testing::Test {
 protected:
  void SetUp() override {
    dir_ = temp_dir();
    auto n = Node::create(test_config(dir_));
    ASSERT_TRUE(n.ok()) << n.error();
    node_ = std::move(*n);
    node_->start();
  }
  void TearDown() override {
    node_.reset();
    std::filesystem::remove_all(dir_);
  }

  Outcome execute(cache::Command cmd) {
    std::promise<Outcome> p;
    node_->execute(std::move(cmd), [&p](Outcome o) { p.set_value(std::move(o)); });
    return p.get_future().get();
  }
  net::ClientResponse submit(net::CacheCommand cmd) {
    std::promise<net::ClientResponse> p;
    node_->submit(std::move(cmd), [&p](net::ClientResponse r) { p.set_value(std::move(r)); });
    return p.get_future().get();
  }

  std::string dir_;
  std::unique_ptr<Node> node_;
};

TEST_F(SingleNode, WritesApplyAndReadsAfterABarrierSeeThem) {
  auto put = execute(cache::Put{"k", "v", cache::PutCondition::kAlways, false, {}});
  ASSERT_TRUE(put.ok()) << put.error;
  std::promise<Outcome> barrier;
  node_->read_barrier([&](Outcome o) { barrier.set_value(std::move(o)); });
  ASSERT_TRUE(barrier.get_future().get().ok());
  EXPECT_EQ(node_->engine().get("k"), "v");
  auto incr = execute(cache::IncrBy{"k", 1});
  ASSERT_TRUE(incr.ok());
  EXPECT_EQ(std::get<cache::Error>(*incr.reply).code, cache::ErrorCode::kNotInteger);
}

TEST_F(SingleNode, NativeCommandsAnswerAsTheProtocolSays) {
  EXPECT_TRUE(submit(net::PutCommand{"a", "1", std::nullopt}).success);
  EXPECT_EQ(submit(net::GetCommand{"a"}).value, "1");
  EXPECT_EQ(submit(net::IncrCommand{"a", 41}).value, "42");
  EXPECT_EQ(submit(net::CompareAndSetCommand{"a", "41", "x", std::nullopt}).value, "0");
  EXPECT_EQ(submit(net::CompareAndSetCommand{"a", "42", "x", std::nullopt}).value, "1");
  EXPECT_EQ(submit(net::AppendCommand{"a", "yz"}).value, "3");
  EXPECT_EQ(submit(net::ExistsCommand{"a"}).value, "1");
  EXPECT_EQ(submit(net::TtlCommand{"a"}).value, "-1");
  EXPECT_EQ(submit(net::ExpireCommand{"a", 60000}).value, "1");
  const auto ttl = std::stoll(*submit(net::TtlCommand{"a"}).value);
  EXPECT_GT(ttl, 50000);
  EXPECT_LE(ttl, 60000);
  EXPECT_EQ(submit(net::PersistCommand{"a"}).value, "1");
  EXPECT_EQ(submit(net::StaleGetCommand{"a"}).value, "xyz");
  EXPECT_EQ(submit(net::GetDelCommand{"a"}).value, "xyz");
  EXPECT_FALSE(submit(net::GetCommand{"a"}).value.has_value());
  EXPECT_EQ(submit(net::DeleteCommand{"a"}).value, "0");
  auto bad = submit(net::IncrCommand{"big", INT64_MAX});
  EXPECT_TRUE(bad.success);
  bad = submit(net::IncrCommand{"big", 1});
  EXPECT_FALSE(bad.success);
  EXPECT_EQ(bad.error, std::string(cache::kErrOverflow));
  EXPECT_TRUE(submit(net::ClearCommand{}).success);
  EXPECT_EQ(node_->engine().dbsize(), 0u);
}

TEST_F(SingleNode, StatusDescribesTheNodeAndItsCluster) {
  ASSERT_TRUE(submit(net::PutCommand{"a", "1", std::nullopt}).success);
  std::promise<net::StatusResponse> p;
  node_->status([&](net::StatusResponse s) { p.set_value(std::move(s)); });
  auto s = p.get_future().get();
  EXPECT_EQ(s.node_id, 1u);
  EXPECT_EQ(s.role, "leader");
  EXPECT_EQ(s.leader_id, 1u);
  EXPECT_GE(s.commit_index, 2u);
  EXPECT_EQ(s.applied_index, s.commit_index);
  ASSERT_EQ(s.members.size(), 1u);
  EXPECT_EQ(s.members[0], (net::Member{1, "127.0.0.1:1", true}));
  EXPECT_EQ(s.keys, 1u);
}

TEST_F(SingleNode, EveryRequestIsAnsweredExactlyOnceEvenWhenStopping) {
  constexpr int kRequests = 5000;
  std::atomic<int> answered{0}, twice{0};
  std::vector<std::atomic<int>> seen(kRequests);
  for (int i = 0; i < kRequests; ++i) {
    auto done = [&, i](Outcome) {
      if (seen[static_cast<size_t>(i)].fetch_add(1) > 0) twice.fetch_add(1);
      answered.fetch_add(1);
    };
    if (i % 3 == 0)
      node_->read_barrier(done);
    else
      node_->execute(cache::IncrBy{"n", 1}, done);
  }
  node_->stop(1s);
  // Requests submitted after the stop are refused at once.
  std::optional<Outcome> late;
  node_->execute(cache::IncrBy{"n", 1}, [&](Outcome o) { late = std::move(o); });
  ASSERT_TRUE(late.has_value());
  EXPECT_TRUE(net::errors::is(late->error, net::errors::kShuttingDown)) << late->error;
  EXPECT_EQ(answered.load(), kRequests);
  EXPECT_EQ(twice.load(), 0);
}

// Runs fn on the node thread and returns its result.
template <typename Fn>
auto on_node_thread(Node& node, Fn fn) {
  std::promise<decltype(fn())> p;
  asio::post(node.io_context(), [&] { p.set_value(fn()); });
  return p.get_future().get();
}

TEST_F(SingleNode, ASingleVoterServesReadsAtOnceOnceItHasAppliedWhatIsCommitted) {
  ASSERT_TRUE(execute(cache::Put{"k", "v", cache::PutCondition::kAlways, false, {}}).ok());
  // The node's own entries (clock ticks) may be committed and not yet applied at a given
  // moment; within a bounded number of loop turns everything committed is applied.
  bool ready = false;
  for (int turn = 0; turn < 1000 && !ready; ++turn)
    ready = on_node_thread(*node_, [&] { return node_->can_read_now(); });
  EXPECT_TRUE(ready);
  EXPECT_EQ(node_->engine().get("k"), "v");
}

// Called on the node thread, execute() queues the write at once, ahead of work posted to the
// node thread before it (a front end on the node's loop relies on that order); its answer comes
// on a later turn. Here a write posted from another thread is already waiting behind the handler
// that writes from the node thread: without the hand-off-free path the node-thread write would be
// queued behind it and the key would end as "1". Caught mutation: node-execute-inline.
TEST_F(SingleNode, AWriteFromTheNodeThreadIsQueuedWithoutAHandOff) {
  std::promise<void> gate;
  auto held = gate.get_future().share();
  asio::post(node_->io_context(), [held] { held.wait(); });
  std::promise<Outcome> first, second;
  std::atomic<bool> called{false}, answered_inline{false};
  asio::post(node_->io_context(), [&] {
    node_->execute(cache::Put{"t", "1", cache::PutCondition::kAlways, false, {}}, [&](Outcome o) {
      called = true;
      first.set_value(std::move(o));
    });
    answered_inline = called.load();
  });
  node_->execute(cache::Put{"t", "2", cache::PutCondition::kAlways, false, {}},
                 [&](Outcome o) { second.set_value(std::move(o)); });
  gate.set_value();
  ASSERT_TRUE(first.get_future().get().ok());
  ASSERT_TRUE(second.get_future().get().ok());
  EXPECT_FALSE(answered_inline.load());
  std::promise<Outcome> barrier;
  node_->read_barrier([&](Outcome o) { barrier.set_value(std::move(o)); });
  ASSERT_TRUE(barrier.get_future().get().ok());
  EXPECT_EQ(node_->engine().get("t"), "2");
}

TEST_F(SingleNode, EncodedWritesApplyAndMalformedOnesAreRefused) {
  std::string put;
  cache::encode_put_to(put, "e", "1", cache::PutCondition::kAlways, false, cache::Expiry::none(),
                       0);
  std::promise<Outcome> ok, bad;
  node_->execute_encoded(put, [&](Outcome o) { ok.set_value(std::move(o)); });
  node_->execute_encoded("short", [&](Outcome o) { bad.set_value(std::move(o)); });
  auto o = ok.get_future().get();
  ASSERT_TRUE(o.ok()) << o.error;
  EXPECT_EQ(node_->engine().get("e"), "1");
  auto b = bad.get_future().get();
  EXPECT_FALSE(b.ok());
  EXPECT_NE(b.error.find("malformed command"), std::string::npos) << b.error;
}

// A leader of more than one voter cannot serve reads without a round: node_faults_test.cc,
// ScriptedCluster.ALeaderOfThreeCannotServeReadsWithoutARound (there the node does lead).

TEST(NodeLog, CompactedByBytesWithABoundedTail) {
  const std::string dir = temp_dir();
  NodeConfig c = test_config(dir);
  c.compact_bytes = 1u << 20;  // entries of 64 KiB: a compaction every 16, a tail of at most 4
  auto n = Node::create(c);
  ASSERT_TRUE(n.ok()) << n.error();
  Node& node = **n;
  node.start();
  for (int i = 0; i < 64; ++i) {
    std::promise<Outcome> p;
    node.execute(cache::Put{"k" + std::to_string(i),
                            std::string(64 * 1024, 'v'),
                            cache::PutCondition::kAlways,
                            false,
                            {}},
                 [&](Outcome o) { p.set_value(std::move(o)); });
    ASSERT_TRUE(p.get_future().get().ok()) << i;
  }
  std::promise<net::StatusResponse> status;
  node.status([&](net::StatusResponse st) { status.set_value(std::move(st)); });
  const uint64_t applied = status.get_future().get().applied_index;
  const uint64_t first = on_node_thread(node, [&] { return node.log_first_index(); });
  // Well past the 100,000-entry rule: only bytes can have compacted this log.
  EXPECT_GT(first, 40u);
  EXPECT_LE(applied - first, 20u);
  EXPECT_EQ(node.engine().get("k0"), std::string(64 * 1024, 'v'));
  n->reset();
  std::filesystem::remove_all(dir);
}

// Holds the node's first snapshot build at its start until let go (and always lets it go before
// the node is destroyed, on every way out of a test).
struct BuildGate {
  std::mutex mu;
  std::condition_variable cv;
  bool building = false;
  bool let_go = false;
  std::thread::id builder;
  void install(NodeConfig& c) {
    c.snapshot_build_started = [this] {
      std::unique_lock lock(mu);
      if (building) return;  // hold only the first build
      building = true;
      builder = std::this_thread::get_id();
      cv.notify_all();
      cv.wait(lock, [this] { return let_go; });
    };
  }
  bool wait_building() {
    std::unique_lock lock(mu);
    return cv.wait_for(lock, 10s, [this] { return building; });
  }
  void release() {
    std::lock_guard lock(mu);
    let_go = true;
    cv.notify_all();
  }
};

// A durable node whose first snapshot build the gate holds; 16 writes of 64 KiB make one due.
NodeConfig gated_config(const std::string& dir, BuildGate& gate) {
  NodeConfig c = test_config(dir);
  c.durable = true;
  c.compact_bytes = 1u << 20;
  gate.install(c);
  return c;
}

// Declared after the node it guards, so it lets the build go before the node is destroyed.
struct ReleaseOnExit {
  BuildGate& gate;
  ~ReleaseOnExit() { gate.release(); }
};

// A write through node.execute(); false unless answered OK within 10 s.
std::future<Outcome> put_async(Node& node, const std::string& key, const std::string& value) {
  auto p = std::make_shared<std::promise<Outcome>>();
  auto answer = p->get_future();
  node.execute(cache::Put{key, value, cache::PutCondition::kAlways, false, {}},
               [p](Outcome o) { p->set_value(std::move(o)); });
  return answer;
}

bool put(Node& node, const std::string& key, const std::string& value) {
  auto answer = put_async(node, key, value);
  if (answer.wait_for(10s) != std::future_status::ready) return false;
  return answer.get().ok();
}

// A snapshot of a large state takes seconds to compress and write. The node captures its applied
// state and builds the snapshot on a thread of its own: here the build is held at its start, and
// the node must still take writes and serve reads meanwhile (a build on the node thread would hold
// them all). Once let go, the snapshot reaches the disk holding the state of the capture's moment.
TEST(NodeSnapshot, IsBuiltOnAThreadOfItsOwnWhileWritesGoOn) {
  const std::string dir = temp_dir();
  BuildGate gate;
  auto n = Node::create(gated_config(dir, gate));
  ASSERT_TRUE(n.ok()) << n.error();
  Node& node = **n;
  ReleaseOnExit release{gate};
  node.start();
  const std::string big(64 * 1024, 'v');
  for (int i = 0; i < 20; ++i)
    ASSERT_TRUE(put(node, "k" + std::to_string(i), big)) << i;
  ASSERT_TRUE(gate.wait_building()) << "no snapshot was started";
  EXPECT_NE(gate.builder, on_node_thread(node, [] { return std::this_thread::get_id(); }));
  for (int i = 0; i < 50; ++i)
    ASSERT_TRUE(put(node, "after" + std::to_string(i), "x")) << "write " << i << " while building";
  EXPECT_EQ(node.engine().get("after49"), "x");

  gate.release();
  const std::filesystem::path snap_dir = std::filesystem::path(dir) / "snap";
  std::optional<raft::Snapshot> newest;
  for (int i = 0; i < 1000 && !newest; ++i) {  // bounded: 10 s
    for (const auto& e : std::filesystem::directory_iterator(snap_dir)) {
      if (e.path().extension() != ".snap") continue;
      auto snap = storage::read_snapshot_file(e.path().string());
      // An older file is removed once a newer one is in place: it may go between list and read.
      if (!snap.ok() && !std::filesystem::exists(e.path())) continue;
      ASSERT_TRUE(snap.ok()) << snap.error();
      if (snap->metadata().index() > 1) newest = std::move(*snap);
    }
    if (!newest) std::this_thread::sleep_for(10ms);
  }
  ASSERT_TRUE(newest.has_value()) << "the snapshot never reached " << snap_dir;
  std::string_view data = newest->data();
  ASSERT_TRUE(AddressBook::decode(data).ok());
  cache::Engine restored;
  auto info = cache::restore_snapshot(
      restored, [data] { return std::make_unique<cache::StringSource>(data); });
  ASSERT_TRUE(info.ok()) << info.error().message;
  EXPECT_TRUE(restored.get("k0") == big);           // (not printed: 64 KiB)
  EXPECT_EQ(restored.get("after0"), std::nullopt);  // written after the capture
  n->reset();
  std::filesystem::remove_all(dir);
}

// The log waits for a snapshot's build before it is compacted; writes arriving faster than the
// build would grow it by their rate times the build's time. Past twice compact_bytes since the
// last compaction the leader holds new writes in its queue until the build ends, and then takes
// them. Here the build is held: the writes that fill the log to twice its compaction size are
// taken, the next waits, and it is taken once the build goes on.
// Caught mutation: node-log-bound-while-building
TEST(NodeSnapshot, WritesWaitOnceTheLogIsTwiceItsCompactionSizeWhileABuildHoldsIt) {
  const std::string dir = temp_dir();
  BuildGate gate;  // 32 writes of 64 KiB fill twice compact_bytes
  auto n = Node::create(gated_config(dir, gate));
  ASSERT_TRUE(n.ok()) << n.error();
  Node& node = **n;
  ReleaseOnExit release{gate};
  node.start();
  const std::string big(64 * 1024, 'v');
  ASSERT_TRUE(put(node, "k0", big));  // once elected
  int held_at = -1;
  std::future<Outcome> waiting;
  for (int i = 1; i < 48 && held_at < 0; ++i) {
    auto answer = put_async(node, "k" + std::to_string(i), big);
    // Taken writes are answered in milliseconds; a held one is not answered at all until the
    // build goes on (there is no timing to race: it cannot be answered before the release).
    if (answer.wait_for(5s) == std::future_status::ready) {
      ASSERT_TRUE(answer.get().ok()) << i;
      continue;
    }
    held_at = i;
    waiting = std::move(answer);
  }
  ASSERT_TRUE(gate.wait_building()) << "no snapshot was started";
  ASSERT_GE(held_at, 0) << "48 writes of 64 KiB (3 MiB) were taken while the build was held";
  // Each write is 64 KiB and a few bytes of entry: the 32nd or 33rd reaches twice 1 MiB.
  EXPECT_GE(held_at, 30);
  EXPECT_LE(held_at, 33);
  gate.release();
  ASSERT_EQ(waiting.wait_for(10s), std::future_status::ready) << "the held write was not taken";
  EXPECT_TRUE(waiting.get().ok());
  EXPECT_EQ(node.engine().get("k" + std::to_string(held_at)), big);
  n->reset();
  std::filesystem::remove_all(dir);
}

// Polls `pred` every 10 ms for at most 10 s.
template <typename Pred>
bool LocalWait(Pred pred) {
  for (int i = 0; i < 1000; ++i) {
    if (pred()) return true;
    std::this_thread::sleep_for(10ms);
  }
  return pred();
}

// A snapshot file that cannot be written (here its directory has become a file; a full disk in
// practice) keeps the log on disk behind it, and the next build waits for snapshot_retry_delay:
// rebuilt at once, every turn of the loop would compress the whole state again.
TEST(NodeSnapshot, AFailedWriteIsTriedAgainOnlyAfterThePause) {
  const std::string dir = temp_dir();
  NodeConfig c = test_config(dir);
  c.durable = true;
  c.compact_bytes = 1u << 20;
  c.snapshot_retry_delay = std::chrono::hours(1);
  std::atomic<int> builds{0};
  c.snapshot_build_started = [&] { ++builds; };
  auto n = Node::create(c);
  ASSERT_TRUE(n.ok()) << n.error();
  Node& node = **n;
  node.start();
  const std::filesystem::path snap = std::filesystem::path(dir) / "snap";
  std::filesystem::rename(snap, std::filesystem::path(dir) / "snap-moved");
  { std::ofstream(snap.string()) << "not a directory"; }
  auto put = [&](const std::string& key) {
    std::promise<Outcome> p;
    node.execute(
        cache::Put{key, std::string(64 * 1024, 'v'), cache::PutCondition::kAlways, false, {}},
        [&p](Outcome o) { p.set_value(std::move(o)); });
    return p.get_future().get().ok();
  };
  for (int i = 0; i < 20; ++i)
    ASSERT_TRUE(put("k" + std::to_string(i))) << i;
  ASSERT_TRUE(LocalWait([&] {
    return builds.load() >= 1 && !on_node_thread(node, [&] { return node.snapshot_building(); });
  })) << "the first build never ended";
  // Well past the next compaction mark: without the pause a build would start at once.
  for (int i = 20; i < 60; ++i)
    ASSERT_TRUE(put("k" + std::to_string(i))) << i;
  (void)on_node_thread(node, [] { return 0; });
  EXPECT_EQ(builds.load(), 1);
  n->reset();
  std::filesystem::remove_all(dir);
}

// With --fsync always the log is synced on a thread of its own, and a leader counts its own
// entries toward commitment only once that sync returns: a single node, whose own copy is its
// quorum, must not apply or answer a write whose sync is held back, and answers it once the sync
// is let go. (Counted at append, as before the log syncer, the write would be answered at once.)
TEST(NodeLogSync, ASingleNodeAnswersAWriteOnlyOnceItsSyncReturns) {
  const std::string dir = temp_dir();
  NodeConfig c = test_config(dir);
  c.durable = true;
  std::mutex mu;
  std::condition_variable cv;
  bool hold = false;
  bool held = false;
  c.log_sync_started = [&] {
    std::unique_lock lock(mu);
    if (!hold) return;
    held = true;
    cv.notify_all();
    cv.wait(lock, [&] { return !hold; });
  };
  auto n = Node::create(c);
  ASSERT_TRUE(n.ok()) << n.error();
  Node& node = **n;
  struct Release {  // before the node is destroyed, on every way out of the test
    std::mutex& mu;
    std::condition_variable& cv;
    bool& hold;
    void operator()() {
      std::lock_guard lock(mu);
      hold = false;
      cv.notify_all();
    }
    ~Release() { (*this)(); }
  } release{mu, cv, hold};
  node.start();
  auto put = [&](const std::string& key) {
    auto p = std::make_shared<std::promise<Outcome>>();
    node.execute(cache::Put{key, "v", cache::PutCondition::kAlways, false, {}},
                 [p](Outcome o) { p->set_value(std::move(o)); });
    return p->get_future();
  };
  auto first = put("before");  // a leader, and its no-op committed
  ASSERT_EQ(first.wait_for(10s), std::future_status::ready);
  ASSERT_TRUE(first.get().ok());
  {
    std::lock_guard lock(mu);
    hold = true;
  }
  auto answer = put("k");
  {
    std::unique_lock lock(mu);
    ASSERT_TRUE(cv.wait_for(lock, 10s, [&] { return held; })) << "no sync was started";
  }
  // The write is in the log (its sync started after it was written) but not durable: a few turns
  // of the node's loop must neither apply nor answer it.
  for (int turn = 0; turn < 20; ++turn)
    (void)on_node_thread(node, [] { return 0; });
  EXPECT_NE(answer.wait_for(0s), std::future_status::ready);
  EXPECT_EQ(node.engine().get("k"), std::nullopt);
  release();
  ASSERT_EQ(answer.wait_for(10s), std::future_status::ready);
  EXPECT_TRUE(answer.get().ok());
  EXPECT_EQ(node.engine().get("k"), "v");
  n->reset();
  std::filesystem::remove_all(dir);
}

// A data directory belongs to one node of one cluster: started as another node, or as a founder
// of a cluster with other members, the node refuses with a message saying what the directory
// holds; restarted as itself it starts.
TEST(NodeIdentity, ADataDirectoryOfAnotherNodeOrClusterIsRefused) {
  const std::string dir = temp_dir();
  NodeConfig c = test_config(dir);
  c.peers = {{1, "127.0.0.1:1"}, {2, "127.0.0.1:2"}, {3, "127.0.0.1:3"}};
  ASSERT_TRUE(Node::create(c).ok());
  ASSERT_TRUE(Node::create(c).ok()) << "the same node and cluster must start again";
  NodeConfig other_node = c;
  other_node.id = 2;
  other_node.listen = "127.0.0.1:2";
  auto r = Node::create(other_node);
  ASSERT_FALSE(r.ok());
  EXPECT_NE(r.error().find("belongs to node 1, not node 2"), std::string::npos) << r.error();
  NodeConfig other_cluster = c;
  other_cluster.peers[3] = "127.0.0.1:4";
  r = Node::create(other_cluster);
  ASSERT_FALSE(r.ok());
  EXPECT_NE(r.error().find("founded with other members"), std::string::npos) << r.error();
  std::filesystem::remove_all(dir);
}

// The cluster id founders compute alike: from ids and addresses, or, with a token, from ids and
// the token alone (founders that see each other at different addresses still agree).
TEST(NodeIdentity, TheClusterIdComesFromAddressesOrFromAToken) {
  const std::map<net::NodeId, std::string> seen_by_1 = {{1, "10.0.0.1:1"}, {2, "10.0.0.2:1"}};
  const std::map<net::NodeId, std::string> seen_by_2 = {{1, "192.168.0.1:1"}, {2, "10.0.0.2:1"}};
  EXPECT_NE(founding_cluster_id(seen_by_1), founding_cluster_id(seen_by_2));
  EXPECT_EQ(founding_cluster_id(seen_by_1, "prod"), founding_cluster_id(seen_by_2, "prod"));
  EXPECT_NE(founding_cluster_id(seen_by_1, "prod"), founding_cluster_id(seen_by_1, "test"));
  EXPECT_NE(founding_cluster_id(seen_by_1, "prod"), founding_cluster_id({{1, "x"}}, "prod"));
}

TEST(NodeConfig, InvalidConfigurationsAreRefusedWithAReason) {
  NodeConfig c;
  c.id = 0;
  EXPECT_FALSE(Node::create(c).ok());
  c.id = 2;
  c.peers = {{1, "127.0.0.1:9001"}};
  auto r = Node::create(c);
  ASSERT_FALSE(r.ok());
  EXPECT_NE(r.error().find("does not include this node"), std::string::npos) << r.error();
  c.peers = {{2, "127.0.0.1:9001"}};
  c.join = "127.0.0.1:9005";
  r = Node::create(c);
  ASSERT_FALSE(r.ok());
  EXPECT_NE(r.error().find("exclusive"), std::string::npos) << r.error();
}

}  // namespace
}  // namespace cairn::node
