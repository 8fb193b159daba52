// SnapshotFiles: the node's snapshots on disk, one file each, written so that a crash at any
// moment leaves either the old set of files or the new one, and checked whole before use.
//
// A snapshot is written to `<name>.tmp`, synced, renamed to `<index>-<term>.snap` (16 hex digits
// each) and the directory synced: a file with the final name is complete. Layout:
//   "CAIRNSN1" | metadata length (u32 LE) | eraftpb::SnapshotMetadata | data length (u64 LE) |
//   data | XXH3-64 of everything before it (u64 LE)
// The data is the node's own snapshot bytes (its address book and the engine's LZ4 stream, which
// carries its own block checksums).
//
// Recovery uses the newest snapshot; a newest file that fails its check is an error naming the
// file (never a silent fall-back to an older one: the log behind the newest may be gone). Stray
// `.tmp` files are what a crash mid-write leaves: removed at open.
//
// Threading: not synchronized; one owner, except that save() may run on another thread (the
// node's snapshot builder) while the owner calls the rest: it writes only its own `.tmp`, which
// list() does not show, and a final name appears whole, by rename.
#pragma once

#include <optional>
#include <string>
#include <vector>

#include "common/result.h"
#include "raft/types.h"

namespace cairn::storage {

class SnapshotFiles {
 public:
  // Creates `dir` if needed and removes leftovers of interrupted writes (reported in `warnings`).
  static Result<SnapshotFiles, std::string> open(const std::string& dir,
                                                 std::vector<std::string>* warnings);

  // Durably stores `snap` (metadata and data) as the newest snapshot.
  Status<std::string> save(const raft::Snapshot& snap) const;
  // The newest snapshot, checked whole; nullopt if there is none; an error naming the file if it
  // is damaged.
  Result<std::optional<raft::Snapshot>, std::string> load_newest() const;
  // Deletes every snapshot older than the newest. Returns how many.
  Result<size_t, std::string> remove_older() const;
  // Snapshot file names, oldest first.
  std::vector<std::string> list() const;

  const std::string& dir() const { return dir_; }

 private:
  explicit SnapshotFiles(std::string dir) : dir_(std::move(dir)) {}
  std::string dir_;
};

// Checks one snapshot file and returns its contents; an error names the file and what is wrong.
Result<raft::Snapshot, std::string> read_snapshot_file(const std::string& path);

}  // namespace cairn::storage
