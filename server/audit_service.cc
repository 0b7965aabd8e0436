#include "server/audit_service.h"

#include <string>
#include <utility>

#include "server/grpc_status.h"
#include "server/log.h"
#include "server/request_limits.h"

namespace cir::server {

template <typename Response, typename Answer>
grpc::ServerUnaryReactor* AuditService::Serve(grpc::CallbackServerContext* context,
                                              const google::protobuf::Message& request,
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
    absl::Status size = CheckRequestSize(request, kMaxSingleIdentifierRequestBytes, method);
    result = size.ok() ? answer(entry) : absl::StatusOr<Response>(std::move(size));
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
  return Serve(context, *request, response, "ReadEntries",
               [&](v1::AuditEntry&) { return reader_.ReadEntries(*request); });
}

grpc::ServerUnaryReactor* AuditService::ListCheckpoints(grpc::CallbackServerContext* context,
                                                        const v1::ListCheckpointsRequest* request,
                                                        v1::ListCheckpointsResponse* response) {
  return Serve(context, *request, response, "ListCheckpoints",
               [&](v1::AuditEntry&) { return reader_.ListCheckpoints(*request); });
}

grpc::ServerUnaryReactor* AuditService::ProveConsistency(grpc::CallbackServerContext* context,
                                                         const v1::ProveConsistencyRequest* request,
                                                         v1::ProveConsistencyResponse* response) {
  return Serve(context, *request, response, "ProveConsistency",
               [&](v1::AuditEntry&) { return reader_.ProveConsistency(*request); });
}

grpc::ServerUnaryReactor* AuditService::GetAccessReport(grpc::CallbackServerContext* context,
                                                        const v1::GetAccessReportRequest* request,
                                                        v1::GetAccessReportResponse* response) {
  return Serve(context, *request, response, "GetAccessReport",
               [&](v1::AuditEntry& entry) { return reader_.GetAccessReport(*request, entry); });
}

}  // namespace cir::server
