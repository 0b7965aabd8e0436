#include "audit_log/audit_log_reader.h"

#include <algorithm>
#include <string>
#include <utility>
#include <vector>

#include "absl/strings/str_cat.h"
#include "audit/merkle_tree.h"
#include "errors/refusal.h"

namespace cir::audit_log {
namespace {

constexpr int kDefaultPage = 1000;
constexpr int kMaxPage = 10000;

absl::StatusOr<int> PageSize(int requested, absl::string_view field) {
  if (requested == 0) return kDefaultPage;
  if (requested < 0 || requested > kMaxPage) {
    return errors::InvalidField(field,
                                absl::StrCat("give 1 to ", kMaxPage, ", or 0 for ", kDefaultPage));
  }
  return requested;
}

std::string Bytes(const audit::Hash& hash) { return std::string(hash.begin(), hash.end()); }

absl::Status SizeOutOfRange(uint64_t size) {
  return errors::Refusal(
      absl::StatusCode::kOutOfRange, v1::AUDIT_SIZE_OUT_OF_RANGE,
      absl::StrCat("the audit log holds ", size, " entries; ask for a size up to that"),
      {{"tree_size", absl::StrCat(size)}});
}

}  // namespace

absl::StatusOr<v1::ReadAuditEntriesResponse> AuditLogReader::ReadEntries(
    const v1::ReadAuditEntriesRequest& request) const {
  absl::StatusOr<int> page = PageSize(request.max_entries(), "max_entries");
  if (!page.ok()) return page.status();
  v1::ReadAuditEntriesResponse answer;
  answer.set_tree_size(log_.AuditHead().size);
  absl::StatusOr<std::vector<v1::AuditRecord>> records =
      log_.ReadAuditEntries(request.from_index(), static_cast<size_t>(*page));
  if (!records.ok()) return records.status();
  for (v1::AuditRecord& record : *records) *answer.add_records() = std::move(record);
  return answer;
}

absl::StatusOr<v1::ListCheckpointsResponse> AuditLogReader::ListCheckpoints(
    const v1::ListCheckpointsRequest& request) const {
  absl::StatusOr<int> page = PageSize(request.max_checkpoints(), "max_checkpoints");
  if (!page.ok()) return page.status();
  absl::StatusOr<std::vector<v1::AuditCheckpoint>> checkpoints =
      log_.ReadAuditCheckpoints(request.from_size(), static_cast<size_t>(*page));
  if (!checkpoints.ok()) return checkpoints.status();
  v1::ListCheckpointsResponse answer;
  for (v1::AuditCheckpoint& checkpoint : *checkpoints) {
    *answer.add_checkpoints() = std::move(checkpoint);
  }
  return answer;
}

absl::StatusOr<v1::ProveConsistencyResponse> AuditLogReader::ProveConsistency(
    const v1::ProveConsistencyRequest& request) const {
  const uint64_t size = log_.AuditHead().size;
  if (request.new_size() > size) return SizeOutOfRange(size);
  if (request.old_size() > request.new_size()) {
    return errors::InvalidField("old_size", "must not exceed new_size");
  }
  absl::StatusOr<std::vector<audit::Hash>> proof = audit::ConsistencyProof(
      storage::AuditLogSubtrees(log_), request.old_size(), request.new_size());
  if (!proof.ok()) return proof.status();
  v1::ProveConsistencyResponse answer;
  for (const audit::Hash& hash : *proof) answer.add_proof(Bytes(hash));
  return answer;
}

absl::StatusOr<v1::GetAccessReportResponse> AuditLogReader::GetAccessReport(
    const v1::GetAccessReportRequest& request, v1::AuditEntry& entry) const {
  v1::ResolveRequest resolve;
  resolve.set_identifier(request.child_id());
  absl::StatusOr<v1::ResolveResponse> child = registry_.Resolve(resolve);
  if (!child.ok()) return child.status();
  // The child, and every record merged into it: their accesses are the child's.
  std::vector<std::string> ids = {child->record().child_id()};
  for (const std::string& merged : child->record().merged_from_child_ids()) ids.push_back(merged);
  entry.add_child_ids(child->record().child_id());
  absl::StatusOr<std::optional<v1::AuditCheckpoint>> checkpoint = log_.LatestAuditCheckpoint();
  if (!checkpoint.ok()) return checkpoint.status();
  v1::GetAccessReportResponse answer;
  if (!checkpoint->has_value()) return answer;  // nothing signed yet
  *answer.mutable_checkpoint() = **checkpoint;
  const uint64_t size = (*checkpoint)->tree_size();
  std::vector<uint64_t> indexes;
  for (const std::string& id : ids) {
    absl::StatusOr<std::vector<uint64_t>> naming = log_.AuditEntriesNaming(id);
    if (!naming.ok()) return naming.status();
    for (uint64_t index : *naming) {
      if (index < size) indexes.push_back(index);
    }
  }
  std::sort(indexes.begin(), indexes.end());
  indexes.erase(std::unique(indexes.begin(), indexes.end()), indexes.end());
  const storage::AuditLogSubtrees tree(log_);
  for (uint64_t index : indexes) {
    absl::StatusOr<std::vector<v1::AuditRecord>> record = log_.ReadAuditEntries(index, 1);
    if (!record.ok()) return record.status();
    if (record->empty() || record->front().index() != index) {
      return errors::Refusal(absl::StatusCode::kDataLoss, v1::STORED_DATA_UNREADABLE,
                             "an audit entry named in the index is missing from the log");
    }
    absl::StatusOr<std::vector<audit::Hash>> proof = audit::InclusionProof(tree, index, size);
    if (!proof.ok()) return proof.status();
    v1::AccessReportEntry& reported = *answer.add_entries();
    *reported.mutable_record() = std::move(record->front());
    for (const audit::Hash& hash : *proof) reported.add_inclusion_proof(Bytes(hash));
  }
  return answer;
}

}  // namespace cir::audit_log
