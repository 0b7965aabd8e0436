#include "storage/key_codec.h"

#include "gtest/gtest.h"

namespace cir::storage {
namespace {

TEST(KeyCodec, BigEndianSequenceKeysSortInNumericOrder) {
  EXPECT_LT(EncodeEventKey(1), EncodeEventKey(2));
  EXPECT_LT(EncodeEventKey(255), EncodeEventKey(256));
  EXPECT_LT(EncodeEventKey(65535), EncodeEventKey(1ull << 40));
  EXPECT_EQ(DecodeEventKey(EncodeEventKey(1234567890123ull)), 1234567890123ull);
}

TEST(KeyCodec, IndexKeysCarryTheirFrozenKindTag) {
  EXPECT_EQ(EncodeIndexKey(IndexKind::kNhsNumber, "9990000018"), std::string("\x01") + "9990000018");
  EXPECT_EQ(EncodeIndexKey(IndexKind::kUpn, "B801200005001")[0], '\x02');
  EXPECT_EQ(EncodeIndexKey(IndexKind::kLegacyNotificationId, "n-1")[0], '\x03');
}

TEST(KeyCodec, NotificationsAreKeyedUnderTheirNotifyingSystem) {
  EXPECT_EQ(EncodeIndexKey(IndexKind::kNotification, NotificationIndexValue("RXH01", "1")),
            std::string("\x04") + "RXH01 1");
  // Notifications recorded before notifying systems were (schema version 1) sit under "-".
  EXPECT_EQ(EncodeIndexKey(IndexKind::kNotification,
                           NotificationIndexValue(kNotifyingSystemBeforeSystems, "n-1")),
            std::string("\x04") + "- n-1");
}

TEST(KeyCodec, IndexEntriesRoundTripWithAndWithoutFingerprint) {
  IndexEntry plain{"KDMX4PARTWX", ""};
  EXPECT_EQ(DecodeIndexEntry(EncodeIndexEntry(plain)), plain);
  IndexEntry fingerprinted{"KDMX4PARTWX", std::string(32, '\x7f')};
  EXPECT_EQ(DecodeIndexEntry(EncodeIndexEntry(fingerprinted)), fingerprinted);
  EXPECT_FALSE(DecodeIndexEntry("short").has_value());
}

TEST(KeyCodec, AreaEventKeysGroupByAuthorityThenSequence) {
  EXPECT_LT(EncodeAreaEventKey("938", 900), EncodeAreaEventKey("938", 1000));
  EXPECT_LT(EncodeAreaEventKey("201", 5000), EncodeAreaEventKey("938", 1));
  EXPECT_EQ(EncodeAreaEventKey("938", 1).size(), 11u);
}

TEST(KeyCodec, ColumnFamilyNamesAreFrozen) {
  EXPECT_EQ(ColumnFamilyName(ColumnFamily::kDefault), "default");
  EXPECT_EQ(ColumnFamilyName(ColumnFamily::kChildren), "children");
  EXPECT_EQ(ColumnFamilyName(ColumnFamily::kIdentifiers), "identifiers");
  EXPECT_EQ(ColumnFamilyName(ColumnFamily::kEvents), "events");
  EXPECT_EQ(ColumnFamilyName(ColumnFamily::kEventsByArea), "events_by_area");
}

}  // namespace
}  // namespace cir::storage
