#ifndef CIR_STORAGE_BACKUP_COPY_HAND_OFF_H_
#define CIR_STORAGE_BACKUP_COPY_HAND_OFF_H_

// Marks a call into RocksDB's backup engine that hands work to the engine's copying thread, for
// ThreadSanitizer, which cannot see that hand-off.
//
// The engine (CreateNewBackup, RestoreDBFromBackup) copies each file's path into a work item on
// the calling thread, with std::string code that is compiled into our binaries and so is seen,
// then queues the item for its copying thread under a std::mutex locked inside librocksdb. The
// ThreadSanitizer build ignores what librocksdb's calls into the C library do, locks included
// (called_from_lib in tests/sanitizers/tsan.supp), so the copying thread's reads of the path (in
// libstdc++, or in a FileSystem of ours that the engine opens the file through) look unordered
// with the copy. While a BackupCopyHandOff lives, ThreadSanitizer records nothing this thread
// does (AnnotateIgnoreWritesBegin ignores reads as well as writes), so the engine's copies are
// never the earlier half of a report. The price: for the length of the call, our own code that the
// engine runs on this thread (the store's Env and encryption, opening and reading the files it
// backs up) is not checked here. The same code is checked on every other path that reaches it
// (RocksDB's flushes, compactions and reads), and everything on every other thread still is.
//
// In any other build it does nothing.

#if defined(__SANITIZE_THREAD__)
extern "C" void AnnotateIgnoreWritesBegin(const char* file, int line);
extern "C" void AnnotateIgnoreWritesEnd(const char* file, int line);
#endif

namespace cir::storage {

class BackupCopyHandOff {
 public:
  BackupCopyHandOff() {
#if defined(__SANITIZE_THREAD__)
    AnnotateIgnoreWritesBegin(__FILE__, __LINE__);
#endif
  }
  ~BackupCopyHandOff() {
#if defined(__SANITIZE_THREAD__)
    AnnotateIgnoreWritesEnd(__FILE__, __LINE__);
#endif
  }
  BackupCopyHandOff(const BackupCopyHandOff&) = delete;
  BackupCopyHandOff& operator=(const BackupCopyHandOff&) = delete;
};

}  // namespace cir::storage

#endif  // CIR_STORAGE_BACKUP_COPY_HAND_OFF_H_
