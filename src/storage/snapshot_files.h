// SnapshotFiles: the node's snapshots on disk, one file each, written so that a crash at any
// moment leaves either the old set of files or the new one, and checked whole before use.
//
// A snapshot is written to `<name>.tmp`, synced, renamed to `<index>-<term>.snap` (16 hex digits
// each) and the directory synced: a file with the final name is complete. Layout:
//   "CAIRNSN2" | metadata length (u32 LE) | eraftpb::SnapshotMetadata | data |
//   data length (u64 LE) | XXH3-64 of everything before it (u64 LE)
// The data is the node's own snapshot bytes (its address book and the engine's LZ4 stream, which
// carries its own block checksums). Its length follows it so that a snapshot can be streamed to
// its file as it is built, never held whole in memory. Files of the first layout ("CAIRNSN1":
// the data length before the data) are still read.
//
// Recovery uses the newest snapshot; a newest file that fails its check is an error naming the
// file (never a silent fall-back to an older one: the log behind the newest may be gone). Stray
// `.tmp` files are what a crash mid-write leaves: removed at open.
//
// Threading: not synchronized; one owner, except that save() may run on another thread (the
// node's snapshot builder) while the owner calls the rest: it writes only its own `.tmp`, which
// list() does not show, and a final name appears whole, by rename.
#pragma once

#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "common/result.h"
#include "common/xxh3_stream.h"
#include "raft/types.h"
#include "storage/files.h"

namespace cairn::storage {

// One snapshot file being written front to back (SnapshotFiles::begin, begin_snapshot_file).
// Nothing counts until commit() returns: the file has its final name only then. Destroyed before,
// it removes its partial file (a cancelled build, a full disk). Any thread; one at a time.
class SnapshotFileWriter {
 public:
  SnapshotFileWriter(SnapshotFileWriter&&) noexcept;
  SnapshotFileWriter& operator=(SnapshotFileWriter&&) = delete;
  ~SnapshotFileWriter();

  // Appends to the snapshot's data.
  Status<std::string> write(std::string_view data);
  // Writes the length and checksum, syncs, and puts the file in place durably.
  Status<std::string> commit();
  // Bytes of data written so far, and where in the file the data begins.
  uint64_t data_bytes() const { return data_bytes_; }
  uint64_t data_offset() const { return data_offset_; }

 private:
  friend Result<SnapshotFileWriter, std::string> begin_snapshot_file(
      const std::string& dir, const std::string& path, const eraftpb::SnapshotMetadata& meta);
  SnapshotFileWriter(SyncedFileWriter file, std::string dir, std::string path);
  Status<std::string> put(std::string_view bytes);  // to the file and the checksum

  SyncedFileWriter file_;
  std::string dir_;
  std::string path_;  // the final name; the file is written as path_ + ".tmp"
  Xxh3Stream hash_;
  uint64_t data_bytes_ = 0;
  uint64_t data_offset_ = 0;
  bool committed_ = false;
};

// A snapshot file checked whole, its checksum read through in steps (never held in memory): its
// metadata, and where its data lies in it.
struct SnapshotFileInfo {
  std::string path;
  eraftpb::SnapshotMetadata metadata;
  uint64_t data_offset = 0;
  uint64_t data_bytes = 0;
};

// Reads a range of a file front to back: a snapshot's data streamed into the engine.
class FileRangeReader {
 public:
  static Result<FileRangeReader, std::string> open(const std::string& path, uint64_t offset,
                                                   uint64_t length);
  FileRangeReader(FileRangeReader&& other) noexcept;
  FileRangeReader& operator=(FileRangeReader&&) = delete;
  ~FileRangeReader();
  // Reads up to n bytes; 0 at the end of the range. An error names the file.
  Result<size_t, std::string> read(char* out, size_t n);
  // Reads up to n bytes from `pos` bytes into the range (not moving the reader); 0 at its end.
  Result<size_t, std::string> read_at(uint64_t pos, char* out, size_t n) const;
  uint64_t size() const { return end_ - begin_; }

 private:
  FileRangeReader(int fd, std::string path, uint64_t offset, uint64_t length)
      : fd_(fd), path_(std::move(path)), begin_(offset), at_(offset), end_(offset + length) {}
  int fd_;
  std::string path_;
  uint64_t begin_;
  uint64_t at_;
  uint64_t end_;
};

class SnapshotFiles {
 public:
  // Creates `dir` if needed and removes leftovers of interrupted writes (reported in `warnings`).
  static Result<SnapshotFiles, std::string> open(const std::string& dir,
                                                 std::vector<std::string>* warnings);

  // Durably stores `snap` (metadata and data) as the newest snapshot.
  Status<std::string> save(const raft::Snapshot& snap) const;
  // Begins writing a snapshot with metadata `meta` whose data is streamed in (may run on another
  // thread than the owner's, see the top).
  Result<SnapshotFileWriter, std::string> begin(const eraftpb::SnapshotMetadata& meta) const;
  // Moves a complete snapshot file written elsewhere on the same filesystem (a transfer received
  // into the node's `incoming` directory) into place as the newest snapshot, durably. Returns its
  // new path.
  Result<std::string, std::string> adopt(const std::string& path,
                                         const eraftpb::SnapshotMetadata& meta) const;
  // The newest snapshot, checked whole; nullopt if there is none; an error naming the file if it
  // is damaged.
  Result<std::optional<raft::Snapshot>, std::string> load_newest() const;
  // The same, without reading its data into memory: where it lies, for a FileRangeReader.
  Result<std::optional<SnapshotFileInfo>, std::string> check_newest() const;
  // Deletes every snapshot older than the newest. Returns how many.
  Result<size_t, std::string> remove_older() const;
  // Snapshot file names, oldest first.
  std::vector<std::string> list() const;

  const std::string& dir() const { return dir_; }
  // Where the snapshot with this metadata is (or would be) kept.
  std::string path_of(const eraftpb::SnapshotMetadata& meta) const;

 private:
  explicit SnapshotFiles(std::string dir) : dir_(std::move(dir)) {}
  std::string dir_;
};

// Begins writing a snapshot file at `path` (in directory `dir`), as SnapshotFiles::begin does in
// its own directory under the snapshot's own name.
Result<SnapshotFileWriter, std::string> begin_snapshot_file(const std::string& dir,
                                                            const std::string& path,
                                                            const eraftpb::SnapshotMetadata& meta);

// Checks one snapshot file and returns its contents; an error names the file and what is wrong.
Result<raft::Snapshot, std::string> read_snapshot_file(const std::string& path);
// Checks one snapshot file, reading it in steps, and says where its data lies.
Result<SnapshotFileInfo, std::string> check_snapshot_file(const std::string& path);

}  // namespace cairn::storage
