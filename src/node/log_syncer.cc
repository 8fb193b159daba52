#include "node/log_syncer.h"

#include <unistd.h>

#include <utility>

namespace cairn::node {

LogSyncer::LogSyncer(Synced synced, Failed failed, std::function<void()> started)
    : synced_(std::move(synced)),
      failed_(std::move(failed)),
      started_(std::move(started)),
      thread_([this] { run(); }) {}

LogSyncer::~LogSyncer() {
  {
    std::lock_guard lock(mu_);
    stop_ = true;
  }
  wake_.notify_one();
  thread_.join();
  if (pending_.fd >= 0) ::close(pending_.fd);
}

uint64_t LogSyncer::request(storage::Wal::SyncTarget target) {
  uint64_t ticket = 0;
  {
    std::lock_guard lock(mu_);
    if (pending_.fd >= 0) {
      // Not started yet: the newer request covers it (same file, or one the roll synced), but
      // a directory change it carried must still be synced.
      ::close(pending_.fd);
      if (target.dir.empty()) target.dir = std::move(pending_.dir);
    }
    pending_ = std::move(target);
    ticket = ++requested_;
  }
  wake_.notify_one();
  return ticket;
}

void LogSyncer::run() {
  for (;;) {
    storage::Wal::SyncTarget target;
    uint64_t ticket = 0;
    {
      std::unique_lock lock(mu_);
      wake_.wait(lock, [this] { return stop_ || pending_.fd >= 0; });
      if (stop_) return;
      target = std::exchange(pending_, storage::Wal::SyncTarget{});
      ticket = requested_;
    }
    if (started_) started_();
    if (auto st = storage::Wal::sync_target(std::move(target)); !st.ok()) failed_(st.error());
    synced_(ticket);
  }
}

}  // namespace cairn::node
