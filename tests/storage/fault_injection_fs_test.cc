#include "tests/testing/fault_injection_fs.h"

#include <filesystem>
#include <fstream>
#include <iterator>
#include <string>

#include "gtest/gtest.h"
#include "tests/testing/temp_dir.h"

namespace cir::testing {
namespace {

std::string Contents(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  return std::string(std::istreambuf_iterator<char>(in), std::istreambuf_iterator<char>());
}

class FaultInjectionFsTest : public ::testing::Test {
 protected:
  std::unique_ptr<rocksdb::FSWritableFile> Create(const std::string& path) {
    std::unique_ptr<rocksdb::FSWritableFile> file;
    EXPECT_TRUE(fs_->NewWritableFile(path, rocksdb::FileOptions(), &file, nullptr).ok());
    return file;
  }

  TempDir dir_;
  std::shared_ptr<FaultInjectionFs> fs_ = std::make_shared<FaultInjectionFs>();
  rocksdb::IOOptions io_;
};

TEST_F(FaultInjectionFsTest, APowerCutKeepsOnlyWhatWasSynced) {
  const std::string synced = dir_.Sub("synced"), never_synced = dir_.Sub("never_synced");
  std::unique_ptr<rocksdb::FSWritableFile> a = Create(synced);
  std::unique_ptr<rocksdb::FSWritableFile> b = Create(never_synced);
  ASSERT_TRUE(a->Append("durable", io_, nullptr).ok());
  ASSERT_TRUE(a->Sync(io_, nullptr).ok());
  ASSERT_TRUE(a->Append(" and not", io_, nullptr).ok());
  ASSERT_TRUE(b->Append("never synced", io_, nullptr).ok());
  EXPECT_EQ(fs_->AppendedBytes(synced), 15u);
  EXPECT_EQ(fs_->SyncedBytes(synced), 7u);

  fs_->CutPower();
  EXPECT_FALSE(a->Append("!", io_, nullptr).ok());
  EXPECT_FALSE(a->Sync(io_, nullptr).ok());
  EXPECT_FALSE(fs_->NewWritableFile(dir_.Sub("later"), rocksdb::FileOptions(), &b, nullptr).ok());
  a->Close(io_, nullptr).PermitUncheckedError();
  fs_->DropUnsyncedData();

  EXPECT_EQ(Contents(synced), "durable");
  EXPECT_EQ(Contents(never_synced), "");
}

TEST_F(FaultInjectionFsTest, ARenamedFileKeepsItsSyncState) {
  std::unique_ptr<rocksdb::FSWritableFile> file = Create(dir_.Sub("temporary"));
  ASSERT_TRUE(file->Append("kept", io_, nullptr).ok());
  ASSERT_TRUE(file->Sync(io_, nullptr).ok());
  ASSERT_TRUE(file->Append(" lost", io_, nullptr).ok());
  ASSERT_TRUE(file->Close(io_, nullptr).ok());
  ASSERT_TRUE(fs_->RenameFile(dir_.Sub("temporary"), dir_.Sub("final"), io_, nullptr).ok());
  fs_->CutPower();
  fs_->DropUnsyncedData();
  EXPECT_EQ(Contents(dir_.Sub("final")), "kept");
}

TEST_F(FaultInjectionFsTest, InjectedFaultsFailTheirOperationUntilCleared) {
  std::unique_ptr<rocksdb::FSWritableFile> file = Create(dir_.Sub("f"));
  fs_->FailAppends(true);
  EXPECT_TRUE(file->Append("x", io_, nullptr).IsIOError());
  EXPECT_EQ(fs_->AppendedBytes(dir_.Sub("f")), 0u);  // a failed append writes nothing
  fs_->FailAppends(false);
  fs_->FailSyncs(true);
  ASSERT_TRUE(file->Append("x", io_, nullptr).ok());
  EXPECT_TRUE(file->Sync(io_, nullptr).IsIOError());
  fs_->FailSyncs(false);
  EXPECT_TRUE(file->Sync(io_, nullptr).ok());
  fs_->FillDisk(true);
  EXPECT_TRUE(file->Append("x", io_, nullptr).IsNoSpace());
  uint64_t free_bytes = 1;
  ASSERT_TRUE(fs_->GetFreeSpace(dir_.path().string(), io_, &free_bytes, nullptr).ok());
  EXPECT_EQ(free_bytes, 0u);
  fs_->FillDisk(false);
  EXPECT_TRUE(file->Append("x", io_, nullptr).ok());
  EXPECT_EQ(fs_->SyncedBytes(dir_.Sub("f")), 1u);
  EXPECT_EQ(fs_->AppendedBytes(dir_.Sub("f")), 2u);
}

}  // namespace
}  // namespace cir::testing
