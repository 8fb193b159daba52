// Wal: the durable, segmented write-ahead log of a Raft node: entries, hard state and snapshot
// marks, each record checksummed, appended to numbered segment files in one directory.
//
// Why this shape: Raft only ever appends to its log, overwrites a suffix after a leader change,
// and drops a prefix once a snapshot covers it. An append-only file does all three cheaply: an
// entry record for index i replaces every entry from i on (replay keeps the latest), a snapshot
// mark drops what it covers, and whole segments behind the snapshot are deleted. One fdatasync
// makes everything appended before it durable, so a Ready's entries and hard state cost one sync
// together however many there are (group commit).
//
// Layout (docs/storage.md): `<dir>/<seq as 16 hex digits>.wal`, each starting with the 16-byte
// header "CAIRNWL1" + seq (u64 LE). Records: payload length (u32 LE, of type + body), a check of
// the length (u32 LE), checksum (XXH3-64 of type and body seeded with the length; u64 LE), type
// (u8), body:
//   1 entry       eraftpb::Entry, serialized
//   2 hard state  eraftpb::HardState, serialized
//   3 snapshot    index (u64 LE), term (u64 LE), flags (u8): entries up to index are in a
//                 snapshot; flag 1: the snapshot replaced the whole log (one received from the
//                 leader), so later entries are dropped too
//
// Recovery (open): segments are read in order; their sequence numbers must be contiguous. A record
// cut short at the end of the last segment, or a run of zero bytes that ends the last segment, is a
// torn write from a crash: it is truncated and reported as a warning. Any other damage - a bad
// checksum, an unknown type, a missing segment, an entry that leaves a gap - is an error naming
// the file and offset, and nothing is truncated: committed data is never dropped silently.
//
// Threading: not synchronized; one owner (the node thread) makes every call, but for
// sync_target(), which works on a SyncTarget alone.
#pragma once

#include <cstdint>
#include <functional>
#include <memory>
#include <string>
#include <vector>

#include "common/result.h"
#include "raft/types.h"

namespace cairn::storage {

struct WalOptions {
  std::string dir;
  // A new segment starts once the current one is this big (checked before each append, so a
  // segment may pass it by one append's records).
  uint64_t segment_bytes = 64ull << 20;
  bool sync = true;  // false: sync() hands data to the OS without fdatasync
  // Inspect only: nothing is changed on disk (a torn tail is reported, not truncated) and the
  // log cannot be appended to.
  bool read_only = false;
  // Testing knob, unset in production: called after each sync this Wal makes itself (sync(), and
  // the sync of a segment left by a roll) with the segment's path and the bytes now durable. A
  // simulated disk learns from it what a crash may not take.
  std::function<void(const std::string& path, uint64_t bytes)> synced = {};
};

struct SegmentInfo {
  std::string path;
  uint64_t bytes = 0;
  uint64_t records = 0;
  raft::Index first_entry = 0;  // 0: no entry records
  raft::Index last_entry = 0;
};

// What open() found: the state to restart from.
struct WalContents {
  raft::HardState hard_state;      // the last one written (default if none)
  raft::Index snapshot_index = 0;  // the last snapshot mark (0: none)
  raft::Term snapshot_term = 0;
  std::vector<raft::Entry> entries;   // contiguous, starting after snapshot_index
  std::vector<std::string> warnings;  // torn tails that were truncated
  std::vector<SegmentInfo> segments;  // what each segment holds, in order
};

class Wal {
 public:
  // Opens (creating if needed, unless read_only) the log in options.dir and reads it back.
  static Result<std::unique_ptr<Wal>, std::string> open(const WalOptions& options,
                                                        WalContents* contents);
  ~Wal();
  Wal(const Wal&) = delete;
  Wal& operator=(const Wal&) = delete;

  // Appends records (written to the OS at once, durable only after sync()). Entries must follow
  // on from what the log holds or overwrite a suffix of it (index <= last index + 1).
  Status<std::string> append(const std::vector<raft::Entry>& entries);
  Status<std::string> append_hard_state(const raft::HardState& hs);
  // Entries up to `index` are in a durable snapshot: replay drops them, and release() may delete
  // the segments that hold only them. With `replaces_log` (a snapshot installed from the leader,
  // which Raft puts in place of the whole log) replay drops the entries after it as well.
  Status<std::string> mark_snapshot(raft::Index index, raft::Term term, bool replaces_log = false);
  // Makes everything appended so far durable (fdatasync; fsync of the directory after a new
  // segment was created). An error means the data may not be on disk: the caller must stop.
  Status<std::string> sync();
  // Syncing on another thread (the node's LogSyncer): take_sync_target() says what sync() would
  // make durable now - a duplicate of the current segment's descriptor, and whether the directory
  // changed - and counts it as handed over; sync_target() then syncs it on any thread, and closes
  // the descriptor. A segment left behind by a roll is synced by the roll itself, so the current
  // one is all a target needs.
  struct SyncTarget {
    int fd = -1;
    std::string path;    // for error messages
    std::string dir;     // set when the directory must be synced too
    uint64_t bytes = 0;  // the segment's size when taken: what the sync makes durable at least
  };
  Result<SyncTarget, std::string> take_sync_target();
  static Status<std::string> sync_target(SyncTarget target);

  // Deletes the segments (never the current one) whose entries all lie at or below the last
  // snapshot mark. Returns how many were deleted.
  Result<size_t, std::string> release();

  // Disk space held in reserve (docs/storage.md, "Out of space"). Each segment is allocated whole
  // when it starts, and the space of the next one is allocated ahead in a reserve file, so
  // appends and the next roll never meet a full disk. has_reserve() is false once the reserve
  // could not be allocated after a roll: the disk is nearly full, and the owner must stop adding
  // to the log (the current segment still has room for what is in flight) until reserve()
  // succeeds again, after space was freed. On a filesystem without fallocate() there is no
  // reserve and has_reserve() stays true.
  bool has_reserve() const { return reserve_ready_; }
  // Allocates the reserve if it is missing; an error says why (no space, most likely), and stays
  // in reserve_error() until an allocation succeeds.
  Status<std::string> reserve();
  const std::string& reserve_error() const { return reserve_error_; }

  raft::Index last_index() const { return last_index_; }
  size_t segment_count() const { return segments_.size(); }
  uint64_t bytes_since_sync() const { return unsynced_; }

 private:
  struct Segment {
    uint64_t seq = 0;
    std::string path;
    uint64_t size = 0;
    raft::Index max_entry = 0;  // highest entry index written to it (0: none)
  };
  explicit Wal(WalOptions options);
  Status<std::string> replay(WalContents* contents);
  Status<std::string> open_for_append();
  Status<std::string> start_segment(uint64_t seq);
  Status<std::string> write_record(uint8_t type, std::string_view body);
  // Writes the records in scratch_ (starting a new segment first if the current one is full);
  // `max_entry` is the highest entry index among them (0: none).
  Status<std::string> write_scratch(raft::Index max_entry);
  // Space to allocate for a segment: its size, and room for the one append that may pass it.
  uint64_t segment_allocation() const;
  // Allocates fd's space up to segment_allocation() without changing its size. False (errno
  // set) on failure; EOPNOTSUPP turns reservation off.
  bool allocate(int fd);
  std::string reserve_path() const;

  WalOptions options_;
  std::vector<Segment> segments_;  // in sequence order; the last one is written to
  int fd_ = -1;                    // the last segment, open for appending
  bool dir_dirty_ = false;         // a segment was created or removed since the last sync
  uint64_t unsynced_ = 0;
  raft::Index last_index_ = 0;
  raft::Index snapshot_index_ = 0;
  std::string scratch_;
  bool reserve_ready_ = false;  // the reserve file is allocated (or reservation is off)
  bool reserve_supported_ = true;
  std::string reserve_error_;  // why the last reserve() failed  // the filesystem supports
                               // fallocate(FALLOC_FL_KEEP_SIZE)
};

}  // namespace cairn::storage
