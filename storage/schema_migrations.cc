#include "storage/schema_migrations.h"

#include <cstdint>
#include <memory>
#include <optional>
#include <string>

#include "absl/strings/str_cat.h"
#include "rocksdb/write_batch.h"
#include "storage/index_entry.h"
#include "storage/key_codec.h"
#include "storage/rocksdb_status.h"

namespace cir::storage {
namespace {

using Families = std::vector<rocksdb::ColumnFamilyHandle*>;

rocksdb::ColumnFamilyHandle* Family(const Families& families, ColumnFamily f) {
  return families[static_cast<int>(f)];
}

// Schema version 1 to 2: notification ids are scoped to the system that sent them. Every
// kLegacyNotificationId entry (tag 0x03, value = the notification id) is re-keyed to
// kNotification (tag 0x04) under the notifying system "-", which stands for "recorded before
// notifying systems were" (key_codec.h); the entry itself (child and fingerprint) is unchanged.
//
// The whole step is one batch: about twice the size of the legacy entries (tens of bytes each) in
// memory, once.
absl::Status MigrateNotificationIdsToNotifyingSystems(rocksdb::DB* db, const Families& families,
                                                      rocksdb::WriteBatch& batch) {
  rocksdb::ColumnFamilyHandle* identifiers = Family(families, ColumnFamily::kIdentifiers);
  rocksdb::ReadOptions read_options;
  // The family's prefix extractor serves point lookups; a migration walks keys in order.
  read_options.total_order_seek = true;
  std::unique_ptr<rocksdb::Iterator> it(db->NewIterator(read_options, identifiers));
  const std::string legacy_prefix = EncodeIndexKey(IndexKind::kLegacyNotificationId, "");
  for (it->Seek(legacy_prefix); it->Valid() && it->key().starts_with(legacy_prefix); it->Next()) {
    absl::string_view notification_id(it->key().data() + legacy_prefix.size(),
                                      it->key().size() - legacy_prefix.size());
    std::string migrated_key = EncodeIndexKey(
        IndexKind::kNotification,
        NotificationIndexValue(kNotifyingSystemBeforeSystems, notification_id));
    rocksdb::Status s = batch.Put(identifiers, migrated_key, it->value());
    if (s.ok()) s = batch.Delete(identifiers, it->key());
    if (!s.ok()) return FromRocks(s, "staging the migration of a notification id");
  }
  return FromRocks(it->status(), "reading notification ids to migrate");
}

// One forward step: from schema version `from` to `from + 1`, staging its changes into `batch`.
struct MigrationStep {
  uint32_t from;
  absl::Status (*stage)(rocksdb::DB*, const Families&, rocksdb::WriteBatch&);
};

// Every step, in order; the last ends at kSchemaVersion.
constexpr MigrationStep kMigrations[] = {
    {1, MigrateNotificationIdsToNotifyingSystems},
};
static_assert(sizeof(kMigrations) / sizeof(kMigrations[0]) == kSchemaVersion - 1,
              "every schema version below kSchemaVersion needs its migration step");

absl::Status WriteVersion(rocksdb::DB* db, const Families& families, rocksdb::WriteBatch& batch,
                          uint32_t version) {
  rocksdb::Status s = batch.Put(Family(families, ColumnFamily::kDefault),
                                std::string(kSchemaVersionKey), EncodeFixed32BigEndian(version));
  if (!s.ok()) return FromRocks(s, "staging the schema version");
  rocksdb::WriteOptions write_options;
  write_options.sync = true;
  return FromRocks(db->Write(write_options, &batch),
                   absl::StrCat("writing schema version ", version));
}

}  // namespace

absl::Status MigrateSchema(rocksdb::DB* db, const Families& families, bool new_store) {
  std::string stored;
  rocksdb::Status s = db->Get(rocksdb::ReadOptions(), Family(families, ColumnFamily::kDefault),
                              std::string(kSchemaVersionKey), &stored);
  if (s.IsNotFound()) {
    if (!new_store) {
      return absl::FailedPreconditionError(
          "the data folder holds a RocksDB database but no registry store (no schema version)");
    }
    rocksdb::WriteBatch batch;
    return WriteVersion(db, families, batch, kSchemaVersion);
  }
  if (!s.ok()) return FromRocks(s, "reading the schema version");
  std::optional<uint32_t> version = DecodeFixed32BigEndian(stored);
  if (!version.has_value() || *version == 0) {
    return absl::DataLossError("the store's schema version is unreadable");
  }
  if (*version > kSchemaVersion) {
    return absl::FailedPreconditionError(absl::StrCat(
        "the store in the data folder has schema version ", *version,
        ", written by a newer release of the registry; this release reads schema versions up to ",
        kSchemaVersion, " and never downgrades a store: run a release that reads version ",
        *version, " or later"));
  }
  for (const MigrationStep& step : kMigrations) {
    if (step.from != *version) continue;
    rocksdb::WriteBatch batch;
    if (absl::Status staged = step.stage(db, families, batch); !staged.ok()) {
      return absl::Status(staged.code(), absl::StrCat("migrating the store from schema version ",
                                                      step.from, ": ", staged.message()));
    }
    if (absl::Status written = WriteVersion(db, families, batch, step.from + 1); !written.ok()) {
      return written;
    }
    *version = step.from + 1;
  }
  return absl::OkStatus();
}

}  // namespace cir::storage
