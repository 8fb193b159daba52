// RaftLog: the node's view of the log — the persisted part (Storage) plus an unstable tail not yet
// persisted (and possibly an incoming snapshot) — with the commit and applied indexes.
// Owned by one Raft instance; single-threaded.
#pragma once

#include <optional>
#include <vector>

#include "raft/storage.h"

namespace cairn::raft {

// Entries and snapshot received but not yet handed to (and acknowledged by) the caller's storage.
// Invariant: if snapshot is set, offset == snapshot index + 1; entries[k].index() == offset + k.
struct Unstable {
  std::optional<Snapshot> snapshot;
  std::vector<Entry> entries;
  Index offset = 0;

  std::optional<Index> maybe_first_index() const;
  std::optional<Index> maybe_last_index() const;
  std::optional<Term> maybe_term(Index i) const;
  void stable_to(Index i, Term t);
  void stable_snap_to(Index i);
  void restore(const Snapshot& s);
  void truncate_and_append(std::vector<Entry> ents);
};

class RaftLog {
 public:
  explicit RaftLog(const Storage* storage, std::uint64_t max_next_ents_size = kNoLimit);

  // Appends entries from a leader's MsgAppend (index/log_term of the preceding entry). Returns the
  // new last index on success, nullopt if the preceding entry does not match (§3.5). The new
  // entries are moved out of m.
  std::optional<Index> maybe_append(Index index, Term log_term, Index committed, Message& m);
  // Appends locally created entries; returns the new last index.
  Index append(std::vector<Entry> ents);

  // First index whose term conflicts with the given entries (0 if none; index of first new entry
  // if they only extend the log).
  Index find_conflict(const Message& m) const;
  // For fast backtracking: the largest index <= index whose term <= term (thesis §5.3 hint).
  std::pair<Index, Term> find_conflict_by_term(Index index, Term term) const;

  const std::vector<Entry>& unstable_entries() const { return unstable_.entries; }
  const std::optional<Snapshot>& unstable_snapshot() const { return unstable_.snapshot; }
  std::vector<Entry> next_committed_entries() const;
  // The same entries as an inclusive index range [first, last] (empty when last < first), or
  // nullopt when one of them cannot be lent (entry_ref). Lets the caller apply them in place.
  struct Range {
    Index first = 1;
    Index last = 0;
  };
  std::optional<Range> next_committed_range() const;
  // Entry i in the unstable part or the storage, without a copy; nullptr if not lendable.
  const Entry* entry_ref(Index i) const;
  bool has_next_committed_entries() const;
  RResult<Snapshot> snapshot() const;

  Index first_index() const;
  Index last_index() const;
  Term last_term() const;
  RResult<Term> term(Index i) const;
  Term zero_term_on_err_compacted(Index i) const;
  bool match_term(Index i, Term t) const;
  // §5.4.1: a candidate's log is at least as up-to-date as ours.
  bool is_up_to_date(Index last_index, Term term) const;

  // Entries [lo, last] bounded by max_size (at least one entry).
  RResult<std::vector<Entry>> entries(Index lo, std::uint64_t max_size) const;
  std::vector<Entry> all_entries() const;
  RResult<std::vector<Entry>> slice(Index lo, Index hi, std::uint64_t max_size) const;

  // §5.4.2: commit only entries of the current term by counting replicas.
  bool maybe_commit(Index max_index, Term term);
  void commit_to(Index to);
  void applied_to(Index i);
  void stable_to(Index i, Term t) { unstable_.stable_to(i, t); }
  void stable_snap_to(Index i) { unstable_.stable_snap_to(i); }
  void restore(const Snapshot& s);

  Index committed() const { return committed_; }
  Index applied() const { return applied_; }
  const Storage& storage() const { return *storage_; }

 private:
  RStatus must_check_out_of_bounds(Index lo, Index hi) const;

  const Storage* storage_;  // not owned; outlives the log
  Unstable unstable_;
  // Invariant: applied_ <= committed_ <= last_index(). committed_ is known to be committed on a
  // quorum; applied_ is the highest index handed to the application.
  Index committed_ = 0;
  Index applied_ = 0;
  std::uint64_t max_next_ents_size_;
};

}  // namespace cairn::raft
