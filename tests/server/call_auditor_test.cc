// A read's own audit unit, against a real store: the entry is written whatever becomes of the
// call, and says what the caller was given.

#include "server/call_auditor.h"

#include <filesystem>
#include <future>
#include <memory>
#include <string>
#include <utility>
#include <vector>

#include "absl/strings/str_format.h"
#include "errors/refusal.h"
#include "gtest/gtest.h"
#include "storage/rocksdb_child_store.h"
#include "tests/testing/temp_dir.h"

namespace cir::server {
namespace {

constexpr char kMethod[] = "/cir.v1.ChildRegistry/Resolve";
constexpr char kChildId[] = "ABCDEFGHJK1";

class CallAuditorTest : public ::testing::Test {
 protected:
  void SetUp() override {
    storage::RocksDbStoreOptions options;
    options.path = dir_.Sub("db");
    options.create_if_missing = true;
    absl::StatusOr<std::unique_ptr<storage::ChildStore>> store =
        storage::RocksDbChildStore::Open(options);
    ASSERT_TRUE(store.ok()) << store.status();
    store_ = *std::move(store);
    auditor_ = std::make_unique<CallAuditor>(*store_);
  }

  // A resolve's entry that names one child and the fields it returned, with `outcome`.
  static v1::AuditEntry ResolveEntry(const absl::Status& outcome) {
    v1::AuditEntry entry = CallAuditor::EntryFor(nullptr, "agency-a", kMethod, outcome);
    if (outcome.ok()) {
      entry.add_child_ids(kChildId);
      entry.add_fields("child_id");
      entry.add_fields("nhs_number");
    }
    return entry;
  }

  // Records `entry` for a call described by `submit`; what the answer heard.
  absl::Status Record(v1::AuditEntry entry, storage::SubmitOptions submit) {
    std::promise<absl::Status> heard;
    auditor_->Record(
        std::move(entry), [&heard](absl::Status s) { heard.set_value(std::move(s)); },
        std::move(submit));
    return heard.get_future().get();
  }

  static storage::SubmitOptions Gone() {
    storage::SubmitOptions submit;
    submit.deadline = absl::InfinitePast();
    return submit;
  }

  std::vector<v1::AuditEntry> Entries() {
    absl::StatusOr<std::vector<v1::AuditRecord>> records =
        store_->audit_log().ReadAuditEntries(0, 100);
    EXPECT_TRUE(records.ok()) << records.status();
    std::vector<v1::AuditEntry> entries;
    for (const v1::AuditRecord& record : *records)
      entries.emplace_back().ParseFromString(record.entry());
    return entries;
  }

  testing::TempDir dir_;
  std::unique_ptr<storage::ChildStore> store_;
  std::unique_ptr<CallAuditor> auditor_;
};

TEST_F(CallAuditorTest, AReadWhoseCallerWaitsIsWrittenAsItWasMade) {
  EXPECT_TRUE(Record(ResolveEntry(absl::OkStatus()), {}).ok());
  std::vector<v1::AuditEntry> entries = Entries();
  ASSERT_EQ(entries.size(), 1u);
  EXPECT_EQ(entries[0].status_code(), 0);
  EXPECT_EQ(entries[0].child_ids_size(), 1);
  EXPECT_EQ(entries[0].fields_size(), 2);
}

TEST_F(CallAuditorTest, AReadWhoseCallerHasGoneIsWrittenAsAbandonedWithNothingReturned) {
  absl::Status heard = Record(ResolveEntry(absl::OkStatus()), Gone());
  EXPECT_EQ(heard.code(), absl::StatusCode::kDeadlineExceeded) << heard;
  EXPECT_EQ(errors::ReasonOf(heard), v1::CALL_ABANDONED);
  std::vector<v1::AuditEntry> entries = Entries();
  ASSERT_EQ(entries.size(), 1u);
  EXPECT_EQ(entries[0].status_code(), static_cast<int>(absl::StatusCode::kDeadlineExceeded));
  EXPECT_EQ(entries[0].reason(), "CALL_ABANDONED");
  EXPECT_EQ(entries[0].fields_size(), 0);
  // The lookup was made: the child's access report still lists it.
  ASSERT_EQ(entries[0].child_ids_size(), 1);
  absl::StatusOr<std::vector<uint64_t>> naming = store_->audit_log().AuditEntriesNaming(kChildId);
  ASSERT_TRUE(naming.ok()) << naming.status();
  EXPECT_EQ(naming->size(), 1u);
}

TEST_F(CallAuditorTest, ARefusalWhoseCallerHasGoneKeepsItsOwnOutcome) {
  const absl::Status refusal =
      errors::Refusal(absl::StatusCode::kPermissionDenied, v1::METHOD_NOT_PERMITTED, "no");
  Record(ResolveEntry(refusal), Gone()).IgnoreError();
  std::vector<v1::AuditEntry> entries = Entries();
  ASSERT_EQ(entries.size(), 1u);
  EXPECT_EQ(entries[0].status_code(), static_cast<int>(absl::StatusCode::kPermissionDenied));
  EXPECT_EQ(entries[0].reason(), "METHOD_NOT_PERMITTED");
}

TEST(CallAuditorIndexTest, AChildsEntriesAreFoundWhetherTheirIndexIsInTheMemtableOrFlushed) {
  // Memtables of 256 KiB in all: the index by child (a key for each child an entry names) is
  // flushed many times over while the entries below are written, and its newest keys are still
  // in the memtable when read.
  testing::TempDir dir;
  storage::RocksDbStoreOptions options;
  options.path = dir.Sub("db");
  options.create_if_missing = true;
  options.memtable_bytes = 256 << 10;
  absl::StatusOr<std::unique_ptr<storage::ChildStore>> store =
      storage::RocksDbChildStore::Open(options);
  ASSERT_TRUE(store.ok()) << store.status();
  CallAuditor auditor(**store);
  constexpr int kEntries = 2000;
  std::vector<std::promise<absl::Status>> heard(kEntries);
  for (int i = 0; i < kEntries; ++i) {
    v1::AuditEntry entry = CallAuditor::EntryFor(nullptr, "agency-a", kMethod, absl::OkStatus());
    entry.add_child_ids(kChildId);
    // Fifty others in each, "B" and ten digits: each named once in all.
    for (int other = 0; other < 50; ++other) {
      entry.add_child_ids(absl::StrFormat("B%010d", (i * 50 + other) % 100000));
    }
    auditor.Record(std::move(entry),
                   [&heard, i](absl::Status s) { heard[i].set_value(std::move(s)); }, {});
  }
  for (std::promise<absl::Status>& answer : heard) {
    ASSERT_TRUE(answer.get_future().get().ok());
  }
  size_t tables = 0;
  for (const auto& file : std::filesystem::directory_iterator(options.path)) {
    tables += file.path().extension() == ".sst";
  }
  EXPECT_GT(tables, 2u) << "nothing was flushed: the test proves nothing";
  absl::StatusOr<std::vector<uint64_t>> naming = (*store)->audit_log().AuditEntriesNaming(kChildId);
  ASSERT_TRUE(naming.ok()) << naming.status();
  ASSERT_EQ(naming->size(), static_cast<size_t>(kEntries));
  for (int i = 0; i < kEntries; ++i) EXPECT_EQ((*naming)[i], static_cast<uint64_t>(i));
  absl::StatusOr<std::vector<uint64_t>> other =
      (*store)->audit_log().AuditEntriesNaming("B0000000007");
  ASSERT_TRUE(other.ok()) << other.status();
  EXPECT_EQ(other->size(), 1u);
}

}  // namespace
}  // namespace cir::server
