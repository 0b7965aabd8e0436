// Opening a store whose write-ahead log was damaged: a torn last record (a write never
// acknowledged) is dropped; damage before the tail refuses to open, naming the log, rather than
// replaying up to it and silently dropping the acknowledged writes after it.

#include <filesystem>
#include <fstream>
#include <string>
#include <vector>

#include "absl/strings/str_cat.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "storage/rocksdb_child_store.h"
#include "tests/storage/store_testing.h"
#include "tests/testing/temp_dir.h"

namespace cir::storage {
namespace {

using ::testing::HasSubstr;
using testing::RegisterChild;
using testing::RunUnit;
using testing::StoreOptions;

std::string ChildId(int i) { return absl::StrCat("W", std::string(6, 'A'), 1000 + i); }
std::string NhsNumber(int i) { return absl::StrCat("999", 1000000 + i); }

// The one write-ahead log file in `folder`.
std::string WalFile(const std::string& folder) {
  std::vector<std::string> logs;
  for (const auto& entry : std::filesystem::directory_iterator(folder)) {
    if (entry.path().extension() == ".log") logs.push_back(entry.path().string());
  }
  EXPECT_EQ(logs.size(), 1u);
  return logs.empty() ? "" : logs[0];
}

void FlipByteAt(const std::string& path, uint64_t offset) {
  std::fstream file(path, std::ios::in | std::ios::out | std::ios::binary);
  file.seekg(static_cast<std::streamoff>(offset));
  char byte = 0;
  file.read(&byte, 1);
  byte = static_cast<char>(byte ^ 0x5a);
  file.seekp(static_cast<std::streamoff>(offset));
  file.write(&byte, 1);
}

class StoreWalRecoveryTest : public ::testing::Test {
 protected:
  // Acknowledges units 0..count-1, one group each (each waited for), and closes the store.
  void WriteAcknowledged(int count) {
    absl::StatusOr<std::unique_ptr<ChildStore>> store = RocksDbChildStore::Open(StoreOptions(path_));
    ASSERT_TRUE(store.ok()) << store.status();
    for (int i = 0; i < count; ++i) {
      ASSERT_TRUE(RunUnit(**store, RegisterChild(ChildId(i), NhsNumber(i))).ok());
    }
  }

  void ExpectPresent(ChildStore& store, int count) {
    for (int i = 0; i < count; ++i) {
      EXPECT_TRUE(store.GetChild(ChildId(i))->has_value()) << "acknowledged unit " << i << " lost";
    }
  }

  cir::testing::TempDir dir_;
  const std::string path_ = dir_.Sub("db");
};

TEST_F(StoreWalRecoveryTest, AByteFlippedInTheMiddleOfTheLogRefusesToOpenNamingTheLog) {
  WriteAcknowledged(100);
  const std::string wal = WalFile(path_);
  FlipByteAt(wal, std::filesystem::file_size(wal) / 2);
  absl::StatusOr<std::unique_ptr<ChildStore>> store = RocksDbChildStore::Open(StoreOptions(path_));
  EXPECT_EQ(store.status().code(), absl::StatusCode::kDataLoss) << store.status();
  EXPECT_THAT(store.status().message(), HasSubstr(std::filesystem::path(wal).filename().string()));
}

TEST_F(StoreWalRecoveryTest, ALastRecordTornMidWayIsDroppedAndEveryAcknowledgedUnitKept) {
  uint64_t before_last = 0;
  {
    absl::StatusOr<std::unique_ptr<ChildStore>> store =
        RocksDbChildStore::Open(StoreOptions(path_));
    ASSERT_TRUE(store.ok()) << store.status();
    for (int i = 0; i < 100; ++i) {
      ASSERT_TRUE(RunUnit(**store, RegisterChild(ChildId(i), NhsNumber(i))).ok());
    }
    before_last = std::filesystem::file_size(WalFile(path_));
    // The 101st, alone in its group: the log's last record.
    ASSERT_TRUE(RunUnit(**store, RegisterChild(ChildId(100), NhsNumber(100))).ok());
  }
  const std::string wal = WalFile(path_);
  const uint64_t after_last = std::filesystem::file_size(wal);
  ASSERT_GT(after_last, before_last);
  std::filesystem::resize_file(wal, before_last + (after_last - before_last) / 2);

  absl::StatusOr<std::unique_ptr<ChildStore>> store = RocksDbChildStore::Open(StoreOptions(path_));
  ASSERT_TRUE(store.ok()) << store.status();
  ExpectPresent(**store, 100);
  EXPECT_FALSE((*store)->GetChild(ChildId(100))->has_value());
  EXPECT_EQ((*store)->ReadEvents(0, 1000)->size(), 100u);
}

}  // namespace
}  // namespace cir::storage
