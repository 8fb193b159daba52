// Script-driven scenarios: each test is a short script a person can read top to bottom, run by
// a small interpreter over the in-process Cluster. One command per line:
//
//   cluster 1 2 3 [prevote] [checkquorum] [learners=4,5]   (first line)
//   campaign N | tick N [k] | tick-all [k] | stabilize
//   propose N data [refused=Reason] | read N ctx | transfer N to | conf N add|learner|remove id...
//   isolate N | cut A B | recover | crash N | restart N | add-node N
//   expect N key=value...   keys: role term leader commit applied reads config transferee
//
// `applied` and `reads` are comma-separated lists ("-" for empty); reads are ctx@index; in
// `config` spaces are written as underscores. `#` starts a comment.
#include <gtest/gtest.h>

#include <algorithm>
#include <sstream>

#include "cluster.h"

namespace cairn::raft::test {
namespace {

std::vector<std::string> split(const std::string& s, char sep) {
  std::vector<std::string> out;
  std::string cur;
  std::istringstream in(s);
  while (std::getline(in, cur, sep)) {
    if (!cur.empty()) out.push_back(cur);
  }
  return out;
}

NodeId id_of(const std::string& s) {
  return static_cast<NodeId>(std::stoull(s));
}

std::string join(const std::vector<std::string>& v) {
  if (v.empty()) return "-";
  std::string out;
  for (const auto& s : v)
    out += (out.empty() ? "" : ",") + s;
  return out;
}

std::string refusal_name(Error e) {
  switch (e) {
    case Error::kNoLeader:
      return "NoLeader";
    case Error::kLeaderTransferring:
      return "LeaderTransferring";
    case Error::kUncommittedLimit:
      return "UncommittedLimit";
    case Error::kNotLeader:
      return "NotLeader";
    case Error::kConfChangePending:
      return "ConfChangePending";
    case Error::kInvalidConfChange:
      return "InvalidConfChange";
    default:
      return std::string(to_string(e));
  }
}

// Returns the value of `key` on node `id`, as the script spells it.
std::string observe(Cluster& c, NodeId id, const std::string& key) {
  const Raft& r = c.raft(id);
  if (key == "role") return std::string(to_string(r.role()));
  if (key == "term") return std::to_string(r.term());
  if (key == "leader") return std::to_string(r.leader());
  if (key == "commit") return std::to_string(r.log().committed());
  if (key == "applied") return join(c.peer(id).applied);
  if (key == "config") {
    std::string cfg = r.tracker().config().to_string();
    std::replace(cfg.begin(), cfg.end(), ' ', '_');  // one token in the script
    return cfg;
  }
  if (key == "transferee") return std::to_string(r.lead_transferee());
  if (key == "reads") {
    std::vector<std::string> v;
    for (const auto& rs : c.peer(id).reads)
      v.push_back(rs.request_ctx + "@" + std::to_string(rs.index));
    return join(v);
  }
  return "<unknown key " + key + ">";
}

void run(const std::string& script) {
  std::unique_ptr<Cluster> c;
  int line_no = 0;
  for (const std::string& raw : split(script, '\n')) {
    ++line_no;
    const std::string line = raw.substr(0, raw.find('#'));
    std::vector<std::string> w = split(line, ' ');
    if (w.empty()) continue;
    const std::string at = "line " + std::to_string(line_no) + ": " + line;
    const std::string& cmd = w[0];
    if (cmd == "cluster") {
      std::vector<NodeId> ids, learners;
      bool pre_vote = false, check_quorum = false;
      for (std::size_t k = 1; k < w.size(); ++k) {
        if (w[k] == "prevote") {
          pre_vote = true;
        } else if (w[k] == "checkquorum") {
          check_quorum = true;
        } else if (w[k].rfind("learners=", 0) == 0) {
          for (const auto& l : split(w[k].substr(9), ','))
            learners.push_back(id_of(l));
        } else {
          ids.push_back(id_of(w[k]));
        }
      }
      c = std::make_unique<Cluster>(
          ids,
          [=](Config& cfg) {
            cfg.pre_vote = pre_vote;
            cfg.check_quorum = check_quorum;
          },
          learners);
      continue;
    }
    ASSERT_TRUE(c) << at << ": the script must start with `cluster`";
    if (cmd == "campaign") {
      c->campaign(id_of(w[1]));
    } else if (cmd == "tick") {
      c->tick(id_of(w[1]), w.size() > 2 ? std::stoi(w[2]) : 1);
      c->stabilize();
    } else if (cmd == "tick-all") {
      c->tick_all(w.size() > 1 ? std::stoi(w[1]) : 1);
    } else if (cmd == "stabilize") {
      c->stabilize();
    } else if (cmd == "propose") {
      auto st = c->propose(id_of(w[1]), w[2]);
      if (w.size() > 3) {
        ASSERT_FALSE(st.ok()) << at;
        EXPECT_EQ("refused=" + refusal_name(st.error()), w[3]) << at;
      } else {
        EXPECT_TRUE(st.ok()) << at << ": " << (st.ok() ? "" : to_string(st.error()));
      }
    } else if (cmd == "read") {
      EXPECT_TRUE(c->node(id_of(w[1])).read_index(w[2]).ok()) << at;
      c->stabilize();
    } else if (cmd == "transfer") {
      EXPECT_TRUE(c->node(id_of(w[1])).transfer_leader(id_of(w[2])).ok()) << at;
      c->stabilize();
    } else if (cmd == "conf") {
      ConfChangeV2 cc;
      for (std::size_t k = 2; k + 1 < w.size(); k += 2) {
        auto* s = cc.add_changes();
        s->set_change_type(w[k] == "add"       ? eraftpb::AddNode
                           : w[k] == "learner" ? eraftpb::AddLearnerNode
                                               : eraftpb::RemoveNode);
        s->set_node_id(id_of(w[k + 1]));
      }
      EXPECT_TRUE(c->propose_conf(id_of(w[1]), cc).ok()) << at;
    } else if (cmd == "isolate") {
      c->isolate(id_of(w[1]));
    } else if (cmd == "cut") {
      c->cut(id_of(w[1]), id_of(w[2]));
    } else if (cmd == "recover") {
      c->recover();
    } else if (cmd == "crash") {
      c->crash(id_of(w[1]));
    } else if (cmd == "restart") {
      c->restart(id_of(w[1]));
    } else if (cmd == "add-node") {
      c->add_peer(id_of(w[1]));
    } else if (cmd == "expect") {
      const NodeId id = id_of(w[1]);
      for (std::size_t k = 2; k < w.size(); ++k) {
        const auto eq = w[k].find('=');
        ASSERT_NE(eq, std::string::npos) << at;
        const std::string key = w[k].substr(0, eq);
        EXPECT_EQ(observe(*c, id, key), w[k].substr(eq + 1)) << at;
      }
    } else {
      FAIL() << at << ": unknown command";
    }
  }
}

TEST(Scenario, PreVoteKeepsARejoiningNodeFromDisrupting) {
  run(R"(
    cluster 1 2 3 prevote
    campaign 1
    expect 1 role=Leader term=1
    isolate 3
    tick 3 100                 # 3 times out again and again, but only pre-votes
    expect 3 role=PreCandidate term=1
    recover
    tick-all 3
    expect 1 role=Leader term=1
    expect 3 role=Follower leader=1 term=1
  )");
}

TEST(Scenario, CheckQuorumDeposesACutOffLeaderAndTheMajorityMovesOn) {
  run(R"(
    cluster 1 2 3 checkquorum
    campaign 1
    propose 1 a
    isolate 1
    tick 1 20                  # two election timeouts without hearing from a quorum
    expect 1 role=Follower leader=0
    propose 1 b refused=NoLeader
    campaign 2                 # too early: 3 heard from leader 1 within its lease, ignores it
    expect 3 term=1 leader=1
    tick-all 30                # leases lapse; 2 and 3 elect one of them
    propose 3 c
    expect 2 applied=a,c
    expect 3 applied=a,c
    recover
    tick-all 3
    expect 1 role=Follower applied=a,c
  )");
}

TEST(Scenario, ReadIndexUnderPartitionAndLeaderChange) {
  run(R"(
    cluster 1 2 3
    campaign 1
    propose 1 x
    read 1 r1
    expect 1 reads=r1@2
    isolate 1
    read 1 r2                  # cannot confirm leadership: no answer
    expect 1 reads=r1@2
    campaign 2
    propose 2 y
    read 3 r3                  # a follower's read goes through the new leader
    expect 3 reads=r3@4
    recover
    tick-all 3
    expect 1 role=Follower reads=r1@2 applied=x,y
  )");
}

TEST(Scenario, TransferToALaggingFollower) {
  run(R"(
    cluster 1 2 3 prevote checkquorum
    campaign 1
    isolate 3
    propose 1 a
    propose 1 b
    recover
    transfer 1 3               # 3 is first brought up to date, then sent TimeoutNow
    expect 3 role=Leader term=2 applied=a,b
    expect 1 role=Follower leader=3
    propose 3 c
    expect 1 applied=a,b,c
  )");
}

TEST(Scenario, GrowAndShrinkTheClusterWithLearners) {
  run(R"(
    cluster 1 2 3
    campaign 1
    propose 1 a
    add-node 4
    conf 1 learner 4           # catch up as a learner first
    tick-all 2
    expect 4 applied=a config=voters=(1_2_3)_learners=(4)
    conf 1 add 4 remove 3      # then swap it for 3 by joint consensus, left automatically
    tick-all 3
    expect 1 config=voters=(1_2_4)
    expect 4 config=voters=(1_2_4)
    crash 3
    isolate 2                  # 1 and 4 are a majority of {1, 2, 4}
    propose 1 b
    expect 4 applied=a,b
    expect 1 applied=a,b
  )");
}

TEST(Scenario, StaleLeaderIsOverwrittenAfterHealing) {
  run(R"(
    cluster 1 2 3 4 5
    campaign 1
    isolate 1
    propose 1 lost             # appended by the old leader, never committed
    expect 1 applied=-
    campaign 2
    propose 2 kept
    recover
    tick-all 3
    expect 1 role=Follower leader=2 applied=kept
  )");
}

TEST(Scenario, CrashAndRestartKeepsVotesAndLog) {
  run(R"(
    cluster 1 2 3
    campaign 1
    propose 1 a
    crash 2
    propose 1 b                # 1 and 3 still commit
    restart 2
    stabilize
    expect 2 term=1 applied=a  # re-applied from its persisted log
    tick-all 2
    expect 2 applied=a,b
  )");
}

}  // namespace
}  // namespace cairn::raft::test
