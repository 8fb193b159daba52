// Requests on the node thread: writes queued for the next batch proposal (or forwarded to the
// leader), read barriers batched behind one ReadIndex, forwarded requests from other nodes,
// timeouts, and the status report.
#include <spdlog/spdlog.h>

#include <asio/post.hpp>

#include "cache/codec.h"
#include "common/overloaded.h"
#include "net/client_errors.h"
#include "node/entry_batch.h"
#include "node/node.h"

namespace cairn::node {
namespace {

// Room in an entry and in a peer message for what surrounds the key and the value.
constexpr size_t kEnvelopeBytes = 64 * 1024;

std::string err(std::string_view kind, std::string_view detail = {}) {
  return detail.empty() ? std::string(kind) : fmt::format("{}: {}", kind, detail);
}

}  // namespace

raft::Index Node::last_index() const {
  return raw_->raft().log().last_index();
}

Node::Standing Node::standing() const {
  const raft::Raft& r = raw_->raft();
  return Standing{r.term(), r.role(),    r.log().committed(),
                  applied_, recovering_, is_voter(config_.id)};
}

void Node::submit(net::CacheCommand cmd, Respond respond) {
  Operation op = to_operation(cmd);
  if (auto* read = std::get_if<ReadOp>(&op)) {
    // A stale read needs nothing from Raft: serve it here, on the caller's thread.
    if (read->stale) return respond(to_response(Outcome::of(serve_read(*engine_, *read))));
    return read_barrier([this, read = std::move(*read), respond](Outcome o) {
      if (o.ok()) o = Outcome::of(serve_read(*engine_, read));
      respond(to_response(o));
    });
  }
  execute(std::move(std::get<cache::Command>(op)),
          [respond](Outcome o) { respond(to_response(o)); });
}

// The engine words a session's refusal; clients recognise it by the protocol's word.
static_assert(cache::kErrSessionPrefix == net::errors::kSessionRefused);

void Node::submit_session(net::SessionRequest req, Respond respond) {
  Operation op = to_operation(req.command);
  auto* write = std::get_if<cache::Command>(&op);
  if (write == nullptr || std::holds_alternative<cache::OpenSession>(*write))
    return submit(std::move(req.command), std::move(respond));
  execute(cache::SessionWrite{req.session, req.seq, req.acked, cache::encode_entry(*write, 0)},
          [respond](Outcome o) { respond(to_response(o)); });
}

void Node::execute(cache::Command cmd, Done done) {
  execute_encoded(cache::encode_entry(cmd, 0), std::move(done));
}

void Node::execute_encoded(std::string entry, Done done) {
  if (stopped_.load()) return done(Outcome::fail(err(net::errors::kShuttingDown)));
  // A caller on the node thread (a front end sharing its loop) queues the write directly.
  if (io_.get_executor().running_in_this_thread())
    return execute_on_node(std::move(entry), std::move(done), 0);
  asio::post(io_, [this, entry = std::move(entry), done = std::move(done)]() mutable {
    execute_on_node(std::move(entry), std::move(done), 0);
  });
}

bool Node::can_read_now() const {
  const raft::Raft& r = raw_->raft();
  return !stopping_ && r.role() == raft::Role::kLeader && r.sole_voter() &&
         applied_ >= r.log().committed() &&
         !engine_->expiry_due(0, env_->wall_ms() - kExpiryReadSlackMs);
}

void Node::read_barrier(Done done) {
  if (stopped_.load()) return done(Outcome::fail(err(net::errors::kShuttingDown)));
  asio::post(io_, [this, done = std::move(done)]() mutable {
    if (stopping_) return done(Outcome::fail(err(net::errors::kShuttingDown)));
    read_queue_.push_back(std::move(done));
    kick();
  });
}

void Node::execute_on_node(std::string entry, Done done, uint32_t hops) {
  if (stopping_) return done(Outcome::fail(err(net::errors::kShuttingDown)));
  if (entry.size() < cache::kEntryMinBytes)
    return done(Outcome::fail(fmt::format("malformed command: {} bytes", entry.size())));
  if (!leading()) return forward(net::EngineCommand{std::move(entry)}, hops, std::move(done));
  if (disk_full_) return done(no_space());
  if (queue_.size() + proposed_requests_ >= config_.max_pending)
    return done(Outcome::fail(err(net::errors::kBusy, "too many requests waiting for the log")));
  queue_.push_back(Queued{std::move(entry), std::move(done)});
  kick();
}

void Node::forward(net::ForwardedCommand cmd, uint32_t hops, Done done) {
  const net::NodeId leader = current_leader();
  if (leader == 0 || leader == config_.id)
    return done(Outcome::fail(err(net::errors::kNoLeader, "an election is under way")));
  if (!config_.forward) return done(Outcome::fail(err(net::errors::kNotLeader), leader));
  if (hops >= config_.max_hops)
    return done(Outcome::fail(err(net::errors::kNotLeader, "forwarded too many times"), leader));
  const uint64_t id = next_forward_id_++;
  const bool engine_command = std::holds_alternative<net::EngineCommand>(cmd);
  // A large write takes seconds to travel and be proposed a fragment at a time: its answer is
  // waited for a request timeout more per 64 MiB (a 300 MB SET: about 28 s by default).
  const size_t bytes = engine_command ? std::get<net::EngineCommand>(cmd).command.size() : 0;
  const auto timeout = config_.request_timeout * (1 + bytes / (64u << 20));
  net::ForwardRequest req{config_.id, hops + 1, id, std::move(cmd)};
  if (!transport_->send(leader, net::Message{std::move(req)}, net::Lane::kBulk))
    return done(Outcome::fail(
        err(net::errors::kNoLeader, fmt::format("leader {} is unreachable", leader))));
  forwards_.emplace(id, Forwarded{std::move(done), env_->now() + timeout, engine_command});
}

void Node::receive_forward(net::ForwardRequest req) {
  if (stopped_.load()) return;
  asio::post(io_, [this, req = std::move(req)]() mutable {
    const net::NodeId origin = req.origin;
    const uint64_t id = req.request_id;
    const bool engine_command = std::holds_alternative<net::EngineCommand>(req.command);
    Done reply = [this, origin, id, engine_command](Outcome o) {
      net::ClientResponse resp = outcome_to_forward_reply(o, engine_command);
      resp.request_id = id;
      // The bulk lane: its queue is bounded by bytes, not by a count sized for heartbeats, so a
      // burst of answers to pipelined forwarded writes is not dropped.
      transport_->send(origin, net::Message{net::ForwardReply{std::move(resp)}}, net::Lane::kBulk);
    };
    std::visit(
        Overloaded{
            [&](net::EngineCommand& c) {
              // Refused here with a clear answer rather than skipped at apply.
              if (auto cmd = cache::decode_entry(c.command); !cmd.ok())
                return reply(Outcome::fail("malformed forwarded command: " + cmd.error().message));
              execute_on_node(std::move(c.command), std::move(reply), req.hops);
            },
            [&](net::AdminCommand& c) { admin_on_node(std::move(c), std::move(reply), req.hops); }},
        req.command);
  });
}

void Node::receive_forward_reply(net::ClientResponse resp) {
  if (stopped_.load()) return;
  asio::post(io_, [this, resp = std::move(resp)]() mutable {
    auto it = forwards_.find(resp.request_id);
    if (it == forwards_.end()) return;  // answered already (timed out)
    Forwarded f = std::move(it->second);
    forwards_.erase(it);
    f.done(forward_reply_to_outcome(resp, f.engine_command));
  });
}

size_t Node::max_entry_bytes() const {
  const cache::Config& c = engine_->config();
  return c.max_key_bytes + c.max_value_bytes + config_.max_batch_bytes + kEnvelopeBytes;
}

size_t Node::max_peer_message() const {
  return max_entry_bytes() + kAppendBudget + kEnvelopeBytes;
}

void Node::flush_proposals() {
  // A large write in progress goes on even with nothing else queued.
  if (upload_ || upload_abort_) pump_upload();
  if (queue_.empty() || upload_) return;  // writes keep their order: nothing passes a large one
  if (!leading()) {
    // Deposed since these were queued (possibly by a message stepped in this very turn, before
    // its Ready reached on_soft_state): they go to the new leader like any other write.
    auto waiting = std::move(queue_);
    queue_.clear();
    for (auto& q : waiting)
      if (q.done) execute_on_node(std::move(q.entry), std::move(q.done), 0);
    return;
  }
  if (disk_full_) {
    // Queued before the disk filled: refused now (the node's own clock ticks still go).
    std::erase_if(queue_, [this](Queued& q) {
      if (!q.done) return false;
      q.done(no_space());
      return true;
    });
    if (queue_.empty()) return;
  }
  // The log behind the last compaction stays within twice --compact-bytes. A compaction waits for
  // its snapshot's build; writes arriving faster than that would otherwise grow the log by their
  // rate times the build's time. Past the bound they wait here until the build ends and the log
  // is compacted (on_snapshot_built kicks the node), as writes wait for room under a memory limit.
  if (applied_bytes_since_compact_ + unapplied_write_bytes_ >= 2 * config_.compact_bytes) return;
  // One entry for everything queued (up to the batch bounds): one log slot, one append and one
  // message per follower, however many clients are waiting.
  const int64_t now_ms = env_->wall_ms();
  const size_t max_entry = max_entry_bytes();
  BatchBuilder batch;
  std::vector<Done> dones;
  // The buffer is sized exactly, once, for what the loop below takes. The log keeps it until a
  // compaction, which counts entries by size: spare capacity (from a guess, or from doubling while
  // filling) would be memory the log holds without counting it, many times its size when small
  // writes follow large ones.
  size_t planned_bytes = 0;
  size_t planned = 0;
  for (const Queued& q : queue_) {
    if (planned == config_.max_batch || (planned > 0 && planned_bytes >= config_.max_batch_bytes))
      break;
    if (q.entry.size() > kFragmentBytes) break;  // a large write, or one refused as too large
    planned_bytes += q.entry.size();
    ++planned;
  }
  dones.reserve(planned);
  batch.reserve(planned_bytes);
  while (!queue_.empty() && batch.count() < config_.max_batch &&
         (batch.count() == 0 || batch.bytes() < config_.max_batch_bytes)) {
    Queued& q = queue_.front();
    if (q.entry.size() > kFragmentBytes && q.entry.size() <= max_entry) {
      // Too large for one entry's share of a turn: it goes in fragments, after this batch.
      if (batch.count() > 0) break;
      start_upload(std::move(q), now_ms);
      queue_.pop_front();
      break;
    }
    const size_t size = batch.add_stamped(q.entry, now_ms, max_entry);
    if (size > max_entry) {
      if (q.done)
        q.done(Outcome::fail(err(
            net::errors::kTooLarge,
            fmt::format("the command takes {} bytes; at most {} fit one entry", size, max_entry))));
      queue_.pop_front();
      continue;
    }
    dones.push_back(std::move(q.done));  // may be empty: the node's own clock tick
    queue_.pop_front();
  }
  if (batch.count() > 0) {
    // Room for the batch first, in an entry of its own just before it, so every replica evicts
    // before it applies the writes and used memory stays within the limit however fast they come.
    const uint64_t footprint = batch.bytes() + batch.count() * kEntryOverheadEstimate;
    make_room_for(footprint);
    const raft::Index index = last_index() + 1;
    const raft::Term term = raw_->raft().term();
    auto st = raw_->propose(batch.finish());
    if (st.ok()) {
      // A leader appends a proposal at the end of its log in its own term; the answers are tied
      // to exactly that (index, term), which complete_proposal() checks.
      CAIRN_CHECK(last_index() == index && raw_->raft().term() == term);
      unapplied_writes_.emplace_back(index, footprint);
      unapplied_write_bytes_ += footprint;
      last_time_carried_ = env_->now();
      carried_ = Carried{term, index, now_ms};
      track_proposal(index, term, std::move(dones));
    } else {
      const auto e = st.error();
      const auto kind =
          e == raft::Error::kUncommittedLimit ? net::errors::kBusy : net::errors::kNoLeader;
      for (auto& done : dones)
        if (done) done(Outcome::fail(err(kind, raft::to_string(e))));
    }
  }
  if (upload_) pump_upload();
  if (!queue_.empty() && !upload_) kick();
}

void Node::flush_reads() {
  if (read_queue_.empty()) return;
  // The context must be unique among every node's outstanding requests at the leader.
  std::string ctx = fmt::format("{}:{:x}:{}", config_.id, incarnation_, next_read_ctx_++);
  carry_clock_for_reads();
  auto st = raw_->read_index(ctx);
  auto waiters = std::move(read_queue_);
  read_queue_.clear();
  if (!st.ok()) {
    for (auto& done : waiters)
      done(Outcome::fail(err(net::errors::kNoLeader, "cannot confirm a read point")));
    return;
  }
  read_batches_.emplace(std::move(ctx),
                        ReadBatch{std::move(waiters), env_->now() + config_.request_timeout, 0});
}

// A linearizable read judges expiry by the replicated clock, which moves only with entries. For
// it to hide a key whose deadline has passed by the leader's clock when the read is confirmed,
// the leader makes the read wait for an entry stamped after that deadline: the last one it
// proposed, if stamped late enough, or a Tick proposed now (docs/cache.md, "Expiry"). Deadlines
// within the last kExpiryReadSlackMs are left to the writes in flight, so reads amid a steady
// stream of expiring keys do not each add a Tick to the log. Leader only; its own reads call it
// before asking for a read index, a follower's before its request is stepped.
void Node::carry_clock_for_reads() {
  if (!leading() || stopping_ || disk_full_) return;
  const int64_t now_ms = env_->wall_ms();
  const int64_t due_by = now_ms - kExpiryReadSlackMs;
  if (!engine_->expiry_due(0, due_by)) return;
  const raft::Term term = raw_->raft().term();
  if (carried_.term != term || engine_->expiry_due(carried_.ms, due_by)) {
    const raft::Index index = last_index() + 1;
    if (!raw_->propose(cache::encode_entry(cache::Tick{}, now_ms)).ok()) return;
    CAIRN_CHECK(last_index() == index && raw_->raft().term() == term);
    carried_ = Carried{term, index, now_ms};
    last_time_carried_ = env_->now();
  }
  raw_->raft().set_read_floor(carried_.index);
}

void Node::on_read_states(std::vector<raft::ReadState>& states) {
  for (auto& rs : states) {
    auto it = read_batches_.find(rs.request_ctx);
    if (it != read_batches_.end()) it->second.index = rs.index;
  }
}

void Node::serve_ready_reads() {
  for (auto it = read_batches_.begin(); it != read_batches_.end();) {
    ReadBatch& b = it->second;
    if (b.index == 0 || b.index > applied_) {
      ++it;
      continue;
    }
    auto waiters = std::move(b.waiters);
    it = read_batches_.erase(it);
    for (auto& done : waiters)
      done(Outcome::of(cache::Ok{}));
  }
}

void Node::reissue_reads() {
  // A ReadIndex request sent to a former leader may never be answered: ask the new one.
  for (auto it = read_batches_.begin(); it != read_batches_.end();) {
    if (it->second.index != 0) {
      ++it;
      continue;
    }
    for (auto& w : it->second.waiters)
      read_queue_.push_back(std::move(w));
    it = read_batches_.erase(it);
  }
  if (!read_queue_.empty()) kick();
}

void Node::expire_requests(Clock::time_point now) {
  const auto timeout = [] {
    return Outcome::fail(err(net::errors::kTimeout, "no answer within the request timeout"));
  };
  for (auto it = proposals_.begin(); it != proposals_.end();) {
    if (it->second.deadline > now) {
      ++it;
      continue;
    }
    auto dones = std::move(it->second.dones);
    proposed_requests_ -= dones.size();
    it = proposals_.erase(it);
    for (auto& done : dones)
      if (done) done(timeout());
  }
  for (auto it = forwards_.begin(); it != forwards_.end();) {
    if (it->second.deadline > now) {
      ++it;
      continue;
    }
    Done done = std::move(it->second.done);
    it = forwards_.erase(it);
    done(timeout());
  }
  for (auto it = read_batches_.begin(); it != read_batches_.end();) {
    if (it->second.deadline > now) {
      ++it;
      continue;
    }
    auto waiters = std::move(it->second.waiters);
    it = read_batches_.erase(it);
    for (auto& done : waiters)
      done(timeout());
  }
}

void Node::complete_proposal(raft::Index index, raft::Term term, Outcome outcome) {
  std::vector<Outcome> one;
  one.push_back(std::move(outcome));
  complete_proposal(index, term, one);
}

void Node::complete_proposal(raft::Index index, raft::Term term, std::vector<Outcome>& outcomes) {
  if (proposals_.empty()) return;
  drop_proposals_through(index - 1);
  auto it = proposals_.find(index);
  if (it == proposals_.end()) return;
  Proposal p = std::move(it->second);
  proposals_.erase(it);
  proposed_requests_ -= p.dones.size();
  for (size_t i = 0; i < p.dones.size(); ++i) {
    if (!p.dones[i]) continue;
    if (p.term != term || i >= outcomes.size()) {
      // Another leader's entry took this index: ours was never committed.
      p.dones[i](Outcome::fail(err(net::errors::kDropped, "leadership changed before commit")));
      continue;
    }
    p.dones[i](std::move(outcomes[i]));
  }
}

void Node::track_proposal(raft::Index index, raft::Term term, std::vector<Done> dones) {
  while (!proposals_.empty() && std::prev(proposals_.end())->first >= index) {
    auto last = std::prev(proposals_.end());
    CAIRN_CHECK(last->second.term < term);  // a leader's own indexes only grow within its term
    auto displaced = std::move(last->second.dones);
    proposed_requests_ -= displaced.size();
    proposals_.erase(last);
    for (auto& done : displaced)
      if (done) done(Outcome::fail(err(net::errors::kDropped, "leadership changed before commit")));
  }
  proposed_requests_ += dones.size();
  proposals_.emplace(index,
                     Proposal{term, std::move(dones), env_->now() + config_.request_timeout});
}

void Node::drop_proposals_through(raft::Index index) {
  while (!proposals_.empty() && proposals_.begin()->first <= index) {
    auto dones = std::move(proposals_.begin()->second.dones);
    proposed_requests_ -= dones.size();
    proposals_.erase(proposals_.begin());
    for (auto& done : dones)
      if (done)
        done(
            Outcome::fail(err(net::errors::kDropped, "superseded by a snapshot; outcome unknown")));
  }
}

void Node::fail_everything(const std::string& never_executed, const std::string& outcome_unknown) {
  auto fail = [&](Done& done) {
    if (done) done(Outcome::fail(never_executed));
  };
  auto unknown = [&](Done& done) {
    if (done) done(Outcome::fail(outcome_unknown));
  };
  for (auto& q : queue_)
    fail(q.done);
  queue_.clear();
  // Without its last fragment a large write never applies.
  if (upload_) fail(upload_->done);
  upload_.reset();
  // In the log (or on its way to the leader's): the entry may commit after this node is gone, so
  // a client told "never executed" would apply it twice by retrying.
  for (auto& [i, p] : proposals_)
    for (auto& done : p.dones)
      unknown(done);
  proposals_.clear();
  proposed_requests_ = 0;
  for (auto& done : read_queue_)
    fail(done);
  read_queue_.clear();
  for (auto& [ctx, b] : read_batches_)
    for (auto& done : b.waiters)
      fail(done);
  read_batches_.clear();
  for (auto& [id, f] : forwards_)
    unknown(f.done);
  forwards_.clear();
  if (transfer_) fail(transfer_->done);
  transfer_.reset();
}

void Node::status(std::function<void(net::StatusResponse)> done) {
  if (stopped_.load()) {
    net::StatusResponse s;
    s.node_id = config_.id;
    s.role = "stopped";
    return done(std::move(s));
  }
  asio::post(io_, [this, done = std::move(done)] { done(make_status()); });
}

net::StatusResponse Node::make_status() const {
  net::StatusResponse s;
  s.node_id = config_.id;
  switch (raw_->raft().role()) {
    case raft::Role::kLeader:
      s.role = "leader";
      break;
    case raft::Role::kCandidate:
      s.role = "candidate";
      break;
    case raft::Role::kPreCandidate:
      s.role = "pre-candidate";
      break;
    case raft::Role::kFollower:
      s.role = recovering_ ? "recovering" : "follower";
      break;
  }
  s.term = raw_->raft().term();
  s.leader_id = current_leader();
  s.commit_index = raw_->raft().log().committed();
  s.applied_index = applied_;
  s.last_index = last_index();
  auto add = [&](net::NodeId id, bool voter) {
    const std::string* addr = book_.find(id);
    s.members.push_back(net::Member{id, addr ? *addr : std::string(), voter});
  };
  for (auto id : conf_state_.voters())
    add(id, true);
  for (auto id : conf_state_.learners())
    add(id, false);
  const auto stats = engine_->stats();
  s.keys = stats.keys;
  s.used_memory = stats.used_memory;
  return s;
}

}  // namespace cairn::node
