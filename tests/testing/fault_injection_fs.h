#ifndef CIR_TESTS_TESTING_FAULT_INJECTION_FS_H_
#define CIR_TESTS_TESTING_FAULT_INJECTION_FS_H_

#include <atomic>
#include <chrono>
#include <condition_variable>
#include <cstdint>
#include <map>
#include <memory>
#include <mutex>
#include <string>

#include "rocksdb/file_system.h"

namespace cir::testing {

// A RocksDB FileSystem over the machine's own, for tests, that fails writes on demand and
// simulates a power cut.
//
// It tracks, for every file written through it, how many bytes were appended and how many of them
// a Sync (or Fsync) has made durable. A power cut stops every later write (appends, syncs, file
// creation, renames and deletions fail); once the database is closed, DropUnsyncedData truncates
// each file to the bytes last synced, so a file created and never synced loses everything: what
// the disk holds after the machine loses power. Directory entries are not modelled (a created,
// renamed or deleted file stays so), nor are sync_file_range calls, which promise nothing.
//
// Faults (switchable at run time, from any thread): every Sync failing with an I/O error; every
// Append failing with an I/O error; a full disk, where every Append fails with NoSpace and the
// free space reads 0; every read of a file opened for random access (the store's tables) failing
// with an I/O error. A failed Append writes nothing.
//
// Thread safety: every method may be called from any thread.
class FaultInjectionFs final : public rocksdb::FileSystemWrapper {
 public:
  FaultInjectionFs();
  // Takes mu_ once before the members go: RocksDB's background threads last used them under it
  // and RocksDB's close waits for those threads with synchronisation ThreadSanitizer cannot see,
  // so this makes the order visible.
  ~FaultInjectionFs() override;

  static const char* kClassName() { return "CirFaultInjectionFs"; }
  const char* Name() const override { return kClassName(); }

  void FailSyncs(bool on) { fail_syncs_ = on; }
  // While on, every Sync waits (a disk that has stopped answering) until it is turned off.
  void HangSyncs(bool on);
  // Waits, at most `timeout`, until some Sync is held by HangSyncs; false if none was.
  bool AwaitHungSync(std::chrono::milliseconds timeout);
  void FailAppends(bool on) { fail_appends_ = on; }
  void FillDisk(bool full) { disk_full_ = full; }
  void FailReads(bool on) { fail_reads_ = on; }

  // From now on every write fails, as if the machine had lost power.
  void CutPower();
  // Call once the database is closed: truncates every file written through this object to the
  // bytes last synced, then restores power (files left are all durable from then on).
  void DropUnsyncedData();

  // Files created (NewWritableFile) through this so far; and a wait, of at most `timeout`, until
  // more than `count` have been: tells a test that something tried the disk again.
  uint64_t FilesCreated();
  bool AwaitFilesCreatedBeyond(uint64_t count, std::chrono::milliseconds timeout);

  // Bytes appended to, and synced of, the file at `path` (0 if it was never written through this).
  uint64_t AppendedBytes(const std::string& path);
  uint64_t SyncedBytes(const std::string& path);

  rocksdb::IOStatus NewWritableFile(const std::string& path, const rocksdb::FileOptions& options,
                                    std::unique_ptr<rocksdb::FSWritableFile>* result,
                                    rocksdb::IODebugContext* dbg) override;
  rocksdb::IOStatus ReopenWritableFile(const std::string& path,
                                       const rocksdb::FileOptions& options,
                                       std::unique_ptr<rocksdb::FSWritableFile>* result,
                                       rocksdb::IODebugContext* dbg) override;
  rocksdb::IOStatus ReuseWritableFile(const std::string& path, const std::string& old_path,
                                      const rocksdb::FileOptions& options,
                                      std::unique_ptr<rocksdb::FSWritableFile>* result,
                                      rocksdb::IODebugContext* dbg) override;
  rocksdb::IOStatus NewRandomAccessFile(const std::string& path,
                                        const rocksdb::FileOptions& options,
                                        std::unique_ptr<rocksdb::FSRandomAccessFile>* result,
                                        rocksdb::IODebugContext* dbg) override;
  rocksdb::IOStatus NewRandomRWFile(const std::string& path, const rocksdb::FileOptions& options,
                                    std::unique_ptr<rocksdb::FSRandomRWFile>* result,
                                    rocksdb::IODebugContext* dbg) override;
  rocksdb::IOStatus RenameFile(const std::string& from, const std::string& to,
                               const rocksdb::IOOptions& options,
                               rocksdb::IODebugContext* dbg) override;
  rocksdb::IOStatus LinkFile(const std::string& from, const std::string& to,
                             const rocksdb::IOOptions& options,
                             rocksdb::IODebugContext* dbg) override;
  rocksdb::IOStatus DeleteFile(const std::string& path, const rocksdb::IOOptions& options,
                               rocksdb::IODebugContext* dbg) override;
  rocksdb::IOStatus Truncate(const std::string& path, size_t size,
                             const rocksdb::IOOptions& options,
                             rocksdb::IODebugContext* dbg) override;
  rocksdb::IOStatus GetFreeSpace(const std::string& path, const rocksdb::IOOptions& options,
                                 uint64_t* free_bytes, rocksdb::IODebugContext* dbg) override;

 private:
  // What the disk holds of one file: `size` bytes written, the first `synced` of them durable.
  struct FileState {
    uint64_t size = 0;
    uint64_t synced = 0;
  };
  class TrackedFile;
  class FailingReadsFile;

  // The refusal of an append now, if any (power cut, full disk, injected failure).
  rocksdb::IOStatus AppendFault() const;
  rocksdb::IOStatus SyncFault() const;
  rocksdb::IOStatus PowerFault() const;
  std::shared_ptr<FileState> Track(const std::string& path, uint64_t size_on_disk);
  // First in every method this class overrides: acquires what the constructor did. RocksDB's
  // background threads, which call them, are started inside librocksdb, where ThreadSanitizer
  // cannot see them start, so nothing else orders the construction before their calls. (The
  // methods it inherits only forward to RocksDB's own FileSystem: see tests/sanitizers/tsan.supp.)
  void Entered() const { constructed_.load(std::memory_order_acquire); }

  std::atomic<bool> fail_syncs_ = false;
  mutable std::mutex hang_mu_;
  mutable std::condition_variable hang_released_;
  bool hang_syncs_ = false;  // guarded by hang_mu_
  mutable int hung_syncs_ = 0;  // Syncs waiting now; guarded by hang_mu_
  std::atomic<bool> fail_appends_ = false;
  std::atomic<bool> disk_full_ = false;
  std::atomic<bool> fail_reads_ = false;
  std::atomic<bool> power_cut_ = false;
  std::atomic<bool> constructed_ = false;  // see Entered

  std::mutex mu_;  // guards files_, every FileState and files_created_
  std::condition_variable file_created_;
  std::map<std::string, std::shared_ptr<FileState>> files_;
  uint64_t files_created_ = 0;
};

}  // namespace cir::testing

#endif  // CIR_TESTS_TESTING_FAULT_INJECTION_FS_H_
