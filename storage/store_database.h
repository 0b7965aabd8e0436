#ifndef CIR_STORAGE_STORE_DATABASE_H_
#define CIR_STORAGE_STORE_DATABASE_H_

#include <memory>
#include <vector>

#include "absl/status/statusor.h"
#include "rocksdb/cache.h"
#include "rocksdb/db.h"
#include "rocksdb/env.h"
#include "rocksdb/listener.h"
#include "storage/key_codec.h"
#include "storage/rocksdb_child_store.h"

namespace cir::storage {

// One open RocksDB database holding a store: the DB and a handle for each of its column families,
// released and closed on destruction. The store opens one at start and, to recover from a write
// failure RocksDB will not resume from, closes it and opens another.
class StoreDatabase {
 public:
  // What every open of one store shares.
  struct Shared {
    rocksdb::Env* env = nullptr;                  // the file system (and clock) RocksDB uses
    std::shared_ptr<rocksdb::Cache> block_cache;  // data blocks of every column family
    std::shared_ptr<rocksdb::EventListener> listener;  // told of background errors and recovery
  };

  // Opens the database at options.path: refuses a folder without a store unless
  // create_if_missing (the CURRENT check: an unmounted volume must not become an empty registry),
  // creates any column family this release adds, opens (and keeps) any it does not know, replays
  // the write-ahead log tolerating only a torn tail, and migrates the schema forward (see
  // MigrateSchema). A corrupt log's error names the log files in the folder.
  static absl::StatusOr<std::unique_ptr<StoreDatabase>> Open(const RocksDbStoreOptions& options,
                                                             const Shared& shared);
  ~StoreDatabase();
  StoreDatabase(const StoreDatabase&) = delete;
  StoreDatabase& operator=(const StoreDatabase&) = delete;

  rocksdb::DB* db() const { return db_.get(); }
  rocksdb::ColumnFamilyHandle* family(ColumnFamily f) const {
    return families_[static_cast<int>(f)];
  }
  // A handle per ColumnFamily, by its frozen index (then any family this release does not know).
  const std::vector<rocksdb::ColumnFamilyHandle*>& families() const { return families_; }

 private:
  StoreDatabase(std::unique_ptr<rocksdb::DB> db, std::vector<rocksdb::ColumnFamilyHandle*> families)
      : db_(std::move(db)), families_(std::move(families)) {}

  std::unique_ptr<rocksdb::DB> db_;
  std::vector<rocksdb::ColumnFamilyHandle*> families_;
};

}  // namespace cir::storage

#endif  // CIR_STORAGE_STORE_DATABASE_H_
