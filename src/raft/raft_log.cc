// RaftLog and Unstable: see raft_log.h. Single-threaded.
#include "raft/raft_log.h"

#include <algorithm>
#include <cstdio>

namespace cairn::raft {

// ---- Unstable ----

std::optional<Index> Unstable::maybe_first_index() const {
  if (snapshot) return snapshot->metadata().index() + 1;
  return std::nullopt;
}

std::optional<Index> Unstable::maybe_last_index() const {
  if (!entries.empty()) return offset + entries.size() - 1;
  if (snapshot) return snapshot->metadata().index();
  return std::nullopt;
}

std::optional<Term> Unstable::maybe_term(Index i) const {
  if (i < offset) {
    if (snapshot && snapshot->metadata().index() == i) return snapshot->metadata().term();
    return std::nullopt;
  }
  auto last = maybe_last_index();
  if (!last || i > *last) return std::nullopt;
  return entries[i - offset].term();
}

void Unstable::stable_to(Index i, Term t) {
  auto gt = maybe_term(i);
  // Only drop the prefix if the entry at i is still the one that was persisted (it may have been
  // replaced by a newer leader's entries since the Ready was taken).
  if (!gt || *gt != t || i < offset) return;
  entries.erase(entries.begin(), entries.begin() + static_cast<std::ptrdiff_t>(i + 1 - offset));
  offset = i + 1;
}

void Unstable::stable_snap_to(Index i) {
  if (snapshot && snapshot->metadata().index() == i) snapshot.reset();
}

void Unstable::restore(const Snapshot& s) {
  offset = s.metadata().index() + 1;
  entries.clear();
  snapshot = s;
}

void Unstable::truncate_and_append(std::vector<Entry> ents) {
  if (ents.empty()) return;
  const Index after = ents.front().index();
  if (after == offset + entries.size()) {
    // Directly extends the tail.
  } else if (after <= offset) {
    // Replaces the whole unstable tail (and shadows stable entries from `after` on).
    offset = after;
    entries.clear();
  } else {
    entries.resize(static_cast<std::size_t>(after - offset));
  }
  if (entries.empty()) {
    entries = std::move(ents);
  } else {
    for (auto& e : ents)
      entries.push_back(std::move(e));
  }
}

// ---- RaftLog ----

RaftLog::RaftLog(const Storage* storage, std::uint64_t max_next_ents_size)
    : storage_(storage), max_next_ents_size_(max_next_ents_size) {
  const Index first = storage_->first_index();
  const Index last = storage_->last_index();
  unstable_.offset = last + 1;
  committed_ = first - 1;
  applied_ = first - 1;
}

std::optional<Index> RaftLog::maybe_append(Index index, Term log_term, Index committed,
                                           Message& m) {
  if (!match_term(index, log_term)) return std::nullopt;
  const Index last_new = index + static_cast<Index>(m.entries_size());
  const Index ci = find_conflict(m);
  if (ci != 0) {
    CAIRN_CHECK(ci > committed_);  // §5.3: a committed entry never conflicts (Log Matching)
    std::vector<Entry> rest;
    const auto from = static_cast<int>(ci - index - 1);
    rest.reserve(static_cast<std::size_t>(m.entries_size() - from));
    for (int k = from; k < m.entries_size(); ++k)
      rest.push_back(std::move(*m.mutable_entries(k)));
    append(std::move(rest));
  }
  commit_to(std::min(committed, last_new));
  return last_new;
}

Index RaftLog::append(std::vector<Entry> ents) {
  if (ents.empty()) return last_index();
  CAIRN_CHECK(ents.front().index() - 1 >= committed_);  // never overwrite committed entries
  unstable_.truncate_and_append(std::move(ents));
  return last_index();
}

Index RaftLog::find_conflict(const Message& m) const {
  for (const Entry& e : m.entries()) {
    if (!match_term(e.index(), e.term())) return e.index();
  }
  return 0;
}

std::pair<Index, Term> RaftLog::find_conflict_by_term(Index index, Term term) const {
  for (;;) {
    auto t = this->term(index);
    if (!t.ok()) return {index, 0};
    if (*t <= term) return {index, *t};
    --index;
  }
}

std::vector<Entry> RaftLog::next_committed_entries() const {
  const Index off = std::max(applied_ + 1, first_index());
  if (committed_ + 1 <= off) return {};
  auto ents = slice(off, committed_ + 1, max_next_ents_size_);
  CAIRN_CHECK(ents.ok());
  return std::move(ents).value();
}

std::optional<RaftLog::Range> RaftLog::next_committed_range() const {
  Range r;
  r.first = std::max(applied_ + 1, first_index());
  r.last = r.first - 1;
  std::uint64_t size = 0;
  for (Index i = r.first; i <= committed_; ++i) {
    const Entry* e = entry_ref(i);
    if (e == nullptr) return std::nullopt;
    size += entry_size(*e);
    if (r.last >= r.first && size > max_next_ents_size_) break;  // at least one, as slice()
    r.last = i;
  }
  return r;
}

const Entry* RaftLog::entry_ref(Index i) const {
  if (i >= unstable_.offset && i - unstable_.offset < unstable_.entries.size())
    return &unstable_.entries[i - unstable_.offset];
  return storage_->entry_ref(i);
}

bool RaftLog::has_next_committed_entries() const {
  return committed_ + 1 > std::max(applied_ + 1, first_index());
}

RResult<Snapshot> RaftLog::snapshot() const {
  if (unstable_.snapshot) return *unstable_.snapshot;
  return storage_->snapshot(applied_);
}

Index RaftLog::first_index() const {
  if (auto i = unstable_.maybe_first_index()) return *i;
  return storage_->first_index();
}

Index RaftLog::last_index() const {
  if (auto i = unstable_.maybe_last_index()) return *i;
  return storage_->last_index();
}

Term RaftLog::last_term() const {
  auto t = term(last_index());
  CAIRN_CHECK(t.ok());
  return *t;
}

RResult<Term> RaftLog::term(Index i) const {
  // Valid range: [first_index()-1, last_index()].
  // Outside it the term is unknown, and an error says so: a made-up term of 0 would let a
  // follower with a shorter log "match" an append whose previous entry it does not hold.
  const Index dummy = first_index() - 1;
  if (i < dummy) return Err(Error::kCompacted);
  if (i > last_index()) return Err(Error::kUnavailable);
  if (auto t = unstable_.maybe_term(i)) return *t;
  return storage_->term(i);
}

Term RaftLog::zero_term_on_err_compacted(Index i) const {
  auto t = term(i);
  if (t.ok()) return *t;
  CAIRN_CHECK(t.error() == Error::kCompacted);
  return 0;
}

bool RaftLog::match_term(Index i, Term t) const {
  auto got = term(i);
  return got.ok() && *got == t;
}

bool RaftLog::is_up_to_date(Index lasti, Term t) const {
  return t > last_term() || (t == last_term() && lasti >= last_index());
}

RResult<std::vector<Entry>> RaftLog::entries(Index lo, std::uint64_t max_size) const {
  if (lo > last_index()) return std::vector<Entry>{};
  return slice(lo, last_index() + 1, max_size);
}

std::vector<Entry> RaftLog::all_entries() const {
  auto ents = entries(first_index(), kNoLimit);
  CAIRN_CHECK(ents.ok());
  return std::move(ents).value();
}

RStatus RaftLog::must_check_out_of_bounds(Index lo, Index hi) const {
  CAIRN_CHECK(lo <= hi);
  if (lo < first_index()) return Err(Error::kCompacted);
  CAIRN_CHECK(hi <= last_index() + 1);
  return {};
}

RResult<std::vector<Entry>> RaftLog::slice(Index lo, Index hi, std::uint64_t max_size) const {
  if (auto st = must_check_out_of_bounds(lo, hi); !st) return Err(st.error());
  std::vector<Entry> out;
  if (lo == hi) return out;
  if (lo < unstable_.offset) {
    auto stored = storage_->entries(lo, std::min(hi, unstable_.offset), max_size);
    if (!stored.ok()) {
      CAIRN_CHECK(stored.error() == Error::kCompacted);
      return Err(stored.error());
    }
    out = std::move(stored).value();
    // Storage returned fewer than asked because of the size limit: stop here.
    if (out.size() < std::min(hi, unstable_.offset) - lo) return out;
  }
  std::uint64_t size = 0;
  for (const auto& e : out)
    size += entry_size(e);
  if (hi > unstable_.offset) {
    for (Index i = std::max(lo, unstable_.offset); i < hi; ++i) {
      const Entry& e = unstable_.entries[i - unstable_.offset];
      size += entry_size(e);
      if (!out.empty() && size > max_size) break;
      out.push_back(e);
    }
  }
  return out;
}

bool RaftLog::maybe_commit(Index max_index, Term t) {
  if (max_index > committed_ && zero_term_on_err_compacted(max_index) == t) {
    commit_to(max_index);
    return true;
  }
  return false;
}

void RaftLog::commit_to(Index to) {
  if (committed_ >= to) return;  // never decrease commit
  if (last_index() < to) {
    std::fprintf(stderr, "commit %llu out of range [last %llu]\n",
                 static_cast<unsigned long long>(to),
                 static_cast<unsigned long long>(last_index()));
    CAIRN_CHECK(last_index() >= to);
  }
  committed_ = to;
}

void RaftLog::applied_to(Index i) {
  if (i == 0) return;
  CAIRN_CHECK(committed_ >= i && i >= applied_);
  applied_ = i;
}

void RaftLog::restore(const Snapshot& s) {
  committed_ = s.metadata().index();
  unstable_.restore(s);
}

}  // namespace cairn::raft
