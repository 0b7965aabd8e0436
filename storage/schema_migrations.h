#ifndef CIR_STORAGE_SCHEMA_MIGRATIONS_H_
#define CIR_STORAGE_SCHEMA_MIGRATIONS_H_

#include <vector>

#include "absl/status/status.h"
#include "rocksdb/db.h"

namespace cir::storage {

// Brings the store's schema (see key_codec.h) to kSchemaVersion at open.
//
// A new store is stamped with kSchemaVersion. An older store is migrated forward one version at a
// time; each step is one atomic, synced write that makes the step's changes and records its new
// version together, so a crash leaves the store wholly at one version or the next, and a step
// interrupted by a crash is simply run again at the next open. A store of a newer version than
// this release reads is refused (FAILED_PRECONDITION, naming both versions) and left untouched,
// as is a RocksDB database that holds no schema version at all.
//
// `families` holds a handle per ColumnFamily, by its frozen index. `new_store` is true only when
// this open created the database.
// FAILED_PRECONDITION, naming both versions, if the store holds a schema version newer than this
// release reads (checked before anything is created in it); DATA_LOSS if the version is
// unreadable. OK if it holds none (MigrateSchema decides) or one this release reads.
absl::Status RefuseNewerSchema(rocksdb::DB* db, rocksdb::ColumnFamilyHandle* meta);

absl::Status MigrateSchema(rocksdb::DB* db, const std::vector<rocksdb::ColumnFamilyHandle*>& families,
                           bool new_store);

}  // namespace cir::storage

#endif  // CIR_STORAGE_SCHEMA_MIGRATIONS_H_
