// Opening stores written by other releases: older ones are brought forward, newer ones refused.

#include <algorithm>
#include <functional>
#include <map>
#include <string>
#include <vector>

#include "absl/strings/str_cat.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "rocksdb/db.h"
#include "storage/key_codec.h"
#include "storage/rocksdb_child_store.h"
#include "tests/storage/raw_store.h"
#include "tests/storage/store_testing.h"
#include "tests/testing/temp_dir.h"

namespace cir::storage {
namespace {

using ::testing::AllOf;
using testing::AppendEvent;
using ::testing::HasSubstr;
using ::testing::IsSupersetOf;
using testing::RunUnit;

using Families = testing::RawFamilies;
using testing::WriteRawStore;

std::vector<std::string> StoredFamilies(const std::string& path) {
  std::vector<std::string> names;
  EXPECT_TRUE(rocksdb::DB::ListColumnFamilies(rocksdb::DBOptions(), path, &names).ok());
  return names;
}

RocksDbStoreOptions ExistingStore(const std::string& path) {
  RocksDbStoreOptions options;
  options.path = path;
  return options;  // create_if_missing stays off: these stores exist
}

class SchemaMigrationTest : public ::testing::Test {
 protected:
  cir::testing::TempDir dir_;
  const std::string path_ = dir_.Sub("db");
};

TEST_F(SchemaMigrationTest, AVersionOneStoreWithoutTheEventFamiliesOpensWithThemAndIsMigrated) {
  const IndexEntry first{"AAAAAAAAAAA", std::string(kFingerprintBytes, '\x11')};
  const IndexEntry second{"BBBBBBBBBBB", std::string(kFingerprintBytes, '\x22')};
  WriteRawStore(path_, {"children", "identifiers"}, [&](rocksdb::DB& db, Families& families) {
    rocksdb::WriteOptions w;
    ASSERT_TRUE(db.Put(w, families["default"], "schema_version", EncodeFixed32BigEndian(1)).ok());
    ASSERT_TRUE(db.Put(w, families["children"], "AAAAAAAAAAA",
                       testing::Child("AAAAAAAAAAA").SerializeAsString())
                    .ok());
    rocksdb::ColumnFamilyHandle* identifiers = families["identifiers"];
    ASSERT_TRUE(db.Put(w, identifiers, EncodeIndexKey(IndexKind::kLegacyNotificationId, "n-1"),
                       EncodeIndexEntry(first))
                    .ok());
    ASSERT_TRUE(db.Put(w, identifiers, EncodeIndexKey(IndexKind::kLegacyNotificationId, "n-2"),
                       EncodeIndexEntry(second))
                    .ok());
    ASSERT_TRUE(db.Put(w, identifiers, EncodeIndexKey(IndexKind::kNhsNumber, "9990000018"),
                       EncodeIndexEntry({"AAAAAAAAAAA", ""}))
                    .ok());
  });

  {
    absl::StatusOr<std::unique_ptr<ChildStore>> store =
        RocksDbChildStore::Open(ExistingStore(path_));
    ASSERT_TRUE(store.ok()) << store.status();
    // Notification ids are found under the notifying system of the days before systems.
    absl::StatusOr<std::optional<IndexEntry>> migrated = (*store)->Lookup(
        IndexKind::kNotification, NotificationIndexValue(kNotifyingSystemBeforeSystems, "n-1"));
    ASSERT_TRUE(migrated.ok() && migrated->has_value());
    EXPECT_EQ(**migrated, first);
    EXPECT_EQ(**(*store)->Lookup(IndexKind::kNotification, NotificationIndexValue("-", "n-2")),
              second);
    EXPECT_FALSE((*store)->Lookup(IndexKind::kLegacyNotificationId, "n-1")->has_value());
    EXPECT_FALSE((*store)->Lookup(IndexKind::kLegacyNotificationId, "n-2")->has_value());
    // Everything else is as it was, and the new families take writes.
    EXPECT_EQ((*(*store)->Lookup(IndexKind::kNhsNumber, "9990000018"))->child_id, "AAAAAAAAAAA");
    EXPECT_TRUE((*store)->GetChild("AAAAAAAAAAA")->has_value());
    ASSERT_TRUE(
        RunUnit(**store, [](WriteTxn& txn) { return AppendEvent(txn, "AAAAAAAAAAA"); }).ok());
    EXPECT_EQ((*store)->ReadEvents(0, 10)->size(), 1u);
  }
  EXPECT_THAT(StoredFamilies(path_), IsSupersetOf({"default", "children", "identifiers", "events",
                                                   "events_by_area", "area_feed", "requests"}));
  // Reopened, it is at this release's version and is not migrated again.
  absl::StatusOr<std::unique_ptr<ChildStore>> again = RocksDbChildStore::Open(ExistingStore(path_));
  ASSERT_TRUE(again.ok()) << again.status();
  EXPECT_EQ(**(*again)->Lookup(IndexKind::kNotification, NotificationIndexValue("-", "n-1")),
            first);
}

TEST_F(SchemaMigrationTest, AStoreOfANewerVersionIsRefusedNamingBothVersionsAndLeftAlone) {
  WriteRawStore(path_, {"children", "identifiers", "events", "events_by_area", "feed_cursors"},
                [](rocksdb::DB& db, Families& families) {
                  ASSERT_TRUE(db.Put(rocksdb::WriteOptions(), families["default"], "schema_version",
                                     EncodeFixed32BigEndian(99))
                                  .ok());
                });
  absl::StatusOr<std::unique_ptr<ChildStore>> store =
      RocksDbChildStore::Open(testing::StoreOptions(path_));
  EXPECT_EQ(store.status().code(), absl::StatusCode::kFailedPrecondition);
  EXPECT_THAT(store.status().message(),
              AllOf(HasSubstr("schema version 99"), HasSubstr("newer release"),
                    HasSubstr(absl::StrCat("up to ", kSchemaVersion))));
  // The refusal changed nothing: the version is still 99.
  WriteRawStore(
      path_, {"children", "identifiers", "events", "events_by_area", "feed_cursors"},
      [](rocksdb::DB& db, Families& families) {
        std::string version;
        ASSERT_TRUE(
            db.Get(rocksdb::ReadOptions(), families["default"], "schema_version", &version).ok());
        EXPECT_EQ(DecodeFixed32BigEndian(version), 99u);
      });
}

TEST_F(SchemaMigrationTest, ARocksDbDatabaseThatIsNoStoreIsRefusedEvenWithCreateIfMissing) {
  WriteRawStore(path_, {}, [](rocksdb::DB& db, Families& families) {
    ASSERT_TRUE(db.Put(rocksdb::WriteOptions(), families["default"], "something", "else").ok());
  });
  absl::StatusOr<std::unique_ptr<ChildStore>> store =
      RocksDbChildStore::Open(testing::StoreOptions(path_));
  EXPECT_EQ(store.status().code(), absl::StatusCode::kFailedPrecondition);
  EXPECT_THAT(store.status().message(), HasSubstr("no registry store"));
}

TEST_F(SchemaMigrationTest, ANewStoreIsWrittenAtThisReleasesVersion) {
  ASSERT_TRUE(RocksDbChildStore::Open(testing::StoreOptions(path_)).ok());
  WriteRawStore(
      path_,
      {"children", "identifiers", "events", "events_by_area", "area_feed", "requests", "audit_log",
       "audit_tree", "audit_by_child", "audit_checkpoints"},
      [](rocksdb::DB& db, Families& families) {
        std::string version;
        ASSERT_TRUE(
            db.Get(rocksdb::ReadOptions(), families["default"], "schema_version", &version).ok());
        EXPECT_EQ(DecodeFixed32BigEndian(version), kSchemaVersion);
      });
}

// Version 5 moves nothing, but its stamp is what keeps a release that does not check reserved
// identifiers (which only a restore writes) from opening a store a restore has written.
TEST_F(SchemaMigrationTest,
       AVersionFourStoreIsStampedVersionFiveWhichReleasesBlindToReservationsRefuse) {
  const std::vector<std::string> families = {
      "children", "identifiers", "events",     "events_by_area", "area_feed",
      "requests", "audit_log",   "audit_tree", "audit_by_child", "audit_checkpoints"};
  WriteRawStore(path_, families, [](rocksdb::DB& db, Families& families) {
    ASSERT_TRUE(db.Put(rocksdb::WriteOptions(), families["default"], "schema_version",
                       EncodeFixed32BigEndian(4))
                    .ok());
  });
  ASSERT_TRUE(RocksDbChildStore::Open(ExistingStore(path_)).ok());
  WriteRawStore(path_, families, [](rocksdb::DB& db, Families& families) {
    std::string version;
    ASSERT_TRUE(
        db.Get(rocksdb::ReadOptions(), families["default"], "schema_version", &version).ok());
    EXPECT_EQ(DecodeFixed32BigEndian(version), 5u);
  });
}

}  // namespace
}  // namespace cir::storage
