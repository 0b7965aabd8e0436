#include "storage/writer_preferring_lock.h"

#include <cstdlib>

namespace cir::storage {

WriterPreferringLock::WriterPreferringLock() {
  pthread_rwlockattr_t attr;
  pthread_rwlockattr_init(&attr);
  pthread_rwlockattr_setkind_np(&attr, PTHREAD_RWLOCK_PREFER_WRITER_NONRECURSIVE_NP);
  if (pthread_rwlock_init(&rwlock_, &attr) != 0) std::abort();
  pthread_rwlockattr_destroy(&attr);
}

WriterPreferringLock::~WriterPreferringLock() { pthread_rwlock_destroy(&rwlock_); }

void WriterPreferringLock::lock() {
  if (pthread_rwlock_wrlock(&rwlock_) != 0) std::abort();
}

void WriterPreferringLock::unlock() { pthread_rwlock_unlock(&rwlock_); }

void WriterPreferringLock::lock_shared() {
  if (pthread_rwlock_rdlock(&rwlock_) != 0) std::abort();
}

void WriterPreferringLock::unlock_shared() { pthread_rwlock_unlock(&rwlock_); }

}  // namespace cir::storage
