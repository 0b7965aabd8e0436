// The AuditLog RPCs' answers over a real store's audit log, without gRPC: the pages and sizes
// they refuse, the proofs they give, and a child's access report with the records merged into it.
// Through the server and `cir audit`: tests/cli/audit_cli_test.cc.

#include "audit_log/audit_log_reader.h"

#include <future>
#include <memory>
#include <string>
#include <utility>
#include <vector>

#include "audit/checkpoint_signer.h"
#include "audit/merkle_tree.h"
#include "gtest/gtest.h"
#include "tests/registry/registry_fixture.h"

namespace cir::audit_log {
namespace {

class AuditLogReaderTest : public registry::RegistryTest {
 protected:
  void SetUp() override {
    registry::RegistryTest::SetUp();
    reader_ = std::make_unique<AuditLogReader>(store_->audit_log(), *registry_);
  }

  // Appends an entry naming `child_ids`, as a call's entry is appended with its unit of work.
  void Append(const std::vector<std::string>& child_ids) {
    v1::AuditEntry entry;
    entry.set_agency_id("test-agency");
    entry.set_method("/cir.v1.ChildRegistry/Resolve");
    for (const std::string& id : child_ids) entry.add_child_ids(id);
    storage::SubmitOptions options;
    options.audit_entry = [entry](const absl::Status&) { return entry; };
    std::promise<absl::Status> written;
    store_->Submit([](storage::WriteTxn&) { return absl::OkStatus(); },
                   [&written](absl::Status s) { written.set_value(std::move(s)); },
                   std::move(options));
    ASSERT_TRUE(written.get_future().get().ok());
  }

  // Signs and stores a checkpoint of the log as it is; returns its size.
  uint64_t SignCheckpoint() {
    if (signer_ == nullptr) {
      const std::string key = dir_.Sub("signing.pem");
      EXPECT_TRUE(audit::CheckpointSigner::GenerateKeyFile(key).ok());
      absl::StatusOr<std::unique_ptr<audit::CheckpointSigner>> signer =
          audit::CheckpointSigner::FromKeyFile(key);
      EXPECT_TRUE(signer.ok()) << signer.status();
      signer_ = *std::move(signer);
    }
    const storage::AuditAppender::Head head = store_->audit_log().AuditHead();
    const audit::Checkpoint checkpoint{
        .tree_size = head.size, .root = head.root, .time = absl::FromUnixSeconds(1795600000)};
    v1::AuditCheckpoint stored;
    stored.set_tree_size(head.size);
    stored.set_root_hash(std::string(head.root.begin(), head.root.end()));
    stored.set_signed_at_unix_seconds(1795600000);
    stored.set_signature(*signer_->Sign(checkpoint));
    stored.set_key_id(signer_->public_key().key_id());
    stored.set_signed_text(*audit::CheckpointText(checkpoint));
    std::promise<absl::Status> written;
    store_->Submit([&stored](storage::WriteTxn& txn) { return txn.PutAuditCheckpoint(stored); },
                   [&written](absl::Status s) { written.set_value(std::move(s)); });
    EXPECT_TRUE(written.get_future().get().ok());
    return head.size;
  }

  static audit::Hash HashOf(const std::string& bytes) { return *audit::HashFromBytes(bytes); }
  static std::vector<audit::Hash> HashesOf(
      const google::protobuf::RepeatedPtrField<std::string>& proof) {
    std::vector<audit::Hash> hashes;
    for (const std::string& bytes : proof) hashes.push_back(HashOf(bytes));
    return hashes;
  }

  std::unique_ptr<AuditLogReader> reader_;
  std::unique_ptr<audit::CheckpointSigner> signer_;
};

TEST_F(AuditLogReaderTest, PageSizesOutsideOneToTenThousandAreRefusedNamingTheField) {
  Append({});
  for (int page : {-1, 10001}) {
    v1::ReadAuditEntriesRequest entries;
    entries.set_max_entries(page);
    ExpectRefused(reader_->ReadEntries(entries).status(), absl::StatusCode::kInvalidArgument,
                  v1::FIELD_INVALID, "max_entries");
    v1::ListCheckpointsRequest checkpoints;
    checkpoints.set_max_checkpoints(page);
    ExpectRefused(reader_->ListCheckpoints(checkpoints).status(),
                  absl::StatusCode::kInvalidArgument, v1::FIELD_INVALID, "max_checkpoints");
  }
  v1::ReadAuditEntriesRequest all;  // 0: the default page
  absl::StatusOr<v1::ReadAuditEntriesResponse> read = reader_->ReadEntries(all);
  ASSERT_TRUE(read.ok()) << read.status();
  EXPECT_EQ(read->tree_size(), 1u);
  EXPECT_EQ(read->records_size(), 1);
}

TEST_F(AuditLogReaderTest, AConsistencyProofVerifiesAndOnePastTheLogIsOutOfRange) {
  for (int i = 0; i < 11; ++i) Append({});
  const storage::AuditLogSubtrees tree(store_->audit_log());
  v1::ProveConsistencyRequest request;
  request.set_old_size(5);
  request.set_new_size(11);
  absl::StatusOr<v1::ProveConsistencyResponse> proof = reader_->ProveConsistency(request);
  ASSERT_TRUE(proof.ok()) << proof.status();
  EXPECT_TRUE(audit::VerifyConsistency(5, 11, *audit::RootOf(tree, 5), *audit::RootOf(tree, 11),
                                       HashesOf(proof->proof()))
                  .ok());

  request.set_new_size(12);
  ExpectRefused(reader_->ProveConsistency(request).status(), absl::StatusCode::kOutOfRange,
                v1::AUDIT_SIZE_OUT_OF_RANGE, "");
  request.set_old_size(6);
  request.set_new_size(5);
  ExpectRefused(reader_->ProveConsistency(request).status(), absl::StatusCode::kInvalidArgument,
                v1::FIELD_INVALID, "old_size");
}

TEST_F(AuditLogReaderTest, BeforeAnyCheckpointAnAccessReportHasNoCheckpointAndNoEntries) {
  const std::string child = RegisterNew(1);
  Append({child});
  v1::GetAccessReportRequest request;
  request.set_child_id(child);
  v1::AuditEntry entry;
  absl::StatusOr<v1::GetAccessReportResponse> report = reader_->GetAccessReport(request, entry);
  ASSERT_TRUE(report.ok()) << report.status();
  EXPECT_FALSE(report->has_checkpoint());
  EXPECT_EQ(report->entries_size(), 0);
  ASSERT_EQ(entry.child_ids_size(), 1);
  EXPECT_EQ(entry.child_ids(0), child);
}

TEST_F(AuditLogReaderTest,
       AnAccessReportListsTheChildsEntriesAndItsMergedRecordsOnceEachWithProofs) {
  const std::string survivor = RegisterNew(1);
  const std::string other = RegisterNew(2);
  const std::string retired = RegisterNew(3);
  v1::MergeRecordsRequest merge = MergeRequest(NewRequestId(), survivor, retired);
  merge.set_retired_nhs_number_superseded(true);
  ASSERT_TRUE(MergeRecords(merge).ok());
  Append({survivor});           // 0
  Append({other});              // 1
  Append({retired});            // 2
  Append({survivor, retired});  // 3: listed once
  Append({});                   // 4
  const uint64_t size = SignCheckpoint();
  Append({survivor});  // 5: after the checkpoint, not listed

  // Asked by the retired record's identifier, the report is the survivor's.
  v1::GetAccessReportRequest request;
  request.set_child_id(retired);
  v1::AuditEntry entry;
  absl::StatusOr<v1::GetAccessReportResponse> report = reader_->GetAccessReport(request, entry);
  ASSERT_TRUE(report.ok()) << report.status();
  ASSERT_EQ(entry.child_ids_size(), 1);
  EXPECT_EQ(entry.child_ids(0), survivor);
  EXPECT_EQ(report->checkpoint().tree_size(), size);
  const audit::Hash root = HashOf(report->checkpoint().root_hash());
  std::vector<uint64_t> listed;
  for (const v1::AccessReportEntry& reported : report->entries()) {
    listed.push_back(reported.record().index());
    EXPECT_TRUE(audit::VerifyInclusion(audit::LeafHash(reported.record().entry()),
                                       reported.record().index(), size,
                                       HashesOf(reported.inclusion_proof()), root)
                    .ok())
        << reported.record().index();
  }
  EXPECT_EQ(listed, (std::vector<uint64_t>{0, 2, 3}));
}

TEST_F(AuditLogReaderTest, AnAccessReportOfNobodyIsRefusedAsNotFoundAndNamesNoChild) {
  const std::string child = RegisterNew(1);
  Append({child});
  SignCheckpoint();
  v1::GetAccessReportRequest request;
  request.set_child_id(testing::FictionalNhsNumber(9));
  v1::AuditEntry entry;
  absl::StatusOr<v1::GetAccessReportResponse> report = reader_->GetAccessReport(request, entry);
  EXPECT_EQ(report.status().code(), absl::StatusCode::kNotFound) << report.status();
  EXPECT_EQ(entry.child_ids_size(), 0);
}

}  // namespace
}  // namespace cir::audit_log
