// The node's log and snapshots on disk (--storage disk; docs/storage.md): restoring them at
// start, writing each Ready before its messages leave, and snapshotting at compactions so the log
// behind can be released. Node thread only (and create(), before the thread starts).
#include <spdlog/spdlog.h>

#include <asio/post.hpp>

#include <filesystem>

#include "net/client_errors.h"
#include "node/node.h"

namespace cairn::node {
namespace {

[[noreturn]] void stop_on_disk_error(net::NodeId id, const std::string& what) {
  // The data may or may not be on disk: going on could acknowledge what a restart would not
  // find. The process stops; a restart recovers from what the disk holds.
  spdlog::critical("node {}: {}; stopping (restart to recover from what is on disk)", id, what);
  std::abort();
}

}  // namespace

Status<std::string> Node::open_disk(raft::HardState* hs, bool* restored) {
  const std::filesystem::path dir(config_.data_dir);
  const std::string wal_dir = (dir / "wal").string();
  std::vector<std::string> warnings;
  auto files = storage::SnapshotFiles::open((dir / "snap").string(), &warnings);
  if (!files.ok()) return Err{files.error()};
  snap_files_.emplace(std::move(*files));
  storage::WalContents log;
  storage::WalOptions wal_options;
  wal_options.dir = wal_dir;
  wal_options.segment_bytes = config_.wal_segment_bytes;
  wal_options.sync = config_.fsync;
  wal_options.synced = config_.wal_synced;
  auto wal = storage::Wal::open(wal_options, &log);
  if (!wal.ok()) return Err{wal.error()};
  wal_ = std::move(*wal);
  if (config_.fsync) {
    syncer_ = env_->log_syncer(
        [this](uint64_t ticket) { asio::post(io_, [this, ticket] { on_synced(ticket); }); },
        [id = config_.id](const std::string& error) { stop_on_disk_error(id, error); },
        config_.log_sync_started);
  }
  warnings.insert(warnings.end(), log.warnings.begin(), log.warnings.end());
  for (const auto& w : warnings)
    spdlog::warn("node {}: {}", config_.id, w);

  // Checked and restored from the file in steps: a snapshot of gigabytes is never read whole
  // into memory beside the cache it fills.
  auto newest = snap_files_->check_newest();
  if (!newest.ok()) return Err{newest.error()};
  raft::Index snap_index = 0;
  if (*newest) {
    const storage::SnapshotFileInfo& file = **newest;
    snap_index = file.metadata.index();
    if (log.snapshot_index > snap_index)
      return Err{
          fmt::format("the log in {} starts after a snapshot at index {}, but the newest "
                      "snapshot file in {} is at index {}",
                      wal_dir, log.snapshot_index, snap_files_->dir(), snap_index)};
    if (auto st = restore_snapshot_file(file); !st.ok())
      return Err{fmt::format("snapshot at index {} in {}: {}", snap_index, snap_files_->dir(),
                             st.error())};
    raft::Snapshot marker;  // for Raft's storage: where the log starts; the data is on disk
    *marker.mutable_metadata() = file.metadata;
    if (!storage_.apply_snapshot(marker).ok())
      return Err{fmt::format("snapshot at index {} refused", snap_index)};
    storage_.release_snapshot_data();  // restored, and on disk
    disk_snapshot_index_ = snap_index;
    *restored = true;
  } else if (log.snapshot_index != 0 || !log.entries.empty()) {
    return Err{fmt::format("{} holds a log but {} holds no snapshot to start it from", wal_dir,
                           snap_files_->dir())};
  }
  // The entries after the snapshot (a snapshot written after the last mark covers some of them).
  std::vector<raft::Entry> after;
  for (auto& e : log.entries)
    if (e.index() > snap_index) after.push_back(std::move(e));
  if (!after.empty()) {
    if (after.front().index() != snap_index + 1)
      return Err{fmt::format("the log in {} resumes at index {}, after a snapshot at {}", wal_dir,
                             after.front().index(), snap_index)};
    storage_.append(std::move(after));
    *restored = true;
  }
  // The log's hard state is written with every Ready; the hard-state file only on term and vote
  // changes. Take the newer term; the commit index only from the log, within what it holds.
  const raft::HardState& logged = log.hard_state;
  if (logged.term() >= hs->term()) {
    hs->set_term(logged.term());
    hs->set_vote(logged.vote());
  }
  hs->set_commit(std::max<raft::Index>(
      std::min<raft::Index>(logged.commit(), storage_.last_index()), snap_index));
  if (*restored)
    spdlog::info("node {}: restored from {}: snapshot at index {}, log to index {}, commit {}",
                 config_.id, config_.data_dir, snap_index, storage_.last_index(), hs->commit());
  return {};
}

storage::SnapshotFileInfo& Node::received_snapshot_for(const raft::Snapshot& snap) {
  auto it = received_snapshots_.find(snap.metadata().index());
  CAIRN_CHECK(it != received_snapshots_.end() &&
              it->second.metadata.term() == snap.metadata().term());
  return it->second;
}

void Node::keep_received_snapshot(storage::SnapshotFileInfo file) {
  // Older ones stay until the state passes them: one may be in a Ready not yet handled.
  const raft::Index index = file.metadata.index();
  if (auto it = received_snapshots_.find(index); it != received_snapshots_.end()) {
    std::error_code ec;
    std::filesystem::remove(it->second.path, ec);  // the same state, sent again
    received_snapshots_.erase(it);
  }
  received_snapshots_.emplace(index, std::move(file));
}

void Node::send_snapshot_from_file(eraftpb::Message m) {
  const auto& meta = m.snapshot().metadata();
  const net::NodeId to = m.to();
  const SendableSnapshot* s = sendable_snapshot_ ? &*sendable_snapshot_ : nullptr;
  auto file = s != nullptr && s->index == meta.index() && s->term == meta.term()
                  ? storage::FileRangeReader::open(s->path, s->offset, s->bytes)
                  : Result<storage::FileRangeReader, std::string>(
                        Err{fmt::format("no file of the snapshot at index {}", meta.index())});
  if (!file.ok()) {
    // Raft is told the transfer failed, and storage asks for a snapshot to be built again.
    spdlog::error("node {}: cannot send a snapshot to node {}: {}", config_.id, to, file.error());
    sendable_snapshot_.reset();
    storage_.release_snapshot_data();
    raw_->report_snapshot(to, false);
    return;
  }
  snapshot_sender_->start(std::move(m), SnapshotPayload(std::move(*file), s->checksum),
                          env_->now());
}

void Node::drop_received_snapshots_through(raft::Index index) {
  while (!received_snapshots_.empty() && received_snapshots_.begin()->first <= index) {
    std::error_code ec;
    std::filesystem::remove(received_snapshots_.begin()->second.path, ec);
    received_snapshots_.erase(received_snapshots_.begin());
  }
}

void Node::persist_snapshot(const raft::Snapshot& snap, bool replaces_log, bool file_saved) {
  if (!file_saved && snap.data().empty()) {
    // Received to disk: the file is complete and synced already; moved into place.
    auto& file = received_snapshot_for(snap);
    auto moved = snap_files_->adopt(file.path, snap.metadata());
    if (!moved.ok()) stop_on_disk_error(config_.id, moved.error());
    file.path = *moved;
  } else if (!file_saved) {
    if (auto st = snap_files_->save(snap); !st.ok()) stop_on_disk_error(config_.id, st.error());
  }
  if (auto st = wal_->mark_snapshot(snap.metadata().index(), snap.metadata().term(), replaces_log);
      !st.ok())
    stop_on_disk_error(config_.id, st.error());
  if (auto st = wal_->sync(); !st.ok()) stop_on_disk_error(config_.id, st.error());
  disk_snapshot_index_ = std::max(disk_snapshot_index_, snap.metadata().index());
}

bool Node::write_ready(const raft::Ready& rd) {
  // A snapshot from the leader is rare and replaces the log: written and synced at once.
  if (rd.snapshot) persist_snapshot(*rd.snapshot, true);
  bool wrote = false;
  if (!rd.entries.empty()) {
    if (auto st = wal_->append(rd.entries); !st.ok()) stop_on_disk_error(config_.id, st.error());
    wrote = true;
  }
  if (rd.hard_state) {
    if (auto st = wal_->append_hard_state(*rd.hard_state); !st.ok())
      stop_on_disk_error(config_.id, st.error());
    wrote = true;
  }
  if (!disk_full_ && !wal_->has_reserve()) check_disk_space(false);
  // One sync for the whole Ready (group commit), and only when Raft needs it: new entries, a new
  // term or vote. A commit index that moved may be lost; it is learned again from the leader.
  return wrote && rd.must_sync;
}

void Node::persist_ready(const raft::Ready& rd) {
  if (write_ready(rd)) {
    if (auto st = wal_->sync(); !st.ok()) stop_on_disk_error(config_.id, st.error());
  }
}

uint64_t Node::persist_ready_async(const raft::Ready& rd) {
  if (write_ready(rd)) {
    auto target = wal_->take_sync_target();
    if (!target.ok()) stop_on_disk_error(config_.id, target.error());
    sync_requested_ = syncer_->request(std::move(*target));
  }
  // A Ready that needs no sync of its own still waits for one under way: its messages may
  // depend on what that sync covers (an acknowledgement of entries already written, say).
  return sync_requested_ > synced_ ? sync_requested_ : 0;
}

void Node::on_synced(uint64_t ticket) {
  synced_ = std::max(synced_, ticket);
  while (!held_.empty() && held_.front().ticket <= synced_) {
    Held h = std::move(held_.front());
    held_.pop_front();
    if (h.last_index != 0) raw_->persisted(h.last_index, h.last_term);
    send_messages(h.messages, Which::kAll);
  }
  kick();
}

void Node::check_disk_space(bool retry) {
  if (retry) {
    if (!wal_->reserve().ok()) return;
    disk_full_ = false;
    spdlog::warn("node {}: the log has room again in {}; writes resume", config_.id,
                 config_.data_dir);
    return;
  }
  disk_full_ = true;
  spdlog::error(
      "node {}: the disk holding {} is full: {}; writes are refused (reads go on) until space is "
      "freed",
      config_.id, config_.data_dir, wal_->reserve_error());
}

Outcome Node::no_space() const {
  return Outcome::fail(
      fmt::format("{}: the disk holding {} is full; writes are refused until "
                  "space is freed",
                  net::errors::kNoSpace, config_.data_dir));
}

void Node::store_on_disk(const raft::Snapshot& snap) {
  // The file is written and synced (SnapshotBuilder): its mark in the log makes the log behind
  // it releasable.
  if (snap.metadata().index() <= disk_snapshot_index_) return;
  persist_snapshot(snap, false, true);
  auto released = wal_->release();
  if (!released.ok()) stop_on_disk_error(config_.id, released.error());
  auto removed = snap_files_->remove_older();
  if (!removed.ok()) spdlog::warn("node {}: {}", config_.id, removed.error());
}

}  // namespace cairn::node
