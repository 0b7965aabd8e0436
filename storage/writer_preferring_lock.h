#ifndef CIR_STORAGE_WRITER_PREFERRING_LOCK_H_
#define CIR_STORAGE_WRITER_PREFERRING_LOCK_H_

#include <pthread.h>

#include "absl/base/thread_annotations.h"

namespace cir::storage {

// A reader/writer lock under which a waiting writer goes before readers that arrive after it.
// glibc's std::shared_mutex prefers readers: steady overlapping reads (gRPC threads resolving)
// could keep the store's writer from ever swapping its database. This is pthread's rwlock with
// PTHREAD_RWLOCK_PREFER_WRITER_NONRECURSIVE_NP, which ThreadSanitizer intercepts. Not recursive: a
// thread holding it shared must not take it again (with a writer waiting, that deadlocks).
// Usable with std::unique_lock and std::shared_lock.
class ABSL_LOCKABLE WriterPreferringLock {
 public:
  WriterPreferringLock();
  ~WriterPreferringLock();
  WriterPreferringLock(const WriterPreferringLock&) = delete;
  WriterPreferringLock& operator=(const WriterPreferringLock&) = delete;

  void lock() ABSL_EXCLUSIVE_LOCK_FUNCTION();
  void unlock() ABSL_UNLOCK_FUNCTION();
  void lock_shared() ABSL_SHARED_LOCK_FUNCTION();
  void unlock_shared() ABSL_UNLOCK_FUNCTION();

 private:
  pthread_rwlock_t rwlock_;
};

}  // namespace cir::storage

#endif  // CIR_STORAGE_WRITER_PREFERRING_LOCK_H_
