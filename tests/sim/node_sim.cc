#include "node_sim.h"

#include <fmt/format.h>
#include <spdlog/spdlog.h>

#include <asio/post.hpp>

#include <algorithm>
#include <deque>
#include <functional>
#include <map>
#include <set>
#include <stdexcept>
#include <string>

#include "cache/codec.h"
#include "linearizability.h"
#include "net/client_errors.h"
#include "node_world.h"
#include "rng.h"

namespace cairn::sim {
namespace {

using namespace std::chrono_literals;
using net::NodeId;

constexpr int kClients = 4;
constexpr int kKeys = 6;          // k0..k5: registers, checked for linearizability
constexpr int kExpiringKeys = 3;  // e0..e2: written with a time to live
const std::string kCounter = "counter";

// An increment is one attempt of a session write: attempts of the same (client, seq) are resends.
struct Op {
  enum Kind { kPut, kGet, kIncr, kOpenSession, kCas, kExpiringPut } kind = kPut;
  int client = 0;
  NodeId node = 0;
  std::string key;
  std::string value;  // a put's or compare-and-set's value
  int answers = 0;
  std::size_t hist = 0;   // a put's or compare-and-set's place in its key's history
  std::uint64_t seq = 0;  // an increment's number in its client's session
};

// A stale read (served from the node's applied state, no quorum asked): what it read, where.
struct StaleRead {
  NodeId node = 0;
  std::uint64_t incarnation = 0;
  raft::Index applied = 0;  // the node's applied index when it read
  std::string key;
  std::string value;  // "(nil)" when the key was absent
};

// Key `key`'s value in a state written by NodeSimulation::state_of ("k=v;...;sessions=N"), as a
// read answers it: "(nil)" when absent or expired.
std::string value_in_state(std::string_view state, const std::string& key) {
  const std::string needle = key + "=";
  while (!state.empty()) {
    const std::size_t end = std::min(state.find(';'), state.size());
    const std::string_view item = state.substr(0, end);
    if (item.starts_with(needle)) {
      const std::string_view v = item.substr(needle.size());
      return v == "(gone)" ? "(nil)" : std::string(v);
    }
    state.remove_prefix(std::min(end + 1, state.size()));
  }
  return "(nil)";
}

// A client's session, as cairn::client::Client keeps it: increments are numbered in it and resent
// under their number until answered.
struct ClientSession {
  std::uint64_t id = 0;  // 0: none open
  std::uint64_t next_seq = 1;
  std::set<std::uint64_t> unanswered;
};

// What identifies a committed entry: its term and its bytes.
std::size_t committed_hash(const raft::Entry& e) {
  return std::hash<std::string>()(e.data()) ^ (e.term() * 0x9E3779B97F4A7C15ULL);
}

std::string kind_name(Op::Kind k) {
  switch (k) {
    case Op::kPut:
      return "put";
    case Op::kGet:
      return "get";
    case Op::kIncr:
      return "incr";
    case Op::kOpenSession:
      return "open-session";
    case Op::kCas:
      return "cas";
    case Op::kExpiringPut:
      return "put-with-ttl";
  }
  return "?";
}

class NodeSimulation {
 public:
  explicit NodeSimulation(const NodeSimOptions& o)
      : opts_(o), rng_(o.seed * 0x9E3779B97F4A7C15ULL + 0x51), world_(draw_world()) {}

  NodeSimResult run();

 private:
  WorldOptions draw_world() {
    WorldOptions w;
    w.seed = opts_.seed;
    w.nodes = opts_.nodes;
    w.min_delay = std::chrono::microseconds(100 + rng_.below(900));
    w.max_delay = w.min_delay + std::chrono::microseconds(rng_.below(3) == 0 ? 40'000 : 4'000);
    loss_ = rng_.below(3) == 0 ? 0 : rng_.below(800);
    duplication_ = rng_.below(2) == 0 ? 0 : rng_.below(1000);
    fault_every_ms_ = 200 + rng_.below(1300);
    w.disk = opts_.disk;
    config_ = fmt::format(
        "nodes={} storage={} delay={}-{}us loss={}/10000 dup={}/10000 faults every {} ms", w.nodes,
        w.disk ? "disk" : "memory", w.min_delay.count(), w.max_delay.count(), loss_, duplication_,
        fault_every_ms_);
    return w;
  }

  // Microseconds since the start of the run: the history's clock.
  std::uint64_t now_us() const {
    return static_cast<std::uint64_t>(
        std::chrono::duration_cast<std::chrono::microseconds>(world_.now() - start_).count());
  }
  void trace(const std::string& line) {
    if (!opts_.trace) return;
    trace_.push_back(fmt::format("{:>9.3f} ms  {}", static_cast<double>(now_us()) / 1000, line));
    if (trace_.size() > opts_.trace_lines) trace_.pop_front();
  }
  void fail(const std::string& why) {
    if (failed_) return;
    failed_ = true;
    violation_ = why;
    failed_at_ms_ = static_cast<std::int64_t>(now_us() / 1000);
    trace("VIOLATION: " + why);
  }
  NodeId random_node() {
    const auto ids = world_.ids();
    return ids[rng_.below(ids.size())];
  }
  // A node that is up, or 0 when none is (the whole cluster down, on disk).
  NodeId random_up_node() {
    const auto ids = world_.ids();
    const std::size_t first = rng_.below(ids.size());
    for (std::size_t i = 0; i < ids.size(); ++i)
      if (world_.up(ids[(first + i) % ids.size()])) return ids[(first + i) % ids.size()];
    return 0;
  }
  // With the log in memory: crashes `id` if every node is up and none is still recovering from an
  // earlier crash (losing a second copy before the first is rebuilt may lose what only those two
  // held: a documented limit, not a fault to simulate), and restarts it later.
  void crash_and_restart(NodeId id);
  // With the log on disk: one of a process crash, a power loss, a graceful shutdown, the log's
  // disk lost, or a power loss of the whole cluster (docs/testing.md).
  void disk_fault(NodeId id);
  // `id`'s clients lose their connections: they never learn what became of their requests.
  void lose_connections(NodeId id);
  // Starts `id` again; the checks follow it from the founding snapshot.
  void restart(NodeId id);
  // Restarts `id` (down now) after a drawn 0.2-3 s, tracing `what` and the delay.
  void restart_later(NodeId id, const std::string& what);
  // Whether a node may be taken down now: every node up, none recovering or stopping, no
  // membership change under way.
  bool all_standing();
  // A membership change: node `id` is removed from the cluster (asked at any node, again until
  // the answer is known) and taken away for good, then a new node joins in its place through a
  // member (docs/node.md, "Membership"). One at a time; done once the new node votes.
  void replace_node(NodeId id);
  void remove_node(NodeId id);
  void when_voting(NodeId id);
  // A graceful shutdown (SIGTERM) of `id` with a drawn grace, under the same conditions as a
  // crash: once it has stopped, every request it took must have been answered; it is then
  // destroyed and restarted later, as a process that exited.
  void stop_and_restart(NodeId id);
  // Checks every 5 ms whether `id` has stopped, failing once it ran `left` without stopping.
  void when_stopped(NodeId id, Clock::duration left);

  void start_op(int client);
  void open_session(int client, NodeId node);
  // Sends `op` (a put drawn as ops_[id]) as a compare-and-set instead; false when there is no
  // value to expect yet.
  bool send_cas(Op op, std::size_t id);
  // Sends `op` (likewise) as a put with a time to live, to one of the expiring keys.
  void send_expiring_put(Op op, std::size_t id);
  // Sends (or resends) increment `seq` of `client`'s session to a node that is up.
  void send_incr(int client, std::uint64_t seq);
  void resend_incr_later(int client, std::uint64_t seq);
  void incr_answered(const Op& op, const node::Outcome& o, std::string& what);
  void answered(std::size_t id, const node::Outcome& o);
  void next_op_later(int client);
  // A read served from `node`'s applied state, as a front end serves a stale GET: no quorum, so
  // not linearizable, but it must read the state every replica held at that applied index, and a
  // node's reads must not go back in the log while its process lives.
  void stale_read(int client, NodeId node, const std::string& key);
  void check_stale_reads();
  void inject_fault();
  void check_step();
  // Keys and values of node `id`'s state, in order, as one string.
  std::string state_of(NodeId id);
  bool settled();
  void final_checks();

  NodeSimOptions opts_;
  Rng rng_;
  std::uint64_t loss_ = 0, duplication_ = 0, fault_every_ms_ = 500;
  std::string config_;
  Clock::time_point start_{};
  bool load_on_ = true;
  std::vector<Op> ops_;
  std::map<std::string, std::vector<RegisterOp>> history_;
  std::set<std::pair<std::string, std::size_t>> never_executed_;  // puts refused before the log
  std::map<std::pair<int, std::string>, std::string> seen_;  // (client, key) -> last value seen
  std::vector<std::int64_t> incr_results_;  // the first answer of each acknowledged increment
  std::uint64_t incrs_sent_ = 0;            // increments begun (not attempts)
  std::uint64_t incrs_abandoned_ = 0;       // refused by the session table after an attempt
  std::vector<ClientSession> sessions_ = std::vector<ClientSession>(kClients);
  std::map<std::pair<int, std::uint64_t>, std::int64_t> incr_value_;  // (client, seq) -> answer
  int next_value_ = 0;
  // The checks' memory.
  std::map<raft::Term, NodeId> leader_of_term_;
  std::map<raft::Index, std::size_t> committed_;  // index -> hash of the committed entry
  std::map<NodeId, raft::Index> checked_commit_;
  std::map<NodeId, raft::Index> checked_applied_;
  std::map<raft::Index, std::string> state_at_;  // applied index -> state there
  std::vector<StaleRead> stale_reads_;
  NodeSimStats stats_;
  bool failed_ = false;
  std::string violation_;
  std::int64_t failed_at_ms_ = 0;
  std::deque<std::string> trace_;
  NodeId stopping_ = 0;   // the node in a graceful shutdown, if any
  NodeId replacing_ = 0;  // the node being removed, or the one joining in its place, if any
  NodeId next_id_ = 0;    // the id the next added node takes
  std::uint64_t remove_attempt_ = 0;  // answers to earlier attempts are ignored
  // Last: made after the draws above, and destroyed first - stopping its nodes answers the
  // requests still open, which the members above record.
  NodeWorld world_;
};

void NodeSimulation::start_op(int client) {
  if (!load_on_ || failed_) return;
  Op op;
  op.client = client;
  op.node = random_up_node();
  if (op.node == 0) return next_op_later(client);
  const auto roll = rng_.below(10);
  op.kind = roll < 4 ? Op::kPut : roll < 8 ? Op::kGet : Op::kIncr;
  op.key = op.kind == Op::kIncr ? kCounter : "k" + std::to_string(rng_.below(kKeys));
  const std::size_t id = ops_.size();
  node::Node& n = world_.node(op.node);
  auto done = [this, id](node::Outcome o) { answered(id, o); };
  if (op.kind == Op::kPut) {
    op.value = fmt::format("c{}v{}", client, ++next_value_);
    const auto variant = rng_.below(4);
    if (variant == 0 && send_cas(op, id)) return;
    if (variant == 1) return send_expiring_put(op, id);
    seen_[{client, op.key}] = op.value;
    auto& h = history_[op.key];
    op.hist = h.size();
    h.push_back(RegisterOp{client, true, op.value, now_us(), kNever});
    trace(fmt::format("c{} put {}={} at n{}", client, op.key, op.value, op.node));
    ops_.push_back(op);
    cache::Put p;
    p.key = op.key;
    p.value = op.value;
    n.execute(std::move(p), done);
  } else if (op.kind == Op::kIncr) {
    ClientSession& cs = sessions_[static_cast<std::size_t>(client)];
    if (cs.id == 0) return open_session(client, op.node);
    ++incrs_sent_;
    const std::uint64_t seq = cs.next_seq++;
    cs.unanswered.insert(seq);
    send_incr(client, seq);
  } else if (rng_.below(4) == 0) {
    stale_read(client, op.node, op.key);
  } else {
    trace(fmt::format("c{} get {} at n{}", client, op.key, op.node));
    ops_.push_back(op);
    const std::uint64_t call = now_us();
    // The value is read when the barrier answers, on the node's task queue: what a front end
    // serving a linearizable GET reads.
    n.read_barrier([this, id, call](node::Outcome o) {
      const Op& r = ops_[id];
      if (o.ok()) {
        const auto v = world_.node(r.node).engine().get(r.key);
        history_[r.key].push_back(RegisterOp{r.client, false, v.value_or(""), call, now_us()});
        if (v) seen_[{r.client, r.key}] = *v;
        o = node::Outcome::of(v ? cache::Reply(*v) : cache::Reply(cache::Nil{}));
      }
      answered(id, o);
    });
  }
}

bool NodeSimulation::send_cas(Op op, std::size_t id) {
  // Expects the value this client last saw for the key, else the last one written to it.
  auto& h = history_[op.key];
  std::string expected;
  if (auto it = seen_.find({op.client, op.key}); it != seen_.end()) {
    expected = it->second;
  } else {
    for (auto w = h.rbegin(); w != h.rend() && expected.empty(); ++w)
      if (w->is_write || w->is_cas) expected = w->value;
  }
  if (expected.empty()) return false;  // nothing to expect yet: a put instead
  op.kind = Op::kCas;
  op.hist = h.size();
  RegisterOp r{op.client, false, op.value, now_us(), kNever};
  r.is_cas = true;
  r.expected = expected;
  h.push_back(r);
  seen_[{op.client, op.key}] = op.value;  // if it swaps; a read or another write corrects it
  trace(fmt::format("c{} cas {}: {} -> {} at n{}", op.client, op.key, expected, op.value, op.node));
  const NodeId at = op.node;
  ops_.push_back(std::move(op));
  world_.node(at).execute(cache::CompareAndSet{ops_[id].key, expected, ops_[id].value, {}},
                          [this, id](node::Outcome o) { answered(id, o); });
  return true;
}

void NodeSimulation::send_expiring_put(Op op, std::size_t id) {
  // Not in any history (the register model has no expiry): its checks are that every replica
  // at an index holds the same keys - so expires them at the same entry - and the same values.
  op.kind = Op::kExpiringPut;
  op.key = "e" + std::to_string(rng_.below(kExpiringKeys));
  cache::Put p;
  p.key = op.key;
  p.value = op.value;
  p.expiry = cache::Expiry::relative(static_cast<std::int64_t>(100 + rng_.below(2900)));
  trace(
      fmt::format("c{} put {}={} px {} at n{}", op.client, op.key, op.value, p.expiry.ms, op.node));
  const NodeId at = op.node;
  ops_.push_back(std::move(op));
  world_.node(at).execute(std::move(p), [this, id](node::Outcome o) { answered(id, o); });
}

void NodeSimulation::open_session(int client, NodeId node) {
  Op op;
  op.kind = Op::kOpenSession;
  op.client = client;
  op.node = node;
  const std::size_t id = ops_.size();
  ops_.push_back(op);
  trace(fmt::format("c{} opens a session at n{}", client, node));
  world_.node(node).execute(cache::OpenSession{}, [this, id](node::Outcome o) { answered(id, o); });
}

void NodeSimulation::send_incr(int client, std::uint64_t seq) {
  if (failed_) return;
  const ClientSession& cs = sessions_[static_cast<std::size_t>(client)];
  Op op;
  op.kind = Op::kIncr;
  op.client = client;
  op.node = random_up_node();
  if (op.node == 0) return resend_incr_later(client, seq);
  op.key = kCounter;
  op.seq = seq;
  const std::size_t id = ops_.size();
  ops_.push_back(op);
  trace(fmt::format("c{} incr #{} at n{}", client, seq, op.node));
  const std::uint64_t acked = *cs.unanswered.begin();
  world_.node(op.node).execute(
      cache::SessionWrite{cs.id, seq, acked, cache::encode_entry(cache::IncrBy{kCounter, 1}, 0)},
      [this, id](node::Outcome o) { answered(id, o); });
}

void NodeSimulation::resend_incr_later(int client, std::uint64_t seq) {
  ++stats_.incr_resends;
  world_.schedule(std::chrono::microseconds(5'000 + rng_.below(60'000)),
                  [this, client, seq] { send_incr(client, seq); });
}

// An increment's attempt ended. Unless the answer is a number, or a refusal by the session table
// (which means an earlier attempt may have applied, and nothing will tell), it is resent under the
// same number, whatever the error: the session makes that safe.
void NodeSimulation::incr_answered(const Op& op, const node::Outcome& o, std::string& what) {
  ClientSession& cs = sessions_[static_cast<std::size_t>(op.client)];
  if (!o.ok()) return resend_incr_later(op.client, op.seq);
  if (const auto* v = std::get_if<std::int64_t>(&*o.reply)) {
    what = std::to_string(*v);
    auto [it, first] = incr_value_.emplace(std::pair{op.client, op.seq}, *v);
    if (!first && it->second != *v)
      return fail(fmt::format("client {}'s increment #{} was answered {} and then {}", op.client,
                              op.seq, it->second, *v));
    if (first) {
      incr_results_.push_back(*v);
      ++stats_.incrs_ok;
    }
  } else if (const auto* e = std::get_if<cache::Error>(&*o.reply);
             e != nullptr && e->code == cache::ErrorCode::kSession) {
    what = e->message;
    ++incrs_abandoned_;
    ++stats_.unknown;
    cs.id = 0;  // the table forgot the session: the next increment opens another
  } else {
    return fail(
        fmt::format("an increment at node {} was answered with something other than a "
                    "number",
                    op.node));
  }
  cs.unanswered.erase(op.seq);
  next_op_later(op.client);
}

void NodeSimulation::answered(std::size_t id, const node::Outcome& o) {
  Op& op = ops_[id];
  if (++op.answers > 1) {
    fail(fmt::format("client {}'s {} of {} at node {} was answered twice", op.client,
                     kind_name(op.kind), op.key, op.node));
    return;
  }
  std::string what = o.ok() ? "ok" : o.error;
  switch (op.kind) {
    case Op::kPut:
      if (o.ok()) {
        history_[op.key][op.hist].ret = now_us();
        ++stats_.writes_ok;
      } else if (net::errors::never_executed(o.error)) {
        // The node says it never reached the log: the history leaves it out, so should it have
        // applied after all, a read of its value would find no write that explains it.
        never_executed_.insert({op.key, op.hist});
      } else {
        ++stats_.unknown;  // it may still apply: the history keeps it open
      }
      break;
    case Op::kCas: {
      RegisterOp& h = history_[op.key][op.hist];
      const auto* v = o.ok() ? std::get_if<std::int64_t>(&*o.reply) : nullptr;
      if (v != nullptr) {
        h.ret = now_us();
        h.swapped = *v == 1 ? 1 : 0;
        ++stats_.cas_ok;
        stats_.cas_swapped += *v == 1;
        what = *v == 1 ? "swapped" : "not swapped";
      } else if (o.ok()) {
        return fail(
            fmt::format("a compare-and-set at node {} was answered with something other "
                        "than a number",
                        op.node));
      } else if (net::errors::never_executed(o.error)) {
        never_executed_.insert({op.key, op.hist});
      } else {
        ++stats_.unknown;
      }
      break;
    }
    case Op::kExpiringPut:
      if (o.ok()) ++stats_.expiring_puts_ok;
      break;
    case Op::kIncr:
      trace(fmt::format("c{} incr #{} at n{} -> {}", op.client, op.seq, op.node,
                        o.ok() ? "answer" : o.error));
      return incr_answered(op, o, what);
    case Op::kOpenSession: {
      const auto* v = o.ok() ? std::get_if<std::int64_t>(&*o.reply) : nullptr;
      if (v != nullptr)
        sessions_[static_cast<std::size_t>(op.client)].id = static_cast<std::uint64_t>(*v);
      what = v != nullptr ? "session " + std::to_string(*v) : o.error;
      break;
    }
    case Op::kGet:
      if (o.ok()) {
        ++stats_.reads_ok;
        what = std::holds_alternative<cache::Nil>(*o.reply) ? "(nil)"
                                                            : std::get<std::string>(*o.reply);
      }
      break;
  }
  trace(
      fmt::format("c{} {} {} at n{} -> {}", op.client, kind_name(op.kind), op.key, op.node, what));
  next_op_later(op.client);
}

void NodeSimulation::stale_read(int client, NodeId node, const std::string& key) {
  node::Node& n = world_.node(node);
  const std::uint64_t incarnation = world_.incarnation(node);
  asio::post(n.io_context(), [this, client, node, incarnation, key] {
    if (!world_.up(node) || world_.incarnation(node) != incarnation) return;  // not reached
    node::Node& at = world_.node(node);
    // The node's own stale path (served at once, on the calling thread: here its task queue).
    std::optional<net::ClientResponse> answer;
    at.submit(net::StaleGetCommand{key},
              [&answer](net::ClientResponse r) { answer = std::move(r); });
    if (!answer || !answer->success)
      return fail(fmt::format("n{} did not serve a stale read of {} at once: {}", node, key,
                              answer ? answer->error.value_or("?") : "no answer"));
    StaleRead r{node, incarnation, at.standing().applied, key, answer->value.value_or("(nil)")};
    trace(fmt::format("c{} stale get {} at n{} (applied {}) -> {}", client, key, node, r.applied,
                      r.value));
    // Within one process's life, a node's reads never go back in the log.
    for (auto it = stale_reads_.rbegin(); it != stale_reads_.rend(); ++it) {
      if (it->node != node) continue;
      if (it->incarnation == incarnation && it->applied > r.applied)
        fail(fmt::format("n{} served a stale read at applied index {} after one at {}", node,
                         r.applied, it->applied));
      break;
    }
    stale_reads_.push_back(std::move(r));
    ++stats_.stale_reads;
  });
  next_op_later(client);
}

void NodeSimulation::check_stale_reads() {
  // The state at an index is what replicas agreed on there (check_step); a stale read whose index
  // no step observed (the node passed it within one event) has nothing to be compared with.
  for (const StaleRead& r : stale_reads_) {
    auto it = state_at_.find(r.applied);
    if (it == state_at_.end()) continue;
    ++stats_.stale_reads_checked;
    const std::string held = value_in_state(it->second, r.key);
    if (held != r.value)
      return fail(fmt::format("n{} read {}={} at applied index {}, where the replicas held {}",
                              r.node, r.key, r.value, r.applied, held));
  }
}

void NodeSimulation::next_op_later(int client) {
  world_.schedule(std::chrono::microseconds(5'000 + rng_.below(60'000)),
                  [this, client] { start_op(client); });
}

void NodeSimulation::inject_fault() {
  ++stats_.faults;
  const auto ids = world_.ids();
  const NodeId leader = world_.agreed_leader();
  // The leader is the most interesting node to hit: half the time, when there is one.
  const NodeId victim = leader != 0 && rng_.below(2) == 0 ? leader : random_node();
  switch (rng_.below(11)) {
    case 0:
    case 1:
      world_.heal_all();
      world_.set_loss(0);
      world_.set_duplication(0);
      trace("fault: heal every link, no loss");
      break;
    case 2:
      world_.isolate(victim);
      trace(fmt::format("fault: isolate n{}", victim));
      break;
    case 3: {
      const NodeId to = random_node();
      if (to != victim) world_.cut(victim, to);
      trace(fmt::format("fault: cut n{} -> n{} (one way)", victim, to));
      break;
    }
    case 4: {
      // A minority cut off from a majority, both ways.
      std::vector<NodeId> minority;
      for (NodeId id : ids)
        if (minority.size() < (ids.size() - 1) / 2 && rng_.below(2) == 0) minority.push_back(id);
      if (minority.empty()) minority.push_back(victim);
      std::string names;
      for (NodeId a : minority) {
        names += fmt::format(" n{}", a);
        for (NodeId b : ids)
          if (std::find(minority.begin(), minority.end(), b) == minority.end()) {
            world_.cut(a, b);
            world_.cut(b, a);
          }
      }
      trace("fault: partition off" + names);
      break;
    }
    case 5: {
      const auto d = std::chrono::milliseconds(300 + rng_.below(3700));
      world_.pause(victim, d);
      ++stats_.pauses;
      trace(fmt::format("fault: pause n{} for {} ms", victim, d.count()));
      break;
    }
    case 9:
      if (opts_.disk) {
        disk_fault(victim);
      } else if (rng_.below(2) == 0) {
        crash_and_restart(victim);
      } else {
        stop_and_restart(victim);
      }
      break;
    case 6: {
      if (!world_.up(victim)) break;
      const auto delta =
          std::chrono::milliseconds(static_cast<std::int64_t>(rng_.below(6001)) - 3000);
      world_.skew(victim, delta);
      trace(fmt::format("fault: n{}'s wall clock jumps {} ms", victim, delta.count()));
      break;
    }
    case 7: {
      const NodeId to = random_node();
      const NodeId via = random_up_node();
      if (via == 0) break;
      trace(fmt::format("fault: transfer leadership to n{} (asked at n{})", to, via));
      world_.node(via).admin(net::TransferLeaderCommand{to}, [this, to](node::Outcome o) {
        trace(fmt::format("transfer to n{}: {}", to, o.ok() ? "ok" : o.error));
      });
      break;
    }
    case 8:
      if (rng_.below(2) == 0) {
        replace_node(victim);
        break;
      }
      [[fallthrough]];
    default:
      world_.set_loss(rng_.below(2) == 0 ? 0 : loss_);
      world_.set_duplication(rng_.below(2) == 0 ? 0 : duplication_);
      trace("fault: message loss and duplication redrawn");
      break;
  }
}

bool NodeSimulation::all_standing() {
  if (stopping_ != 0 || replacing_ != 0) return false;
  for (NodeId other : world_.ids())
    if (!world_.up(other) || world_.node(other).standing().recovering) return false;
  return true;
}

void NodeSimulation::stop_and_restart(NodeId id) {
  if (!all_standing()) return;
  const auto grace = std::chrono::milliseconds(300 + rng_.below(2700));
  stopping_ = id;
  ++stats_.shutdowns;
  trace(fmt::format("fault: graceful shutdown of n{} (grace {} ms)", id, grace.count()));
  world_.node(id).begin_stop(grace);
  // The grace counts the time the node runs: pauses (any number of them) hold it on top.
  when_stopped(id, grace + 2s);
}

void NodeSimulation::when_stopped(NodeId id, Clock::duration left) {
  world_.schedule(5ms, [this, id, left] {
    if (failed_) return;
    if (!world_.node(id).stopped()) {
      const auto now_left = world_.paused(id) ? left : left - 5ms;
      if (now_left < Clock::duration::zero())
        return fail(fmt::format("n{} did not stop within its grace (and 2 s), pauses aside", id));
      return when_stopped(id, now_left);
    }
    for (const Op& op : ops_)
      if (op.node == id && op.answers == 0)
        return fail(fmt::format("n{} stopped with client {}'s {} unanswered", id, op.client,
                                kind_name(op.kind)));
    world_.crash(id);  // the process exits
    stopping_ = 0;
    restart_later(id, fmt::format("n{} stopped, every request answered", id));
  });
}

void NodeSimulation::restart_later(NodeId id, const std::string& what) {
  const auto down = std::chrono::milliseconds(200 + rng_.below(2800));
  trace(fmt::format("{}; restart in {} ms", what, down.count()));
  world_.schedule(down, [this, id] {
    if (world_.has(id) && !world_.up(id)) restart(id);
  });
}

void NodeSimulation::replace_node(NodeId id) {
  if (!all_standing()) return;
  replacing_ = id;
  ++stats_.membership_changes;
  trace(fmt::format("fault: replace n{}: remove it, then add n{}", id, next_id_));
  remove_node(id);
}

void NodeSimulation::remove_node(NodeId id) {
  const std::uint64_t attempt = ++remove_attempt_;
  const NodeId via = random_up_node();
  if (via == 0) {
    world_.schedule(300ms, [this, id] { remove_node(id); });
    return;
  }
  // A node that crashes never answers: past the request timeout, the client asks again.
  world_.schedule(6s, [this, id, attempt] {
    if (attempt == remove_attempt_ && replacing_ == id) remove_node(id);
  });
  world_.node(via).admin(net::RemoveNodeCommand{id}, [this, id, via, attempt](node::Outcome o) {
    if (attempt != remove_attempt_ || replacing_ != id) return;  // asked again since
    // Removed, or no longer a member (an earlier attempt, answered with an error, took effect).
    const bool gone = o.ok() || o.error.find("is not a member") != std::string::npos;
    trace(fmt::format("remove n{} (asked at n{}): {}", id, via, o.ok() ? "ok" : o.error));
    if (!gone) {
      world_.schedule(300ms, [this, id] { remove_node(id); });
      return;
    }
    ++remove_attempt_;
    // Answered on `via`'s task queue: the rest happens as an event of its own.
    world_.schedule(0ms, [this, id] {
      if (world_.up(id)) lose_connections(id);
      world_.take_away(id);
      checked_commit_.erase(id);
      checked_applied_.erase(id);
      const NodeId added = next_id_++;
      const NodeId via_up = random_up_node();
      const NodeId through = via_up != 0 ? via_up : world_.ids().front();
      world_.add_node(added, through);
      replacing_ = added;
      trace(fmt::format("n{} taken away; n{} joins through n{}", id, added, through));
      when_voting(added);
    });
  });
}

void NodeSimulation::when_voting(NodeId id) {
  world_.schedule(20ms, [this, id] {
    if (failed_) return;
    if (world_.up(id) && world_.node(id).standing().voter &&
        !world_.node(id).standing().recovering) {
      trace(fmt::format("n{} votes", id));
      ++stats_.nodes_added;
      replacing_ = 0;
      return;
    }
    when_voting(id);
  });
}

void NodeSimulation::crash_and_restart(NodeId id) {
  if (!all_standing()) return;
  world_.crash(id);
  ++stats_.crashes;
  lose_connections(id);
  restart_later(id, fmt::format("fault: crash n{}", id));
}

void NodeSimulation::disk_fault(NodeId id) {
  // Of eight draws: 0-1 kill -9 of `id`, 2-3 its power loss, 4-5 its graceful shutdown, 6 its
  // log and snapshots lost, 7 a power loss of every node. Crashes and power losses keep what was
  // synced, so they may hit any number of nodes; the other two wait until every node stands, as
  // with the log in memory (a shutdown is checked alone; a node that lost its log must catch up
  // before a second one does).
  const auto roll = rng_.below(8);
  if (roll == 4 || roll == 5) return stop_and_restart(id);
  if (roll == 6) {
    if (!all_standing()) return;
    world_.crash(id);
    world_.lose_log(id);
    ++stats_.crashes;
    ++stats_.logs_lost;
    lose_connections(id);
    return restart_later(id, fmt::format("fault: n{} crashes and loses its log and snapshots", id));
  }
  std::vector<NodeId> victims;
  if (roll == 7) {
    for (NodeId n : world_.ids())
      if (world_.up(n) && n != stopping_) victims.push_back(n);
    trace("fault: power loss of every node");
    ++stats_.cluster_power_losses;
  } else if (world_.up(id) && id != stopping_) {
    victims.push_back(id);
  }
  for (NodeId n : victims) {
    const bool power = roll != 0 && roll != 1;
    const auto s = world_.node(n).standing();
    trace(fmt::format("n{} goes down at commit {}, applied {}, counter {}", n, s.commit, s.applied,
                      world_.node(n).engine().get(kCounter).value_or("none")));
    std::string lost;
    if (power) {
      lost = world_.power_off(n);
      ++stats_.power_losses;
    } else {
      world_.crash(n);
    }
    ++stats_.crashes;
    lose_connections(n);
    restart_later(n, power ? fmt::format("fault: power loss of n{} ({})", n, lost)
                           : fmt::format("fault: crash n{} (kill -9)", n));
  }
}

void NodeSimulation::lose_connections(NodeId id) {
  for (Op& op : ops_)
    if (op.node == id && op.answers == 0) {
      op.answers = 1;
      if (op.kind == Op::kIncr) {
        resend_incr_later(op.client, op.seq);  // under its number, to another node
      } else if (op.kind == Op::kPut) {
        ++stats_.unknown;
      }
      if (op.kind != Op::kIncr) next_op_later(op.client);
    }
}

void NodeSimulation::restart(NodeId id) {
  try {
    world_.restart(id);
  } catch (const std::runtime_error& e) {  // its data refused (Node::create failed)
    return fail(fmt::format("n{} cannot restart: {}", id, e.what()));
  }
  checked_commit_[id] = 0;  // it starts again from the founding snapshot
  checked_applied_[id] = 0;
  trace(fmt::format("n{} restarts {}", id,
                    opts_.disk ? "from what its disk holds" : "without its log"));
}

std::string NodeSimulation::state_of(NodeId id) {
  const cache::Engine& e = world_.node(id).engine();
  std::vector<std::string> keys = e.keys("*");
  std::sort(keys.begin(), keys.end());
  std::string out;
  for (const auto& k : keys)
    out += k + "=" + e.get(k).value_or("(gone)") + ";";
  return out + "sessions=" + std::to_string(e.stats().sessions);
}

void NodeSimulation::check_step() {
  if (failed_) return;
  for (NodeId id : world_.ids()) {
    if (!world_.up(id)) continue;
    node::Node& n = world_.node(id);
    if (n.stopped()) continue;
    const node::Node::Standing s = n.standing();
    if (s.role == raft::Role::kLeader) {
      auto [it, fresh] = leader_of_term_.emplace(s.term, id);
      if (fresh) {
        ++stats_.leaders;
        trace(fmt::format("n{} leads term {}", id, s.term));
      } else if (it->second != id) {
        return fail(fmt::format("two leaders in term {}: n{} and n{}", s.term, it->second, id));
      }
    }
    stats_.committed = std::max<std::uint64_t>(stats_.committed, s.commit);
    auto& from = checked_commit_[id];
    for (raft::Index i = from + 1; i <= s.commit; ++i) {
      const raft::Entry* e = n.log_entry(i);
      if (e == nullptr) continue;  // not in this node's log (a snapshot covers it)
      const std::size_t h = committed_hash(*e);
      auto [it, fresh] = committed_.emplace(i, h);
      if (!fresh && it->second != h)
        return fail(
            fmt::format("n{} committed another entry at index {} (term {})", id, i, e->term()));
    }
    from = std::max(from, s.commit);
    auto& applied = checked_applied_[id];
    if (s.applied != applied) {
      applied = s.applied;
      std::string state = state_of(id);
      auto [it, fresh] = state_at_.emplace(s.applied, state);
      if (!fresh && it->second != state)
        return fail(fmt::format("n{} at applied index {} holds [{}], another replica held [{}]", id,
                                s.applied, state, it->second));
    }
  }
}

bool NodeSimulation::settled() {
  if (replacing_ != 0) return false;  // a membership change completes first
  for (const Op& op : ops_)
    if (op.answers == 0) return false;
  for (const ClientSession& cs : sessions_)
    if (!cs.unanswered.empty()) return false;  // an increment still being resent
  for (NodeId id : world_.ids())
    if (!world_.up(id)) return false;
  const NodeId leader = world_.agreed_leader();
  if (leader == 0) return false;
  const auto lead = world_.node(leader).standing();
  // Only once the leader has committed an entry of its own term is everything committed before
  // counted in its commit index (a leader elected after a restart of every node starts from the
  // commit index its log recorded, which may lag).
  const raft::Entry* last = world_.node(leader).log_entry(lead.commit);
  if (last == nullptr || last->term() != lead.term) return false;
  for (NodeId id : world_.ids()) {
    const auto s = world_.node(id).standing();
    if (s.commit != lead.commit || s.applied != lead.commit) return false;
  }
  return true;
}

void NodeSimulation::final_checks() {
  // Every committed entry, on every node, is the one recorded.
  for (NodeId id : world_.ids()) {
    node::Node& n = world_.node(id);
    const auto s = n.standing();
    for (raft::Index i = 1; i <= s.commit; ++i) {
      const raft::Entry* e = n.log_entry(i);
      auto it = committed_.find(i);
      if (e == nullptr || it == committed_.end()) continue;
      const std::size_t h = committed_hash(*e);
      if (h != it->second)
        return fail(fmt::format("n{}'s entry at {} changed after commit", id, i));
    }
  }
  const std::string first = state_of(world_.ids().front());
  for (NodeId id : world_.ids())
    if (state_of(id) != first)
      return fail(fmt::format("n{} ended with [{}], n{} with [{}]", id, state_of(id),
                              world_.ids().front(), first));

  // Increments: each acknowledged one got its own value, and the counter accounts for them.
  std::set<std::int64_t> distinct(incr_results_.begin(), incr_results_.end());
  if (distinct.size() != incr_results_.size())
    return fail("two increments were answered the same value");
  const auto counter = world_.node(world_.ids().front()).engine().get(kCounter);
  const std::int64_t final = counter ? std::stoll(*counter) : 0;
  if (!distinct.empty() && *distinct.rbegin() > final)
    return fail(fmt::format("an increment was answered {}, the counter ended at {}",
                            *distinct.rbegin(), final));
  if (final < static_cast<std::int64_t>(incr_results_.size()) ||
      final > static_cast<std::int64_t>(incrs_sent_))
    return fail(fmt::format("the counter ended at {} after {} acknowledged of {} increments", final,
                            incr_results_.size(), incrs_sent_));
  // Every increment is resent until answered, and applies once: the counter is exact, up to the
  // few the session table refused (whose first attempt may or may not have applied).
  stats_.repeats = world_.node(world_.ids().front()).engine().stats().session_repeats;
  if (final > static_cast<std::int64_t>(incr_results_.size() + incrs_abandoned_))
    return fail(
        fmt::format("the counter ended at {} after {} increments answered and {} refused: "
                    "one applied twice",
                    final, incr_results_.size(), incrs_abandoned_));

  for (const auto& [key, all] : history_) {
    ++stats_.keys_checked;
    std::vector<RegisterOp> ops;
    for (std::size_t i = 0; i < all.size(); ++i)
      if (!never_executed_.count({key, i})) ops.push_back(all[i]);
    std::string why;
    switch (check_register(ops, &why, opts_.checker_max_states)) {
      case CheckResult::kLinearizable:
        break;
      case CheckResult::kGaveUp:
        ++stats_.keys_undecided;
        trace("checker gave up on " + key);
        break;
      case CheckResult::kViolation:
        return fail(fmt::format("the history of {} is not linearizable: {}", key, why));
    }
  }
}

NodeSimResult NodeSimulation::run() {
  start_ = world_.now();
  next_id_ = static_cast<NodeId>(opts_.nodes + 1);
  world_.set_loss(loss_);
  world_.set_duplication(duplication_);
  world_.after_each_event([this] { check_step(); });
  for (int c = 0; c < kClients; ++c)
    next_op_later(c);
  const auto end = start_ + opts_.duration;
  while (!failed_ && world_.now() < end) {
    world_.run_until([this] { return failed_; }, std::chrono::milliseconds(fault_every_ms_));
    if (!failed_) inject_fault();
  }
  // Heal, stop the load, and require the cluster to settle: every request answered, one leader,
  // every replica applied through the same commit index.
  load_on_ = false;
  world_.heal_all();
  world_.set_loss(0);
  world_.set_duplication(0);
  for (NodeId id : world_.ids())
    if (!world_.up(id)) restart(id);
  trace("heal everything, restart any node down; load stops");
  if (!failed_ && !world_.run_until([this] { return failed_ || settled(); }, 30s) && !failed_) {
    std::size_t open = 0;
    for (const Op& op : ops_)
      open += op.answers == 0;
    std::string nodes;
    for (NodeId id : world_.ids()) {
      if (!world_.up(id)) {
        nodes += fmt::format(" n{} down;", id);
        continue;
      }
      const auto st = world_.node(id).standing();
      nodes += fmt::format(" n{} term {} leader n{} commit {} applied {}{}{};", id, st.term,
                           world_.node(id).leader_id(), st.commit, st.applied,
                           st.voter ? "" : " not a voter", st.recovering ? " recovering" : "");
    }
    fail(fmt::format(
        "not settled 30 s after healing: leader {}, {} requests unanswered{};{}",
        world_.agreed_leader(), open,
        replacing_ != 0 ? fmt::format(", n{} not yet a voter of the membership", replacing_) : "",
        nodes));
  }
  if (!failed_) check_stale_reads();
  if (!failed_) final_checks();
  stats_.messages_lost = world_.lost();
  stats_.snapshot_chunks = world_.snapshot_chunks();
  stats_.torn_tails = world_.torn_tails();
  if (const NodeId first = world_.ids().front(); world_.up(first))
    stats_.expirations = world_.node(first).engine().stats().expirations;
  stats_.zeroed_tails = world_.zeroed_tails();

  NodeSimResult r;
  r.ok = !failed_;
  r.violation = violation_;
  r.at_ms = failed_at_ms_;
  r.trace.assign(trace_.begin(), trace_.end());
  r.config = config_;
  r.stats = stats_;
  return r;
}

}  // namespace

NodeSimResult run_node_simulation(const NodeSimOptions& options) {
  // The nodes' own logs would drown the trace; warnings and errors still show.
  const auto level = spdlog::get_level();
  spdlog::set_level(spdlog::level::err);
  NodeSimResult r;
  {
    NodeSimulation sim(options);
    r = sim.run();
  }
  spdlog::set_level(level);
  return r;
}

}  // namespace cairn::sim
