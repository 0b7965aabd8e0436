#ifndef CIR_STORAGE_ROCKSDB_CHILD_STORE_H_
#define CIR_STORAGE_ROCKSDB_CHILD_STORE_H_

#include <cstdint>
#include <functional>
#include <memory>
#include <string>

#include "absl/functional/any_invocable.h"
#include "absl/status/statusor.h"
#include "storage/child_store.h"

namespace cir::storage {

struct RocksDbStoreOptions {
  // Folder holding the database. Required.
  std::string path;
  // Create an empty store if `path` holds none. Off by default, so that a data volume that failed
  // to mount, or a mistyped folder, is refused rather than silently served as an empty registry
  // (which would then issue a second identifier to every child notified again). Default: false.
  bool create_if_missing = false;
  // Sync the write-ahead log before a unit of work is acknowledged, so an acknowledged write
  // survives a crash of the process or the machine. Turning it off is for measurements only.
  // Default: true.
  bool sync_writes = true;
  // Most units of work committed in one group (one WriteBatch, one sync). Default: 1024.
  size_t max_group_size = 1024;
  // Bytes of uncompressed data blocks cached in memory. Index and filter blocks are held apart,
  // with the open tables (about 10 bits per key). Default: 256 MiB.
  size_t block_cache_bytes = 256u << 20;
  // Bytes of memtables across all column families before they are flushed to disk, so that write
  // buffers too stay bounded at any store size. Default: 128 MiB.
  size_t memtable_bytes = 128u << 20;
  // Runs the replies (WriteDone calls) of one committed group, all of them in one task, on a
  // thread other than the writer's, so the writer can start on the next group. The server passes
  // one that runs them on a gRPC thread, where the replies' network writes are combined. Default
  // (empty): a thread of the store's own.
  std::function<void(absl::AnyInvocable<void() &&>)> reply_runner;
};

// The default store: embedded RocksDB, with the layout in key_codec.h.
//
// Writes: one writer thread drains the queue of units of work, runs each against a
// WriteBatchWithIndex (so later units see earlier ones), and commits the whole group with one
// synced write; then a second thread delivers the group's outcomes while the writer starts on the
// next group. Group commit makes the durable write rate
// independent of the sync latency. Reads go straight to RocksDB from the calling thread, lock-free.
class RocksDbChildStore {
 public:
  // Opens the store at options.path (creating it only with create_if_missing). FAILED_PRECONDITION
  // if the folder holds no store, or one of another schema version; UNAVAILABLE if another
  // process has it open.
  static absl::StatusOr<std::unique_ptr<ChildStore>> Open(const RocksDbStoreOptions& options);
};

}  // namespace cir::storage

#endif  // CIR_STORAGE_ROCKSDB_CHILD_STORE_H_
