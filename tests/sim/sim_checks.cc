// The simulator's checks: safety after every step (one leader per term, Log Matching, committed
// entries never change, same applied sequence), liveness once faults heal, and linearizability
// of the client history at the end. Single-threaded.
#include <algorithm>

#include "sim_internal.h"

namespace cairn::sim::detail {

// ---------------------------------------------------------------- checks

void Simulator::check_committed(SimNode& n) {
  const raft::RaftLog& log = n.rn->raft().log();
  const Index commit = log.committed();
  if (commit < n.checked_commit) {
    fail("node " + std::to_string(n.id) + " commit index went back from " +
         std::to_string(n.checked_commit) + " to " + std::to_string(commit));
    return;
  }
  result_.stats.committed = std::max(result_.stats.committed, commit);
  const Index from = std::max(n.checked_commit + 1, log.first_index());
  if (from <= commit) {
    auto ents = log.slice(from, commit + 1, raft::kNoLimit);
    if (ents.ok()) {
      for (const Entry& e : *ents) {
        auto [it, fresh] = committed_.emplace(e.index(), std::make_pair(e.term(), entry_hash(e)));
        if (!fresh && it->second != std::make_pair(e.term(), entry_hash(e))) {
          fail("node " + std::to_string(n.id) + " committed a different entry at index " +
               std::to_string(e.index()) + " (term " + std::to_string(e.term()) +
               ") than was committed before (term " + std::to_string(it->second.first) + ")");
          return;
        }
      }
    }
  }
  n.checked_commit = commit;
  // The entry at the commit index is still the committed one (nothing committed disappeared or
  // changed under it); older ones are compared every 50 steps in check_log_matching().
  if (commit >= log.first_index() && commit > 0) {
    auto e = log.slice(commit, commit + 1, raft::kNoLimit);
    auto c = committed_.find(commit);
    if (e.ok() && !e->empty() && c != committed_.end() &&
        c->second != std::make_pair((*e)[0].term(), entry_hash((*e)[0]))) {
      fail("node " + std::to_string(n.id) + " no longer holds the committed entry at " +
           std::to_string(commit));
    }
  }
}

void Simulator::check_log_matching() {
  // Log Matching (§3.5): if two logs hold an entry with the same index and term, they are
  // identical up to that index. Also: every committed entry a node holds is the committed one.
  for (auto& [ia, a] : nodes_) {
    if (!a.up) continue;
    const raft::RaftLog& la = a.rn->raft().log();
    const auto ea = la.all_entries();
    for (const Entry& e : ea) {
      if (e.index() > la.committed()) break;
      auto c = committed_.find(e.index());
      if (c != committed_.end() && c->second != std::make_pair(e.term(), entry_hash(e))) {
        fail("node " + std::to_string(ia) + " holds a changed committed entry at " +
             std::to_string(e.index()));
        return;
      }
    }
    for (auto& [ib, b] : nodes_) {
      if (ib <= ia || !b.up) continue;
      const raft::RaftLog& lb = b.rn->raft().log();
      const Index lo = std::max(la.first_index(), lb.first_index());
      const Index hi = std::min(la.last_index(), lb.last_index());
      Index match = 0;
      for (Index i = hi; i >= lo && i > 0; --i) {
        if (*la.term(i) == *lb.term(i)) {
          match = i;
          break;
        }
      }
      if (match == 0) continue;
      auto sa = la.slice(lo, match + 1, raft::kNoLimit);
      auto sb = lb.slice(lo, match + 1, raft::kNoLimit);
      for (std::size_t k = 0; k < sa->size(); ++k) {
        if ((*sa)[k].term() != (*sb)[k].term() || entry_hash((*sa)[k]) != entry_hash((*sb)[k])) {
          fail("log matching violated between nodes " + std::to_string(ia) + " and " +
               std::to_string(ib) + " at index " + std::to_string((*sa)[k].index()) +
               " (they agree at " + std::to_string(match) + ")");
          return;
        }
      }
    }
  }
}

void Simulator::check_invariants() {
  for (auto& [id, n] : nodes_) {
    if (!n.up) continue;
    const raft::Raft& r = n.rn->raft();
    if (r.role() == Role::kLeader) {
      auto [it, fresh] = leader_of_term_.emplace(r.term(), id);
      if (fresh) ++result_.stats.leaders;
      if (it->second != id) {
        fail("two leaders in term " + std::to_string(r.term()) + ": nodes " +
             std::to_string(it->second) + " and " + std::to_string(id));
      }
    }
    check_committed(n);
  }
  if (now_ % 50 == 0) check_log_matching();
}

bool Simulator::liveness_phase() {
  // Heal everything: the network, every crashed node. Clients keep going.
  cuts_.clear();
  drop_ = dup_ = long_delay_ = 0;
  for (auto& [id, n] : nodes_) {
    if (!n.up) restart(n);
  }
  trace("HEAL ALL: liveness phase begins");
  const std::uint64_t start = now_;
  std::uint64_t marker = 0;
  std::uint64_t proposed_at = 0;
  while (now_ - start < kLivenessBudget) {
    step(false);
    if (!result_.ok) return false;
    SimNode* l = leader();
    if (l == nullptr) continue;
    if (marker != 0) {
      const auto voters = l->rn->raft().tracker().config().voters.ids();
      bool all = true;
      for (NodeId v : voters)
        all = all && markers_[marker].count(v) != 0;
      if (all && !voters.empty()) {
        result_.stats.liveness_ticks = (now_ - start) / kTickEvery;
        return true;
      }
      // The leader may have changed before the marker committed; propose another after a while.
      if (now_ - proposed_at < 300) continue;
    }
    const std::uint64_t id = next_op_++;
    if (l->rn->propose(Command{Command::kMarker, id, "", ""}.encode()).ok()) {
      marker = id;
      proposed_at = now_;
      trace("liveness marker " + std::to_string(id) + " proposed at node " + std::to_string(l->id));
    }
  }
  fail("liveness: no leader committed a new entry on every voter within " +
       std::to_string(kLivenessBudget / kTickEvery) + " ticks after all faults healed");
  return false;
}

void Simulator::check_history() {
  for (auto& [key, hist] : history_) {
    std::vector<RegisterOp> ops;
    for (const HistOp& h : hist) {
      if (!h.dropped && (h.op.is_write || h.op.ret != kNever)) ops.push_back(h.op);
    }
    std::string why;
    ++result_.stats.keys_checked;
    switch (check_register(ops, &why, opts_.checker_max_states)) {
      case CheckResult::kLinearizable:
        break;
      case CheckResult::kViolation:
        fail("history of key " + key + " is not linearizable: " + why);
        return;
      case CheckResult::kGaveUp:
        // Not a violation: the search space was too large to decide. Counted; the callers
        // bound the share of such keys over their seeds (undecided_over_bound).
        ++result_.stats.keys_undecided;
        trace("linearizability check of " + key + " gave up (too many states)");
        break;
    }
  }
}

}  // namespace cairn::sim::detail

namespace cairn::sim {

std::string undecided_over_bound(const SimStats& s) {
  if (s.keys_undecided * kMaxUndecidedOneIn <= s.keys_checked) return {};
  return "the linearizability checker gave up on " + std::to_string(s.keys_undecided) + " of " +
         std::to_string(s.keys_checked) + " key histories, more than 1 in " +
         std::to_string(kMaxUndecidedOneIn) + " (raise its state budget or shorten the histories)";
}

}  // namespace cairn::sim
