// Proof of the sync: every unit acknowledged before a power cut is found after it. The same run
// with syncing switched off must lose acknowledged units, which shows the harness able to fail.

#include <atomic>
#include <chrono>
#include <condition_variable>
#include <future>
#include <mutex>
#include <random>
#include <string>
#include <thread>
#include <vector>

#include "absl/strings/str_cat.h"
#include "gtest/gtest.h"
#include "storage/rocksdb_child_store.h"
#include "tests/testing/fault_injection_fs.h"
#include "tests/storage/store_testing.h"
#include "tests/testing/temp_dir.h"

namespace cir::storage {
namespace {

using testing::RunUnit;
using testing::StoreOptions;

// Each unit claims one UPN-shaped key of its own in the identifier index.
std::string Key(int writer, int i) { return absl::StrCat("K", writer, "-", i); }

class PowerCutTest : public ::testing::TestWithParam<bool> {
 protected:
  cir::testing::TempDir dir_;
};

TEST_P(PowerCutTest, EveryUnitAcknowledgedBeforeAPowerCutIsFoundAfterIt) {
  const bool sync_writes = GetParam();
  const std::string path = dir_.Sub("db");
  // The store exists (and is durable) before the session under test.
  ASSERT_TRUE(RocksDbChildStore::Open(StoreOptions(path)).ok());

  auto fs = std::make_shared<cir::testing::FaultInjectionFs>();
  RocksDbStoreOptions options = StoreOptions(path);
  options.file_system = fs;
  options.sync_writes = sync_writes;
  absl::StatusOr<std::unique_ptr<ChildStore>> opened = RocksDbChildStore::Open(options);
  ASSERT_TRUE(opened.ok()) << opened.status();
  std::unique_ptr<ChildStore> store = *std::move(opened);

  std::random_device seed_source;
  const unsigned seed = seed_source();
  std::mt19937 random(seed);
  const int cut_after = std::uniform_int_distribution<int>(1000, 3000)(random);
  SCOPED_TRACE(absl::StrCat("seed ", seed, ": power cut after ", cut_after, " acknowledgements"));

  constexpr int kWriters = 8;
  std::mutex mu;
  std::condition_variable progress;
  std::vector<std::string> acknowledged;
  std::atomic<bool> stop = false;
  std::vector<std::thread> writers;
  for (int w = 0; w < kWriters; ++w) {
    writers.emplace_back([&, w] {
      for (int i = 0; !stop; ++i) {
        std::string key = Key(w, i);
        absl::Status s = RunUnit(*store, [key](WriteTxn& txn) {
          return txn.PutIndex(IndexKind::kUpn, key, IndexEntry{"PPPPPPPPPPP", ""});
        });
        if (!s.ok()) continue;  // not acknowledged (the power is out): promises nothing
        std::lock_guard<std::mutex> lock(mu);
        acknowledged.push_back(key);
        progress.notify_all();
      }
    });
  }
  {
    std::unique_lock<std::mutex> lock(mu);
    ASSERT_TRUE(progress.wait_for(lock, std::chrono::minutes(1), [&] {
      return acknowledged.size() >= static_cast<size_t>(cut_after);
    }));
  }
  fs->CutPower();  // while every writer has a unit in flight
  stop = true;
  for (std::thread& writer : writers) writer.join();
  store.reset();
  fs->DropUnsyncedData();

  opened = RocksDbChildStore::Open(StoreOptions(path));
  ASSERT_TRUE(opened.ok()) << opened.status();
  std::vector<IndexKey> keys;
  for (const std::string& key : acknowledged) keys.push_back({IndexKind::kUpn, key});
  std::vector<absl::StatusOr<std::optional<IndexEntry>>> found = (*opened)->LookupMany(keys);
  size_t lost = 0;
  for (size_t i = 0; i < found.size(); ++i) {
    ASSERT_TRUE(found[i].ok()) << found[i].status();
    lost += !found[i]->has_value();
  }
  if (sync_writes) {
    EXPECT_EQ(lost, 0u) << "of " << acknowledged.size() << " acknowledged units";
  } else {
    EXPECT_GT(lost, 0u) << "without syncing, the power cut should have lost acknowledged units";
  }
}

INSTANTIATE_TEST_SUITE_P(Syncing, PowerCutTest, ::testing::Values(true, false),
                         [](const ::testing::TestParamInfo<bool>& info) {
                           return info.param ? "SyncedWrites" : "UnsyncedWrites";
                         });

}  // namespace
}  // namespace cir::storage
