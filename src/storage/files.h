// Small durable-file helpers shared by the node's on-disk state: whole writes that survive a
// crash (write, fsync, rename, fsync the directory) and directory syncs. Error texts name the
// file and the system's reason.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>

#include "common/result.h"

namespace cairn::storage {

// A file written front to back and fsynced at the end, for data too large to hold whole (a
// snapshot streamed from the engine). Its pages are sent to the disk a step at a time as they are
// written: gigabytes left dirty in the page cache would be flushed all at once by the final fsync,
// and the log's fdatasync would queue behind that flush. Closed, without a sync, when destroyed.
class SyncedFileWriter {
 public:
  // Creates (or truncates) `path`.
  static Result<SyncedFileWriter, std::string> create(const std::string& path);
  SyncedFileWriter(SyncedFileWriter&& other) noexcept;
  SyncedFileWriter& operator=(SyncedFileWriter&&) = delete;
  SyncedFileWriter(const SyncedFileWriter&) = delete;
  ~SyncedFileWriter();

  Status<std::string> write(std::string_view data);
  // fsyncs and closes the file; nothing may be written after.
  Status<std::string> finish();
  uint64_t written() const { return static_cast<uint64_t>(written_); }

 private:
  SyncedFileWriter(int fd, std::string path) : fd_(fd), path_(std::move(path)) {}
  int fd_;
  std::string path_;
  int64_t written_ = 0;
  int64_t flushed_ = 0;  // pages before this were sent to the disk
};

// Writes `parts` one after the other to `path` (created or truncated) and fsyncs it.
Status<std::string> write_file_synced(const std::string& path,
                                      std::initializer_list<std::string_view> parts);
// The whole contents of `path`, read with one allocation of its size.
Result<std::string, std::string> read_file(const std::string& path);
// Makes renames and removals in `dir` durable.
Status<std::string> sync_dir(const std::string& dir);
// Replaces `path` (in directory `dir`) by `data` atomically: a crash leaves the old or the new
// contents, never a mix (written to `path.tmp`, synced, renamed over, directory synced).
Status<std::string> replace_file(const std::string& dir, const std::string& path,
                                 std::string_view data);

}  // namespace cairn::storage
