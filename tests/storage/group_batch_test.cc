#include "storage/group_batch.h"

#include "gtest/gtest.h"
#include "rocksdb/options.h"

namespace cir::storage {
namespace {

TEST(GroupBatch, AKeptUnitsWritesStay) {
  GroupBatch group;
  group.BeginUnit();
  ASSERT_TRUE(group.batch().Put("a", "1").ok());
  group.KeepUnit();
  EXPECT_EQ(group.staged_writes(), 1u);
  EXPECT_EQ(group.rollbacks(), 0);
}

TEST(GroupBatch, ADiscardedUnitsWritesGoAndTheOthersStay) {
  GroupBatch group;
  group.BeginUnit();
  ASSERT_TRUE(group.batch().Put("a", "1").ok());
  group.KeepUnit();
  group.BeginUnit();
  ASSERT_TRUE(group.batch().Put("b", "2").ok());
  ASSERT_TRUE(group.batch().Put("a", "overwritten").ok());
  ASSERT_TRUE(group.DiscardUnit().ok());
  EXPECT_EQ(group.staged_writes(), 1u);
  EXPECT_EQ(group.rollbacks(), 1);
  std::string value;
  ASSERT_TRUE(group.batch().GetFromBatch(rocksdb::DBOptions(), "a", &value).ok());
  EXPECT_EQ(value, "1");
  EXPECT_TRUE(group.batch().GetFromBatch(rocksdb::DBOptions(), "b", &value).IsNotFound());
}

TEST(GroupBatch, AUnitThatStagedNothingIsDiscardedWithoutARollback) {
  // A rollback would fail here: discarding an empty unit must not need one.
  GroupBatch group([] { return true; });
  group.BeginUnit();
  ASSERT_TRUE(group.batch().Put("a", "1").ok());
  group.KeepUnit();
  for (int i = 0; i < 100; ++i) {
    group.BeginUnit();
    EXPECT_TRUE(group.DiscardUnit().ok());
  }
  EXPECT_EQ(group.rollbacks(), 0);
  EXPECT_EQ(group.staged_writes(), 1u);
  // The save points were dropped: a later unit still rolls back to its own, not an older one.
  group.BeginUnit();
  ASSERT_TRUE(group.batch().Put("b", "2").ok());
  group.KeepUnit();
  EXPECT_EQ(group.staged_writes(), 2u);
}

TEST(GroupBatch, AFailedRollbackIsReportedSoTheBatchIsNeverCommitted) {
  GroupBatch group([] { return true; });
  group.BeginUnit();
  ASSERT_TRUE(group.batch().Put("a", "1").ok());
  absl::Status discarded = group.DiscardUnit();
  EXPECT_EQ(discarded.code(), absl::StatusCode::kInternal);
  EXPECT_EQ(group.rollbacks(), 1);
}

}  // namespace
}  // namespace cir::storage
