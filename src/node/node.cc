#include "node/node.h"

#include <spdlog/spdlog.h>

#include <asio/post.hpp>
#include <filesystem>
#include <future>
#include <random>

#include "cache/codec.h"
#include "cache/snapshot.h"
#include "net/client_errors.h"
#include "net/frame.h"
#include "node/allocator.h"
#include "node/entry_batch.h"
#include "node/identity.h"

namespace cairn::node {

Node::Node(NodeConfig config, std::unique_ptr<cache::Engine> engine, std::unique_ptr<Env> env)
    : config_(std::move(config)),
      engine_(std::move(engine)),
      env_(std::move(env)),
      io_(env_->io()) {}

Node::~Node() {
  stop(std::chrono::milliseconds(0));
}

Result<std::unique_ptr<Node>, std::string> Node::create(NodeConfig config,
                                                        std::unique_ptr<Env> env) {
  if (config.id == 0) return Err{std::string("node id must be at least 1")};
  if (auto bad = cache::validate(config.cache)) return Err{*bad};
  if (config.peers.empty() && config.join.empty()) config.peers[config.id] = config.listen;
  if (!config.peers.empty() && !config.peers.count(config.id))
    return Err{fmt::format("--peers does not include this node's id {}", config.id)};
  if (!config.peers.empty() && !config.join.empty())
    return Err{
        std::string("--peers and --join are exclusive: a node either founds the cluster "
                    "or joins a running one")};
  if (config.election_ticks <= config.heartbeat_ticks)
    return Err{std::string("the election timeout must be longer than the heartbeat interval")};
  // Replicated eviction: the leader chooses victims and proposes them, so every replica removes
  // the same keys (docs/cache.md, "Eviction in a cluster").
  config.cache.evict_on_apply = false;
  auto engine = std::make_unique<cache::Engine>(config.cache);
  if (!env) env = std::make_unique<ThreadEnv>();
  auto node = std::make_unique<Node>(std::move(config), std::move(engine), std::move(env));
  if (auto st = node->init_raft(); !st.ok()) return Err{st.error()};
  return node;
}

Status<std::string> Node::init_raft() {
  // Snapshots are built when a follower needs one (maybe_snapshot), and their data released
  // once sent or written: a cache's snapshot is the size of the cache.
  storage_.build_snapshots_on_demand(true);
  std::optional<TermAndVote> stored;
  std::optional<AddressBook> stored_members;
  bool was_recovering = false;
  if (!config_.data_dir.empty()) {
    auto file = HardStateFile::open(config_.data_dir);
    if (!file.ok()) return Err{file.error()};
    const Identity mine{
        config_.join.empty() ? founding_cluster_id(config_.peers, config_.cluster_token) : 0,
        config_.id};
    auto identity = check_identity(config_.data_dir, mine);
    if (!identity.ok()) return Err{identity.error()};
    cluster_id_.store(identity->cluster);
    auto loaded = file->load();
    if (!loaded.ok()) return Err{loaded.error()};
    stored = *loaded;
    auto marked = file->load_recovering();
    if (!marked.ok()) return Err{marked.error()};
    was_recovering = *marked;
    auto members = file->load_members();
    if (!members.ok()) return Err{members.error()};
    if (*members) {
      stored_members_ = **members;
      stored_members = AddressBook::from_text(stored_members_);
    }
    hard_state_file_.emplace(std::move(*file));
  }
  {
    incarnation_ = env_->random();
    // Forward ids: the high half from this run, so they differ from the previous run's.
    next_forward_id_ = (incarnation_ & 0xffffffff00000000ull) | 1;
  }
  raft::HardState hs;
  if (stored) {
    hs.set_term(stored->term);
    hs.set_vote(stored->vote);
    persisted_ = *stored;
  }
  bool restored = false;  // the log or a snapshot came back from disk
  if (config_.durable) {
    if (auto st = open_disk(&hs, &restored); !st.ok()) return Err{st.error()};
  }
  // A node that was a member before (it has a stored term) and lost its log must not count as
  // holding entries or vote until it has caught up; a one-node cluster has nobody to catch up from.
  // Whether the cluster was one node is what the stored membership says: a node founded alone
  // that others joined is restarted with its founding flags, and must not elect itself alone.
  const bool was_alone = stored_members ? stored_members->all().size() == 1 &&
                                              stored_members->find(config_.id) != nullptr
                                        : config_.peers.size() == 1;
  // A node that crashed while recovering has part of a log back at most: still recovering.
  recovering_ =
      stored.has_value() && stored->term > 0 && !was_alone && (!restored || was_recovering);
  if (recovering_ && !was_recovering) {
    // Durable before this run writes anything to its log, the founding snapshot below included
    // (docs/node.md, "Restarts").
    if (auto st = hard_state_file_->store_recovering(true); !st.ok()) return Err{st.error()};
  }
  if (config_.join.empty() && !restored) {
    // Founding members all start from the same snapshot at index 1: the initial membership and
    // addresses, an empty cache. A node added later has an empty log, so the leader must send it
    // a snapshot, and that snapshot carries the whole membership (docs/node.md, "Membership").
    for (const auto& [id, addr] : config_.peers)
      book_.set(id, addr);
    raft::Snapshot snap;
    auto* meta = snap.mutable_metadata();
    meta->set_index(1);
    meta->set_term(1);
    for (const auto& [id, addr] : config_.peers)
      meta->mutable_conf_state()->add_voters(id);
    snap.set_data(snapshot_data());
    if (!storage_.apply_snapshot(snap).ok()) return Err{std::string("bootstrap snapshot refused")};
    conf_state_ = meta->conf_state();
    applied_ = 1;
    applied_term_ = 1;
    last_compact_index_ = 1;
    if (hs.term() < 1) hs.set_term(1);
    hs.set_commit(1);
    if (wal_) persist_snapshot(snap, true);
  }
  storage_.set_hard_state(hs);
  if (config_.join.empty() && !stored_members) persist_members();  // the founding membership
  if (recovering_ && stored_members) {
    // Addresses only (the membership itself comes back with the log): the recovering node must be
    // able to answer the leader that catches it up.
    for (const auto& [id, addr] : stored_members->all())
      if (book_.find(id) == nullptr) book_.set(id, addr);
  }

  raft::Config rc;
  rc.id = config_.id;
  rc.election_tick = config_.election_ticks;
  rc.heartbeat_tick = config_.heartbeat_ticks;
  rc.applied = applied_;
  rc.check_quorum = true;
  rc.pre_vote = true;
  rc.max_size_per_msg = kAppendBudget;
  rc.max_inflight_msgs = 256;
  // A follower takes what arrived since its last turn in one turn: bounded, so the fragments of
  // a large write (docs/node.md, "Large writes") reach it a few MB at a time, not hundreds.
  rc.max_inflight_bytes = 4 * kFragmentBytes;
  rc.max_uncommitted_entries_size = 256ull << 20;
  rc.seed = env_->random();
  // A proposal on a node that is not leader fails instead of travelling to the leader inside
  // Raft: the node forwards writes itself (forward()) and must know where each one went, or it
  // would wait for the write at an index the new leader fills with another entry.
  rc.disable_proposal_forwarding = true;
  // The log syncer's thread makes the log durable: the leader's own entries count once it says.
  rc.async_persist = syncer_ != nullptr;
  auto raw = raft::RawNode::create(rc, &storage_);
  if (!raw.ok()) return Err{std::string(raft::to_string(raw.error()))};
  raw_ = std::move(*raw);
  // Committed batches are applied where storage holds them, not from a copy (handle_ready).
  raw_->lend_committed_entries(true);
  soft_ = raw_->raft().soft_state();

  net::TransportConfig tc;
  tc.self_id = config_.id;
  tc.max_message = max_peer_message();
  tc.on_unreachable = [this](net::NodeId peer) {
    asio::post(io_, [this, peer] { raw_->report_unreachable(peer); });
  };
  // Every connection to a peer opens with this node's cluster and id, which the peer checks
  // before it takes any Raft traffic from it (a joined node learns the id when admitted).
  tc.hello = [this] {
    std::string frame;
    (void)net::append_frame(
        net::Message{net::PeerHello{cluster_id_.load(), config_.id, config_.listen}}, frame);
    return frame;
  };
  transport_ = env_->make_transport(std::move(tc));
  sync_transport_peers();

  snapshot_builder_ = std::make_unique<SnapshotBuilder>(
      snap_files_ ? &*snap_files_ : nullptr,
      [this](SnapshotBuilder::Built built) {
        asio::post(io_, [this, built = std::move(built)]() mutable {
          on_snapshot_built(std::move(built));
        });
      },
      config_.snapshot_build_started,
      [this](std::function<void()> work) { return env_->background(std::move(work)); });
  SnapshotSenderOptions so;
  so.chunk_bytes = config_.snapshot_chunk_bytes;
  snapshot_sender_.emplace(
      config_.id, so,
      [this](net::NodeId to, net::SnapshotChunk c) {
        return transport_->send(to, net::Message(std::move(c)), net::Lane::kBulk);
      },
      [this](net::NodeId to, bool delivered) {
        raw_->report_snapshot(to, delivered);
        if (!snapshot_sender_->sending()) release_free_memory();  // the copy just sent
        kick();
      },
      incarnation_);
  snapshot_receiver_ = std::make_unique<SnapshotReceiver>(
      config_.id,
      config_.data_dir.empty() ? std::string()
                               : (std::filesystem::path(config_.data_dir) / "incoming").string(),
      [this](eraftpb::Message m, std::optional<storage::SnapshotFileInfo> file) {
        // The file reaches the node thread before the message that needs it.
        if (file)
          asio::post(io_, [this, f = std::move(*file)]() mutable {
            keep_received_snapshot(std::move(f));
          });
        step(std::move(m));
      },
      [this](net::NodeId to, const net::SnapshotAck& ack) {
        transport_->send(to, net::Message(ack), net::Lane::kControl);
      });
  return {};
}

void Node::start() {
  work_.emplace(io_.get_executor());
  started_ = true;
  recovery_listen_from_ = env_->now() + config_.tick * (2 * config_.election_ticks);
  if (recovering_)
    spdlog::warn(
        "node {}: restarted without its log (term {}); it will not vote or campaign "
        "until it has caught up with a leader",
        config_.id, persisted_.term);
  // The only voter of its cluster elects itself at once instead of waiting out an election
  // timeout.
  if (!recovering_ && raw_->raft().sole_voter()) raw_->campaign();
  env_->start_ticks(config_.tick, [this] { on_tick(); });
  kick();
  if (!config_.join.empty()) asio::post(io_, [this] { ask_admission(); });
  env_->run();
}

void Node::stop(std::chrono::milliseconds grace) {
  begin_stop(grace);
  env_->wait();
  stopped_ = true;
}

void Node::begin_stop(std::chrono::milliseconds grace) {
  if (stop_requested_.exchange(true)) return;
  if (!started_) {  // never started (or create() failed before the transport existed)
    if (transport_) transport_->shutdown();
    stopped_ = true;
    return;
  }
  const auto deadline = env_->now() + grace;
  asio::post(io_, [this, deadline] {
    stopping_ = true;
    transfer_.reset();
    stop_deadline_ = deadline;
    if (leading()) {
      const net::NodeId best = handover_target();
      if (best != 0) {
        spdlog::info("node {}: shutting down; handing leadership to node {}", config_.id, best);
        handing_over_ = raw_->transfer_leader(best).ok();
      }
    }
    kick();
  });
}

void Node::on_tick() {
  const auto now = env_->now();
  ++ticks_;
  if (!recovering_) raw_->tick();
  expire_requests(now);
  if (disk_full_ && ticks_ % 10 == 0) check_disk_space(true);
  memory_keeper_.check();
  if (leading() && !stopping_) leader_duties(now);
  snapshot_sender_->on_tick(now);
  check_transfer();
  if (admission_retry_at_ && now >= *admission_retry_at_ && !stopping_) {
    admission_retry_at_.reset();
    ask_admission();
  }
  if (stopping_) {
    // Done handing over once this node no longer leads, or the core gave the transfer up (its
    // target did not take over within an election timeout).
    const bool handed_over =
        !handing_over_ || !leading() || raw_->raft().lead_transferee() == raft::kNone;
    const bool idle = proposals_.empty() && forwards_.empty() && read_batches_.empty();
    if ((handed_over && idle) || now >= stop_deadline_) {
      finish_stop();
      return;
    }
  }
  kick();
}

void Node::kick() {
  if (process_scheduled_ || stopped_on_thread_) return;
  process_scheduled_ = true;
  asio::post(io_, [this] { process(); });
}

void Node::process() {
  process_scheduled_ = false;
  if (stopped_on_thread_) return;
  const auto start = env_->now();
  flush_proposals();
  flush_reads();
  while (raw_->has_ready())
    handle_ready();
  serve_ready_reads();
  maybe_snapshot();
  note_long_turn(env_->now() - start);
}

void Node::note_long_turn(Clock::duration took) {
  // Nothing else runs on this thread meanwhile: no heartbeat, no vote, no answer. A turn a
  // quarter of the election timeout long (a write of hundreds of MB copied on this thread, a
  // stalled disk) is worth an operator's attention; at most one line per 10 s.
  const auto limit = config_.tick * config_.election_ticks / 4;
  if (took < limit) return;
  const auto now = env_->now();
  ++long_turns_;
  if (now - last_long_turn_log_ < std::chrono::seconds(10)) return;
  last_long_turn_log_ = now;
  spdlog::warn(
      "node {}: one turn of the node thread took {} ms (elections start after {} ms without a "
      "heartbeat); {} such turns so far",
      config_.id, std::chrono::duration_cast<std::chrono::milliseconds>(took).count(),
      (config_.tick * config_.election_ticks).count(), long_turns_);
}

void Node::handle_ready() {
  raft::Ready rd = raw_->ready();
  if (rd.soft_state) on_soft_state(*rd.soft_state);
  raft::Index applied_early = rd.committed_first - 1;
  uint64_t hold_for = 0;  // with the log syncer: the sync this Ready's messages wait for
  const raft::Index last_new = rd.entries.empty() ? 0 : rd.entries.back().index();
  const raft::Term last_new_term = rd.entries.empty() ? 0 : rd.entries.back().term();
  if (wal_) {
    // A leader's appends may leave before its own copy is durable (thesis §10.2.1), so the
    // followers' writes overlap the leader's: the leader counts toward no commit before its
    // sync returns (with the log syncer, Raft counts it only when told; without, acknowledgements
    // are only stepped after this Ready is handled). Everything else (votes, acknowledgements)
    // waits for the sync.
    send_messages(rd.messages, Which::kAppends);
  }
  if (wal_ && !syncer_) {
    // Committed entries that storage already holds (written and synced with an earlier Ready)
    // are applied, and their clients answered, before this Ready's own entries are synced: they
    // need not wait for the next batch's fdatasync, so an answer costs one sync, not two. Entries
    // of this Ready (a follower's, which its leader may already call committed) and anything
    // after a snapshot wait as before.
    if (!rd.snapshot && rd.committed_last >= rd.committed_first) {
      raft::Index upto = std::min(rd.committed_last, storage_.last_index());
      if (!rd.entries.empty()) upto = std::min(upto, rd.entries.front().index() - 1);
      for (raft::Index i = rd.committed_first; i <= upto; ++i) {
        const raft::Entry* e = storage_.entry_ref(i);
        CAIRN_CHECK(e != nullptr);
        apply_entry(*e);
        applied_early = i;
      }
    }
    persist_ready(rd);
  } else if (wal_) {
    // The sync happens on the log syncer's thread: committed entries are applied below without
    // waiting for it (they are durable on a majority already), the rest waits in held_.
    hold_for = persist_ready_async(rd);
  }
  if (rd.snapshot) {
    // Install before anything else: the entries and commit of this Ready follow it.
    const raft::Index index = rd.snapshot->metadata().index();
    // Received to disk: installed from its file, read in steps, never whole in memory.
    auto st = rd.snapshot->data().empty()
                  ? restore_snapshot_file(received_snapshot_for(*rd.snapshot))
                  : restore_snapshot(*rd.snapshot);
    if (rd.snapshot->data().empty()) {
      auto it = received_snapshots_.find(index);
      if (wal_) received_snapshots_.erase(it);  // its file is the node's snapshot now
      drop_received_snapshots_through(index);   // and with no log, nowhere to keep it
    }
    if (!st.ok()) {
      spdlog::critical("node {}: cannot install the leader's snapshot at index {}: {}", config_.id,
                       index, st.error());
      std::abort();  // continuing would apply later entries to the wrong state
    }
    CAIRN_CHECK(storage_.apply_snapshot(*rd.snapshot).ok());
    storage_.release_snapshot_data();  // installed (and on disk): no need to keep a copy
    sendable_snapshot_.reset();        // what storage holds now is the leader's
  }
  if (!rd.entries.empty()) storage_.append(std::move(rd.entries));
  if (rd.hard_state) {
    storage_.set_hard_state(*rd.hard_state);
    persist_hard_state(*rd.hard_state);
  }
  // Our log and vote are safe (in memory, term and vote on disk; with config.durable the whole
  // Ready synced): messages may now go out. (With the log in memory the append costs less than
  // the send, so sending appends first would gain nothing.)
  if (hold_for != 0) {
    // Heartbeats and their answers depend on nothing unsynced (a leader's commit index counts
    // only synced copies; term and vote are on disk already): they go now, so a sync that takes
    // seconds (a write of hundreds of MB) neither starts an election nor deposes the leader.
    // Acknowledgements of entries and votes wait for it.
    Held h{hold_for, {}, last_new, last_new_term};
    std::vector<raft::Message> now;
    for (auto& m : rd.messages) {
      if (m.msg_type() == eraftpb::MsgAppend) continue;  // sent above
      const bool heartbeat =
          m.msg_type() == eraftpb::MsgHeartbeat || m.msg_type() == eraftpb::MsgHeartbeatResponse;
      (heartbeat ? now : h.messages).push_back(std::move(m));
    }
    send_messages(now, Which::kAll);
    held_.push_back(std::move(h));
  } else {
    send_messages(rd.messages, wal_ ? Which::kAllButAppends : Which::kAll);
  }
  apply_entries(rd.committed_entries);
  // Lent entries are read where storage holds them (the entries above were appended first).
  for (raft::Index i = applied_early + 1; i <= rd.committed_last; ++i) {
    const raft::Entry* e = storage_.entry_ref(i);
    CAIRN_CHECK(e != nullptr);
    apply_entry(*e);
  }
  if (rd.committed_last >= rd.committed_first) finish_applying();
  on_read_states(rd.read_states);
  const bool installed = rd.snapshot.has_value();
  raw_->advance(rd);
  if (installed) {
    rd = raft::Ready{};  // the Ready's copy of the snapshot goes before the purge
    release_free_memory();
  }
}

void Node::persist_hard_state(const raft::HardState& hs) {
  const TermAndVote tv{hs.term(), hs.vote()};
  if (!hard_state_file_ || tv == persisted_) return;
  if (auto st = hard_state_file_->store(tv); !st.ok()) {
    // A vote that cannot be made durable must not be sent: stop here.
    spdlog::critical("node {}: cannot persist term and vote: {}", config_.id, st.error());
    std::abort();
  }
  persisted_ = tv;
}

void Node::send_messages(std::vector<raft::Message>& msgs, Which which) {
  for (auto& m : msgs) {
    if (which != Which::kAll && (m.msg_type() == eraftpb::MsgAppend) != (which == Which::kAppends))
      continue;
    // Until a leader's append has been accepted, this node's log may be shorter than what it
    // acknowledged in an earlier life: say so in rejections (raft::kLostLogContext).
    if (m.msg_type() == eraftpb::MsgAppendResponse && !append_accepted_) {
      if (m.reject())
        m.set_context(std::string(raft::kLostLogContext));
      else
        append_accepted_ = true;
    }
    // A snapshot may be far larger than a frame: it goes in chunks, and the Raft core hears
    // how it went when the transfer ends.
    if (m.msg_type() == eraftpb::MsgSnapshot) {
      if (m.snapshot().data().empty()) {
        send_snapshot_from_file(std::move(m));
      } else {
        snapshot_sender_->start(std::move(m), env_->now());
        // The sender holds its own copy until the transfer ends: storage's goes, and another
        // follower needing one gets a fresh snapshot.
        storage_.release_snapshot_data();
      }
    } else
      transport_->send(m);
  }
}

void Node::apply_entries(std::vector<raft::Entry>& entries) {
  for (const auto& e : entries)
    apply_entry(e);
  if (!entries.empty()) finish_applying();
}

void Node::apply_entry(const raft::Entry& e) {
  if (staging_ && e.term() > staging_->term) {
    // A later leader's entry: the earlier one can no longer finish its write (docs/node.md).
    spdlog::warn("node {}: write at {} left unfinished ({} of {} bytes): leadership changed",
                 config_.id, staging_->first, staging_->data.size(), staging_->total);
    staging_.reset();
  }
  switch (e.entry_type()) {
    case eraftpb::EntryNormal:
      apply_normal(e);
      break;
    case eraftpb::EntryConfChange:
    case eraftpb::EntryConfChangeV2:
      apply_conf_change(e);
      break;
    default:
      spdlog::error("node {}: entry {} has unknown type {}", config_.id, e.index(),
                    static_cast<int>(e.entry_type()));
      complete_proposal(e.index(), e.term(), Outcome::fail("unknown entry type"));
      break;
  }
  applied_ = e.index();
  applied_term_ = e.term();
  applied_bytes_since_compact_ += e.data().size();
  if (eviction_in_flight_ && applied_ >= *eviction_in_flight_) eviction_in_flight_.reset();
}

void Node::finish_applying() {
  release_unapplied_writes(false);
  if (recovering_ && recovery_target_ != 0 && applied_ >= recovery_target_ &&
      applied_term_ == raw_->raft().term()) {
    if (auto st = hard_state_file_->store_recovering(false); !st.ok()) {
      // Recovering a while longer is safe; voting with the file still there is too (a restart
      // would only recover again).
      spdlog::error("node {}: {}", config_.id, st.error());
    }
    recovering_ = false;
    spdlog::info("node {}: caught up to index {} (term {}); voting again", config_.id, applied_,
                 applied_term_);
  }
}

void Node::apply_normal(const raft::Entry& e) {
  if (e.data().empty()) {  // a new leader's empty entry
    complete_proposal(e.index(), e.term(), Outcome::of(cache::Ok{}));
    return;
  }
  if (is_fragment(e.data())) return apply_fragment(e);
  apply_data(e.index(), e.term(), e.data());
}

void Node::apply_data(raft::Index index, raft::Term term, std::string_view data) {
  // Every replica applies the same bytes, so a command that does not decode is skipped by all of
  // them alike (only a node running different code could have proposed it).
  auto apply_one = [&](std::string_view command, cache::Engine::Batch& writer) {
    auto st = cache::decode_entry_into(command, apply_scratch_);
    if (!st.ok()) {
      spdlog::error("node {}: entry {} holds an undecodable command: {}", config_.id, index,
                    st.error().message);
      return Outcome::fail("undecodable entry");
    }
    return Outcome::of(writer.apply(apply_scratch_.command, apply_scratch_.time_ms));
  };
  if (!is_batch(data)) {
    Outcome o;
    {
      cache::Engine::Batch writer(*engine_);  // released before the answer goes out
      o = apply_one(data, writer);
    }
    return complete_proposal(index, term, std::move(o));
  }
  auto commands = decode_batch(data);
  if (!commands.ok()) {
    spdlog::error("node {}: entry {}: {}", config_.id, index, commands.error());
    return complete_proposal(index, term, Outcome::fail("undecodable entry"));
  }
  // One vector for every batch: its capacity is kept, so a large batch does not allocate (and
  // fault in) fresh memory for its outcomes.
  std::vector<Outcome> outcomes = std::move(apply_outcomes_);
  outcomes.clear();
  outcomes.reserve(commands->size());
  // The keys' table slots are prefetched kAhead commands ahead (bucket) and kAhead / 2 ahead
  // (chain head): on a keyspace larger than the cache, lookups otherwise wait on each miss.
  constexpr size_t kAhead = 8;
  const auto& cmds = *commands;
  uint64_t hashes[kAhead] = {};
  for (size_t i = 0; i < std::min(kAhead, cmds.size()); ++i)
    hashes[i] = engine_->prefetch(cache::peek_key(cmds[i]));
  {
    cache::Engine::Batch writer(*engine_);  // released before the answers go out
    for (size_t i = 0; i < cmds.size(); ++i) {
      if (i + kAhead / 2 < cmds.size()) engine_->prefetch_chain(hashes[(i + kAhead / 2) % kAhead]);
      outcomes.push_back(apply_one(cmds[i], writer));
      if (i + kAhead < cmds.size())
        hashes[i % kAhead] = engine_->prefetch(cache::peek_key(cmds[i + kAhead]));
    }
  }
  complete_proposal(index, term, outcomes);
  apply_outcomes_ = std::move(outcomes);
}

void Node::on_soft_state(const raft::SoftState& ss) {
  const bool was_leader = soft_.role == raft::Role::kLeader;
  const bool leader_changed = ss.leader_id != soft_.leader_id;
  soft_ = ss;
  leader_.store(ss.leader_id, std::memory_order_relaxed);
  if (leader_changed)
    spdlog::info("node {}: leader is {} (term {}, this node {})", config_.id, ss.leader_id,
                 raw_->raft().term(), raft::to_string(ss.role));
  if (was_leader && ss.role != raft::Role::kLeader) {
    engine_->cancel_evictions();
    eviction_in_flight_.reset();
    snapshot_sender_->cancel_all();
    release_unapplied_writes(true);
    // Writes not yet proposed go to the new leader instead (a large one first: order is kept).
    reroute_upload();
    upload_abort_.reset();  // a later term's entries drop the fragments anyway
    auto waiting = std::move(queue_);
    queue_.clear();
    for (auto& q : waiting)
      if (q.done) execute_on_node(std::move(q.entry), std::move(q.done), 0);
  }
  if (leader_changed) reissue_reads();
}

void Node::finish_stop() {
  fail_everything(std::string(net::errors::kShuttingDown),
                  fmt::format("{}: the node shut down before the write committed; it may still "
                              "be applied",
                              net::errors::kDropped));
  stopped_on_thread_ = true;
  env_->stop_ticks();
  transport_->shutdown();
  work_.reset();
  io_.stop();
  stopped_ = true;
}

net::NodeId Node::handover_target() const {
  // The voter whose log is longest among those heard from within the last election timeout, so
  // it can win at once (thesis §3.10). A voter that went quiet (stopped, cut off) may still show
  // the longest log from before; waiting for it would only hold the shutdown for its grace.
  net::NodeId best = 0;
  raft::Index best_match = 0;
  for (const auto& p : raw_->status().progress) {
    if (p.id == config_.id || p.is_learner || !p.recent_active) continue;
    if (best == 0 || p.match > best_match) {
      best = p.id;
      best_match = p.match;
    }
  }
  return best;
}

void Node::persist_members() {
  if (!hard_state_file_) return;
  std::string text = book_.to_text();
  if (text.empty() || text == stored_members_) return;
  if (auto st = hard_state_file_->store_members(text); !st.ok()) {
    // Not fatal: without it a restart falls back to the start-up flags, as before it existed.
    spdlog::error("node {}: cannot store the membership: {}", config_.id, st.error());
    return;
  }
  stored_members_ = std::move(text);
}

}  // namespace cairn::node
