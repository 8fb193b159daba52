// Membership changes (thesis §4): the Changer's rules, joint consensus with learners and
// automatic or explicit leave, one change at a time, removing the leader, and every order of a
// replace-a-node sequence on a live cluster.
#include <gtest/gtest.h>

#include <algorithm>

#include "cluster.h"
#include "raft/confchange.h"

namespace cairn::raft::test {
namespace {

using CT = eraftpb::ConfChangeType;
constexpr CT kAdd = eraftpb::AddNode;
constexpr CT kLearner = eraftpb::AddLearnerNode;
constexpr CT kRemove = eraftpb::RemoveNode;

ProgressTracker tracker_of(std::vector<NodeId> voters, std::vector<NodeId> learners = {}) {
  ConfState cs;
  for (NodeId v : voters)
    cs.add_voters(v);
  for (NodeId l : learners)
    cs.add_learners(l);
  auto r = restore_conf(cs, 10, 16, kNoLimit);
  EXPECT_TRUE(r.ok());
  ProgressTracker trk(16, kNoLimit);
  trk.set(std::move(r->config), std::move(r->progress));
  return trk;
}

// Table of simple and joint changes from {1,2,3}: the resulting config or the refusal.
TEST(Changer, Table) {
  struct Case {
    const char* what;
    ConfChangeV2 cc;
    bool joint;
    const char* want;  // TrackerConfig::to_string(), or an error prefix "!"
  } cases[] = {
      {"add voter", conf_change({{kAdd, 4}}), false, "voters=(1 2 3 4)"},
      {"add learner", conf_change({{kLearner, 4}}), false, "voters=(1 2 3) learners=(4)"},
      {"remove voter", conf_change({{kRemove, 3}}), false, "voters=(1 2)"},
      {"demote voter", conf_change({{kLearner, 3}}), false, "voters=(1 2) learners=(3)"},
      {"remove unknown is a no-op", conf_change({{kRemove, 9}}), false, "voters=(1 2 3)"},
      {"two voters at once", conf_change({{kAdd, 4}, {kAdd, 5}}), false, "!more than one voter"},
      {"remove all", conf_change({{kRemove, 1}, {kRemove, 2}, {kRemove, 3}}), false,
       "!removed all voters"},
      {"joint replace", conf_change({{kAdd, 4}, {kRemove, 3}}), true,
       "voters=(1 2 4)&&(1 2 3) autoleave"},
      {"joint demote", conf_change({{kLearner, 3}}, eraftpb::Explicit), true,
       "voters=(1 2)&&(1 2 3) learners_next=(3)"},
      {"joint add learner", conf_change({{kLearner, 5}, {kAdd, 4}}), true,
       "voters=(1 2 3 4)&&(1 2 3) learners=(5) autoleave"},
  };
  for (const auto& tc : cases) {
    ProgressTracker trk = tracker_of({1, 2, 3});
    Changer ch(trk, 10);
    auto out = tc.joint ? ch.enter_joint(tc.cc.transition() != eraftpb::Explicit, tc.cc)
                        : ch.simple(tc.cc);
    if (tc.want[0] == '!') {
      ASSERT_FALSE(out.ok()) << tc.what;
      EXPECT_EQ(out.error().rfind(tc.want + 1, 0), 0u) << tc.what << ": " << out.error();
    } else {
      ASSERT_TRUE(out.ok()) << tc.what << ": " << out.error();
      EXPECT_EQ(out->config.to_string(), tc.want) << tc.what;
    }
  }
}

TEST(Changer, JointRulesAndLeave) {
  ProgressTracker trk = tracker_of({1, 2, 3});
  Changer ch(trk, 10);
  auto joint = ch.enter_joint(false, conf_change({{kLearner, 3}, {kAdd, 4}}));
  ASSERT_TRUE(joint.ok()) << joint.error();
  trk.set(joint->config, joint->progress);
  Changer ch2(trk, 10);
  EXPECT_FALSE(ch2.enter_joint(false, conf_change({{kAdd, 5}})).ok());  // already joint
  EXPECT_FALSE(ch2.simple(conf_change({{kAdd, 5}})).ok());              // no simple in joint
  auto left = ch2.leave_joint();
  ASSERT_TRUE(left.ok()) << left.error();
  EXPECT_EQ(left->config.to_string(), "voters=(1 2 4) learners=(3)");
  EXPECT_TRUE(left->progress.at(3).is_learner);
  EXPECT_FALSE(Changer(tracker_of({1}), 1).leave_joint().ok());  // nothing to leave
}

TEST(Changer, EntersJointClassification) {
  bool auto_leave = false;
  EXPECT_FALSE(enters_joint(conf_change({{kAdd, 4}}), &auto_leave));
  EXPECT_TRUE(enters_joint(conf_change({{kAdd, 4}, {kAdd, 5}}), &auto_leave));
  EXPECT_TRUE(auto_leave);
  EXPECT_TRUE(enters_joint(conf_change({{kAdd, 4}}, eraftpb::Explicit), &auto_leave));
  EXPECT_FALSE(auto_leave);
  EXPECT_TRUE(enters_joint(conf_change({{kAdd, 4}}, eraftpb::Implicit), &auto_leave));
  EXPECT_TRUE(auto_leave);
  EXPECT_TRUE(leaves_joint(ConfChangeV2()));
}

// Add a learner, let it catch up, promote it: the usual safe way to grow a cluster.
TEST(ConfChange, AddLearnerThenPromote) {
  Cluster c({1, 2, 3});
  c.campaign(1);
  ASSERT_TRUE(c.propose(1, "a").ok());
  c.add_peer(4);
  ASSERT_TRUE(c.propose_conf(1, conf_change({{kLearner, 4}})).ok());
  c.tick_all(2);
  EXPECT_TRUE(c.raft(4).is_learner());
  EXPECT_EQ(c.peer(4).applied, strs({"a"}));
  // A learner's ack does not count: with 2 and 3 down nothing commits.
  c.isolate(2);
  c.isolate(3);
  ASSERT_TRUE(c.propose(1, "b").ok());
  EXPECT_EQ(c.peer(1).applied, strs({"a"}));
  c.recover();
  c.tick_all(1);
  ASSERT_TRUE(c.propose_conf(1, conf_change({{kAdd, 4}})).ok());
  c.tick_all(2);
  EXPECT_FALSE(c.raft(4).is_learner());
  EXPECT_EQ(c.raft(1).tracker().config().to_string(), "voters=(1 2 3 4)");
  // Now 4 counts: 1 and 4 plus one more make a majority of four.
  c.isolate(3);
  ASSERT_TRUE(c.propose(1, "c").ok());
  EXPECT_EQ(c.peer(1).applied, strs({"a", "b", "c"}));
}

// Joint consensus: replace 3 by 4 in one step; the joint config is left automatically and
// every node ends in the same final configuration.
TEST(ConfChange, JointReplaceWithAutoLeave) {
  Cluster c({1, 2, 3});
  c.campaign(1);
  c.add_peer(4);
  ASSERT_TRUE(c.propose_conf(1, conf_change({{kAdd, 4}, {kRemove, 3}})).ok());
  c.tick_all(3);
  for (NodeId id : {1U, 2U, 4U}) {
    EXPECT_EQ(c.raft(id).tracker().config().to_string(), "voters=(1 2 4)") << id;
  }
  ASSERT_TRUE(c.propose(1, "after").ok());
  EXPECT_EQ(c.peer(4).applied, strs({"after"}));
}

// While joint, decisions need a majority of BOTH configurations.
TEST(ConfChange, JointNeedsBothMajorities) {
  Cluster c({1, 2, 3});
  c.campaign(1);
  for (NodeId id : {4U, 5U})
    c.add_peer(id);
  ASSERT_TRUE(c.propose_conf(1, conf_change({{kAdd, 4}, {kAdd, 5}, {kRemove, 2}, {kRemove, 3}},
                                            eraftpb::Explicit))
                  .ok());
  c.tick_all(2);
  ASSERT_EQ(c.raft(1).tracker().config().to_string(), "voters=(1 4 5)&&(1 2 3)");
  // Old majority unavailable (2, 3 cut): nothing commits even though 1, 4, 5 agree.
  c.isolate(2);
  c.isolate(3);
  ASSERT_TRUE(c.propose(1, "x").ok());
  EXPECT_TRUE(c.peer(1).applied.empty());
  c.recover();
  c.tick_all(1);
  EXPECT_EQ(c.peer(1).applied, strs({"x"}));
  // Explicit leave: an empty ConfChangeV2.
  ASSERT_TRUE(c.propose_conf(1, ConfChangeV2()).ok());
  c.tick_all(2);
  EXPECT_EQ(c.raft(1).tracker().config().to_string(), "voters=(1 4 5)");
  c.isolate(2);
  c.isolate(3);
  ASSERT_TRUE(c.propose(1, "y").ok());
  EXPECT_EQ(c.peer(1).applied, strs({"x", "y"}));
}

// One change at a time (§4.1): a second proposal is refused until the first is applied, and a
// joint config accepts only a leave.
TEST(ConfChange, SecondChangeRefusedWhilePending) {
  Cluster c({1, 2, 3});
  c.campaign(1);
  c.isolate(2);
  c.isolate(3);
  ASSERT_TRUE(c.node(1).propose_conf_change(conf_change({{kLearner, 4}})).ok());
  EXPECT_EQ(c.node(1).propose_conf_change(conf_change({{kLearner, 5}})).error(),
            Error::kConfChangePending);
  c.recover();
  c.tick_all(2);
  EXPECT_TRUE(c.node(1).propose_conf_change(conf_change({{kLearner, 5}})).ok());
  c.tick_all(2);
  ASSERT_TRUE(c.propose_conf(1, conf_change({{kAdd, 4}, {kAdd, 5}}, eraftpb::Explicit)).ok());
  c.tick_all(2);
  EXPECT_EQ(c.node(1).propose_conf_change(conf_change({{kRemove, 4}})).error(),
            Error::kInvalidConfChange);
  EXPECT_TRUE(c.node(1).propose_conf_change(ConfChangeV2()).ok());
}

// Removing the leader: once the change is applied it hands leadership to the most up-to-date
// voter (§4.2.2) and steps down; the rest carry on.
TEST(ConfChange, RemoveLeader) {
  Cluster c({1, 2, 3});
  c.campaign(1);
  ASSERT_TRUE(c.propose_conf(1, conf_change({{kRemove, 1}})).ok());
  EXPECT_NE(c.raft(1).role(), Role::kLeader);
  c.crash(1);
  for (int k = 0; k < 40 && c.leader() == kNone; ++k)
    c.tick_all();
  const NodeId lead = c.leader();
  ASSERT_TRUE(lead == 2 || lead == 3);
  ASSERT_TRUE(c.propose(lead, "z").ok());
  EXPECT_EQ(c.peer(2).applied, strs({"z"}));
  EXPECT_EQ(c.raft(lead).tracker().config().to_string(), "voters=(2 3)");
}

// The leader demotes itself by joint consensus. It keeps leading (not counting itself) until
// the joint configuration is left, then hands over to an up-to-date voter: nobody is left
// needing the vote of a node that refuses it.
TEST(ConfChange, LeaderDemotesItselfThroughJointConsensus) {
  Cluster c({1, 2, 3});
  c.campaign(1);
  ASSERT_TRUE(c.propose(1, "a").ok());
  ASSERT_TRUE(c.propose_conf(1, conf_change({{kLearner, 1}}, eraftpb::Implicit)).ok());
  c.tick_all(2);
  const NodeId lead = c.leader();
  ASSERT_TRUE(lead == 2 || lead == 3) << lead;
  EXPECT_TRUE(c.raft(1).is_learner());
  EXPECT_EQ(c.raft(1).role(), Role::kFollower);
  EXPECT_EQ(c.raft(lead).tracker().config().to_string(), "voters=(2 3) learners=(1)");
  ASSERT_TRUE(c.propose(lead, "b").ok());
  EXPECT_EQ(c.peer(1).applied, strs({"a", "b"}));  // the learner still replicates
}

// A TimeoutNow that arrives while a committed conf change is still unapplied is acted upon
// once it is applied, instead of being dropped.
TEST(ConfChange, TimeoutNowWaitsForPendingConfChangeToApply) {
  Cluster c({1, 2, 3});
  c.campaign(1);
  c.add_peer(4);
  // Deliver the commit of the conf change and the TimeoutNow to 2 in one batch, before 2 has
  // had a Ready to apply it.
  ASSERT_TRUE(c.node(1).propose_conf_change(conf_change({{kLearner, 4}})).ok());
  c.stabilize();
  ASSERT_TRUE(c.node(1).propose_conf_change(conf_change({{kAdd, 4}})).ok());
  c.drop_type(eraftpb::MsgHeartbeat);
  std::vector<Message> held;
  for (int round = 0; round < 10; ++round) {
    for (Message& m : c.take_messages()) {
      if (m.to() == 2 && m.msg_type() == eraftpb::MsgAppend && m.commit() >= 3) {
        held.push_back(std::move(m));
      } else {
        c.deliver(std::move(m));
      }
    }
  }
  ASSERT_FALSE(held.empty());
  ASSERT_TRUE(c.node(1).transfer_leader(2).ok());
  for (Message& m : c.take_messages())
    held.push_back(std::move(m));
  for (Message& m : held)
    c.deliver(std::move(m));  // commit, then TimeoutNow, no Ready between
  c.recover();
  c.stabilize();
  EXPECT_EQ(c.raft(2).role(), Role::kLeader);
}

// Conf changes in every order: adding 4 (as learner, then voter) and removing 3, in all
// permutations that respect "learner before promotion", end in the same configuration and
// keep the log identical on the survivors.
TEST(ConfChange, EveryOrderOfReplacingANode) {
  enum Op { kAddLearner4, kPromote4, kRemove3, kRemove2ThenReadd };
  std::vector<int> ops = {kAddLearner4, kPromote4, kRemove3, kRemove2ThenReadd};
  int orders = 0;
  do {
    auto pos = [&](int op) { return std::find(ops.begin(), ops.end(), op) - ops.begin(); };
    if (pos(kAddLearner4) > pos(kPromote4)) continue;
    ++orders;
    Cluster c({1, 2, 3});
    c.campaign(1);
    c.add_peer(4);
    int seq = 0;
    for (int op : ops) {
      std::vector<ConfChangeV2> steps;
      switch (op) {
        case kAddLearner4:
          steps = {conf_change({{kLearner, 4}})};
          break;
        case kPromote4:
          steps = {conf_change({{kAdd, 4}})};
          break;
        case kRemove3:
          steps = {conf_change({{kRemove, 3}})};
          break;
        case kRemove2ThenReadd:
          steps = {conf_change({{kRemove, 2}}), conf_change({{kAdd, 2}})};
          break;
      }
      for (const auto& cc : steps) {
        ASSERT_TRUE(c.propose_conf(1, cc).ok()) << "order #" << orders;
        c.tick_all(2);
        ASSERT_TRUE(c.propose(1, "e" + std::to_string(seq++)).ok());
      }
    }
    EXPECT_EQ(c.raft(1).tracker().config().to_string(), "voters=(1 2 4)") << "order #" << orders;
    for (NodeId id : {2U, 4U}) {
      EXPECT_EQ(c.log_terms(id), c.log_terms(1)) << "order #" << orders << " node " << id;
      EXPECT_EQ(c.raft(id).tracker().config().to_string(), "voters=(1 2 4)") << id;
    }
    EXPECT_EQ(c.peer(1).applied.size(), 5u);
  } while (std::next_permutation(ops.begin(), ops.end()));
  EXPECT_EQ(orders, 12);
}

// A legacy ConfChange (v1) is accepted and applied like its V2 equivalent.
TEST(ConfChange, LegacyV1Change) {
  Cluster c({1, 2});
  c.campaign(1);
  c.add_peer(3);
  ConfChange cc;
  cc.set_change_type(eraftpb::AddNode);
  cc.set_node_id(3);
  ASSERT_TRUE(c.node(1).propose_conf_change(cc).ok());
  c.stabilize();
  c.tick_all(2);
  EXPECT_EQ(c.raft(1).tracker().config().to_string(), "voters=(1 2 3)");
  EXPECT_EQ(c.raft(3).tracker().config().to_string(), "voters=(1 2 3)");
}

}  // namespace
}  // namespace cairn::raft::test
