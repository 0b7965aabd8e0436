#ifndef CIR_STORAGE_STORE_BACKUPS_H_
#define CIR_STORAGE_STORE_BACKUPS_H_

// Backups of the store: made while it serves, incremental, encrypted like the store, verified
// after writing; restored (and verified) with the registry stopped.
//
// A backup folder holds the backups of one store, each a consistent point in its history (every
// write acknowledged before the backup began is in it; writes after may or may not be):
//
//   backup_folder/
//     DATA_KEY   the store's data key, wrapped under the master key (storage/store_keys.h):
//                copied from the data folder at every backup, so that the folder opens with the
//                master key in use when its newest backup was made
//     rocksdb/   RocksDB's BackupEngine: shared_checksum/ (each table file once, shared by every
//                backup that holds it: what makes later backups incremental), private/<id>/
//                (each backup's own files: the write-ahead log, the manifest), meta/<id>
//
// Every file under rocksdb/ is written through the store's encryption (a new IV per file, under
// the store's data key), so a backup holds no personal data in the clear, as the data folder
// does not. A restore writes a new data folder (its DATA_KEY copied from the backup folder), so it
// opens with the same master key.
//
// What a restore loses: every write made after the backup began (the backup is the store as it
// was then). The identifiers those writes issued must never be issued again: RestoreBackup
// reserves every child identifier that any later backup in the folder, or the list of issued
// identifiers the operator gives it (from the audit log kept apart from the store, or from the
// feeds' consumers), shows as issued (IndexKind::kReservedChildId), and the registry never draws
// a reserved identifier for a new child.

#include <cstdint>
#include <string>
#include <vector>

#include "absl/status/statusor.h"

namespace cir::storage {

// One backup in a backup folder.
struct BackupSummary {
  uint32_t id = 0;  // BackupEngine's: 1, 2, ... in the order they were made
  int64_t made_at_unix_seconds = 0;
  uint64_t bytes = 0;  // of every file the backup holds, shared ones included
  uint32_t files = 0;
  uint64_t new_bytes = 0;  // what making it copied (the rest was shared with earlier backups)
};

// What the store offers for backups while it serves (a sibling of ChildStore, as AuditLogStore
// is: a replicated store will offer the same through its own means).
class StoreBackups {
 public:
  virtual ~StoreBackups() = default;

  // Makes a backup of the store as it is now into `backup_folder` (created if missing), while
  // reads and writes go on, then verifies every file of it against the checksums taken while
  // writing. FAILED_PRECONDITION if the folder holds backups of another store (another data key)
  // or is inside the data folder; UNAVAILABLE, BACKUP_FAILED, if a disk fails or is full (the
  // partial backup is removed and the store is untouched);
  // DATA_LOSS if the backup does not verify.
  virtual absl::StatusOr<BackupSummary> BackUp(const std::string& backup_folder) = 0;
};

// The backups in `backup_folder`, oldest first, each verified: every file present, with the size
// and checksum it was written with (read back through the store's encryption, so the master key
// must open the folder's DATA_KEY). An empty `master_key_file` opens an unencrypted store's
// backups. FAILED_PRECONDITION for a folder without backups; PERMISSION_DENIED for a master key
// that does not open it; DATA_LOSS naming the backup that does not verify.
absl::StatusOr<std::vector<BackupSummary>> VerifyBackups(const std::string& backup_folder,
                                                         const std::string& master_key_file);

// Restores backup `backup_id` (0: the newest) of `backup_folder` into `data_folder`, which must
// not hold a store, then reserves every child identifier that a later backup in the folder, or
// `issued_identifiers` (any form ParseChildId takes), shows as issued and the restored store does
// not hold. The backup is verified first. Returns the number of identifiers reserved.
// INVALID_ARGUMENT, naming it, for an issued identifier that is not one (nothing is restored).
struct RestoreRequest {
  std::string backup_folder;
  uint32_t backup_id = 0;
  std::string data_folder;
  std::string master_key_file;  // empty: an unencrypted store's backups
  std::vector<std::string> issued_identifiers;
};
absl::StatusOr<size_t> RestoreBackup(const RestoreRequest& request);

}  // namespace cir::storage

#endif  // CIR_STORAGE_STORE_BACKUPS_H_
