// Test harness: a cluster of RawNodes in one process with a hand-driven network. Messages are
// queued and delivered only by deliver()/stabilize(); filters drop, cut or isolate. Each node's
// Ready is handled exactly as the contract in raw_node.h says (persist, send, apply, advance), so
// scenario tests exercise the same path a real node does. Single-threaded, test-only.
#pragma once

#include <gtest/gtest.h>

#include <deque>
#include <functional>
#include <map>
#include <memory>
#include <set>
#include <string>
#include <vector>

#include "raft/raw_node.h"

namespace cairn::raft::test {

struct Peer {
  std::unique_ptr<MemStorage> storage;
  std::unique_ptr<RawNode> node;
  std::vector<std::string> applied;  // data of applied normal entries (non-empty), in order
  std::vector<ReadState> reads;      // read states received, in order
  std::string snapshot_data;         // last snapshot installed
  std::vector<Error> conf_errors;    // conf changes refused when applied
  bool down = false;
};

using ConfigTweak = std::function<void(Config&)>;

class Cluster {
 public:
  // Creates voters `ids` (all bootstrapped with the same membership) and optional learners.
  explicit Cluster(std::vector<NodeId> ids, ConfigTweak tweak = {},
                   std::vector<NodeId> learners = {})
      : tweak_(std::move(tweak)) {
    ConfState cs;
    for (NodeId id : ids)
      cs.add_voters(id);
    for (NodeId id : learners)
      cs.add_learners(id);
    bootstrap_ = cs;
    for (NodeId id : ids)
      add_peer(id);
    for (NodeId id : learners)
      add_peer(id);
  }

  Config config_for(NodeId id) const {
    Config c;
    c.id = id;
    c.election_tick = 10;
    c.heartbeat_tick = 1;
    c.seed = 42;
    if (tweak_) tweak_(c);
    return c;
  }

  // Adds a node with an empty log and the bootstrap membership (the membership as of index 0,
  // which replaying the log from index 1 updates). A node added later is not a member until a
  // conf change adding it is applied.
  void add_peer(NodeId id) {
    Peer p;
    p.storage = std::make_unique<MemStorage>();
    p.storage->set_conf_state(bootstrap_);
    auto rn = RawNode::create(config_for(id), p.storage.get());
    EXPECT_TRUE(rn.ok());
    p.node = std::move(rn).value();
    peers_[id] = std::move(p);
  }

  Peer& peer(NodeId id) { return peers_.at(id); }
  RawNode& node(NodeId id) { return *peers_.at(id).node; }
  Raft& raft(NodeId id) { return peers_.at(id).node->raft(); }
  MemStorage& storage(NodeId id) { return *peers_.at(id).storage; }

  // ---- network faults ----
  void cut(NodeId a, NodeId b) {
    cuts_.insert({a, b});
    cuts_.insert({b, a});
  }
  void isolate(NodeId id) {
    for (auto& [other, p] : peers_) {
      if (other != id) cut(id, other);
    }
  }
  void recover() {
    cuts_.clear();
    drop_types_.clear();
    drop_if_ = nullptr;
    mutate_ = nullptr;
  }
  void drop_type(MessageType t) { drop_types_.insert(t); }
  void drop_if(std::function<bool(const Message&)> f) { drop_if_ = std::move(f); }
  // Rewrites messages in flight (e.g. strips entries), as a lossy or adversarial network could.
  void mutate(std::function<void(Message&)> f) { mutate_ = std::move(f); }

  // Crash: unpersisted state is lost; restart: a new RawNode over the same storage.
  void crash(NodeId id) { peers_.at(id).down = true; }
  void restart(NodeId id) {
    Peer& p = peers_.at(id);
    auto rn = RawNode::create(config_for(id), p.storage.get());
    ASSERT_TRUE(rn.ok());
    p.node = std::move(rn).value();
    p.applied.clear();
    p.down = false;
  }

  // Replaces a node's persisted state by a log whose entry i+1 has term terms[i] and the given
  // term (hard state), then restarts it over that storage.
  void load(NodeId id, const std::vector<Term>& terms, Term term) {
    Peer& p = peers_.at(id);
    const ConfState cs = p.storage->initial_state().conf_state;
    p.storage = std::make_unique<MemStorage>();
    p.storage->set_conf_state(cs);
    std::vector<Entry> ents;
    for (std::size_t k = 0; k < terms.size(); ++k) {
      Entry e;
      e.set_index(k + 1);
      e.set_term(terms[k]);
      e.set_data("old" + std::to_string(k + 1));
      ents.push_back(e);
    }
    p.storage->append(ents);
    HardState hs;
    hs.set_term(term);
    p.storage->set_hard_state(hs);
    restart(id);
  }
  std::vector<Term> log_terms(NodeId id) {
    std::vector<Term> out;
    for (const Entry& e : raft(id).log().all_entries())
      out.push_back(e.term());
    return out;
  }

  // ---- driving ----
  void tick(NodeId id, int n = 1) {
    for (int k = 0; k < n; ++k)
      node(id).tick();
  }
  void tick_all(int n = 1) {
    for (int k = 0; k < n; ++k) {
      for (auto& [id, p] : peers_) {
        if (!p.down) p.node->tick();
      }
      stabilize();
    }
  }
  void campaign(NodeId id) {
    node(id).campaign();
    stabilize();
  }
  RStatus propose(NodeId id, std::string data) {
    auto st = node(id).propose(std::move(data));
    stabilize();
    return st;
  }
  RStatus propose_conf(NodeId id, const ConfChangeV2& cc) {
    auto st = node(id).propose_conf_change(cc);
    stabilize();
    return st;
  }

  // Handles Ready for one node; returns true if there was one.
  bool handle_ready(NodeId id) {
    Peer& p = peers_.at(id);
    if (p.down || !p.node->has_ready()) return false;
    Ready rd = p.node->ready();
    if (rd.snapshot) {
      EXPECT_TRUE(p.storage->apply_snapshot(*rd.snapshot).ok());
      p.snapshot_data = rd.snapshot->data();
      p.applied.clear();
      p.applied.push_back("snap:" + rd.snapshot->data());
    }
    p.storage->append(rd.entries);
    if (rd.hard_state) p.storage->set_hard_state(*rd.hard_state);
    for (auto& m : rd.messages)
      queue_.push_back(std::move(m));
    for (const Entry& e : rd.committed_entries)
      apply(p, e);
    for (auto& rs : rd.read_states)
      p.reads.push_back(rs);
    p.node->advance(rd);
    return true;
  }

  // Delivers queued messages and handles Readies until nothing moves.
  void stabilize(int max_rounds = 10000) {
    for (int round = 0; round < max_rounds; ++round) {
      bool progress = false;
      for (auto& [id, p] : peers_)
        progress |= handle_ready(id);
      std::deque<Message> q = std::move(queue_);
      queue_.clear();
      for (auto& m : q) {
        progress = true;
        deliver(std::move(m));
      }
      if (!progress) return;
    }
    ADD_FAILURE() << "cluster did not stabilize";
  }

  // Drains and returns the queued messages without delivering them (for inspection).
  std::vector<Message> take_messages() {
    for (auto& [id, p] : peers_)
      handle_ready(id);
    std::vector<Message> out(std::make_move_iterator(queue_.begin()),
                             std::make_move_iterator(queue_.end()));
    queue_.clear();
    return out;
  }
  void deliver(Message m) {
    if (mutate_) mutate_(m);
    if (dropped(m)) return;
    auto it = peers_.find(m.to());
    if (it == peers_.end() || it->second.down) return;
    ++delivered_[m.msg_type()];
    (void)it->second.node->step(std::move(m));
  }
  int delivered(MessageType t) const {
    auto it = delivered_.find(t);
    return it == delivered_.end() ? 0 : it->second;
  }
  void reset_counters() { delivered_.clear(); }

  // ---- inspection ----
  NodeId leader() const {
    NodeId lead = kNone;
    Term best = 0;
    for (const auto& [id, p] : peers_) {
      const Raft& r = p.node->raft();
      if (!p.down && r.role() == Role::kLeader && r.term() >= best) {
        lead = id;
        best = r.term();
      }
    }
    return lead;
  }
  std::vector<NodeId> ids() const {
    std::vector<NodeId> v;
    for (const auto& [id, p] : peers_)
      v.push_back(id);
    return v;
  }

 private:
  bool dropped(const Message& m) const {
    if (cuts_.count({m.from(), m.to()})) return true;
    if (drop_types_.count(m.msg_type())) return true;
    return drop_if_ && drop_if_(m);
  }

  void apply(Peer& p, const Entry& e) {
    if (e.entry_type() == eraftpb::EntryNormal) {
      if (!e.data().empty()) p.applied.push_back(e.data());
      return;
    }
    ConfChangeV2 cc;
    if (e.entry_type() == eraftpb::EntryConfChange) {
      ConfChange v1;
      ASSERT_TRUE(v1.ParseFromString(e.data()));
      auto cs = p.node->apply_conf_change(v1);
      if (cs.ok())
        p.storage->set_conf_state(*cs);
      else
        p.conf_errors.push_back(cs.error());
      return;
    }
    ASSERT_TRUE(cc.ParseFromString(e.data()));
    auto cs = p.node->apply_conf_change(cc);
    if (cs.ok())
      p.storage->set_conf_state(*cs);
    else
      p.conf_errors.push_back(cs.error());
  }

  ConfigTweak tweak_;
  ConfState bootstrap_;
  std::map<NodeId, Peer> peers_;
  std::deque<Message> queue_;
  std::set<std::pair<NodeId, NodeId>> cuts_;
  std::set<MessageType> drop_types_;
  std::function<bool(const Message&)> drop_if_;
  std::function<void(Message&)> mutate_;
  std::map<MessageType, int> delivered_;
};

// Builders for conf changes.
inline ConfChangeV2 conf_change(
    std::initializer_list<std::pair<eraftpb::ConfChangeType, NodeId>> cs,
    eraftpb::ConfChangeTransition tr = eraftpb::Auto) {
  ConfChangeV2 cc;
  cc.set_transition(tr);
  for (const auto& [t, id] : cs) {
    auto* s = cc.add_changes();
    s->set_change_type(t);
    s->set_node_id(id);
  }
  return cc;
}

inline std::vector<std::string> strs(std::initializer_list<const char*> l) {
  return std::vector<std::string>(l.begin(), l.end());
}

}  // namespace cairn::raft::test
