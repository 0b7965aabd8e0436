#ifndef CIR_STORAGE_ROCKSDB_STATUS_H_
#define CIR_STORAGE_ROCKSDB_STATUS_H_

#include "absl/status/status.h"
#include "absl/strings/string_view.h"
#include "rocksdb/status.h"

namespace cir::storage {

// The one place where RocksDB's status becomes the registry's: "<what>: <RocksDB's message>".
// Transient faults, and disk or lock problems an operator can fix, become UNAVAILABLE with reason
// STORE_UNAVAILABLE (the caller may retry later); corruption becomes DATA_LOSS with
// STORED_DATA_UNREADABLE; anything else INTERNAL with INTERNAL_ERROR.
absl::Status FromRocks(const rocksdb::Status& status, absl::string_view what);

}  // namespace cir::storage

#endif  // CIR_STORAGE_ROCKSDB_STATUS_H_
