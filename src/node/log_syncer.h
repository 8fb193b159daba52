// LogSyncer: makes the log durable on a thread of its own (--fsync always with the log on disk;
// docs/storage.md, "The sync rule").
//
// An fdatasync takes from a tenth of a millisecond to several on the disks this runs on. Made on
// the node thread, it stopped everything else: a follower could not take the leader's next
// append while it synced the last one, and a leader could not count the acknowledgements that
// arrived meanwhile. Here the node thread writes each Ready's records to the OS and asks for a
// sync; this thread syncs whatever was written by then, so one fdatasync covers every Ready that
// asked since the last one began (group commit across Readies), and reports the highest request
// it covered. What depends on the sync - the Ready's messages, and a leader counting its own
// entries toward commitment (raft::Config::async_persist) - waits on the node thread until then.
//
// A failed sync stops the process (the data may or may not be on disk; docs/storage.md).
//
// Threading: request() on the node thread; `synced` is called on the syncer's thread, in
// increasing order. The destructor waits for a sync under way and drops the requests after it.
#pragma once

#include <condition_variable>
#include <cstdint>
#include <functional>
#include <mutex>
#include <thread>

#include "storage/wal.h"

namespace cairn::node {

// What the node asks of whoever syncs its log (Env::log_syncer): the thread below in
// cairn-server, a simulated disk in the whole-node simulator.
class LogSync {
 public:
  using Synced = std::function<void(uint64_t ticket)>;
  using Failed = std::function<void(const std::string& error)>;  // must not return

  virtual ~LogSync() = default;
  // Everything written to the log before `target` was taken is to be made durable. Returns the
  // request's ticket: tickets grow by one per request, and `synced(t)` means every request up to
  // t is durable.
  virtual uint64_t request(storage::Wal::SyncTarget target) = 0;
};

class LogSyncer final : public LogSync {
 public:
  // `started` (may be empty): called on the syncer's thread before each sync (a testing knob).
  LogSyncer(Synced synced, Failed failed, std::function<void()> started = {});
  ~LogSyncer() override;
  LogSyncer(const LogSyncer&) = delete;
  LogSyncer& operator=(const LogSyncer&) = delete;

  uint64_t request(storage::Wal::SyncTarget target) override;

 private:
  void run();

  Synced synced_;
  Failed failed_;
  std::function<void()> started_;
  std::mutex mu_;
  std::condition_variable wake_;
  uint64_t requested_ = 0;              // guarded by mu_
  storage::Wal::SyncTarget pending_{};  // the newest request not yet started (fd -1: none)
  bool stop_ = false;
  std::thread thread_;
};

}  // namespace cairn::node
