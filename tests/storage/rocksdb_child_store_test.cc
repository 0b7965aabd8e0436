#include "storage/rocksdb_child_store.h"

#include <atomic>
#include <filesystem>
#include <future>
#include <thread>
#include <vector>

#include "gtest/gtest.h"
#include "absl/strings/str_cat.h"
#include "rocksdb/db.h"
#include "storage/key_codec.h"
#include "tests/testing/temp_dir.h"

namespace cir::storage {
namespace {

StoredChild Child(const std::string& id, const std::string& la = "938") {
  StoredChild child;
  child.set_child_id(id);
  child.set_local_authority(la);
  child.set_version(1);
  return child;
}

// Appends an event about `child_id` in `la` through `txn`.
absl::Status AppendEvent(WriteTxn& txn, const std::string& child_id, const std::string& la) {
  StoredEvent event;
  event.set_child_id(child_id);
  event.set_local_authority(la);
  return txn.AppendEvent(event);
}

// Submits `work` and waits for its outcome (tests only: the server never waits like this).
absl::Status RunUnit(ChildStore& store, WriteWork work) {
  std::promise<absl::Status> outcome;
  store.Submit(std::move(work), [&](absl::Status s) { outcome.set_value(std::move(s)); });
  return outcome.get_future().get();
}

class RocksDbChildStoreTest : public ::testing::Test {
 protected:
  std::unique_ptr<ChildStore> Open() {
    absl::StatusOr<std::unique_ptr<ChildStore>> store =
        RocksDbChildStore::Open({.path = dir_.Sub("db"), .create_if_missing = true});
    EXPECT_TRUE(store.ok()) << store.status();
    return store.ok() ? *std::move(store) : nullptr;
  }

  testing::TempDir dir_;
};

TEST_F(RocksDbChildStoreTest, AUnitsWritesAreReadableOnceItIsAcknowledged) {
  std::unique_ptr<ChildStore> store = Open();
  ASSERT_TRUE(RunUnit(*store, [](WriteTxn& txn) {
                absl::Status s = txn.PutChild(Child("AAAAAAAAAAA"));
                if (!s.ok()) return s;
                return txn.PutIndex(IndexKind::kNhsNumber, "9990000018", {"AAAAAAAAAAA", ""});
              }).ok());
  absl::StatusOr<std::optional<StoredChild>> child = store->GetChild("AAAAAAAAAAA");
  ASSERT_TRUE(child.ok() && child->has_value());
  EXPECT_EQ((*child)->local_authority(), "938");
  absl::StatusOr<std::optional<IndexEntry>> entry =
      store->Lookup(IndexKind::kNhsNumber, "9990000018");
  ASSERT_TRUE(entry.ok() && entry->has_value());
  EXPECT_EQ((*entry)->child_id, "AAAAAAAAAAA");
  EXPECT_FALSE(store->Lookup(IndexKind::kUpn, "9990000018")->has_value());
}

TEST_F(RocksDbChildStoreTest, AFailedUnitLeavesNothingBehindAndItsGroupUnharmed) {
  std::unique_ptr<ChildStore> store = Open();
  std::promise<absl::Status> first, second, third;
  // Three units likely to share a group: the middle one stages writes and then fails.
  store->Submit([](WriteTxn& txn) { return txn.PutChild(Child("BBBBBBBBBBB")); },
                [&](absl::Status s) { first.set_value(s); });
  store->Submit(
      [](WriteTxn& txn) {
        absl::Status s = txn.PutChild(Child("CCCCCCCCCCC"));
        if (!s.ok()) return s;
        s = AppendEvent(txn, "CCCCCCCCCCC", "938");
        if (!s.ok()) return s;
        return absl::FailedPreconditionError("refused after staging");
      },
      [&](absl::Status s) { second.set_value(s); });
  store->Submit(
      [](WriteTxn& txn) {
        return AppendEvent(txn, "DDDDDDDDDDD", "201");
      },
      [&](absl::Status s) { third.set_value(s); });
  EXPECT_TRUE(first.get_future().get().ok());
  EXPECT_EQ(second.get_future().get().code(), absl::StatusCode::kFailedPrecondition);
  EXPECT_TRUE(third.get_future().get().ok());
  EXPECT_TRUE(store->GetChild("BBBBBBBBBBB")->has_value());
  EXPECT_FALSE(store->GetChild("CCCCCCCCCCC")->has_value());
  absl::StatusOr<std::vector<StoredEvent>> events = store->ReadEvents(0, 10);
  ASSERT_TRUE(events.ok());
  ASSERT_EQ(events->size(), 1u);  // the failed unit's event is gone and left no gap
  EXPECT_EQ((*events)[0].sequence(), 1u);
  EXPECT_EQ((*events)[0].child_id(), "DDDDDDDDDDD");
}

TEST_F(RocksDbChildStoreTest, LaterUnitsInAGroupSeeEarlierUnitsWrites) {
  std::unique_ptr<ChildStore> store = Open();
  // 64 units race to claim one key; each claims only if unclaimed. Exactly one may win.
  std::atomic<int> winners = 0;
  std::vector<std::promise<absl::Status>> outcomes(64);
  for (int i = 0; i < 64; ++i) {
    store->Submit(
        [i, &winners](WriteTxn& txn) -> absl::Status {
          absl::StatusOr<std::optional<IndexEntry>> holder =
              txn.Lookup(IndexKind::kUpn, "B801200005001");
          if (!holder.ok()) return holder.status();
          if (holder->has_value()) return absl::AlreadyExistsError("taken");
          ++winners;
          return txn.PutIndex(IndexKind::kUpn, "B801200005001",
                              {absl::StrCat("E", std::string(9, 'A'), i % 10), ""});
        },
        [&outcomes, i](absl::Status s) { outcomes[i].set_value(s); });
  }
  int ok = 0;
  for (auto& outcome : outcomes) ok += outcome.get_future().get().ok();
  EXPECT_EQ(ok, 1);
  EXPECT_EQ(winners.load(), 1);
}

TEST_F(RocksDbChildStoreTest, EventSequencesContinueAcrossReopen) {
  {
    std::unique_ptr<ChildStore> store = Open();
    for (int i = 0; i < 3; ++i) {
      ASSERT_TRUE(RunUnit(*store, [](WriteTxn& txn) {
                    return AppendEvent(txn, "EEEEEEEEEEE", "938");
                  }).ok());
    }
  }
  std::unique_ptr<ChildStore> store = Open();
  ASSERT_TRUE(RunUnit(*store, [](WriteTxn& txn) {
                return AppendEvent(txn, "EEEEEEEEEEE", "938");
              }).ok());
  absl::StatusOr<std::vector<StoredEvent>> events = store->ReadEvents(0, 10);
  ASSERT_TRUE(events.ok());
  ASSERT_EQ(events->size(), 4u);
  for (int i = 0; i < 4; ++i) EXPECT_EQ((*events)[i].sequence(), static_cast<uint64_t>(i + 1));
  EXPECT_EQ(store->ReadEvents(2, 10)->size(), 2u);
}

TEST_F(RocksDbChildStoreTest, BatchedReadsAnswerInInputOrder) {
  std::unique_ptr<ChildStore> store = Open();
  ASSERT_TRUE(RunUnit(*store, [](WriteTxn& txn) {
                absl::Status s = txn.PutChild(Child("FFFFFFFFFFF"));
                if (!s.ok()) return s;
                return txn.PutIndex(IndexKind::kUpn, "B801200005001", {"FFFFFFFFFFF", ""});
              }).ok());
  std::vector<std::string> ids = {"GGGGGGGGGGG", "FFFFFFFFFFF"};
  auto children = store->GetChildren(ids);
  ASSERT_EQ(children.size(), 2u);
  EXPECT_FALSE(children[0]->has_value());
  EXPECT_TRUE(children[1]->has_value());
  std::vector<IndexKey> keys = {{IndexKind::kUpn, "B801200005001"},
                                {IndexKind::kNhsNumber, "B801200005001"}};
  auto entries = store->LookupMany(keys);
  ASSERT_EQ(entries.size(), 2u);
  EXPECT_TRUE(entries[0]->has_value());
  EXPECT_FALSE(entries[1]->has_value());
}

TEST_F(RocksDbChildStoreTest, RefusesAStoreOfAnotherSchemaVersion) {
  Open().reset();
  {
    // Rewrite the schema version behind the store's back.
    rocksdb::DB* raw = nullptr;
    rocksdb::Options options;
    std::vector<rocksdb::ColumnFamilyDescriptor> families;
    for (int i = 0; i < kColumnFamilyCount; ++i) {
      families.emplace_back(std::string(ColumnFamilyName(static_cast<ColumnFamily>(i))),
                            rocksdb::ColumnFamilyOptions());
    }
    std::vector<rocksdb::ColumnFamilyHandle*> handles;
    ASSERT_TRUE(rocksdb::DB::Open(options, dir_.Sub("db"), families, &handles, &raw).ok());
    ASSERT_TRUE(raw->Put(rocksdb::WriteOptions(), handles[0], "schema_version",
                         EncodeFixed32BigEndian(99))
                    .ok());
    for (auto* h : handles) raw->DestroyColumnFamilyHandle(h);
    delete raw;
  }
  absl::StatusOr<std::unique_ptr<ChildStore>> store =
      RocksDbChildStore::Open({.path = dir_.Sub("db"), .create_if_missing = true});
  EXPECT_EQ(store.status().code(), absl::StatusCode::kFailedPrecondition);
}

TEST_F(RocksDbChildStoreTest, AFolderWithoutAStoreIsRefusedUnlessCreationIsAskedFor) {
  absl::StatusOr<std::unique_ptr<ChildStore>> store =
      RocksDbChildStore::Open({.path = dir_.Sub("unmounted")});
  EXPECT_EQ(store.status().code(), absl::StatusCode::kFailedPrecondition);
  EXPECT_FALSE(std::filesystem::exists(dir_.Sub("unmounted")));
  Open().reset();  // created on purpose
  EXPECT_TRUE(RocksDbChildStore::Open({.path = dir_.Sub("db")}).ok());  // and reopened without
}

TEST_F(RocksDbChildStoreTest, ASecondOpenOfTheSameFolderIsRefusedWhileTheFirstIsOpen) {
  std::unique_ptr<ChildStore> store = Open();
  absl::StatusOr<std::unique_ptr<ChildStore>> second =
      RocksDbChildStore::Open({.path = dir_.Sub("db"), .create_if_missing = true});
  EXPECT_EQ(second.status().code(), absl::StatusCode::kUnavailable);
}

TEST_F(RocksDbChildStoreTest, ClosingCommitsEveryQueuedUnit) {
  std::atomic<int> acknowledged = 0;
  {
    std::unique_ptr<ChildStore> store = Open();
    for (int i = 0; i < 500; ++i) {
      std::string id = absl::StrCat("H", std::string(6, 'A'), 1000 + i);
      store->Submit([id](WriteTxn& txn) { return txn.PutChild(Child(id)); },
                    [&](absl::Status s) { acknowledged += s.ok(); });
    }
  }  // the destructor drains the queue
  EXPECT_EQ(acknowledged.load(), 500);
  std::unique_ptr<ChildStore> store = Open();
  for (int i = 0; i < 500; ++i) {
    EXPECT_TRUE(store->GetChild(absl::StrCat("H", std::string(6, 'A'), 1000 + i))->has_value());
  }
}

}  // namespace
}  // namespace cir::storage
