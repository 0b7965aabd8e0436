#ifndef CIR_STORAGE_BACKUP_ENGINE_SUPPORT_H_
#define CIR_STORAGE_BACKUP_ENGINE_SUPPORT_H_

// Inside the storage layer: how the store and the offline backup tools drive RocksDB's
// BackupEngine over a backup folder (layout in storage/store_backups.h).

#include <string>

#include "absl/status/statusor.h"
#include "rocksdb/db.h"
#include "rocksdb/utilities/backup_engine.h"
#include "storage/store_backups.h"

namespace cir::storage {

// The engine's options for `backup_folder`, its files read and written through `env`.
rocksdb::BackupEngineOptions BackupEngineOptionsFor(const std::string& backup_folder,
                                                    rocksdb::Env* env);

// StoreBackups::BackUp for the open database `db` of the store in `data_folder`: its files are
// copied through the database's own environment (the store's encryption), so the backup is
// encrypted under the store's data key, whose wrapped DATA_KEY goes with it.
absl::StatusOr<BackupSummary> BackUpDatabase(rocksdb::DB& db, const std::string& data_folder,
                                             const std::string& backup_folder);

}  // namespace cir::storage

#endif  // CIR_STORAGE_BACKUP_ENGINE_SUPPORT_H_
