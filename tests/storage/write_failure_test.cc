// A commit that fails (a failing sync or append, a full disk) is never followed by business as
// usual: its units hear that the outcome is unknown, later writes are refused at once while reads
// go on, and the store recovers by itself once the fault clears, continuing the event log with
// neither gap nor duplicate.

#include <chrono>
#include <condition_variable>
#include <future>
#include <memory>
#include <mutex>
#include <set>
#include <string>
#include <vector>

#include "absl/strings/str_cat.h"
#include "errors/refusal.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "storage/rocksdb_child_store.h"
#include "tests/testing/fault_injection_fs.h"
#include "tests/storage/store_testing.h"
#include "tests/testing/temp_dir.h"

namespace cir::storage {
namespace {

using ::testing::ElementsAre;
using ::testing::HasSubstr;
using testing::RegisterChild;
using testing::RunUnit;
using testing::StoreOptions;
using testing::WriterBlocker;

enum class Fault { kFailingSync, kFailingAppend, kFullDisk };

std::string FaultName(const ::testing::TestParamInfo<Fault>& info) {
  switch (info.param) {
    case Fault::kFailingSync:
      return "FailingSync";
    case Fault::kFailingAppend:
      return "FailingAppend";
    case Fault::kFullDisk:
      return "FullDisk";
  }
  return "";
}

std::string ChildId(int i) { return absl::StrCat("F", std::string(6, 'A'), 1000 + i); }
std::string NhsNumber(int i) { return absl::StrCat("999", 1000000 + i); }

// What the store said of its availability, in order.
class AvailabilityLog {
 public:
  void Record(bool accepting) {
    std::lock_guard<std::mutex> lock(mu_);
    changes_.push_back(accepting);
    changed_.notify_all();
  }
  // Waits (at most a minute) until the latest change is `accepting`.
  bool AwaitLatest(bool accepting) {
    std::unique_lock<std::mutex> lock(mu_);
    return changed_.wait_for(lock, std::chrono::minutes(1), [&] {
      return !changes_.empty() && changes_.back() == accepting;
    });
  }
  std::vector<bool> changes() {
    std::lock_guard<std::mutex> lock(mu_);
    return changes_;
  }

 private:
  std::mutex mu_;
  std::condition_variable changed_;
  std::vector<bool> changes_;
};

class WriteFailureTest : public ::testing::TestWithParam<Fault> {
 protected:
  void SetUp() override {
    RocksDbStoreOptions options = StoreOptions(dir_.Sub("db"));
    options.file_system = fs_;
    options.write_recovery_interval = absl::Milliseconds(20);
    options.on_write_availability = [this](bool accepting) { availability_.Record(accepting); };
    absl::StatusOr<std::unique_ptr<ChildStore>> store = RocksDbChildStore::Open(options);
    ASSERT_TRUE(store.ok()) << store.status();
    store_ = *std::move(store);
  }

  void Inject(bool on) {
    switch (GetParam()) {
      case Fault::kFailingSync:
        fs_->FailSyncs(on);
        break;
      case Fault::kFailingAppend:
        fs_->FailAppends(on);
        break;
      case Fault::kFullDisk:
        fs_->FillDisk(on);
        break;
    }
  }

  cir::testing::TempDir dir_;
  std::shared_ptr<cir::testing::FaultInjectionFs> fs_ =
      std::make_shared<cir::testing::FaultInjectionFs>();
  AvailabilityLog availability_;
  std::unique_ptr<ChildStore> store_;
};

TEST_P(WriteFailureTest, InFlightUnitsHearOutcomeUnknownAndTheStoreRecoversOnceTheFaultClears) {
  constexpr int kBefore = 5, kInFlight = 3;
  for (int i = 0; i < kBefore; ++i) {
    ASSERT_TRUE(RunUnit(*store_, RegisterChild(ChildId(i), NhsNumber(i))).ok());
  }

  Inject(true);
  std::vector<std::promise<absl::Status>> in_flight(kInFlight);
  {
    WriterBlocker blocker(*store_);  // the three units commit together, and fail together
    for (int i = 0; i < kInFlight; ++i) {
      store_->Submit(RegisterChild(ChildId(kBefore + i), NhsNumber(kBefore + i)),
                     [&, i](absl::Status s) { in_flight[i].set_value(std::move(s)); });
    }
  }
  for (int i = 0; i < kInFlight; ++i) {
    absl::Status outcome = in_flight[i].get_future().get();
    EXPECT_EQ(outcome.code(), absl::StatusCode::kUnavailable) << outcome;
    EXPECT_EQ(errors::ReasonOf(outcome), v1::WRITE_OUTCOME_UNKNOWN) << outcome;
    EXPECT_THAT(outcome.message(), HasSubstr("unknown"));
    EXPECT_THAT(outcome.message(), HasSubstr("retrying with the same ids is safe"));
  }

  // Writes are refused at once, inside Submit, and the server is told.
  ASSERT_TRUE(availability_.AwaitLatest(false));
  absl::Status availability = store_->WriteAvailability();
  EXPECT_EQ(availability.code(), absl::StatusCode::kUnavailable);
  EXPECT_EQ(errors::ReasonOf(availability), v1::WRITES_SUSPENDED);
  bool refused_inside_submit = false;
  absl::Status refused;
  store_->Submit(RegisterChild(ChildId(99), NhsNumber(99)), [&](absl::Status s) {
    refused = std::move(s);
    refused_inside_submit = true;
  });
  EXPECT_TRUE(refused_inside_submit);
  EXPECT_EQ(errors::ReasonOf(refused), v1::WRITES_SUSPENDED) << refused;
  EXPECT_THAT(refused.message(), HasSubstr("nothing was written"));

  // Reads go on, also after an attempt to recover has met the fault. RocksDB will not resume from
  // a failed log write: the store reopens the database, but only once a test write to the folder
  // succeeds (a new file each attempt), so the database it reads from stays open meanwhile. After
  // a lack of space RocksDB's own recovery polls the free space and never closes the database.
  if (GetParam() != Fault::kFullDisk) {
    // Two more attempts begun: the first has been refused and has finished.
    const uint64_t created = fs_->FilesCreated();
    ASSERT_TRUE(fs_->AwaitFilesCreatedBeyond(created + 1, std::chrono::minutes(1)));
  }
  for (int i = 0; i < kBefore; ++i) {
    absl::StatusOr<std::optional<StoredChild>> child = store_->GetChild(ChildId(i));
    ASSERT_TRUE(child.ok()) << child.status();
    EXPECT_TRUE(child->has_value());
    EXPECT_TRUE(store_->Lookup(IndexKind::kNhsNumber, NhsNumber(i))->has_value());
  }
  EXPECT_TRUE(store_->ReadEvents(0, 100).ok());

  Inject(false);
  ASSERT_TRUE(availability_.AwaitLatest(true)) << "the store did not recover";
  EXPECT_THAT(availability_.changes(), ElementsAre(false, true));
  EXPECT_TRUE(store_->WriteAvailability().ok());
  ASSERT_TRUE(RunUnit(*store_, RegisterChild(ChildId(50), NhsNumber(50))).ok());

  // The log runs 1, 2, 3, ... with one event per registered child: no gap, no duplicate, and a
  // failed unit is either wholly there (child, index entry, event) or wholly absent.
  auto expect_whole_and_gap_free = [&](const std::vector<int>& written_after) {
    absl::StatusOr<std::vector<StoredEvent>> events = store_->ReadEvents(0, 1000);
    ASSERT_TRUE(events.ok()) << events.status();
    std::set<std::string> children_with_events;
    for (size_t i = 0; i < events->size(); ++i) {
      EXPECT_EQ((*events)[i].sequence(), i + 1);
      EXPECT_TRUE(children_with_events.insert((*events)[i].child_id()).second)
          << "two events for " << (*events)[i].child_id();
    }
    for (int i = 0; i < kBefore; ++i) EXPECT_TRUE(children_with_events.count(ChildId(i)));
    for (int i : written_after) EXPECT_TRUE(children_with_events.count(ChildId(i))) << i;
    for (int i = kBefore; i < kBefore + kInFlight; ++i) {
      bool stored = store_->GetChild(ChildId(i))->has_value();
      EXPECT_EQ(store_->Lookup(IndexKind::kNhsNumber, NhsNumber(i))->has_value(), stored);
      EXPECT_EQ(children_with_events.count(ChildId(i)) == 1, stored) << ChildId(i);
    }
    EXPECT_FALSE(store_->GetChild(ChildId(99))->has_value());
  };
  expect_whole_and_gap_free({50});

  // And the log the failure left behind replays cleanly: the store reopens on the same folder and
  // disk, with the same answers, and goes on numbering events after the last.
  store_.reset();
  ASSERT_NO_FATAL_FAILURE(SetUp());
  ASSERT_TRUE(RunUnit(*store_, RegisterChild(ChildId(51), NhsNumber(51))).ok());
  expect_whole_and_gap_free({50, 51});
}

// The store's file system, except that the store's probe of whether the disk takes synced writes
// again goes to the machine's own disk: so that, with every sync held up, a reopen gets past the
// probe and is held up inside closing or opening the database.
class ProbeBypassingFs final : public rocksdb::FileSystemWrapper {
 public:
  explicit ProbeBypassingFs(std::shared_ptr<rocksdb::FileSystem> target)
      : rocksdb::FileSystemWrapper(std::move(target)) {}
  const char* Name() const override { return "CirProbeBypassingFs"; }
  rocksdb::IOStatus NewWritableFile(const std::string& path, const rocksdb::FileOptions& options,
                                    std::unique_ptr<rocksdb::FSWritableFile>* result,
                                    rocksdb::IODebugContext* dbg) override {
    if (path.ends_with("/CIR-WRITE-PROBE")) {
      return rocksdb::FileSystem::Default()->NewWritableFile(path, options, result, dbg);
    }
    return target()->NewWritableFile(path, options, result, dbg);
  }
};

TEST(StoreReopenTest, AReadDuringAHeldUpReopenIsAnsweredAtOnce) {
  cir::testing::TempDir dir;
  auto faults = std::make_shared<cir::testing::FaultInjectionFs>();
  RocksDbStoreOptions options = StoreOptions(dir.Sub("db"));
  options.file_system = std::make_shared<ProbeBypassingFs>(faults);
  options.write_recovery_interval = absl::Milliseconds(20);
  AvailabilityLog availability;
  options.on_write_availability = [&](bool accepting) { availability.Record(accepting); };
  absl::StatusOr<std::unique_ptr<ChildStore>> opened = RocksDbChildStore::Open(options);
  ASSERT_TRUE(opened.ok()) << opened.status();
  ChildStore& store = **opened;
  ASSERT_TRUE(RunUnit(store, RegisterChild(ChildId(0), NhsNumber(0))).ok());

  // A failed log write, which RocksDB does not resume from: the store reopens its database, and
  // the reopen's own syncs hang.
  faults->FailAppends(true);
  EXPECT_FALSE(RunUnit(store, RegisterChild(ChildId(1), NhsNumber(1))).ok());
  ASSERT_TRUE(availability.AwaitLatest(false));
  faults->HangSyncs(true);
  faults->FailAppends(false);
  ASSERT_TRUE(faults->AwaitHungSync(std::chrono::seconds(30)));

  std::future<absl::StatusOr<std::optional<StoredChild>>> read =
      std::async(std::launch::async, [&] { return store.GetChild(ChildId(0)); });
  const bool answered = read.wait_for(std::chrono::seconds(5)) == std::future_status::ready;
  faults->HangSyncs(false);  // whatever happened, nothing stays held up
  absl::StatusOr<std::optional<StoredChild>> child = read.get();
  EXPECT_TRUE(answered) << "the read waited for the reopen";
  if (child.ok()) {
    EXPECT_TRUE(child->has_value());
  } else {
    EXPECT_EQ(errors::ReasonOf(child.status()), v1::STORE_REOPENING) << child.status();
  }
  ASSERT_TRUE(availability.AwaitLatest(true)) << "the store did not recover";
  EXPECT_TRUE(store.GetChild(ChildId(0)).ok());
}

INSTANTIATE_TEST_SUITE_P(Faults, WriteFailureTest,
                         ::testing::Values(Fault::kFailingSync, Fault::kFailingAppend,
                                           Fault::kFullDisk),
                         FaultName);

}  // namespace
}  // namespace cir::storage
