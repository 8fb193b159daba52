// The deterministic simulator: setup, the step loop, the network, faults, clients. The checks
// are in sim_checks.cc. See simulator.h. Single-threaded.
#include <algorithm>

#include "raft/confchange.h"
#include "sim_internal.h"

namespace cairn::sim {
namespace detail {

std::string msg_str(const Message& m) {
  std::string s = eraftpb::MessageType_Name(m.msg_type()) + " " + std::to_string(m.from()) + "->" +
                  std::to_string(m.to()) + " t" + std::to_string(m.term());
  if (m.index() || m.log_term()) {
    s += " i" + std::to_string(m.index()) + "/lt" + std::to_string(m.log_term());
  }
  if (m.entries_size() > 0) s += " n=" + std::to_string(m.entries_size());
  if (m.commit()) s += " c" + std::to_string(m.commit());
  if (m.reject()) s += " REJECT hint=" + std::to_string(m.reject_hint());
  if (m.msg_type() == eraftpb::MsgSnapshot) {
    s += " snap@" + std::to_string(m.snapshot().metadata().index());
  }
  return s;
}

// ---------------------------------------------------------------- setup

void Simulator::draw_knobs() {
  drop_ = rng_.below(4) == 0 ? 0 : rng_.below(1000);  // up to 10% loss
  dup_ = rng_.below(3) == 0 ? 0 : rng_.below(500);    // up to 5% duplication
  long_delay_ = rng_.below(300);                      // up to 3% long delays (reordering)
  pre_vote_ = rng_.below(4) != 0;
  check_quorum_ = rng_.below(4) != 0;
  max_inflight_ = rng_.below(2) == 0 ? 256 : 1 + rng_.below(4);
  max_msg_size_ = rng_.below(2) == 0 ? (1 << 20) : 64 + rng_.below(200);
  max_uncommitted_ = rng_.below(3) == 0 ? 200 + rng_.below(400) : raft::kNoLimit;
  auto pct = [](std::uint64_t per_10000) {
    return std::to_string(per_10000 / 100) + "." + std::to_string(per_10000 % 100 / 10) + "%";
  };
  result_.config =
      "drop=" + pct(drop_) + " dup=" + pct(dup_) + " longdelay=" + pct(long_delay_) +
      " prevote=" + (pre_vote_ ? "on" : "off") + " checkquorum=" + (check_quorum_ ? "on" : "off") +
      " inflight=" + std::to_string(max_inflight_) + " maxmsg=" + std::to_string(max_msg_size_);
  if (max_uncommitted_ != raft::kNoLimit) {
    result_.config += " maxuncommitted=" + std::to_string(max_uncommitted_);
  }
}

raft::Config Simulator::config_for(NodeId id) const {
  raft::Config c;
  c.id = id;
  c.election_tick = 10;
  c.heartbeat_tick = 2;
  c.pre_vote = pre_vote_;
  c.check_quorum = check_quorum_;
  c.max_inflight_msgs = max_inflight_;
  c.max_size_per_msg = max_msg_size_;
  c.max_uncommitted_entries_size = max_uncommitted_;
  c.seed = opts_.seed;
  return c;
}

void Simulator::start_node(SimNode& n) {
  // What survives a crash is the storage: log, hard state, and the last snapshot. The state
  // machine restarts from that snapshot and re-applies the committed log after it.
  raft::RResult<raft::Snapshot> snap = n.storage->snapshot(0);
  const bool has_snap = snap.ok() && snap->metadata().index() > 0;
  n.conf = has_snap ? snap->metadata().conf_state() : bootstrap_;
  n.storage->set_conf_state(n.conf);
  n.kv = has_snap ? KvState::deserialize(snap->data()) : KvState();
  n.applied = has_snap ? snap->metadata().index() : 0;
  n.snap_index = n.applied;
  raft::Config cfg = config_for(n.id);
  cfg.applied = n.applied;
  auto rn = raft::RawNode::create(cfg, n.storage.get());
  CAIRN_CHECK(rn.ok());
  n.rn = std::move(rn).value();
  n.up = true;
  n.reads.clear();
  n.ready_reads.clear();
  n.checked_commit = n.rn->raft().log().committed();
  n.last_role = Role::kFollower;
  n.last_term = n.rn->raft().term();
}

// ---------------------------------------------------------------- the loop

void Simulator::step(bool faults) {
  ++now_;
  if (faults) inject_fault();
  run_clients();
  tick_nodes();
  deliver_due();
  for (auto& [id, n] : nodes_) {
    if (n.up) handle_ready(n);
  }
  expire_ops();
  check_invariants();
}

void Simulator::tick_nodes() {
  for (auto& [id, n] : nodes_) {
    if (n.up && (now_ + n.tick_offset) % kTickEvery == 0) n.rn->tick();
  }
}

void Simulator::send(Message m) {
  if (rng_.chance(drop_)) {
    trace("drop " + msg_str(m));
    if (m.msg_type() == eraftpb::MsgSnapshot) {
      nodes_.at(m.from()).rn->report_snapshot(m.to(), false);
    }
    return;
  }
  const int copies = rng_.chance(dup_) ? 2 : 1;
  for (int k = 0; k < copies; ++k) {
    std::uint64_t delay = 1 + rng_.below(4);
    if (rng_.chance(long_delay_)) delay += rng_.below(60);  // reorders past later messages
    net_.push(InFlight{now_ + delay, seq_++, k + 1 < copies ? m : std::move(m)});
  }
}

void Simulator::deliver_due() {
  while (!net_.empty() && net_.top().at <= now_) {
    Message m = net_.top().m;
    net_.pop();
    SimNode& from = nodes_.at(m.from());
    auto it = nodes_.find(m.to());
    const bool lost = it == nodes_.end() || !it->second.up || blocked(m.from(), m.to());
    if (lost) {
      trace("lost " + msg_str(m));
      // A real transport notices a broken connection and reports it.
      if (from.up) {
        from.rn->report_unreachable(m.to());
        if (m.msg_type() == eraftpb::MsgSnapshot) from.rn->report_snapshot(m.to(), false);
      }
      continue;
    }
    trace("recv " + msg_str(m));
    const bool snap = m.msg_type() == eraftpb::MsgSnapshot;
    if (snap) ++result_.stats.snapshots_sent;
    const NodeId to = m.to();
    (void)it->second.rn->step(std::move(m));
    if (snap && from.up) from.rn->report_snapshot(to, true);
  }
}

void Simulator::handle_ready(SimNode& n) {
  while (n.up && n.rn->has_ready()) {
    raft::Ready rd = n.rn->ready();
    if (rd.soft_state) {
      trace("node " + std::to_string(n.id) + " is " +
            std::string(raft::to_string(rd.soft_state->role)) + " term " +
            std::to_string(n.rn->raft().term()) + " leader " +
            std::to_string(rd.soft_state->leader_id));
    }
    // 1. Install a snapshot.
    if (rd.snapshot) {
      const auto& meta = rd.snapshot->metadata();
      if (!n.storage->apply_snapshot(*rd.snapshot).ok()) fail("storage refused a newer snapshot");
      auto c = committed_.find(meta.index());
      if (c != committed_.end() && c->second.first != meta.term()) {
        fail("node " + std::to_string(n.id) + " installed a snapshot at " +
             std::to_string(meta.index()) + " with a term that differs from the committed entry");
      }
      n.kv = KvState::deserialize(rd.snapshot->data());
      n.applied = meta.index();
      n.conf = meta.conf_state();
      n.snap_index = meta.index();
      n.ready_reads.clear();  // re-evaluated below against the new applied index
      trace("node " + std::to_string(n.id) + " installed snapshot @" +
            std::to_string(meta.index()));
    }
    // 2. Persist entries and hard state. Log Matching, checked inductively on every append: an
    //    (index, term) pair always names the same entry and the same predecessor term, so two
    //    logs that share an (index, term) share everything before it.
    for (std::size_t k = 0; k < rd.entries.size(); ++k) {
      const Entry& e = rd.entries[k];
      Term prev = 0;
      if (k > 0) {
        prev = rd.entries[k - 1].term();
      } else {
        auto t = n.rn->raft().log().term(e.index() - 1);
        prev = t.ok() ? *t : kUnknownTerm;
      }
      if (prev != kUnknownTerm) {
        auto [pit, pfresh] = prev_term_.emplace(std::make_pair(e.index(), e.term()), prev);
        if (!pfresh && pit->second != prev) {
          fail("log matching: entry " + std::to_string(e.index()) + "/t" +
               std::to_string(e.term()) + " follows term " + std::to_string(prev) + " on node " +
               std::to_string(n.id) + " but term " + std::to_string(pit->second) + " elsewhere");
        }
      }
    }
    for (const Entry& e : rd.entries) {
      auto [it, fresh] = appended_.emplace(std::make_pair(e.index(), e.term()), entry_hash(e));
      if (!fresh && it->second != entry_hash(e)) {
        fail("two different entries with index " + std::to_string(e.index()) + " and term " +
             std::to_string(e.term()));
      }
    }
    n.storage->append(rd.entries);
    if (rd.hard_state) n.storage->set_hard_state(*rd.hard_state);
    // 3. Send.
    for (Message& m : rd.messages)
      send(std::move(m));
    // 4. Apply.
    for (const Entry& e : rd.committed_entries)
      apply_entry(n, e);
    for (const raft::ReadState& rs : rd.read_states)
      n.ready_reads.emplace_back(rs.index, rs.request_ctx);
    serve_reads(n);
    n.rn->advance(rd);
    maybe_snapshot(n);
  }
}

void Simulator::apply_entry(SimNode& n, const Entry& e) {
  if (e.index() != n.applied + 1) {
    fail("node " + std::to_string(n.id) + " applied index " + std::to_string(e.index()) +
         " after " + std::to_string(n.applied));
    return;
  }
  auto [it, fresh] = committed_.emplace(e.index(), std::make_pair(e.term(), entry_hash(e)));
  if (!fresh && it->second != std::make_pair(e.term(), entry_hash(e))) {
    fail("node " + std::to_string(n.id) + " applied a different entry at index " +
         std::to_string(e.index()) + " than another node (term " + std::to_string(e.term()) +
         " vs " + std::to_string(it->second.first) + ")");
  }
  n.applied = e.index();
  if (e.entry_type() == eraftpb::EntryNormal) {
    if (e.data().empty()) return;
    auto cmd = Command::decode(e.data());
    if (!cmd) {
      fail("undecodable entry");
      return;
    }
    n.kv.apply(*cmd);
    if (cmd->kind == Command::kMarker) markers_[cmd->op_id].insert(n.id);
    auto p = pending_.find(cmd->op_id);
    if (p != pending_.end() && p->second.node == n.id) complete(cmd->op_id, "");
    return;
  }
  raft::ConfChangeV2 cc;
  if (e.entry_type() == eraftpb::EntryConfChange) {
    raft::ConfChange v1;
    (void)v1.ParseFromString(e.data());
    cc = raft::to_v2(v1);
  } else {
    (void)cc.ParseFromString(e.data());
  }
  auto cs = n.rn->apply_conf_change(cc);
  if (cs.ok()) {
    n.conf = *cs;
    if (n.rn->raft().role() == Role::kLeader) ++result_.stats.conf_changes;
    trace("node " + std::to_string(n.id) + " applied conf change @" + std::to_string(e.index()) +
          ": " + n.rn->raft().tracker().config().to_string());
  } else {
    trace("node " + std::to_string(n.id) + " rejected conf change @" + std::to_string(e.index()));
  }
}

void Simulator::serve_reads(SimNode& n) {
  auto it = n.ready_reads.begin();
  while (it != n.ready_reads.end()) {
    if (it->first > n.applied) {
      ++it;
      continue;
    }
    auto r = n.reads.find(it->second);
    if (r != n.reads.end()) {
      auto p = pending_.find(r->second);
      if (p != pending_.end()) complete(r->second, n.kv.get(p->second.key));
      n.reads.erase(r);
    }
    it = n.ready_reads.erase(it);
  }
}

void Simulator::maybe_snapshot(SimNode& n) {
  if (n.applied < n.snap_index + kSnapshotEvery) return;
  auto s = n.storage->create_snapshot(n.applied, &n.conf, n.kv.serialize());
  if (!s.ok()) return;
  n.snap_index = n.applied;
  if (n.applied > kKeepAfterSnapshot) {
    const Index c = n.applied - kKeepAfterSnapshot;
    if (c >= n.storage->first_index()) (void)n.storage->compact(c);
  }
  trace("node " + std::to_string(n.id) + " snapshot @" + std::to_string(n.applied));
}

// ---------------------------------------------------------------- faults and actors

SimNode* Simulator::leader() {
  SimNode* best = nullptr;
  for (auto& [id, n] : nodes_) {
    if (n.up && n.rn->raft().role() == Role::kLeader &&
        (best == nullptr || n.rn->raft().term() > best->rn->raft().term())) {
      best = &n;
    }
  }
  return best;
}

SimNode* Simulator::random_up() {
  std::vector<SimNode*> up;
  for (auto& [id, n] : nodes_) {
    if (n.up) up.push_back(&n);
  }
  return up.empty() ? nullptr : up[rng_.below(up.size())];
}

void Simulator::crash(SimNode& n) {
  trace("CRASH node " + std::to_string(n.id));
  ++result_.stats.crashes;
  n.up = false;
  n.rn.reset();
}

void Simulator::restart(SimNode& n) {
  trace("RESTART node " + std::to_string(n.id));
  start_node(n);
}

void Simulator::inject_fault() {
  const std::uint64_t r = rng_.below(10000);
  const auto ids = [&] {
    std::vector<NodeId> v;
    for (auto& [id, n] : nodes_)
      v.push_back(id);
    return v;
  }();
  if (r < 15) {  // symmetric partition into two random sides
    cuts_.clear();
    std::set<NodeId> side;
    for (NodeId id : ids) {
      if (rng_.below(2) == 0) side.insert(id);
    }
    for (NodeId a : ids) {
      for (NodeId b : ids) {
        if (side.count(a) != side.count(b)) cuts_.insert({a, b});
      }
    }
    std::string s;
    for (NodeId id : side)
      s += std::to_string(id) + " ";
    trace("PARTITION {" + s + "} from the rest");
  } else if (r < 25) {  // one-way cut: a node can send but not receive, or the reverse
    const NodeId a = ids[rng_.below(ids.size())];
    const bool out = rng_.below(2) == 0;
    for (NodeId b : ids) {
      if (b != a) cuts_.insert(out ? std::make_pair(a, b) : std::make_pair(b, a));
    }
    trace(std::string("ONE-WAY cut: node ") + std::to_string(a) +
          (out ? " cannot send" : " cannot receive"));
  } else if (r < 55) {
    if (!cuts_.empty()) trace("HEAL network");
    cuts_.clear();
  } else if (r < 67) {
    std::size_t up = 0;
    for (auto& [id, n] : nodes_)
      up += n.up ? 1 : 0;
    SimNode* n = random_up();
    if (n != nullptr && up > 1) crash(*n);
  } else if (r < 107) {
    std::vector<SimNode*> down;
    for (auto& [id, n] : nodes_) {
      if (!n.up) down.push_back(&n);
    }
    if (!down.empty()) restart(*down[rng_.below(down.size())]);
  } else if (r < 137) {
    change_membership();
  } else if (r < 147) {
    SimNode* l = leader();
    if (l == nullptr) return;
    const auto voters = l->rn->raft().tracker().config().voters.ids();
    std::vector<NodeId> v(voters.begin(), voters.end());
    const NodeId to = v[rng_.below(v.size())];
    trace("TRANSFER leadership " + std::to_string(l->id) + " -> " + std::to_string(to));
    (void)l->rn->transfer_leader(to);
  }
}

void Simulator::change_membership() {
  SimNode* l = leader();
  if (l == nullptr) return;
  const raft::TrackerConfig& cfg = l->rn->raft().tracker().config();
  using CT = eraftpb::ConfChangeType;
  raft::ConfChangeV2 cc;
  auto add = [&](CT t, NodeId id) {
    auto* s = cc.add_changes();
    s->set_change_type(t);
    s->set_node_id(id);
  };
  if (cfg.voters.joint()) {
    if (cfg.auto_leave) return;  // the leader leaves on its own
    // Explicit joint config: leave it (an empty ConfChangeV2).
  } else {
    std::vector<NodeId> voters(cfg.voters.incoming.ids().begin(), cfg.voters.incoming.ids().end());
    std::vector<NodeId> learners(cfg.learners.begin(), cfg.learners.end());
    std::vector<NodeId> others;
    for (auto& [id, n] : nodes_) {
      if (!cfg.voters.contains(id) && !cfg.learners.count(id)) others.push_back(id);
    }
    const std::size_t min_voters = nodes_.size() >= 5 ? 3 : 2;
    const auto pick = [&](const std::vector<NodeId>& v) { return v[rng_.below(v.size())]; };
    switch (rng_.below(5)) {
      case 0:
        if (voters.size() <= min_voters) return;
        add(eraftpb::RemoveNode, pick(voters));
        break;
      case 1:
        if (others.empty()) return;
        add(eraftpb::AddLearnerNode, pick(others));
        break;
      case 2:
        if (learners.empty()) return;
        add(eraftpb::AddNode, pick(learners));
        break;
      case 3:  // joint: promote a learner and demote or remove a voter at once
        if (learners.empty() || voters.size() < min_voters) return;
        add(eraftpb::AddNode, pick(learners));
        {
          // Draw in a fixed order: the order of evaluation of function arguments is unspecified,
          // and the same seed must give the same run whatever the compiler.
          const auto kind = rng_.below(2) == 0 ? eraftpb::RemoveNode : eraftpb::AddLearnerNode;
          add(kind, pick(voters));
        }
        cc.set_transition(rng_.below(2) == 0 ? eraftpb::Auto : eraftpb::Explicit);
        break;
      default:  // joint with a single change, explicit leave
        if (others.empty()) return;
        add(eraftpb::AddLearnerNode, pick(others));
        cc.set_transition(eraftpb::Explicit);
        break;
    }
  }
  auto st = l->rn->propose_conf_change(cc);
  std::string desc;
  for (const auto& c : cc.changes()) {
    desc +=
        eraftpb::ConfChangeType_Name(c.change_type()) + "(" + std::to_string(c.node_id()) + ") ";
  }
  if (cc.changes_size() == 0) desc = "leave-joint ";
  trace("CONF CHANGE at " + std::to_string(l->id) + ": " + desc +
        (st.ok() ? "proposed" : "refused: " + std::string(raft::to_string(st.error()))));
}

void Simulator::run_clients() {
  for (int c = 0; c < kClients; ++c) {
    if (busy_.count(c) || !rng_.chance(1200)) continue;
    SimNode* n = random_up();
    if (n == nullptr) return;
    const std::uint64_t id = next_op_++;
    const std::string key = "k" + std::to_string(rng_.below(kKeys));
    const bool write = rng_.below(2) == 0;
    raft::RStatus st;
    HistOp h;
    h.op.client = c;
    h.op.is_write = write;
    h.op.call = now_;
    if (write) {
      h.op.value = "v" + std::to_string(id);
      st = n->rn->propose(Command{Command::kPut, id, key, h.op.value}.encode());
    } else {
      const std::string ctx = "r" + std::to_string(id);
      st = n->rn->read_index(ctx);
      if (st.ok()) n->reads[ctx] = id;
    }
    trace("client " + std::to_string(c) +
          (write ? " put " + key + "=" + h.op.value : " get " + key) + " at node " +
          std::to_string(n->id) +
          (st.ok() ? "" : " refused: " + std::string(raft::to_string(st.error()))));
    if (!st.ok()) continue;  // refused: never takes effect, not part of the history
    auto& hist = history_[key];
    hist.push_back(h);
    pending_[id] = PendingOp{c, write, key, n->id, now_, hist.size() - 1};
    busy_[c] = id;
  }
}

void Simulator::complete(std::uint64_t op_id, const std::string& read_value) {
  auto p = pending_.find(op_id);
  if (p == pending_.end()) return;
  HistOp& h = history_[p->second.key][p->second.hist];
  h.op.ret = now_;
  if (!h.op.is_write) h.op.value = read_value;
  (h.op.is_write ? result_.stats.writes_ok : result_.stats.reads_ok) += 1;
  trace("client " + std::to_string(p->second.client) + " done: " +
        (h.op.is_write
             ? "put " + p->second.key + "=" + h.op.value
             : "get " + p->second.key + " -> " + (read_value.empty() ? "<none>" : read_value)));
  busy_.erase(p->second.client);
  pending_.erase(p);
}

void Simulator::expire_ops() {
  for (auto it = pending_.begin(); it != pending_.end();) {
    if (now_ - it->second.call < kClientTimeout) {
      ++it;
      continue;
    }
    HistOp& h = history_[it->second.key][it->second.hist];
    if (h.op.is_write) {
      ++result_.stats.unknown;  // may still apply later: return time stays "never"
    } else {
      h.dropped = true;  // a read without an answer has no effect
    }
    busy_.erase(it->second.client);
    it = pending_.erase(it);
  }
}

SimResult Simulator::run() {
  draw_knobs();
  for (int i = 1; i <= opts_.nodes; ++i)
    bootstrap_.add_voters(static_cast<NodeId>(i));
  for (int i = 1; i <= opts_.nodes; ++i) {
    SimNode& n = nodes_[static_cast<NodeId>(i)];
    n.id = static_cast<NodeId>(i);
    n.storage = std::make_unique<raft::MemStorage>();
    n.tick_offset = rng_.below(kTickEvery);
    start_node(n);
  }
  for (int s = 0; s < opts_.steps && result_.ok; ++s)
    step(true);
  if (result_.ok) liveness_phase();
  // Let in-flight client operations finish or time out, then check the history.
  if (result_.ok) check_history();
  result_.trace.assign(trace_.begin(), trace_.end());
  return result_;
}

}  // namespace detail

SimResult run_simulation(const SimOptions& opts) {
  return detail::Simulator(opts).run();
}

}  // namespace cairn::sim
