// Backups made while the store serves: every unit acknowledged before a backup began is in it,
// later backups copy only what changed, a backup holds no child's details in the clear and opens
// only with the store's master key, damage is found by verification, and a restore reserves every
// identifier that a later backup or the operator's list shows as issued.

#include <algorithm>
#include <atomic>
#include <filesystem>
#include <fstream>
#include <mutex>
#include <string>
#include <thread>
#include <vector>

#include "absl/strings/str_cat.h"
#include "errors/refusal.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "identifiers/child_id.h"
#include "storage/rocksdb_child_store.h"
#include "storage/store_backups.h"
#include "storage/store_keys.h"
#include "tests/storage/fictional_store.h"
#include "tests/storage/store_testing.h"
#include "tests/testing/fault_injection_fs.h"
#include "tests/testing/temp_dir.h"

namespace cir::storage {
namespace {

using testing::FictionalChild;
using testing::FictionalChildren;
using testing::FilesUnder;
using ::testing::HasSubstr;
using ::testing::IsEmpty;
using testing::RegisterAll;
using testing::RunUnit;
using testing::StoreOptions;

class StoreBackupTest : public ::testing::Test {
 protected:
  void SetUp() override {
    master_key_ = dir_.Sub("master.key");
    ASSERT_TRUE(WriteNewMasterKeyFile(master_key_).ok());
  }

  RocksDbStoreOptions Options(const std::string& folder) {
    RocksDbStoreOptions options = StoreOptions(folder);
    options.encryption = StoreEncryption{master_key_};
    return options;
  }

  std::unique_ptr<ChildStore> Open(const std::string& folder) {
    absl::StatusOr<std::unique_ptr<ChildStore>> store = RocksDbChildStore::Open(Options(folder));
    EXPECT_TRUE(store.ok()) << store.status();
    return store.ok() ? *std::move(store) : nullptr;
  }

  // The children registered by `count` units of `per_unit` each, acknowledged.
  std::vector<FictionalChild> Register(ChildStore& store, int count, int per_unit = 50) {
    std::vector<FictionalChild> registered;
    for (int unit = 0; unit < count; ++unit) {
      std::vector<FictionalChild> children = FictionalChildren(per_unit, next_++);
      next_ += per_unit;
      EXPECT_TRUE(RunUnit(store, RegisterAll(children)).ok());
      registered.insert(registered.end(), children.begin(), children.end());
    }
    return registered;
  }

  // Waits until `store` owes no compaction and its table files have stayed as they are for two
  // seconds: a compaction under way (slow in a sanitizer build) may not have written its output
  // yet. Fails the test if that takes more than two minutes.
  void AwaitSettledTables(ChildStore& store) {
    std::vector<std::string> last;
    const absl::Time give_up = absl::Now() + absl::Minutes(2);
    absl::Time since = absl::Now();
    while (absl::Now() - since < absl::Seconds(2) ||
           store.Statistics().pending_compaction_bytes != 0) {
      if (absl::Now() > give_up) {
        ADD_FAILURE() << "the store's tables did not settle within two minutes";
        return;
      }
      std::vector<std::string> tables;
      for (const auto& entry : std::filesystem::directory_iterator(data_)) {
        if (entry.path().extension() == ".sst") tables.push_back(entry.path().string());
      }
      std::sort(tables.begin(), tables.end());
      if (tables != last) {
        last = tables;
        since = absl::Now();
      }
      absl::SleepFor(absl::Milliseconds(20));
    }
  }

  absl::StatusOr<size_t> Restore(uint32_t id, const std::string& to,
                                 std::vector<std::string> issued = {}) {
    return RestoreBackup({.backup_folder = backups_,
                          .backup_id = id,
                          .data_folder = to,
                          .master_key_file = master_key_,
                          .issued_identifiers = std::move(issued)});
  }

  cir::testing::TempDir dir_;
  std::string master_key_;
  const std::string data_ = dir_.Sub("db");
  const std::string backups_ = dir_.Sub("backups");
  int next_ = 0;
};

TEST_F(StoreBackupTest, ABackupMadeWhileUnitsRunHoldsEveryUnitAcknowledgedBeforeItBegan) {
  std::unique_ptr<ChildStore> store = Open(data_);
  ASSERT_NE(store, nullptr);
  std::mutex mu;
  std::vector<FictionalChild> acknowledged;
  std::atomic<bool> stop = false;
  std::atomic<int> next = 0;
  std::vector<std::thread> writers;
  for (int w = 0; w < 4; ++w) {
    writers.emplace_back([&] {
      while (!stop) {
        std::vector<FictionalChild> children = FictionalChildren(5, (next += 5) - 5);
        if (!RunUnit(*store, RegisterAll(children)).ok()) continue;
        std::lock_guard<std::mutex> lock(mu);
        acknowledged.insert(acknowledged.end(), children.begin(), children.end());
      }
    });
  }
  absl::SleepFor(absl::Milliseconds(300));
  std::vector<FictionalChild> before_backup;
  {
    std::lock_guard<std::mutex> lock(mu);
    before_backup = acknowledged;
  }
  absl::StatusOr<BackupSummary> made = store->backups().BackUp(backups_);
  absl::SleepFor(absl::Milliseconds(100));
  stop = true;
  for (std::thread& writer : writers) writer.join();
  ASSERT_TRUE(made.ok()) << made.status();
  EXPECT_EQ(made->id, 1u);
  ASSERT_GT(before_backup.size(), 100u) << "too little load to test anything";
  store.reset();

  absl::StatusOr<size_t> restoring = Restore(made->id, dir_.Sub("restored"));
  ASSERT_TRUE(restoring.ok()) << restoring.status();
  std::unique_ptr<ChildStore> restored = Open(dir_.Sub("restored"));
  ASSERT_NE(restored, nullptr);
  std::vector<std::string> ids;
  for (const FictionalChild& child : before_backup) ids.push_back(child.child_id);
  size_t lost = 0;
  for (const auto& found : restored->GetChildren(ids)) {
    ASSERT_TRUE(found.ok()) << found.status();
    lost += !found->has_value();
  }
  EXPECT_EQ(lost, 0u) << "of " << ids.size() << " children acknowledged before the backup";
}

TEST_F(StoreBackupTest, ALaterBackupCopiesOnlyWhatChanged) {
  RocksDbStoreOptions options = Options(data_);
  options.memtable_bytes = 256 << 10;  // table files, which backups share
  absl::StatusOr<std::unique_ptr<ChildStore>> store = RocksDbChildStore::Open(options);
  ASSERT_TRUE(store.ok()) << store.status();
  // Table files of some megabytes: every backup also copies the write-ahead log since the last
  // flush (up to a memtable's worth), which the backups do not share.
  Register(**store, 300);
  // Once flushes and compactions have settled, so that the table files stay as they are.
  AwaitSettledTables(**store);
  absl::StatusOr<BackupSummary> first = (*store)->backups().BackUp(backups_);
  ASSERT_TRUE(first.ok()) << first.status();
  Register(**store, 2);
  absl::StatusOr<BackupSummary> second = (*store)->backups().BackUp(backups_);
  ASSERT_TRUE(second.ok()) << second.status();
  EXPECT_EQ(first->new_bytes, first->bytes);
  EXPECT_EQ(second->id, first->id + 1);
  EXPECT_LT(second->new_bytes * 4, second->bytes)
      << "the second backup copied " << second->new_bytes << " of its " << second->bytes
      << " bytes";
  absl::StatusOr<std::vector<BackupSummary>> listed = VerifyBackups(backups_, master_key_);
  ASSERT_TRUE(listed.ok()) << listed.status();
  EXPECT_EQ(listed->size(), 2u);
}

TEST_F(StoreBackupTest, ABackupHoldsNoChildsDetailInTheClear) {
  std::unique_ptr<ChildStore> store = Open(data_);
  ASSERT_NE(store, nullptr);
  std::vector<FictionalChild> children = Register(*store, 10);
  ASSERT_TRUE(store->backups().BackUp(backups_).ok());
  std::vector<std::string> details = {"Lovelace-Test", "1 Fictional Street"};
  for (const FictionalChild& child : children) {
    details.insert(details.end(), {child.child_id, child.nhs_number, child.upn});
  }
  std::vector<std::string> found;
  size_t files = 0;
  for (const auto& [path, bytes] : FilesUnder(backups_)) {
    ++files;
    for (const std::string& detail : details) {
      if (bytes.find(detail) != std::string::npos) found.push_back(detail + " in " + path);
    }
  }
  EXPECT_GT(files, 3u);
  EXPECT_THAT(found, IsEmpty());
}

// The control for the grep above: an unencrypted store's backup shows the details.
TEST_F(StoreBackupTest, AnUnencryptedStoresBackupShowsTheDetailsToTheSameGrep) {
  absl::StatusOr<std::unique_ptr<ChildStore>> store = RocksDbChildStore::Open(StoreOptions(data_));
  ASSERT_TRUE(store.ok()) << store.status();
  std::vector<FictionalChild> children = Register(**store, 1);
  ASSERT_TRUE((*store)->backups().BackUp(backups_).ok());
  bool found = false;
  for (const auto& [path, bytes] : FilesUnder(backups_)) {
    found |= bytes.find(children.front().child_id) != std::string::npos;
  }
  EXPECT_TRUE(found);
}

TEST_F(StoreBackupTest, AnotherMasterKeyIsRefusedClearly) {
  std::unique_ptr<ChildStore> store = Open(data_);
  ASSERT_NE(store, nullptr);
  Register(*store, 1);
  ASSERT_TRUE(store->backups().BackUp(backups_).ok());
  const std::string other = dir_.Sub("other.key");
  ASSERT_TRUE(WriteNewMasterKeyFile(other).ok());
  absl::StatusOr<std::vector<BackupSummary>> verified = VerifyBackups(backups_, other);
  EXPECT_EQ(verified.status().code(), absl::StatusCode::kPermissionDenied) << verified.status();
  EXPECT_THAT(verified.status().message(), HasSubstr("master key"));
  absl::StatusOr<size_t> restored = RestoreBackup(
      {.backup_folder = backups_, .data_folder = dir_.Sub("r"), .master_key_file = other});
  EXPECT_EQ(restored.status().code(), absl::StatusCode::kPermissionDenied);
  EXPECT_FALSE(std::filesystem::exists(dir_.Sub("r") + "/CURRENT"));
}

TEST_F(StoreBackupTest, ADamagedBackupFailsVerificationNamingItAndIsNotRestored) {
  RocksDbStoreOptions options = Options(data_);
  options.memtable_bytes = 256 << 10;
  absl::StatusOr<std::unique_ptr<ChildStore>> store = RocksDbChildStore::Open(options);
  ASSERT_TRUE(store.ok()) << store.status();
  Register(**store, 40);
  ASSERT_TRUE((*store)->backups().BackUp(backups_).ok());
  ASSERT_TRUE(VerifyBackups(backups_, master_key_).ok());
  // One byte of one shared table file, flipped.
  std::string table;
  for (const auto& entry : std::filesystem::recursive_directory_iterator(backups_)) {
    if (entry.path().extension() == ".sst") table = entry.path().string();
  }
  ASSERT_FALSE(table.empty());
  {
    std::fstream file(table, std::ios::in | std::ios::out | std::ios::binary);
    file.seekg(5000);
    char byte = 0;
    file.read(&byte, 1);
    byte ^= 0x20;
    file.seekp(5000);
    file.write(&byte, 1);
  }
  absl::StatusOr<std::vector<BackupSummary>> verified = VerifyBackups(backups_, master_key_);
  EXPECT_EQ(verified.status().code(), absl::StatusCode::kDataLoss) << verified.status();
  EXPECT_THAT(verified.status().message(), HasSubstr("backup 1"));
  EXPECT_FALSE(Restore(0, dir_.Sub("r")).ok());
}

TEST_F(StoreBackupTest, ARestoreReservesWhatLaterBackupsAndTheOperatorsListShowAsIssued) {
  std::unique_ptr<ChildStore> store = Open(data_);
  ASSERT_NE(store, nullptr);
  std::vector<FictionalChild> early = Register(*store, 1, 3);
  ASSERT_TRUE(store->backups().BackUp(backups_).ok());
  std::vector<FictionalChild> late = Register(*store, 1, 2);
  ASSERT_TRUE(store->backups().BackUp(backups_).ok());
  store.reset();
  const std::string elsewhere = identifiers::GenerateChildId();  // e.g. from a feed's consumer

  // An identifier that is not one refuses the whole list: nothing is restored.
  absl::StatusOr<size_t> refused = Restore(1, dir_.Sub("restored"), {elsewhere, "not an id"});
  EXPECT_EQ(refused.status().code(), absl::StatusCode::kInvalidArgument) << refused.status();
  EXPECT_THAT(refused.status().message(), HasSubstr("issued identifier 2"));
  EXPECT_FALSE(std::filesystem::exists(dir_.Sub("restored") + "/CURRENT"));
  // The display form, in lower case, is taken as the identifier it is.
  std::string display = identifiers::FormatChildId(elsewhere);
  std::transform(display.begin(), display.end(), display.begin(),
                 [](unsigned char c) { return std::tolower(c); });
  absl::StatusOr<size_t> reserved = Restore(1, dir_.Sub("restored"), {display});
  ASSERT_TRUE(reserved.ok()) << reserved.status();
  EXPECT_EQ(*reserved, 3u);  // the two registered after backup 1, and the one from the list
  std::unique_ptr<ChildStore> restored = Open(dir_.Sub("restored"));
  ASSERT_NE(restored, nullptr);
  for (const FictionalChild& child : early) {
    absl::StatusOr<std::optional<StoredChild>> found = restored->GetChild(child.child_id);
    ASSERT_TRUE(found.ok());
    EXPECT_TRUE(found->has_value());
  }
  for (const std::string& id : {late[0].child_id, late[1].child_id, elsewhere}) {
    absl::StatusOr<std::optional<StoredChild>> found = restored->GetChild(id);
    ASSERT_TRUE(found.ok());
    EXPECT_FALSE(found->has_value()) << "a write after the backup is not in it";
    absl::StatusOr<std::optional<IndexEntry>> held =
        restored->Lookup(IndexKind::kReservedChildId, id);
    ASSERT_TRUE(held.ok());
    EXPECT_TRUE(held->has_value()) << id << " is not reserved";
  }
}

TEST_F(StoreBackupTest, AFolderOfAnotherStoresBackupsAndAFolderInsideTheStoreAreRefused) {
  std::unique_ptr<ChildStore> store = Open(data_);
  ASSERT_NE(store, nullptr);
  Register(*store, 1);
  ASSERT_TRUE(store->backups().BackUp(backups_).ok());
  std::unique_ptr<ChildStore> other = Open(dir_.Sub("other"));
  ASSERT_NE(other, nullptr);
  absl::StatusOr<BackupSummary> mixed = other->backups().BackUp(backups_);
  EXPECT_EQ(mixed.status().code(), absl::StatusCode::kFailedPrecondition) << mixed.status();
  EXPECT_THAT(mixed.status().message(), HasSubstr("another store"));
  absl::StatusOr<BackupSummary> inside = store->backups().BackUp(data_ + "/backups");
  EXPECT_EQ(inside.status().code(), absl::StatusCode::kFailedPrecondition) << inside.status();
}

TEST_F(StoreBackupTest, ABackupOntoAFullDiskFailsAsTheBackupsAndTheStoreGoesOn) {
  auto disk = std::make_shared<cir::testing::FaultInjectionFs>();
  RocksDbStoreOptions options = Options(data_);
  options.file_system = disk;
  absl::StatusOr<std::unique_ptr<ChildStore>> opened = RocksDbChildStore::Open(options);
  ASSERT_TRUE(opened.ok()) << opened.status();
  ChildStore& store = **opened;
  Register(store, 2);
  disk->FillDisk(true);
  absl::StatusOr<BackupSummary> failed = store.backups().BackUp(backups_);
  disk->FillDisk(false);
  EXPECT_EQ(failed.status().code(), absl::StatusCode::kUnavailable) << failed.status();
  EXPECT_EQ(errors::ReasonOf(failed.status()), v1::BACKUP_FAILED) << failed.status();
  EXPECT_THAT(failed.status().message(), HasSubstr("back up again"));
  // No backup was kept, the store goes on taking writes, and the next backup is made.
  EXPECT_EQ(VerifyBackups(backups_, master_key_).status().code(),
            absl::StatusCode::kFailedPrecondition);
  Register(store, 1);
  absl::StatusOr<BackupSummary> made = store.backups().BackUp(backups_);
  ASSERT_TRUE(made.ok()) << made.status();
}

TEST_F(StoreBackupTest, ARestoreIntoAFolderThatHoldsAnythingIsRefused) {
  std::unique_ptr<ChildStore> store = Open(data_);
  ASSERT_NE(store, nullptr);
  Register(*store, 1);
  ASSERT_TRUE(store->backups().BackUp(backups_).ok());
  absl::StatusOr<size_t> over_the_store = Restore(0, data_);
  EXPECT_EQ(over_the_store.status().code(), absl::StatusCode::kFailedPrecondition);
  EXPECT_THAT(over_the_store.status().message(), HasSubstr("new folder"));
}

}  // namespace
}  // namespace cir::storage
