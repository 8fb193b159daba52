// RwLock: a reader-writer lock that prefers the writer. Owned by the Engine (one per engine).
//
// Why not std::shared_mutex: on glibc it is a default pthread_rwlock, which prefers readers, so a
// steady stream of readers can starve the single apply thread indefinitely (measured: an apply
// loop slowed 500x under three busy readers). Raft apply must make progress, so a waiting writer
// blocks new readers here. Meets the SharedMutex requirements (usable with std::shared_lock).
#pragma once

#include <pthread.h>

#include "common/result.h"

namespace cairn::cache {

class RwLock {
 public:
  RwLock() {
    pthread_rwlockattr_t attr;
    CAIRN_CHECK(pthread_rwlockattr_init(&attr) == 0);
    CAIRN_CHECK(
        pthread_rwlockattr_setkind_np(&attr, PTHREAD_RWLOCK_PREFER_WRITER_NONRECURSIVE_NP) == 0);
    CAIRN_CHECK(pthread_rwlock_init(&lock_, &attr) == 0);
    pthread_rwlockattr_destroy(&attr);
  }
  ~RwLock() { pthread_rwlock_destroy(&lock_); }
  RwLock(const RwLock&) = delete;
  RwLock& operator=(const RwLock&) = delete;

  void lock() { CAIRN_CHECK(pthread_rwlock_wrlock(&lock_) == 0); }
  void unlock() { CAIRN_CHECK(pthread_rwlock_unlock(&lock_) == 0); }
  void lock_shared() { CAIRN_CHECK(pthread_rwlock_rdlock(&lock_) == 0); }
  void unlock_shared() { CAIRN_CHECK(pthread_rwlock_unlock(&lock_) == 0); }

 private:
  pthread_rwlock_t lock_;
};

}  // namespace cairn::cache
