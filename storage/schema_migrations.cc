#include "storage/schema_migrations.h"

#include <cstdint>
#include <memory>
#include <optional>
#include <string>

#include "absl/strings/str_cat.h"
#include "absl/container/flat_hash_map.h"
#include "rocksdb/write_batch.h"
#include "cir/v1/registry.pb.h"
#include "storage/centre_view.h"
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

// Schema version 2 to 3: per-area feeds with a gap-free sequence per local authority. Every
// birth-registered event of the log becomes the first event of its child's area feed, carrying the
// child's record as it is now (the log kept no copy of the details at the time); the log entry
// lists its area sequence, and the child its feed area. The old index "events_by_area" (global
// sequence numbers, with gaps per area) is emptied. The other kinds of event before version 3
// (identifiers linked, a birth notified again) are not for children's centres.
//
// A national store holds millions of births, far too many for one batch: the feeds are written in
// chunks without a sync, the last step (emptying the old index, stamping version 3) in the synced
// write that also makes every chunk before it durable. A crash before that leaves version 2, and
// the next open starts again from an emptied feed family.
absl::Status BuildAreaFeeds(rocksdb::DB* db, const Families& families,
                            rocksdb::WriteBatch& batch) {
  rocksdb::ColumnFamilyHandle* area_feed = Family(families, ColumnFamily::kAreaFeed);
  rocksdb::ColumnFamilyHandle* children = Family(families, ColumnFamily::kChildren);
  rocksdb::ColumnFamilyHandle* events = Family(families, ColumnFamily::kEvents);
  rocksdb::ColumnFamilyHandle* by_area = Family(families, ColumnFamily::kEventsByArea);
  constexpr uint32_t kChunkWrites = 30000;
  rocksdb::WriteOptions unsynced;
  rocksdb::Status s = db->DeleteRange(unsynced, area_feed, "", "\xff");
  if (!s.ok()) return FromRocks(s, "emptying the feeds before building them");

  absl::flat_hash_map<std::string, uint64_t> heads;
  rocksdb::WriteBatch chunk;
  std::unique_ptr<rocksdb::Iterator> it(db->NewIterator(rocksdb::ReadOptions(), events));
  for (it->SeekToFirst(); it->Valid(); it->Next()) {
    StoredEvent event;
    if (!event.ParseFromArray(it->value().data(), static_cast<int>(it->value().size()))) {
      return absl::DataLossError("a stored event does not parse");
    }
    if (event.kind() != EVENT_KIND_BIRTH_REGISTERED ||
        event.local_authority().size() != kLocalAuthorityBytes) {
      continue;
    }
    std::string child_bytes;
    s = db->Get(rocksdb::ReadOptions(), children, event.child_id(), &child_bytes);
    if (s.IsNotFound()) continue;  // a log entry without its child: nothing to tell a centre
    if (!s.ok()) return FromRocks(s, "reading a child to build the feeds");
    StoredChild child;
    if (!child.ParseFromString(child_bytes)) {
      return absl::DataLossError("a stored child record does not parse");
    }
    const std::string& area = event.local_authority();
    StoredFeedEvent entry;
    entry.set_local_authority(area);
    entry.set_area_sequence(++heads[area]);
    entry.set_event_sequence(event.sequence());
    entry.set_kind(cir::v1::FEED_EVENT_KIND_BIRTH_REGISTERED);
    entry.set_child_id(child.child_id());
    entry.set_child_version(event.child_version());
    entry.set_recorded_at_unix_micros(event.at_unix_micros());
    *entry.mutable_effective_date() = child.date_of_birth();
    if (child.notifications_size() > 0) {
      entry.set_made_by(child.notifications(0).notifying_system());
    }
    *entry.mutable_child() = CentreViewOf(child);
    // Replaced, not added to: a run stopped before version 3 was stamped may have listed it.
    event.clear_area_sequences();
    StoredAreaSequence* listed = event.add_area_sequences();
    listed->set_local_authority(area);
    listed->set_area_sequence(entry.area_sequence());
    bool listed_on_child = false;
    for (const std::string& fed : child.feed_areas()) listed_on_child |= fed == area;
    if (!listed_on_child) child.add_feed_areas(area);
    s = chunk.Put(area_feed, EncodeAreaEventKey(area, entry.area_sequence()),
                  entry.SerializeAsString());
    if (s.ok()) s = chunk.Put(events, it->key(), event.SerializeAsString());
    if (s.ok()) s = chunk.Put(children, child.child_id(), child.SerializeAsString());
    if (!s.ok()) return FromRocks(s, "staging a feed event");
    if (chunk.Count() >= kChunkWrites) {
      s = db->Write(unsynced, &chunk);
      if (!s.ok()) return FromRocks(s, "writing feed events");
      chunk.Clear();
    }
  }
  if (absl::Status read = FromRocks(it->status(), "reading the event log"); !read.ok()) {
    return read;
  }
  if (chunk.Count() > 0) {
    s = db->Write(unsynced, &chunk);
    if (!s.ok()) return FromRocks(s, "writing feed events");
  }
  return FromRocks(batch.DeleteRange(by_area, "", "\xff"), "emptying the old area index");
}

// Schema version 3 to 4: the audit log's column families, created empty when the store opened
// (nothing before version 4 was audited). Nothing to move; the version stamp makes a release that
// does not know them refuse the store rather than open it without them.
absl::Status StartAuditLog(rocksdb::DB*, const Families&, rocksdb::WriteBatch&) {
  return absl::OkStatus();
}

// Schema version 4 to 5: reserved child identifiers (index kind 0x06), which only a restore
// writes. Nothing to move; the version stamp makes a release that would not check them (and so
// could issue an identifier issued before the restore) refuse the store.
absl::Status StartReservations(rocksdb::DB*, const Families&, rocksdb::WriteBatch&) {
  return absl::OkStatus();
}

// One forward step: from schema version `from` to `from + 1`, staging its changes into `batch`
// (a step too large for one batch writes the rest itself beforehand, and must then be safe to run
// again from the start).
struct MigrationStep {
  uint32_t from;
  absl::Status (*stage)(rocksdb::DB*, const Families&, rocksdb::WriteBatch&);
};

// Every step, in order; the last ends at kSchemaVersion.
constexpr MigrationStep kMigrations[] = {
    {1, MigrateNotificationIdsToNotifyingSystems},
    {2, BuildAreaFeeds},
    {3, StartAuditLog},
    {4, StartReservations},
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

absl::Status RefuseNewerSchema(rocksdb::DB* db, rocksdb::ColumnFamilyHandle* meta) {
  std::string stored;
  rocksdb::Status s = db->Get(rocksdb::ReadOptions(), meta, std::string(kSchemaVersionKey), &stored);
  if (s.IsNotFound()) return absl::OkStatus();
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
  return absl::OkStatus();
}

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
  if (absl::Status readable = RefuseNewerSchema(db, Family(families, ColumnFamily::kDefault));
      !readable.ok()) {
    return readable;
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
