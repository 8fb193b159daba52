// RawNode: the caller-facing contract — validation, caller mistakes as named errors, what a
// Ready contains and when, must_sync, status, and batch proposals.
#include "raft/raw_node.h"

#include <gtest/gtest.h>

#include "cluster.h"

namespace cairn::raft::test {
namespace {

TEST(RawNode, RejectsInvalidConfig) {
  MemStorage s;
  struct Case {
    const char* what;
    void (*tweak)(Config&);
  } cases[] = {
      {"no id", [](Config& c) { c.id = kNone; }},
      {"heartbeat >= election", [](Config& c) { c.heartbeat_tick = c.election_tick; }},
      {"zero inflight", [](Config& c) { c.max_inflight_msgs = 0; }},
      {"lease reads without check quorum",
       [](Config& c) { c.read_only_option = ReadOnlyOption::kLeaseBased; }},
  };
  for (const auto& tc : cases) {
    Config c;
    c.id = 1;
    tc.tweak(c);
    auto rn = RawNode::create(c, &s);
    ASSERT_FALSE(rn.ok()) << tc.what;
    EXPECT_EQ(rn.error(), Error::kInvalidConfig) << tc.what;
  }
}

TEST(RawNode, CallerMistakesAreNamedErrors) {
  Cluster c({1, 2, 3});
  c.campaign(1);
  Message hup;
  hup.set_msg_type(eraftpb::MsgHup);
  EXPECT_EQ(c.node(1).step(hup).error(), Error::kStepLocalMessage);
  Message resp;
  resp.set_msg_type(eraftpb::MsgAppendResponse);
  resp.set_from(9);
  resp.set_to(1);
  resp.set_term(1);
  EXPECT_EQ(c.node(1).step(resp).error(), Error::kStepPeerNotFound);
}

// A Ready carries entries to persist and the hard state, and must_sync when they changed the
// term, vote or log; after advance() nothing is left until something new happens.
// Node 1, the only voter, over storage s.
std::unique_ptr<RawNode> single_voter(MemStorage& s, Config cfg = {}) {
  ConfState cs;
  cs.add_voters(1);
  s.set_conf_state(cs);
  cfg.id = 1;
  return std::move(RawNode::create(cfg, &s)).value();
}

TEST(RawNode, ReadyAndAdvance) {
  MemStorage s;
  auto rn = single_voter(s);
  EXPECT_FALSE(rn->has_ready());
  rn->campaign();
  ASSERT_TRUE(rn->has_ready());
  Ready rd = rn->ready();
  ASSERT_TRUE(rd.soft_state.has_value());
  EXPECT_EQ(rd.soft_state->role, Role::kLeader);
  ASSERT_TRUE(rd.hard_state.has_value());
  EXPECT_EQ(rd.hard_state->term(), 1u);
  EXPECT_EQ(rd.hard_state->vote(), 1u);
  EXPECT_TRUE(rd.must_sync);
  ASSERT_EQ(rd.entries.size(), 1u);  // the leader's no-op
  // Single voter: the no-op is committed at once and handed out to apply in the same Ready.
  EXPECT_EQ(rd.committed_entries.size(), 1u);
  s.append(std::move(rd.entries));
  s.set_hard_state(*rd.hard_state);
  rn->advance(rd);
  EXPECT_FALSE(rn->has_ready());
  EXPECT_EQ(rn->raft().log().applied(), 1u);

  ASSERT_TRUE(rn->propose("x").ok());
  rd = rn->ready();
  EXPECT_FALSE(rd.soft_state.has_value());
  EXPECT_TRUE(rd.must_sync);  // new entries
  EXPECT_EQ(rd.entries.size(), 1u);
  s.append(std::move(rd.entries));
  rn->advance(rd);
  EXPECT_EQ(rn->status().applied, 2u);
}

// Lending: committed entries come as an index range, read from storage once the Ready's entries
// are appended, and advance() accounts for them as for copied ones (applied index, and the
// uncommitted-size budget given back).
TEST(RawNode, LentCommittedEntriesAreReadInPlaceFromStorage) {
  MemStorage s;
  Config cfg;
  cfg.max_uncommitted_entries_size = 100;
  auto rn = single_voter(s, cfg);
  rn->lend_committed_entries(true);
  rn->campaign();
  auto apply = [&](std::vector<std::string>* seen) {
    Ready rd = rn->ready();
    EXPECT_TRUE(rd.committed_entries.empty());
    s.append(std::move(rd.entries));
    if (rd.hard_state) s.set_hard_state(*rd.hard_state);
    for (Index i = rd.committed_first; i <= rd.committed_last; ++i) {
      const Entry* e = s.entry_ref(i);
      EXPECT_NE(e, nullptr) << i;
      if (e != nullptr && seen != nullptr && !e->data().empty()) seen->push_back(e->data());
    }
    rn->advance(rd);
  };
  apply(nullptr);
  EXPECT_EQ(rn->raft().log().applied(), 1u);
  std::vector<std::string> seen;
  // 3 x 60 bytes pass a 100-byte uncommitted budget only if each apply gives its bytes back.
  for (const char* v : {"a", "b", "c"}) {
    ASSERT_TRUE(rn->propose(std::string(60, *v)).ok()) << v;
    apply(&seen);
  }
  EXPECT_EQ(seen, (std::vector<std::string>{std::string(60, 'a'), std::string(60, 'b'),
                                            std::string(60, 'c')}));
  EXPECT_EQ(rn->raft().log().applied(), 4u);
  EXPECT_FALSE(rn->has_ready());
  EXPECT_EQ(s.entry_ref(0), nullptr);  // before the first entry
  EXPECT_EQ(s.entry_ref(5), nullptr);  // past the last
}

TEST(RawNode, StatusShowsProgressOnTheLeaderOnly) {
  Cluster c({1, 2, 3}, {}, {4});
  c.campaign(1);
  ASSERT_TRUE(c.propose(1, "a").ok());
  const RaftStatus st = c.node(1).status();
  EXPECT_EQ(st.soft_state.role, Role::kLeader);
  EXPECT_EQ(st.hard_state.commit(), 2u);
  EXPECT_EQ(st.config, "voters=(1 2 3) learners=(4)");
  ASSERT_EQ(st.progress.size(), 4u);
  for (const PeerStatus& p : st.progress) {
    EXPECT_EQ(p.match, 2u) << p.id;
    EXPECT_EQ(p.is_learner, p.id == 4) << p.id;
  }
  EXPECT_TRUE(c.node(2).status().progress.empty());
  EXPECT_EQ(c.node(2).status().soft_state.leader_id, 1u);
}

// A batch is one append and one MsgAppend per follower, and all or nothing.
TEST(RawNode, ProposeBatch) {
  Cluster c({1, 2, 3}, [](Config& cfg) { cfg.max_uncommitted_entries_size = 100; });
  c.campaign(1);
  int appends_with_entries = 0;
  c.drop_if([&](const Message& m) {
    if (m.msg_type() == eraftpb::MsgAppend && m.entries_size() > 0) ++appends_with_entries;
    return false;
  });
  ASSERT_TRUE(c.node(1).propose_batch({"a", "b", "c"}).ok());
  c.stabilize();
  EXPECT_EQ(appends_with_entries, 2);  // then empty appends carry the new commit index
  EXPECT_EQ(c.peer(2).applied, strs({"a", "b", "c"}));
  c.isolate(1);
  ASSERT_TRUE(c.node(1).propose_batch({std::string(60, 'x')}).ok());
  EXPECT_EQ(c.node(1).propose_batch({std::string(30, 'y'), std::string(30, 'z')}).error(),
            Error::kUncommittedLimit);
  EXPECT_EQ(c.raft(1).log().last_index(), 5u);  // neither y nor z was appended
}

// With async_persist the owner syncs its log off the Raft thread, so the leader's own entries
// count toward commitment only once reported durable: a single voter commits nothing before
// persisted(), then everything through the index it names; a report for an entry since
// overwritten (another term at that index) counts for nothing.
TEST(RawNode, AsyncPersistCountsTheLeadersEntriesOnlyOncePersisted) {
  MemStorage s;
  Config cfg;
  cfg.async_persist = true;
  auto rn = single_voter(s, cfg);
  rn->campaign();
  Ready rd = rn->ready();
  ASSERT_EQ(rd.entries.size(), 1u);           // the no-op
  EXPECT_TRUE(rd.committed_entries.empty());  // not durable yet: not counted
  s.append(std::move(rd.entries));
  s.set_hard_state(*rd.hard_state);
  rn->advance(rd);
  ASSERT_TRUE(rn->propose("x").ok());
  rd = rn->ready();
  ASSERT_EQ(rd.entries.size(), 1u);
  EXPECT_TRUE(rd.committed_entries.empty());
  s.append(std::move(rd.entries));
  rn->advance(rd);
  EXPECT_EQ(rn->raft().log().committed(), 0u);
  rn->persisted(2, 7);  // no entry of term 7 at index 2: ignored
  EXPECT_EQ(rn->raft().log().committed(), 0u);
  rn->persisted(1, 1);
  EXPECT_EQ(rn->raft().log().committed(), 1u);
  rn->persisted(2, 1);
  EXPECT_EQ(rn->raft().log().committed(), 2u);
  rd = rn->ready();
  ASSERT_EQ(rd.committed_entries.size(), 2u);
  EXPECT_EQ(rd.committed_entries[1].data(), "x");
  rn->advance(rd);
}

// The point of async_persist (thesis §10.2.1): two followers' acknowledgements commit an entry of
// three voters while the leader's own copy is still being synced.
TEST(RawNode, AsyncPersistCommitsOnTheFollowersWhileTheLeaderSyncs) {
  Cluster c({1, 2, 3}, [](Config& cfg) { cfg.async_persist = true; });
  c.campaign(1);  // the harness never calls persisted(): the leader never counts itself
  ASSERT_TRUE(c.propose(1, "a").ok());
  EXPECT_EQ(c.raft(1).log().committed(), 2u);  // no-op and "a", on 2 and 3's word alone
  for (NodeId id : c.ids())
    EXPECT_EQ(c.peer(id).applied, std::vector<std::string>{"a"}) << id;
  // One follower cut off: the leader's word is missing, so nothing more commits until it comes.
  c.isolate(3);
  ASSERT_TRUE(c.propose(1, "b").ok());
  EXPECT_EQ(c.raft(1).log().committed(), 2u);
  c.node(1).persisted(3, c.raft(1).term());
  c.stabilize();
  EXPECT_EQ(c.raft(1).log().committed(), 3u);
}

}  // namespace
}  // namespace cairn::raft::test
