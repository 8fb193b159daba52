// A Node of a three-member cluster whose other two members are played by the test
// (ScriptedPeer): each test steps the messages of a fault schedule - a new leader's heartbeat in
// the same loop turn as a write, a restart, a leader's TimeoutNow to a recovering node - in an
// exact order, and checks what the node answers its clients and whether it votes. Each test
// names the guard whose removal it catches (docs/testing.md, the mutation list).
#include <gtest/gtest.h>

#include <asio/post.hpp>
#include <condition_variable>
#include <filesystem>
#include <future>
#include <mutex>
#include <thread>

#include "cache/codec.h"
#include "net/client_errors.h"
#include "node/command_mapping.h"
#include "node/hard_state_file.h"
#include "node/node.h"
#include "scripted_peer.h"
#include "test_util.h"

namespace cairn::node {
namespace {

using namespace std::chrono_literals;
using net::testing::ServerThread;
using net::testing::wait_until;
using testing::ScriptedPeer;

constexpr auto kWait = 20s;  // bound on waiting for something that must happen

std::string temp_dir() {
  std::string tmpl = (std::filesystem::temp_directory_path() / "cairn-node-XXXXXX").string();
  return mkdtemp(tmpl.data());
}

int64_t wall_ms() {
  return std::chrono::duration_cast<std::chrono::milliseconds>(
             std::chrono::system_clock::now().time_since_epoch())
      .count();
}

bool is_type(const eraftpb::Message& m, eraftpb::MessageType t) {
  return m.msg_type() == t;
}

// Holds the log syncer's syncs (NodeConfig::log_sync_started) while `hold` is set, as a disk that
// takes seconds to sync a large write would. Released on destruction, before the node goes.
class SyncGate {
 public:
  ~SyncGate() { release(); }
  std::function<void()> hook() {
    return [this] {
      std::unique_lock lock(mu_);
      if (!hold_) return;
      held_ = true;
      cv_.notify_all();
      cv_.wait(lock, [&] { return !hold_; });
    };
  }
  void hold() {
    std::lock_guard lock(mu_);
    hold_ = true;
  }
  bool wait_held(std::chrono::milliseconds timeout) {
    std::unique_lock lock(mu_);
    return cv_.wait_for(lock, timeout, [&] { return held_; });
  }
  void release() {
    std::lock_guard lock(mu_);
    hold_ = false;
    cv_.notify_all();
  }

 private:
  std::mutex mu_;
  std::condition_variable cv_;
  bool hold_ = false;
  bool held_ = false;
};

class ScriptedCluster : public ::testing::Test {
 protected:
  void SetUp() override {
    dir_ = temp_dir();
    p2_ = std::make_shared<ScriptedPeer>();
    p3_ = std::make_shared<ScriptedPeer>();
    s2_.emplace(net::ServerConfig{}, p2_);
    s3_.emplace(net::ServerConfig{}, p3_);
  }
  void TearDown() override {
    sync_gate_.release();
    p2_->on_raft({});
    p3_->on_raft({});
    node_.reset();
    s2_.reset();
    s3_.reset();
    std::filesystem::remove_all(dir_);
  }

  // Node 1 of {1, 2, 3}; 2 and 3 are the scripted peers. Fast ticks; an election timeout of
  // 300-600 ms, long enough for the test to answer a vote request before it campaigns again.
  NodeConfig config() const {
    NodeConfig c;
    c.id = 1;
    c.listen = "127.0.0.1:1";  // the node is stepped directly; it never listens
    c.data_dir = dir_;
    c.tick = 10ms;
    c.election_ticks = 30;
    c.request_timeout = 60s;  // no answer in these tests comes from a timeout
    c.clock_tick = 1h;        // no clock-tick entries: the log holds only what a test writes
    c.peers = {{1, c.listen}, {2, s2_->addr()}, {3, s3_->addr()}};
    return c;
  }
  void start(NodeConfig c) {
    auto n = Node::create(std::move(c));
    ASSERT_TRUE(n.ok()) << n.error();
    node_ = std::move(*n);
    node_->start();
  }
  void restart(NodeConfig c) {
    p2_->on_raft({});
    p3_->on_raft({});
    node_.reset();
    start(std::move(c));
  }
  net::StatusResponse status() {
    std::promise<net::StatusResponse> p;
    node_->status([&](net::StatusResponse s) { p.set_value(std::move(s)); });
    return p.get_future().get();
  }
  // Peer 2 grants the node's pre-vote and vote: node 1 leads. Peer 2 then acknowledges every
  // heartbeat (so CheckQuorum keeps the node leading) and, while acks_appends_, every append.
  void become_leader() {
    p2_->on_raft([this](const eraftpb::Message& m) {
      if (m.msg_type() == eraftpb::MsgHeartbeat ||
          (m.msg_type() == eraftpb::MsgAppend && acks_appends_.load()))
        if (auto r = testing::ack(m)) node_->step(std::move(*r));
      if (m.msg_type() == eraftpb::MsgRequestPreVote)
        node_->step(testing::reply_to(m, eraftpb::MsgRequestPreVoteResponse));
      if (m.msg_type() == eraftpb::MsgRequestVote)
        node_->step(testing::reply_to(m, eraftpb::MsgRequestVoteResponse));
    });
    ASSERT_TRUE(wait_until([&] { return status().role == "leader"; }, kWait));
    ASSERT_TRUE(wait_until(
        [&] {
          auto s = status();
          return s.commit_index >= 2 && s.applied_index == s.commit_index;
        },
        kWait));
  }
  // Runs fn on the node thread and returns its result.
  template <typename Fn>
  auto on_node_thread(Fn fn) {
    std::promise<decltype(fn())> p;
    asio::post(node_->io_context(), [&] { p.set_value(fn()); });
    return p.get_future().get();
  }
  eraftpb::Message from_peer(net::NodeId from, eraftpb::MessageType t, uint64_t term) {
    eraftpb::Message m;
    m.set_msg_type(t);
    m.set_from(from);
    m.set_to(1);
    m.set_term(term);
    return m;
  }
  // An append from `from` in `term`: after (prev_index, prev_term), entries of the given terms
  // (empty data: a leader's no-op), and a commit index.
  eraftpb::Message append(net::NodeId from, uint64_t term, uint64_t prev_index, uint64_t prev_term,
                          const std::vector<uint64_t>& entry_terms, uint64_t commit) {
    auto m = from_peer(from, eraftpb::MsgAppend, term);
    m.set_index(prev_index);
    m.set_log_term(prev_term);
    m.set_commit(commit);
    for (size_t i = 0; i < entry_terms.size(); ++i) {
      auto* e = m.add_entries();
      e->set_index(prev_index + 1 + i);
      e->set_term(entry_terms[i]);
    }
    return m;
  }

  std::string dir_;
  std::shared_ptr<ScriptedPeer> p2_, p3_;
  std::optional<ServerThread> s2_, s3_;
  SyncGate sync_gate_;  // released by TearDown before the node is destroyed
  std::unique_ptr<Node> node_;
  std::atomic<bool> acks_appends_{true};
};

// A leader deposed by a higher-term message stepped in the same loop turn as a write must not
// propose that write as if it still led: it goes to the new leader, and its client never gets
// the outcome of the entry the new leader put at that index (before: the write was handed to the
// Raft core, which forwarded it and said OK, and the node waited for it at its own next index
// under the new term, answering with another client's INCR). Caught mutation:
// node-proposal-role-live.
TEST_F(ScriptedCluster, ALeaderDeposedInTheSameTurnForwardsInsteadOfTakingAnotherAnswer) {
  start(config());
  become_leader();
  const auto before = status();
  acks_appends_ = false;
  // Holds the node thread so that the write is queued, then the new leader's heartbeat deposes
  // the node, and only then the loop turn that proposes queued writes runs - before any Ready has
  // reported the lost leadership.
  std::promise<void> gate;
  auto held = gate.get_future().share();
  asio::post(node_->io_context(), [held] { held.wait(); });
  std::promise<Outcome> answer;
  node_->execute(cache::IncrBy{"n", 1}, [&](Outcome o) { answer.set_value(std::move(o)); });
  auto heartbeat = from_peer(2, eraftpb::MsgHeartbeat, before.term + 1);
  heartbeat.set_commit(before.commit_index);
  node_->step(heartbeat);
  gate.set_value();

  // Node 2, the new leader, commits an entry of its own at the next index: another client's
  // INCR by 100.
  auto entry = append(2, before.term + 1, before.last_index, before.term, {before.term + 1},
                      before.last_index + 1);
  entry.mutable_entries(0)->set_data(cache::encode_entry(cache::IncrBy{"other", 100}, wall_ms()));
  node_->step(entry);
  ASSERT_TRUE(wait_until([&] { return status().applied_index >= before.last_index + 1; }, kWait));
  auto result = answer.get_future();
  if (result.wait_for(0s) == std::future_status::ready) {
    auto o = result.get();
    FAIL() << "answered before the leader answered the write: "
           << (o.ok() && std::holds_alternative<int64_t>(*o.reply)
                   ? "INCR = " + std::to_string(std::get<int64_t>(*o.reply))
                   : o.error);
  }
  // The write went to node 2 as a forward; node 2's answer is the client's.
  auto fwd = p2_->take_forward(kWait);
  ASSERT_TRUE(fwd.has_value()) << "the write was not forwarded to the new leader";
  auto reply = outcome_to_forward_reply(Outcome::of(int64_t{1}), true);
  reply.request_id = fwd->request_id;
  node_->receive_forward_reply(reply);
  auto o = result.get();
  ASSERT_TRUE(o.ok()) << o.error;
  EXPECT_EQ(std::get<int64_t>(*o.reply), 1);
  EXPECT_EQ(node_->engine().get("other"), "100");
}

// Raft's persistence rule for votes: the vote is on disk before the message granting it leaves
// the node. Peer 2 reads the node's hard-state file the moment the grant reaches it. Caught
// mutation: node-vote-persisted-before-send.
TEST_F(ScriptedCluster, AVoteIsOnDiskBeforeTheGrantLeaves) {
  start(config());
  std::promise<std::optional<TermAndVote>> on_disk;
  p2_->on_raft([&, once = false](const eraftpb::Message& m) mutable {
    if (once || m.msg_type() != eraftpb::MsgRequestVoteResponse) return;
    once = true;
    auto file = HardStateFile::open(dir_);
    auto loaded = file.ok() ? file->load() : Err{file.error()};
    on_disk.set_value(loaded.ok() ? *loaded : std::nullopt);
  });
  auto vote = from_peer(2, eraftpb::MsgRequestVote, 7);
  vote.set_index(1);  // as up to date as the node's log (the founding snapshot at 1, term 1)
  vote.set_log_term(1);
  node_->step(vote);
  auto granted = p2_->wait_for(
      [](const eraftpb::Message& m) { return is_type(m, eraftpb::MsgRequestVoteResponse); }, kWait);
  ASSERT_TRUE(granted.has_value());
  ASSERT_FALSE(granted->reject());
  auto stored = on_disk.get_future().get();
  ASSERT_TRUE(stored.has_value()) << "no term and vote on disk when the grant arrived";
  EXPECT_EQ(*stored, (TermAndVote{7, 2}));
}

// A write proposed to the log when the node stops may still commit on the next leader: its
// client must hear "outcome unknown" (dropped), never "shutting down", which a client retries
// as never executed and so applies twice. Caught mutation: node-stop-outcome-unknown.
TEST_F(ScriptedCluster, StoppingAnswersProposedWritesAsOutcomeUnknown) {
  start(config());
  become_leader();
  acks_appends_ = false;  // the write is appended and sent, never committed
  const auto before = status();
  std::promise<Outcome> answer;
  node_->execute(cache::IncrBy{"n", 1}, [&](Outcome o) { answer.set_value(std::move(o)); });
  ASSERT_TRUE(p2_->wait_for(
      [&](const eraftpb::Message& m) {
        return is_type(m, eraftpb::MsgAppend) && m.entries_size() > 0 &&
               m.entries(m.entries_size() - 1).index() > before.last_index;
      },
      kWait));
  node_->stop(0ms);
  auto o = answer.get_future().get();
  ASSERT_FALSE(o.ok());
  EXPECT_TRUE(net::errors::is(o.error, net::errors::kDropped)) << o.error;
  EXPECT_FALSE(net::errors::never_executed(o.error)) << o.error;
}

// The same for a write forwarded to the leader and not yet answered.
TEST_F(ScriptedCluster, StoppingAnswersForwardedWritesAsOutcomeUnknown) {
  start(config());
  auto heartbeat = from_peer(2, eraftpb::MsgHeartbeat, 5);
  heartbeat.set_commit(1);
  node_->step(heartbeat);
  ASSERT_TRUE(wait_until([&] { return status().leader_id == 2; }, kWait));
  std::promise<Outcome> answer;
  node_->execute(cache::IncrBy{"n", 1}, [&](Outcome o) { answer.set_value(std::move(o)); });
  ASSERT_TRUE(p2_->take_forward(kWait).has_value());
  node_->stop(0ms);
  auto o = answer.get_future().get();
  ASSERT_FALSE(o.ok());
  EXPECT_TRUE(net::errors::is(o.error, net::errors::kDropped)) << o.error;
}

// Forward ids and ReadIndex contexts of a restarted node differ from its previous run's, whose
// requests may still be in flight at the leader (before, both restarted at 1, so a reply meant
// for the old run could answer the new run's request). Caught mutation: node-request-ids-random.
TEST_F(ScriptedCluster, ARestartedNodeUsesNewRequestIds) {
  auto ids = [&]() -> std::pair<uint64_t, std::string> {
    auto heartbeat = from_peer(2, eraftpb::MsgHeartbeat, 5);
    heartbeat.set_commit(1);
    node_->step(heartbeat);
    EXPECT_TRUE(wait_until([&] { return status().leader_id == 2; }, kWait));
    node_->execute(cache::IncrBy{"n", 1}, [](Outcome) {});
    auto fwd = p2_->take_forward(kWait);
    const auto read_index = [](const eraftpb::Message& m) {
      return is_type(m, eraftpb::MsgReadIndex);
    };
    const size_t seen = p2_->count(read_index);
    node_->read_barrier([](Outcome) {});
    EXPECT_TRUE(wait_until([&] { return p2_->count(read_index) > seen; }, kWait));
    const auto reads = p2_->matching(read_index);
    EXPECT_TRUE(fwd.has_value());
    if (!fwd || reads.size() <= seen || reads[seen].entries_size() != 1) return {};
    return {fwd->request_id, reads[seen].entries(0).data()};
  };
  start(config());
  const auto first = ids();
  restart(config());
  const auto second = ids();
  ASSERT_NE(first.second, "");
  EXPECT_NE(first.first, second.first);
  EXPECT_NE(first.second, second.second);
}

// A node restarted without its log (its term is on disk, the log was in memory) must not campaign
// even when a leader hands it leadership: its log may lack committed entries. Caught mutation:
// node-recovery-blocks-timeout-now.
TEST_F(ScriptedCluster, ARecoveringNodeIgnoresTimeoutNow) {
  {
    auto file = HardStateFile::open(dir_);
    ASSERT_TRUE(file.ok());
    ASSERT_TRUE(file->store(TermAndVote{5, 2}).ok());
  }
  start(config());
  ASSERT_EQ(status().role, "recovering");
  node_->step(from_peer(2, eraftpb::MsgTimeoutNow, 5));
  EXPECT_EQ(status().role, "recovering");
  EXPECT_EQ(p2_->count([](const auto& m) { return is_type(m, eraftpb::MsgRequestVote); }), 0u);
}

// A recovering node stops recovering only once it has applied what the current leader has
// committed, including an entry of that leader's own term: before that, the leader's commit index
// may lag what an earlier leader committed with this node's lost acknowledgements (a leader
// elected at commit 5 may not yet know 10 is committed). Before, reaching the first commit index
// heard was enough. Caught mutation: node-recovery-own-term.
TEST_F(ScriptedCluster, RecoveryEndsOnlyWithAnEntryOfTheLeadersTerm) {
  {
    auto file = HardStateFile::open(dir_);
    ASSERT_TRUE(file.ok());
    ASSERT_TRUE(file->store(TermAndVote{5, 2}).ok());
  }
  const auto c = config();
  start(c);
  ASSERT_EQ(status().role, "recovering");
  // The node listens for two election timeouts before it takes a catch-up target, so that no
  // acknowledgement from its previous run is still in flight; this is a lower bound, not a race.
  std::this_thread::sleep_for(c.tick * (2 * c.election_ticks) + 100ms);
  // Leader 2 of term 6 has not committed an entry of its term yet: commit 5, entries of term 5.
  node_->step(append(2, 6, 1, 1, {5, 5, 5, 5}, 5));
  ASSERT_TRUE(wait_until([&] { return status().applied_index == 5; }, kWait));
  EXPECT_EQ(status().role, "recovering") << "voting again before the leader's term committed";
  // Its own first entry commits: everything committed before it is now applied here too.
  node_->step(append(2, 6, 5, 5, {6}, 6));
  ASSERT_TRUE(wait_until([&] { return status().applied_index == 6; }, kWait));
  EXPECT_TRUE(wait_until([&] { return status().role == "follower"; }, kWait)) << status().role;
}

// A node founded alone that another node then joined is a member of a two-voter cluster: started
// again with its founding flags and without its log, it must recover, not elect itself alone and
// serve an empty cache beside the real cluster (the membership comes from what is stored, not
// from the flags). Caught mutation: node-stored-membership.
TEST_F(ScriptedCluster, AFoundingNodeOfAGrownClusterRecoversOnRestart) {
  NodeConfig alone = config();
  alone.peers.clear();
  start(alone);
  ASSERT_TRUE(wait_until([&] { return status().role == "leader"; }, kWait));
  p2_->on_raft([this](const eraftpb::Message& m) {
    if (auto r = testing::ack(m)) node_->step(std::move(*r));
  });
  std::promise<Outcome> added;
  node_->admin(net::AddNodeCommand{2, s2_->addr()},
               [&](Outcome o) { added.set_value(std::move(o)); });
  ASSERT_TRUE(added.get_future().get().ok());
  ASSERT_TRUE(wait_until(
      [&] {
        for (const auto& m : status().members)
          if (m.id == 2 && m.voter) return true;
        return false;
      },
      kWait))
      << "node 2 was never promoted";
  restart(alone);
  EXPECT_EQ(status().role, "recovering");
  EXPECT_NE(status().leader_id, 1u);
}

// A leader of three that has applied everything still needs a ReadIndex round for a linearizable
// read: it is not the only voter. (The node leads here, so the answer depends on the only-voter
// check alone, not on the role.) Caught mutation: node-can-read-only-voter.
TEST_F(ScriptedCluster, ALeaderOfThreeCannotServeReadsWithoutARound) {
  start(config());
  become_leader();
  // Asked on many loop turns, some of them with everything committed applied (a new leader's
  // first clock tick may still be committing at the first ones): never true.
  int caught_up = 0;
  for (int turn = 0; turn < 200; ++turn) {
    const auto s = status();
    ASSERT_EQ(s.role, "leader");
    if (s.applied_index == s.commit_index) ++caught_up;
    EXPECT_FALSE(on_node_thread([&] { return node_->can_read_now(); })) << "turn " << turn;
  }
  EXPECT_GT(caught_up, 0) << "the node never had everything applied: nothing was tested";
}

// On shutdown a leader hands over to a voter it has heard from lately, not to one whose
// acknowledged log is longest but which went quiet (stopped or cut off): waiting for that one
// would hold the shutdown for its whole grace and leave the cluster leaderless meanwhile.
// Caught mutation: node-handover-recent.
TEST_F(ScriptedCluster, ShutdownHandsOverToAVoterHeardFromLately) {
  start(config());
  become_leader();
  // Node 3 acknowledges heartbeats only: its log stays behind node 2's.
  std::atomic<bool> p3_appends{false};
  p3_->on_raft([&](const eraftpb::Message& m) {
    if (m.msg_type() == eraftpb::MsgHeartbeat ||
        (m.msg_type() == eraftpb::MsgAppend && p3_appends.load()))
      if (auto r = testing::ack(m)) node_->step(std::move(*r));
  });
  // Node 2 goes quiet. Three CheckQuorum rounds later (each at most two election timeouts of
  // ticks; the leader sends node 3 one heartbeat per tick) the leader counts it inactive.
  p2_->on_raft({});
  const auto is_heartbeat = [](const eraftpb::Message& m) {
    return is_type(m, eraftpb::MsgHeartbeat);
  };
  const size_t from = p3_->count(is_heartbeat);
  const auto c = config();
  ASSERT_TRUE(wait_until(
      [&] { return p3_->count(is_heartbeat) >= from + static_cast<size_t>(6 * c.election_ticks); },
      60s));
  ASSERT_EQ(status().role, "leader");
  p3_appends = true;
  std::thread stopper([&] { node_->stop(30s); });
  const auto timeout_now = [](const eraftpb::Message& m) {
    return is_type(m, eraftpb::MsgTimeoutNow);
  };
  EXPECT_TRUE(p3_->wait_for(timeout_now, kWait).has_value()) << "no handover to node 3";
  stopper.join();
  EXPECT_EQ(p2_->count(timeout_now), 0u);
}

// A sync that takes seconds (a write of hundreds of MB, a slow disk) must not cost the cluster
// its leader: the leader's heartbeats leave while its own copy of a write is being synced, and a
// follower answers heartbeats while its copy is; only what depends on the sync waits for it (the
// write's answer, the follower's acknowledgement of the entry). Before, every message of a Ready
// waited for a sync under way, heartbeats too, and followers started an election. Caught
// mutation: node-heartbeats-not-held.
TEST_F(ScriptedCluster, ALeaderWaitingForItsSyncStillSendsHeartbeats) {
  NodeConfig c = config();
  c.durable = true;
  c.log_sync_started = sync_gate_.hook();
  start(c);
  become_leader();
  sync_gate_.hold();
  std::promise<Outcome> answer;
  node_->execute(cache::Put{"k", "v", cache::PutCondition::kAlways, false, {}},
                 [&](Outcome o) { answer.set_value(std::move(o)); });
  ASSERT_TRUE(sync_gate_.wait_held(kWait)) << "no sync was started";
  const auto is_heartbeat = [](const eraftpb::Message& m) {
    return is_type(m, eraftpb::MsgHeartbeat);
  };
  // Ten heartbeat intervals' worth while the sync is held.
  const size_t from = p2_->count(is_heartbeat);
  EXPECT_TRUE(wait_until([&] { return p2_->count(is_heartbeat) >= from + 10; }, kWait))
      << "no heartbeat left the leader while its sync was held";
  auto result = answer.get_future();
  EXPECT_NE(result.wait_for(0s), std::future_status::ready) << "answered before its sync";
  sync_gate_.release();
  ASSERT_EQ(result.wait_for(kWait), std::future_status::ready);
  EXPECT_TRUE(result.get().ok());
}

TEST_F(ScriptedCluster, AFollowerWaitingForItsSyncStillAnswersHeartbeats) {
  NodeConfig c = config();
  c.durable = true;
  c.log_sync_started = sync_gate_.hook();
  start(c);
  sync_gate_.hold();
  // Node 2 leads in term 2 and sends an entry after the founding one (index 1, term 1).
  node_->step(append(2, 2, 1, 1, {2}, 1));
  ASSERT_TRUE(sync_gate_.wait_held(kWait)) << "no sync was started";
  auto heartbeat = from_peer(2, eraftpb::MsgHeartbeat, 2);
  heartbeat.set_commit(1);
  node_->step(heartbeat);
  const auto heartbeat_answer = [](const eraftpb::Message& m) {
    return is_type(m, eraftpb::MsgHeartbeatResponse);
  };
  const auto append_answer = [](const eraftpb::Message& m) {
    return is_type(m, eraftpb::MsgAppendResponse) && !m.reject() && m.index() == 2;
  };
  EXPECT_TRUE(p2_->wait_for(heartbeat_answer, kWait).has_value())
      << "the heartbeat was not answered while the sync was held";
  EXPECT_EQ(p2_->count(append_answer), 0u) << "the entry was acknowledged before its sync";
  sync_gate_.release();
  EXPECT_TRUE(p2_->wait_for(append_answer, kWait).has_value());
}

}  // namespace
}  // namespace cairn::node
