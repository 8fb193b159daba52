// MemStorage: the in-memory Storage. Single-threaded; see storage.h.
#include "raft/storage.h"

namespace cairn::raft {

MemStorage::MemStorage() {
  ents_.emplace_back();
}

RaftState MemStorage::initial_state() const {
  return RaftState{hard_state_, conf_state_};
}

Index MemStorage::first_index() const {
  return ents_.front().index() + 1;
}

Index MemStorage::last_index() const {
  return ents_.front().index() + ents_.size() - 1;
}

RResult<std::vector<Entry>> MemStorage::entries(Index lo, Index hi, std::uint64_t max_size) const {
  const Index offset = ents_.front().index();
  if (lo <= offset) return Err(Error::kCompacted);
  if (hi > last_index() + 1) return Err(Error::kUnavailable);
  std::vector<Entry> out;
  std::uint64_t size = 0;
  for (Index i = lo; i < hi; ++i) {
    const Entry& e = ents_[i - offset];
    size += entry_size(e);
    if (!out.empty() && size > max_size) break;  // always return at least one entry
    out.push_back(e);
  }
  return out;
}

const Entry* MemStorage::entry_ref(Index i) const {
  const Index offset = ents_.front().index();  // the dummy entry: the snapshot's index
  if (i <= offset || i - offset >= ents_.size()) return nullptr;
  return &ents_[i - offset];
}

RResult<Term> MemStorage::term(Index i) const {
  const Index offset = ents_.front().index();
  if (i < offset) return Err(Error::kCompacted);
  if (i - offset >= ents_.size()) return Err(Error::kUnavailable);
  return ents_[i - offset].term();
}

RResult<Snapshot> MemStorage::snapshot(Index /*request_index*/) const {
  if (on_demand_ && (data_released_ || snapshot_.metadata().index() + 1 < first_index())) {
    // Entries after it were compacted away: it cannot bring a follower to the log. Ask for one.
    snapshot_requested_ = true;
    return Err(Error::kSnapshotTemporarilyUnavailable);
  }
  return snapshot_;
}

RStatus MemStorage::apply_snapshot(const Snapshot& snap) {
  if (snapshot_.metadata().index() >= snap.metadata().index()) return Err(Error::kSnapOutOfDate);
  snapshot_ = snap;
  data_released_ = false;
  conf_state_ = snap.metadata().conf_state();
  ents_.clear();
  Entry dummy;
  dummy.set_index(snap.metadata().index());
  dummy.set_term(snap.metadata().term());
  ents_.push_back(std::move(dummy));
  // The snapshot is newer than anything the hard state may say about commitment.
  if (hard_state_.commit() < snap.metadata().index())
    hard_state_.set_commit(snap.metadata().index());
  if (hard_state_.term() < snap.metadata().term()) hard_state_.set_term(snap.metadata().term());
  return {};
}

void MemStorage::release_snapshot_data() {
  if (!on_demand_) return;  // without on-demand snapshots nobody would build it again
  snapshot_.clear_data();
  snapshot_.mutable_data()->shrink_to_fit();
  data_released_ = true;
}

RResult<const Snapshot*> MemStorage::create_snapshot(Index i, const ConfState* cs,
                                                     std::string data) {
  const Index last = snapshot_.metadata().index();
  if (i < last || (i == last && !data_released_)) return Err(Error::kSnapOutOfDate);
  CAIRN_CHECK(i <= last_index());
  const Index offset = ents_.front().index();
  snapshot_.mutable_metadata()->set_index(i);
  snapshot_.mutable_metadata()->set_term(ents_[i - offset].term());
  if (cs != nullptr) *snapshot_.mutable_metadata()->mutable_conf_state() = *cs;
  snapshot_.set_data(std::move(data));
  data_released_ = false;
  return &snapshot_;
}

RStatus MemStorage::compact(Index compact_index) {
  const Index offset = ents_.front().index();
  if (compact_index <= offset) return Err(Error::kCompacted);
  CAIRN_CHECK(compact_index <= last_index());
  const auto k = static_cast<std::ptrdiff_t>(compact_index - offset);
  std::vector<Entry> rest;
  rest.reserve(ents_.size() - static_cast<std::size_t>(k));
  Entry dummy;
  dummy.set_index(ents_[static_cast<std::size_t>(k)].index());
  dummy.set_term(ents_[static_cast<std::size_t>(k)].term());
  rest.push_back(std::move(dummy));
  for (auto it = ents_.begin() + k + 1; it != ents_.end(); ++it)
    rest.push_back(std::move(*it));
  ents_ = std::move(rest);
  return {};
}

void MemStorage::append(const std::vector<Entry>& ents) {
  std::vector<Entry> copy = ents;
  append(std::move(copy));
}

void MemStorage::append(std::vector<Entry>&& ents) {
  if (ents.empty()) return;
  const Index first = first_index();
  const Index last = ents.back().index();
  if (last < first) return;  // all already compacted
  std::size_t skip = 0;
  if (first > ents.front().index()) skip = static_cast<std::size_t>(first - ents.front().index());
  const Index start = ents[skip].index();
  const Index offset = ents_.front().index();
  CAIRN_CHECK(start - offset <= ents_.size());  // no gap
  ents_.resize(static_cast<std::size_t>(start - offset));
  for (std::size_t k = skip; k < ents.size(); ++k)
    ents_.push_back(std::move(ents[k]));
}

}  // namespace cairn::raft
