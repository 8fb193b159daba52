// SnapshotBuilder: builds the node's snapshots away from the node thread, on a thread of its own in
// cairn-server (Env::background; docs/node.md, "Snapshots").
//
// A snapshot holds the whole cache: compressing a gigabyte and writing it to disk takes seconds.
// Done on the node thread, that stalls every client and the heartbeats, so a leader holding a
// large state would lose its followers' trust at every compaction. Here the node thread only
// captures the applied state (a pointer copy of the key list, between two applies: exactly the
// state at the applied index) and hands it over; this thread compresses it, and with a data
// directory streams it into its file and syncs it, then hands the finished snapshot back through
// `done`. The node thread then marks it in the log, releases the log behind it, and gives it to
// followers.
//
// One build at a time. Memory: the capture (24 bytes a key), the entries apply replaced meanwhile
// (freed when the capture ends), and the compressed snapshot only without a data directory. With
// one, a build goes straight to its file, which a follower's transfer reads from: a cache of
// gigabytes is not doubled for it.
//
// Threading: start(), busy() and cancel() on the node thread; `done` is called on the builder's
// thread (the node posts it to its own). The destructor cancels and waits.
#pragma once

#include <atomic>
#include <chrono>
#include <functional>
#include <memory>
#include <string>

#include "cache/snapshot.h"
#include "node/env.h"
#include "raft/types.h"
#include "storage/snapshot_files.h"

namespace cairn::node {

class SnapshotBuilder {
 public:
  struct Job {
    eraftpb::SnapshotMetadata meta;  // index and term of the applied state, its membership
    std::string prefix;              // the snapshot's bytes before the engine's (the address book)
    std::unique_ptr<cache::SnapshotCapture> capture;
  };
  struct Built {
    raft::Snapshot snapshot;   // metadata, and the data without a data directory
    bool in_memory = false;    // the data is in `snapshot` (no data directory)
    uint64_t bytes = 0;        // the data's size, in memory or not
    uint64_t checksum = 0;     // XXH3-64 of the data (a transfer's checksum)
    uint64_t file_offset = 0;  // on disk: where the data begins in its file
    bool on_disk = false;      // its file is written, synced and in place
    bool cancelled = false;
    // The file could not be written: there is no snapshot.
    std::string error;
    std::chrono::milliseconds took{0};
  };
  using Done = std::function<void(Built)>;

  // `files`: where to write each snapshot, or null to keep them in memory only. `started` (may be
  // empty): called on the builder's thread before each build streams (a testing knob). `spawn`:
  // where a build runs (Env::background; a thread of its own by default).
  SnapshotBuilder(const storage::SnapshotFiles* files, Done done,
                  std::function<void()> started = {}, Spawn spawn = run_on_thread)
      : files_(files),
        done_(std::move(done)),
        started_(std::move(started)),
        spawn_(std::move(spawn)) {}
  ~SnapshotBuilder();
  SnapshotBuilder(const SnapshotBuilder&) = delete;
  SnapshotBuilder& operator=(const SnapshotBuilder&) = delete;

  // Begins building; the previous build must have ended (busy() false).
  void start(Job job);
  // A build runs, or its result has not been taken yet (finished()).
  bool busy() const { return busy_; }
  raft::Index building_index() const { return busy_ ? index_ : 0; }
  // The node thread took the result: another build may start.
  void finished();
  // Stops a running build at its next block: its result comes back as cancelled (or, if it was
  // past compressing, complete: the node thread judges whether it is still of use). Does not wait.
  void cancel() { cancel_.store(true); }

 private:
  void run(Job job);

  const storage::SnapshotFiles* files_;
  Done done_;
  std::function<void()> started_;
  Spawn spawn_;
  std::unique_ptr<BackgroundWork> work_;  // the last build
  std::atomic<bool> cancel_{false};
  bool busy_ = false;  // node thread only
  raft::Index index_ = 0;
};

}  // namespace cairn::node
