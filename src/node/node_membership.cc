// Membership, snapshots and the leader's housekeeping on the node thread: admin commands, conf
// change entries, learner promotion, log compaction, replicated eviction and clock ticks, and the
// recovery rule for a node restarted without its log.
#include <spdlog/spdlog.h>

#include <asio/post.hpp>

#include "cache/codec.h"
#include "cache/snapshot.h"
#include "common/overloaded.h"
#include "net/client_errors.h"
#include "node/identity.h"
#include "node/join.h"
#include "node/node.h"

namespace cairn::node {
namespace {

bool contains(const google::protobuf::RepeatedField<uint64_t>& ids, net::NodeId id) {
  return std::find(ids.begin(), ids.end(), id) != ids.end();
}

Outcome ok(std::string value = {}) {
  if (value.empty()) return Outcome::of(cache::Ok{});
  return Outcome::of(std::move(value));
}

}  // namespace

void Node::step(eraftpb::Message msg) {
  if (stopped_.load()) return;
  asio::post(io_, [this, msg = std::move(msg)]() mutable {
    if (stopped_on_thread_ || recovery_blocks(msg)) return;
    // A full disk takes no entries: not acknowledging them is all a leader needs to know, and it
    // tries again later (heartbeats still keep it in place).
    if (disk_full_ && ((msg.msg_type() == eraftpb::MsgAppend && msg.entries_size() > 0) ||
                       msg.msg_type() == eraftpb::MsgSnapshot))
      return;
    const bool append = msg.msg_type() == eraftpb::MsgAppend;
    const raft::Term term = msg.term();
    const net::NodeId from = msg.from();
    const raft::Index commit = msg.commit();
    if (msg.msg_type() == eraftpb::MsgReadIndex) carry_clock_for_reads();
    if (auto st = raw_->step(std::move(msg)); !st.ok())
      spdlog::debug("node {}: step: {}", config_.id, raft::to_string(st.error()));
    if (append) note_recovery_target(term, from, commit);
    kick();
  });
}

void Node::receive_snapshot_ack(net::SnapshotAck ack) {
  if (stopped_.load()) return;
  asio::post(io_, [this, ack = std::move(ack)] {
    if (!stopped_on_thread_) snapshot_sender_->on_ack(ack, env_->now());
  });
}

bool Node::recovery_blocks(const eraftpb::Message& m) {
  if (!recovering_) return false;
  // No vote from a node that may have forgotten what it acknowledged, and no campaign: a
  // leader's TimeoutNow would make it a candidate with a log that may lack committed entries.
  return m.msg_type() == eraftpb::MsgRequestVote || m.msg_type() == eraftpb::MsgRequestPreVote ||
         m.msg_type() == eraftpb::MsgTimeoutNow;
}

void Node::note_recovery_target(raft::Term term, net::NodeId from, raft::Index commit) {
  // Catch up to what the current leader has committed, heard once acknowledgements from this
  // node's previous life can no longer be in flight (two election timeouts after the restart),
  // and only from an append the core accepted as the current leader's (a stale term's commit
  // index says nothing about what is committed now).
  if (!recovering_ || recovery_target_ != 0 || commit == 0 || env_->now() < recovery_listen_from_)
    return;
  const raft::Raft& r = raw_->raft();
  if (term != r.term() || r.leader() != from) return;
  recovery_target_ = commit;
  spdlog::info("node {}: recovering up to index {} and an entry of term {}", config_.id,
               recovery_target_, r.term());
}

void Node::admin(net::AdminCommand cmd, Done done) {
  if (stopped_.load()) return done(Outcome::fail(std::string(net::errors::kShuttingDown)));
  asio::post(io_, [this, cmd = std::move(cmd), done = std::move(done)]() mutable {
    admin_on_node(std::move(cmd), std::move(done), 0);
  });
}

void Node::admin_on_node(net::AdminCommand cmd, Done respond, uint32_t hops) {
  if (stopping_) return respond(Outcome::fail(std::string(net::errors::kShuttingDown)));
  if (!leading()) return forward(net::ForwardedCommand{std::move(cmd)}, hops, std::move(respond));
  std::visit(
      Overloaded{
          [&](const net::AddNodeCommand& c) {
            const bool member =
                contains(conf_state_.voters(), c.id) || contains(conf_state_.learners(), c.id);
            if (member) {
              const std::string* addr = book_.find(c.id);
              if (addr && *addr != c.addr)
                return respond(
                    Outcome::fail(fmt::format("node {} is already a member, at {}", c.id, *addr)));
              return respond(ok(admission_answer()));
            }
            if (c.id == 0 || c.addr.empty())
              return respond(Outcome::fail("a node needs an id of at least 1 and an address"));
            raft::ConfChangeV2 cc;
            auto* ch = cc.add_changes();
            ch->set_change_type(eraftpb::AddLearnerNode);
            ch->set_node_id(c.id);
            cc.set_context(c.addr);
            spdlog::info("node {}: adding node {} at {} as a learner", config_.id, c.id, c.addr);
            propose_conf_change(cc, std::move(respond));
          },
          [&](const net::RemoveNodeCommand& c) {
            if (!contains(conf_state_.voters(), c.id) && !contains(conf_state_.learners(), c.id))
              return respond(Outcome::fail(fmt::format("node {} is not a member", c.id)));
            raft::ConfChangeV2 cc;
            auto* ch = cc.add_changes();
            ch->set_change_type(eraftpb::RemoveNode);
            ch->set_node_id(c.id);
            spdlog::info("node {}: removing node {}", config_.id, c.id);
            propose_conf_change(cc, std::move(respond));
          },
          [&](const net::TransferLeaderCommand& c) {
            if (c.id == config_.id) return respond(ok());
            if (!is_voter(c.id))
              return respond(Outcome::fail(fmt::format("node {} is not a voter", c.id)));
            if (auto st = raw_->transfer_leader(c.id); !st.ok())
              return respond(Outcome::fail(std::string(raft::to_string(st.error()))));
            if (transfer_) transfer_->done(Outcome::fail("superseded by another transfer"));
            transfer_ = Transfer{c.id, std::move(respond),
                                 env_->now() + config_.tick * (3 * config_.election_ticks)};
            kick();
          }},
      cmd);
}

void Node::propose_conf_change(const raft::ConfChangeV2& cc, Done respond) {
  if (disk_full_) return respond(no_space());
  const raft::Index index = last_index() + 1;
  const raft::Term term = raw_->raft().term();
  if (auto st = raw_->propose_conf_change(cc); !st.ok())
    return respond(Outcome::fail(std::string(raft::to_string(st.error()))));
  std::vector<Done> dones;
  dones.push_back(std::move(respond));
  track_proposal(index, term, std::move(dones));
  kick();
}

void Node::apply_conf_change(const raft::Entry& e) {
  raft::ConfChangeV2 cc;
  bool parsed = false;
  if (e.entry_type() == eraftpb::EntryConfChange) {
    raft::ConfChange v1;
    parsed = v1.ParseFromString(e.data());
    if (parsed) {
      auto* ch = cc.add_changes();
      ch->set_change_type(v1.change_type());
      ch->set_node_id(v1.node_id());
      cc.set_context(v1.context());
    }
  } else {
    parsed = cc.ParseFromString(e.data());
  }
  if (!parsed) {
    spdlog::error("node {}: conf change entry {} does not parse", config_.id, e.index());
    return complete_proposal(e.index(), e.term(), Outcome::fail("malformed conf change"));
  }
  auto cs = raw_->apply_conf_change(cc);
  if (!cs.ok()) {
    spdlog::warn("node {}: conf change at {} not applied: {}", config_.id, e.index(),
                 raft::to_string(cs.error()));
    return complete_proposal(e.index(), e.term(),
                             Outcome::fail(std::string(raft::to_string(cs.error()))));
  }
  conf_state_ = *cs;
  storage_.set_conf_state(conf_state_);
  for (const auto& ch : cc.changes()) {
    learned_addrs_.erase(ch.node_id());  // the membership speaks for it now
    if (ch.change_type() == eraftpb::RemoveNode) {
      book_.erase(ch.node_id());
      if (ch.node_id() == config_.id)
        spdlog::warn("node {}: removed from the cluster; it no longer takes part", config_.id);
    } else if (!cc.context().empty()) {
      book_.set(ch.node_id(), cc.context());
    }
  }
  sync_transport_peers();
  persist_members();
  complete_proposal(e.index(), e.term(), ok(admission_answer()));
}

bool Node::is_voter(net::NodeId id) const {
  return contains(conf_state_.voters(), id);
}

void Node::learn_address(net::NodeId id, const std::string& addr) {
  if (id == config_.id) return;
  asio::post(io_, [this, id, addr] {
    if (book_.find(id) != nullptr) return;
    std::string& known = learned_addrs_[id];
    if (known == addr) return;  // a connection again, from where it was
    known = addr;
    spdlog::info("node {}: node {} is at {} (its hello); answering it there", config_.id, id, addr);
    sync_transport_peers();
  });
}

void Node::sync_transport_peers() {
  if (!transport_) return;  // restoring a snapshot from disk, before the transport exists
  // The membership's addresses, and those peers gave of themselves where it names none.
  std::map<net::NodeId, std::string> wanted = learned_addrs_;
  for (const auto& [id, addr] : book_.all())
    wanted[id] = addr;
  for (auto it = transport_peers_.begin(); it != transport_peers_.end();) {
    if (!wanted.count(it->first)) {
      transport_->remove_peer(it->first);
      it = transport_peers_.erase(it);
    } else {
      ++it;
    }
  }
  for (const auto& [id, addr] : wanted) {
    if (id == config_.id) continue;
    auto it = transport_peers_.find(id);
    if (it != transport_peers_.end() && it->second == addr) continue;
    if (auto st = transport_->add_peer(id, addr); !st.ok()) {
      spdlog::error("node {}: peer {} has an unusable address {}: {}", config_.id, id, addr,
                    st.error().to_string());
      continue;
    }
    transport_peers_[id] = addr;
  }
}

void Node::leader_duties(Clock::time_point now) {
  // Time moves forward on every replica only through the log: stamp an empty tick when idle.
  if (now - last_time_carried_ >= config_.clock_tick && queue_.empty()) {
    queue_.push_back(Queued{cache::encode_entry(cache::Tick{}, 0), Done{}});
    last_time_carried_ = now;
  }
  if (config_.cache.max_memory != 0 && !eviction_in_flight_ &&
      engine_->used_memory() > config_.cache.max_memory) {
    std::vector<cache::Bytes> keys = engine_->eviction_candidates(1024);
    if (!keys.empty()) {
      const raft::Index index = last_index() + 1;
      if (raw_->propose(cache::encode_entry(cache::Evict{std::move(keys)}, env_->wall_ms())).ok())
        eviction_in_flight_ = index;
      else
        engine_->cancel_evictions();
    }
  }
  if (ticks_ % 5 == 0) promote_caught_up_learners();
}

void Node::make_room_for(uint64_t incoming) {
  if (config_.cache.max_memory == 0 || config_.cache.policy == cache::EvictionPolicy::kNoEviction)
    return;
  // Bounded so one entry stays far below a frame; what is left is found on the next batch.
  constexpr size_t kMaxKeysPerEvict = 16384;
  std::vector<cache::Bytes> keys =
      engine_->eviction_candidates(kMaxKeysPerEvict, unapplied_write_bytes_ + incoming);
  if (keys.empty()) return;
  if (raw_->propose(cache::encode_entry(cache::Evict{std::move(keys)}, env_->wall_ms())).ok())
    eviction_in_flight_ = last_index();
  else
    engine_->cancel_evictions();
}

void Node::release_unapplied_writes(bool all) {
  while (!unapplied_writes_.empty() && (all || unapplied_writes_.front().first <= applied_)) {
    unapplied_write_bytes_ -= unapplied_writes_.front().second;
    unapplied_writes_.pop_front();
  }
}

void Node::promote_caught_up_learners() {
  if (raw_->raft().pending_conf_index() > applied_) return;  // one change at a time
  const raft::Index last = last_index();
  for (const auto& p : raw_->status().progress) {
    if (!p.is_learner || p.match + 100 < last || !p.recent_active) continue;
    raft::ConfChangeV2 cc;
    auto* ch = cc.add_changes();
    ch->set_change_type(eraftpb::AddNode);
    ch->set_node_id(p.id);
    if (const std::string* addr = book_.find(p.id)) cc.set_context(*addr);
    spdlog::info("node {}: node {} has caught up (match {} of {}); promoting it to voter",
                 config_.id, p.id, p.match, last);
    propose_conf_change(cc, [id = p.id](const Outcome& o) {
      if (!o.ok()) spdlog::warn("promotion of node {} failed: {}", id, o.error);
    });
    return;
  }
}

void Node::check_transfer() {
  if (!transfer_) return;
  if (current_leader() == transfer_->target) {
    transfer_->done(ok());
    transfer_.reset();
  } else if (env_->now() >= transfer_->deadline) {
    transfer_->done(Outcome::fail(fmt::format("{}: leadership did not move to node {}",
                                              net::errors::kTimeout, transfer_->target)));
    transfer_.reset();
  }
}

std::string Node::snapshot_data() const {
  std::string out;
  book_.encode(out);
  cache::StringSink sink;
  sink.out = std::move(out);  // the engine's stream follows the address book, without a copy
  auto info = cache::write_snapshot(*engine_, sink);
  CAIRN_CHECK(info.ok());  // a string sink cannot fail
  return std::move(sink.out);
}

Status<std::string> Node::restore_snapshot(const raft::Snapshot& snap) {
  std::string_view data = snap.data();
  auto book = AddressBook::decode(data);
  if (!book.ok()) return Err{book.error()};
  return restore_state(snap.metadata(), std::move(*book),
                       [data] { return std::make_unique<cache::StringSource>(data); });
}

namespace {

// The engine's part of a snapshot file, read in steps as the engine asks for it. A read error
// ends the stream (the engine then finds it cut short) and is kept for the message.
class FileSource final : public cache::SnapshotSource {
 public:
  FileSource(storage::FileRangeReader file, std::string& error)
      : file_(std::move(file)), error_(error) {}
  size_t read(char* out, size_t n) override {
    auto got = file_.read(out, n);
    if (got.ok()) return *got;
    error_ = got.error();
    return 0;
  }

 private:
  storage::FileRangeReader file_;
  std::string& error_;
};

}  // namespace

Status<std::string> Node::restore_snapshot_file(const storage::SnapshotFileInfo& file) {
  // The address book comes first and is small: read a prefix large enough to hold it.
  std::string head;
  std::string_view rest;
  Result<AddressBook, std::string> book = Err{std::string("empty snapshot")};
  for (uint64_t want = 64 << 10;; want *= 4) {
    const auto n = static_cast<size_t>(std::min(want, file.data_bytes));
    auto reader = storage::FileRangeReader::open(file.path, file.data_offset, n);
    if (!reader.ok()) return Err{reader.error()};
    head.assign(n, '\0');
    for (size_t at = 0; at < n;) {
      auto got = reader->read(head.data() + at, n - at);
      if (!got.ok()) return Err{got.error()};
      if (*got == 0) return Err{fmt::format("{}: the file ends before its data", file.path)};
      at += *got;
    }
    rest = head;
    book = AddressBook::decode(rest);
    if (book.ok() || n == file.data_bytes) break;
  }
  if (!book.ok()) return Err{book.error()};
  const uint64_t engine_at = file.data_offset + (head.size() - rest.size());
  const uint64_t engine_bytes = file.data_bytes - (head.size() - rest.size());
  std::string read_error;
  auto restored = restore_state(
      file.metadata, std::move(*book), [&]() -> std::unique_ptr<cache::SnapshotSource> {
        auto r = storage::FileRangeReader::open(file.path, engine_at, engine_bytes);
        if (!r.ok()) {
          read_error = r.error();
          return std::make_unique<cache::StringSource>("");
        }
        return std::make_unique<FileSource>(std::move(*r), read_error);
      });
  if (!restored.ok() && !read_error.empty())
    return Err{fmt::format("{} ({})", restored.error(), read_error)};
  return restored;
}

Status<std::string> Node::restore_state(
    const eraftpb::SnapshotMetadata& meta, AddressBook book,
    const std::function<std::unique_ptr<cache::SnapshotSource>()>& open) {
  auto info = cache::restore_snapshot(*engine_, open);
  if (!info.ok()) return Err{info.error().message};
  book_ = std::move(book);
  conf_state_ = meta.conf_state();
  applied_ = meta.index();
  applied_term_ = meta.term();
  last_compact_index_ = applied_;
  applied_bytes_since_compact_ = 0;
  drop_proposals_through(applied_);
  staging_.reset();  // a snapshot holds no half-applied write (maybe_snapshot)
  // A snapshot being built of the state this replaces would be of no use (none at start-up).
  if (snapshot_builder_) snapshot_builder_->cancel();
  sync_transport_peers();
  persist_members();
  spdlog::info("node {}: installed snapshot at index {} ({} keys)", config_.id, applied_,
               info->entries);
  return {};
}

void Node::maybe_snapshot() {
  // A received snapshot the Raft core did not take (the state had passed it) is of no use.
  drop_received_snapshots_through(applied_);
  // A follower needs a snapshot newer than the compacted log: storage answered "temporarily
  // unavailable", and Raft asks again on its next round, when one may be ready.
  if (storage_.take_snapshot_request()) snapshot_wanted_ = true;
  const bool log_full = applied_ >= last_compact_index_ + config_.snapshot_entries ||
                        applied_bytes_since_compact_ >= config_.compact_bytes;
  // One build at a time, and no compaction meanwhile: the log must still reach back to the
  // snapshot being built. Its end brings the node back here.
  if (snapshot_builder_->busy()) return;
  // Nor while a large write's fragments are half applied: the snapshot would not hold them, and
  // the log after it would lack their start. It is over within the write's few seconds.
  if (staging_) return;
  // On disk the log is only released behind a durable snapshot, so one is built first; in memory
  // the log is compacted by count or bytes without one (a follower that needs one asks).
  // A snapshot that could not be written (a full disk) is tried again only after a pause: each
  // attempt costs a whole build.
  const bool may_build = env_->now() >= snapshot_retry_at_;
  const bool disk_due = log_full && wal_ && applied_ > disk_snapshot_index_;
  if ((snapshot_wanted_ || disk_due) && may_build) {
    start_snapshot();
    return;
  }
  if (log_full) compact_log();
}

void Node::start_snapshot() {
  SnapshotBuilder::Job job;
  job.meta.set_index(applied_);
  job.meta.set_term(applied_term_);
  *job.meta.mutable_conf_state() = conf_state_;
  book_.encode(job.prefix);
  // With a data directory a build goes only to its file, which the sender reads a chunk at a
  // time: the cache is not doubled in memory for it. Without one, it is built in memory.
  // Between two applies: the capture is exactly the state at applied_.
  job.capture = cache::capture_snapshot(*engine_);
  snapshot_builder_->start(std::move(job));
}

void Node::on_snapshot_built(SnapshotBuilder::Built built) {
  snapshot_builder_->finished();
  raft::Snapshot& snap = built.snapshot;
  const raft::Index index = snap.metadata().index();
  // Of no use any more if it was cancelled, or a leader's snapshot was installed meanwhile.
  const bool stale = built.cancelled || index < storage_.stored_snapshot().metadata().index() ||
                     index < storage_.first_index() - 1;
  // Streamed to its file only, and the file failed: nothing to keep. The log stays, and the next
  // compaction tries again after a pause.
  const bool lost = !built.in_memory && !built.on_disk;
  const raft::Snapshot* held = nullptr;
  if (!stale && !lost) {
    auto created = storage_.create_snapshot(index, &snap.metadata().conf_state(),
                                            std::move(*snap.mutable_data()));
    if (created.ok()) held = *created;
  }
  if (held == nullptr && !(lost && !stale)) {
    if (built.on_disk) (void)snap_files_->remove_older();  // a newer snapshot is on disk
    spdlog::info("node {}: snapshot at index {} dropped: {}", config_.id, index,
                 built.cancelled ? "cancelled" : "a newer one is in place");
    kick();
    return;
  }
  if (held != nullptr)
    spdlog::info("node {}: snapshot at index {} ({} bytes) built in {} ms, {}", config_.id, index,
                 built.bytes, built.took.count(),
                 built.on_disk ? "on disk" : (wal_ ? "not on disk" : "in memory"));
  if (!built.error.empty()) {
    // A snapshot that does not fit on the disk costs nothing but the log it would have released:
    // the log behind it stays, and the next compaction tries again.
    spdlog::error(
        "node {}: cannot write a snapshot at index {}: {}; the log is kept, and the "
        "next attempt is in {} s",
        config_.id, index, built.error,
        std::chrono::duration_cast<std::chrono::seconds>(config_.snapshot_retry_delay).count());
    snapshot_retry_at_ = env_->now() + config_.snapshot_retry_delay;
  }
  if (held == nullptr) {
    kick();
    return;
  }
  if (built.on_disk) store_on_disk(*held);
  if (built.on_disk && !built.in_memory) {
    // Raft's storage holds it without its data, which the sender reads from the file for any
    // follower that needs it, until a newer one replaces it.
    sendable_snapshot_ = SendableSnapshot{index,
                                          held->metadata().term(),
                                          snap_files_->path_of(held->metadata()),
                                          built.file_offset,
                                          built.bytes,
                                          built.checksum};
    snapshot_wanted_ = false;
  } else if (snapshot_wanted_) {
    snapshot_wanted_ = false;  // kept in memory for Raft to send: the sender takes it
  } else {
    // Of use only to a follower that may never need it (one is built again on demand).
    storage_.release_snapshot_data();
  }
  if (built.on_disk) compact_log();
  kick();
}

void Node::compact_log() {
  // The tail kept behind is bounded in entries and in bytes: under load one entry is a batch of up
  // to a MiB, and a thousand of them would keep most of the log.
  raft::Index keep_from =
      applied_ > config_.log_tail_entries ? applied_ - config_.log_tail_entries : 0;
  uint64_t tail_bytes = 0;
  for (raft::Index i = applied_; i > keep_from && i >= storage_.first_index(); --i) {
    const raft::Entry* e = storage_.entry_ref(i);
    if (e == nullptr) break;
    tail_bytes += e->data().size();
    if (tail_bytes > config_.compact_bytes / 4) {
      keep_from = std::min(i + 1, applied_);
      break;
    }
  }
  if (keep_from > storage_.first_index() && keep_from <= storage_.last_index())
    (void)storage_.compact(keep_from);
  last_compact_index_ = applied_;
  applied_bytes_since_compact_ = 0;
  spdlog::debug("node {}: log compacted, kept from {}", config_.id, storage_.first_index());
}

}  // namespace cairn::node

namespace cairn::node {

std::string Node::admission_answer() const {
  return fmt::format("cluster={:016x} {}", cluster_id_.load(), book_.to_text());
}

void Node::ask_admission() {
  ++admission_attempts_;
  env_->request_admission(
      config_.join, config_.id, config_.listen, std::chrono::milliseconds(3000),
      [this](const Result<std::string, std::string>& answer) { on_admission(answer); });
}

void Node::on_admission(const Result<std::string, std::string>& answer) {
  // Bounded: about ten minutes of attempts, then the operator is told to look.
  constexpr int kAdmissionAttempts = 600;
  if (stopping_ || stopped_on_thread_) return;
  if (!answer.ok()) {
    spdlog::warn("node {}: admission through {} failed (attempt {}): {}", config_.id, config_.join,
                 admission_attempts_, answer.error());
    if (admission_attempts_ < kAdmissionAttempts)
      admission_retry_at_ = env_->now() + std::chrono::seconds(1);
    else
      spdlog::error("node {}: gave up asking {} for admission", config_.id, config_.join);
    return;
  }
  spdlog::info("node {}: admitted to the cluster through {}: {}", config_.id, config_.join,
               *answer);
  std::string_view rest = *answer;
  uint64_t cluster = 0;
  if (rest.starts_with("cluster=") && rest.size() >= 25) {
    cluster = std::strtoull(std::string(rest.substr(8, 16)).c_str(), nullptr, 16);
    rest.remove_prefix(25);
  }
  if (cluster != 0 && cluster != cluster_id_.load()) {
    cluster_id_.store(cluster);
    if (!config_.data_dir.empty()) {
      if (auto rec = record_cluster(config_.data_dir, Identity{cluster, config_.id}); !rec.ok())
        spdlog::error("node {}: cannot record the cluster id: {}", config_.id, rec.error());
    }
  }
  // Until the leader's snapshot brings the membership, these addresses let this node answer the
  // leader at all.
  const AddressBook members = AddressBook::from_text(std::string(rest));
  for (const auto& [id, addr] : members.all())
    if (book_.find(id) == nullptr) book_.set(id, addr);
  sync_transport_peers();
}

}  // namespace cairn::node
