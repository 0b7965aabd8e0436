#ifndef CIR_STORAGE_ROCKSDB_CHILD_STORE_H_
#define CIR_STORAGE_ROCKSDB_CHILD_STORE_H_

#include <cstddef>
#include <cstdint>
#include <functional>
#include <memory>
#include <optional>
#include <string>

#include "absl/functional/any_invocable.h"
#include "absl/status/statusor.h"
#include "absl/time/time.h"
#include "storage/child_store.h"

namespace rocksdb {
class FileSystem;
}  // namespace rocksdb

namespace cir::storage {

// How a store's files are encrypted at rest: AES-256-CTR under the store's data key, kept in the
// data folder wrapped under the master key (storage/store_keys.h, storage/aes_ctr_encryption.h).
struct StoreEncryption {
  // The file holding the master key: 64 hex digits, owned by the server's user and readable by
  // no one else (see ReadMasterKeyFile). Required.
  std::string master_key_file;
};

struct RocksDbStoreOptions {
  // Folder holding the database. Required.
  std::string path;
  // Create an empty store if `path` holds none. Off by default, so that a data volume that failed
  // to mount, or a mistyped folder, is refused rather than silently served as an empty registry
  // (which would then issue a second identifier to every child notified again). Opening an
  // existing store creates any column family this release adds and migrates the store's schema
  // forward whatever this says. Default: false.
  bool create_if_missing = false;
  // Sync the write-ahead log before a unit of work is acknowledged, so an acknowledged write
  // survives a crash of the process or the machine. Turning it off is for measurements only.
  // Default: true.
  bool sync_writes = true;
  // Most units of work committed in one group (one WriteBatch, one sync). Default: 1024.
  size_t max_group_size = 1024;
  // Bytes of uncompressed data blocks cached in memory. Index and filter blocks are held apart,
  // with the open tables (about 10 bits per key). Unused when memory_bound_bytes is set.
  // Default: 256 MiB.
  size_t block_cache_bytes = 256u << 20;
  // Bytes of memtables across all column families before they are flushed to disk, so that write
  // buffers too stay bounded at any store size. Unused when memory_bound_bytes is set.
  // Default: 128 MiB.
  size_t memtable_bytes = 128u << 20;
  // Holds the store's memory within this many bytes as the store grows (0, the default: not
  // held). The block cache takes the whole bound, and what else grows with the store is charged
  // to it: index and filter blocks are kept in it, partitioned (and may be evicted from it), the
  // memtables take half of it (RocksDB's WriteBufferManager), and so do the filters being built,
  // the open tables' readers and the table files' metadata. The store's memory is then flat at
  // any store size, at the cost of reads that re-read evicted filter partitions. Unbounded, index
  // and filter blocks stay in memory with their open tables (about 10 bits a key), which is
  // faster at 10 million children. Each hash memtable holds a bucket array of its own (some
  // 8 MiB), so a bound under 128 MiB would flush them almost empty, over and over.
  size_t memory_bound_bytes = 0;
  // Runs the replies (WriteDone calls) of one committed group, all of them in one task, on a
  // thread other than the writer's, so the writer can start on the next group. The server passes
  // one that runs them on a gRPC thread, where the replies' network writes are combined. Default
  // (empty): a thread of the store's own.
  std::function<void(absl::AnyInvocable<void() &&>)> reply_runner;

  // Most units of work waiting for the writer (not counting the group it is running). Beyond it,
  // Submit refuses at once with UNAVAILABLE, reason WRITE_QUEUE_FULL, rather than let memory grow
  // while the disk falls behind. Each queued unit costs about 150 bytes besides what it holds.
  // Default: 100,000.
  size_t max_queued_units = 100'000;
  // Most bytes (SubmitOptions::approximate_bytes, summed) held by units waiting for the writer.
  // Beyond it Submit refuses as above; a unit larger than the whole bound is taken only when the
  // queue is empty, so that it is not refused for ever. Default: 64 MiB.
  size_t max_queued_bytes = 64u << 20;
  // Told of every change in whether the store takes writes: false when a failed commit suspends
  // writes (before the failed group's units hear their outcome), true once the store has
  // recovered. The server turns its health NOT_SERVING and back with it. Called on the store's
  // writer thread, without the store's locks held: it may call the store (WriteAvailability, to
  // log why) but should return promptly. Not called when the store closes. Default (empty):
  // nobody is told.
  std::function<void(bool accepting_writes)> on_write_availability;
  // Told, on the writer thread, of each write group committed: how many units it held, and how
  // long its write and sync took. For metrics; must return promptly. Default (empty): nobody.
  std::function<void(size_t units, absl::Duration commit)> on_group_committed;
  // While writes are suspended, how often the store tries to recover by itself (DB::Resume, or
  // for a failure RocksDB will not resume from, reopening the database once a synced test write
  // to the data folder succeeds). RocksDB's own recovery (disk space polled by its
  // SstFileManager) ends the suspension sooner when it succeeds first. Default: 1 second.
  absl::Duration write_recovery_interval = absl::Seconds(1);
  // How long each local authority's feed keeps its events. Older events are deleted, except each
  // area's newest (whose key holds the area's head); a reader whose position is older is refused
  // (OUT_OF_RANGE) rather than silently moved on. Default: infinite (events are kept for good).
  absl::Duration feed_retention = absl::InfiniteDuration();
  // How often the writer deletes events past feed_retention, between write groups. Default: 1 hour.
  absl::Duration feed_prune_interval = absl::Hours(1);
  // The file system the database lives on. Tests pass one that injects faults or simulates a
  // power cut. Default (empty): the machine's own.
  std::shared_ptr<rocksdb::FileSystem> file_system;
  // Encrypt every file of the store (over file_system). A new store gets a data key, wrapped
  // under the master key; an existing one opens only with the master key that wraps its data
  // key, and only if it was created encrypted. Whatever this says, RocksDB's info log is
  // withheld: no LOG file is written. A production store sets it. Default (empty): the files
  // are written unencrypted, and a store created encrypted is refused.
  std::optional<StoreEncryption> encryption;
};

// Faults that only tests inject into the store's own logic (faults of the disk are injected through
// RocksDbStoreOptions::file_system).
struct RocksDbStoreTestHooks {
  // Asked whenever a failed unit's staged writes are rolled back; true makes the rollback fail
  // as RocksDB's RollbackToSavePoint could, leaving the unit's writes in the group's batch.
  std::function<bool()> fail_rollback;
};

// The default store: embedded RocksDB, with the layout in key_codec.h.
//
// Writes: one writer thread drains a bounded queue of units of work, runs each against a
// WriteBatchWithIndex (so later units see earlier ones), and commits the whole group with one
// synced write; then the reply runner delivers the group's outcomes while the writer starts on
// the next group. Group commit makes the durable write rate independent of the sync latency.
// Reads go straight to RocksDB from the calling thread and never wait for the disk's recovery:
// while the store reopens its database after a failed write, they are refused at once
// (UNAVAILABLE, STORE_REOPENING).
//
// Recovery at open: the write-ahead log is replayed with RocksDB's kTolerateCorruptedTailRecords
// mode, so a torn last record (a write never acknowledged) is dropped, but corruption anywhere
// before the tail refuses to open, naming the log files, rather than silently dropping the
// acknowledged writes after it.
class RocksDbChildStore {
 public:
  // Opens the store at options.path (creating it only with create_if_missing), adding any column
  // family this release has that the store lacks and migrating its schema forward.
  // INVALID_ARGUMENT for bad options; FAILED_PRECONDITION if the folder holds no store, or one of
  // a newer schema version; DATA_LOSS if the write-ahead log is corrupt before its tail;
  // UNAVAILABLE if another process has it open or the disk fails.
  static absl::StatusOr<std::unique_ptr<ChildStore>> Open(const RocksDbStoreOptions& options);

  // Open, with faults injected into the store's own logic. Tests only.
  static absl::StatusOr<std::unique_ptr<ChildStore>> OpenWithTestHooks(
      const RocksDbStoreOptions& options, RocksDbStoreTestHooks hooks);
};

}  // namespace cir::storage

#endif  // CIR_STORAGE_ROCKSDB_CHILD_STORE_H_
