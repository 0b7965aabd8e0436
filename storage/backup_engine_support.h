#ifndef CIR_STORAGE_BACKUP_ENGINE_SUPPORT_H_
#define CIR_STORAGE_BACKUP_ENGINE_SUPPORT_H_

// Inside the storage layer: how the store and the offline backup tools drive RocksDB's
// BackupEngine over a backup folder (layout in storage/store_backups.h).

#include <functional>
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
// encrypted under the store's data key, whose wrapped DATA_KEY goes with it. `running` is told
// of the engine while it copies (then of nullptr), so that the store can stop it
// (BackupEngine::StopBackup) when it must close the database.
absl::StatusOr<BackupSummary> BackUpDatabase(
    rocksdb::DB& db, const std::string& data_folder, const std::string& backup_folder,
    const std::function<void(rocksdb::BackupEngine*)>& running);

}  // namespace cir::storage

#endif  // CIR_STORAGE_BACKUP_ENGINE_SUPPORT_H_
