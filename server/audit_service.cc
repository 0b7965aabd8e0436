#include "server/audit_service.h"

#include <algorithm>
#include <string>
#include <utility>
#include <vector>

#include "absl/strings/str_cat.h"
#include "audit/merkle_tree.h"
#include "errors/refusal.h"
#include "server/grpc_status.h"
#include "server/log.h"

namespace cir::server {
namespace {

constexpr int kDefaultPage = 1000;
constexpr int kMaxPage = 10000;

// The store's subtrees as the proofs read them.
class StoredSubtrees final : public audit::SubtreeHashes {
 public:
  explicit StoredSubtrees(storage::AuditLogStore& log) : log_(log) {}
  absl::StatusOr<audit::Hash> Perfect(int level, uint64_t index) const override {
    return log_.AuditSubtree(storage::AuditNode{level, index});
  }

 private:
  storage::AuditLogStore& log_;
};

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
  return errors::Refusal(absl::StatusCode::kOutOfRange, v1::AUDIT_SIZE_OUT_OF_RANGE,
                         absl::StrCat("the audit log holds ", size,
                                      " entries; ask for a size up "
                                      "to that"),
                         {{"tree_size", absl::StrCat(size)}});
}

}  // namespace

template <typename Response, typename Answer>
grpc::ServerUnaryReactor* AuditService::Serve(grpc::CallbackServerContext* context,
                                              Response* response, absl::string_view method,
                                              Answer answer) {
  grpc::ServerUnaryReactor* reactor = context->DefaultReactor();
  const std::string path = MethodPath(v1::AuditLog::service_full_name(), method);
  absl::StatusOr<access::Caller> caller = gate_.Admit(*context, path);
  v1::AuditEntry entry;
  absl::StatusOr<Response> result = caller.ok() ? absl::StatusOr<Response>(Response())
                                                : absl::StatusOr<Response>(caller.status());
  if (caller.ok()) {
    entry = CallAuditor::EntryFor(&*caller, "", path, absl::OkStatus());
    result = answer(entry);
    CallAuditor::SetOutcome(result.status(), entry);
  } else {
    entry = CallAuditor::EntryFor(nullptr, gate_.AgencyIdOf(*context), path, caller.status());
    gate_.NoteUnidentified(*context, entry);
  }
  storage::SubmitOptions submit;
  submit.deadline = absl::FromChrono(context->deadline());
  submit.is_cancelled = [context] { return context->IsCancelled(); };
  auditor_.Record(
      std::move(entry),
      [reactor, response, method = std::string(method),
       result = std::move(result)](absl::Status audited) mutable {
        if (result.ok() && !audited.ok()) result = std::move(audited);
        if (!result.ok()) {
          LogCallFailed(method, result.status());
          reactor->Finish(ToGrpcStatus(result.status()));
          return;
        }
        *response = *std::move(result);
        reactor->Finish(grpc::Status::OK);
      },
      std::move(submit));
  return reactor;
}

grpc::ServerUnaryReactor* AuditService::ReadEntries(grpc::CallbackServerContext* context,
                                                    const v1::ReadAuditEntriesRequest* request,
                                                    v1::ReadAuditEntriesResponse* response) {
  return Serve(context, response, "ReadEntries",
               [&](v1::AuditEntry&) -> absl::StatusOr<v1::ReadAuditEntriesResponse> {
                 absl::StatusOr<int> page = PageSize(request->max_entries(), "max_entries");
                 if (!page.ok()) return page.status();
                 v1::ReadAuditEntriesResponse answer;
                 answer.set_tree_size(log_.AuditHead().size);
                 absl::StatusOr<std::vector<v1::AuditRecord>> records =
                     log_.ReadAuditEntries(request->from_index(), static_cast<size_t>(*page));
                 if (!records.ok()) return records.status();
                 for (v1::AuditRecord& record : *records) *answer.add_records() = std::move(record);
                 return answer;
               });
}

grpc::ServerUnaryReactor* AuditService::ListCheckpoints(grpc::CallbackServerContext* context,
                                                        const v1::ListCheckpointsRequest* request,
                                                        v1::ListCheckpointsResponse* response) {
  return Serve(context, response, "ListCheckpoints",
               [&](v1::AuditEntry&) -> absl::StatusOr<v1::ListCheckpointsResponse> {
                 absl::StatusOr<int> page = PageSize(request->max_checkpoints(), "max_checkpoints");
                 if (!page.ok()) return page.status();
                 absl::StatusOr<std::vector<v1::AuditCheckpoint>> checkpoints =
                     log_.ReadAuditCheckpoints(request->from_size(), static_cast<size_t>(*page));
                 if (!checkpoints.ok()) return checkpoints.status();
                 v1::ListCheckpointsResponse answer;
                 for (v1::AuditCheckpoint& checkpoint : *checkpoints) {
                   *answer.add_checkpoints() = std::move(checkpoint);
                 }
                 return answer;
               });
}

grpc::ServerUnaryReactor* AuditService::ProveConsistency(grpc::CallbackServerContext* context,
                                                         const v1::ProveConsistencyRequest* request,
                                                         v1::ProveConsistencyResponse* response) {
  return Serve(context, response, "ProveConsistency",
               [&](v1::AuditEntry&) -> absl::StatusOr<v1::ProveConsistencyResponse> {
                 const uint64_t size = log_.AuditHead().size;
                 if (request->new_size() > size) return SizeOutOfRange(size);
                 if (request->old_size() > request->new_size()) {
                   return errors::InvalidField("old_size", "must not exceed new_size");
                 }
                 absl::StatusOr<std::vector<audit::Hash>> proof = audit::ConsistencyProof(
                     StoredSubtrees(log_), request->old_size(), request->new_size());
                 if (!proof.ok()) return proof.status();
                 v1::ProveConsistencyResponse answer;
                 for (const audit::Hash& hash : *proof) answer.add_proof(Bytes(hash));
                 return answer;
               });
}

grpc::ServerUnaryReactor* AuditService::GetAccessReport(grpc::CallbackServerContext* context,
                                                        const v1::GetAccessReportRequest* request,
                                                        v1::GetAccessReportResponse* response) {
  return Serve(
      context, response, "GetAccessReport",
      [&](v1::AuditEntry& entry) -> absl::StatusOr<v1::GetAccessReportResponse> {
        v1::ResolveRequest resolve;
        resolve.set_identifier(request->child_id());
        absl::StatusOr<v1::ResolveResponse> child = registry_.Resolve(resolve);
        if (!child.ok()) return child.status();
        // The child, and every record merged into it: their accesses are the child's.
        std::vector<std::string> ids = {child->record().child_id()};
        for (const std::string& merged : child->record().merged_from_child_ids()) {
          ids.push_back(merged);
        }
        entry.add_child_ids(child->record().child_id());
        absl::StatusOr<std::optional<v1::AuditCheckpoint>> checkpoint =
            log_.LatestAuditCheckpoint();
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
        const StoredSubtrees tree(log_);
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
      });
}

}  // namespace cir::server
