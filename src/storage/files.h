// Small durable-file helpers shared by the node's on-disk state: whole writes that survive a
// crash (write, fsync, rename, fsync the directory) and directory syncs. Error texts name the
// file and the system's reason.
#pragma once

#include <string>
#include <string_view>

#include "common/result.h"

namespace cairn::storage {

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
