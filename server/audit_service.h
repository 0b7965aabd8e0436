#ifndef CIR_SERVER_AUDIT_SERVICE_H_
#define CIR_SERVER_AUDIT_SERVICE_H_

#include "audit_log/audit_log_reader.h"
#include "cir/v1/registry.grpc.pb.h"
#include "registry/registry.h"
#include "server/call_auditor.h"
#include "server/call_gate.h"
#include "storage/audit_log_store.h"

namespace cir::server {

// The AuditLog gRPC service, for auditors: the log's entries, its signed checkpoints,
// consistency proofs between two sizes, and a child's access report with an inclusion proof per
// entry against the newest signed checkpoint (each answered by audit_log::AuditLogReader). Each
// call is admitted by the CallGate and, like every call, audited before its answer leaves (an
// auditor's reading is itself on the record).
class AuditService final : public v1::AuditLog::CallbackService {
 public:
  AuditService(storage::AuditLogStore& log, registry::Registry& registry, const CallGate& gate,
               CallAuditor& auditor)
      : reader_(log, registry), gate_(gate), auditor_(auditor) {}

  grpc::ServerUnaryReactor* ReadEntries(grpc::CallbackServerContext* context,
                                        const v1::ReadAuditEntriesRequest* request,
                                        v1::ReadAuditEntriesResponse* response) override;
  grpc::ServerUnaryReactor* ListCheckpoints(grpc::CallbackServerContext* context,
                                            const v1::ListCheckpointsRequest* request,
                                            v1::ListCheckpointsResponse* response) override;
  grpc::ServerUnaryReactor* ProveConsistency(grpc::CallbackServerContext* context,
                                             const v1::ProveConsistencyRequest* request,
                                             v1::ProveConsistencyResponse* response) override;
  grpc::ServerUnaryReactor* GetAccessReport(grpc::CallbackServerContext* context,
                                            const v1::GetAccessReportRequest* request,
                                            v1::GetAccessReportResponse* response) override;

 private:
  // Admits the call, refuses a `request` larger than any the method takes, runs `answer` for an
  // admitted caller, audits the call (naming the children the answer fills in), and finishes
  // once the entry is durable.
  template <typename Response, typename Answer>
  grpc::ServerUnaryReactor* Serve(grpc::CallbackServerContext* context,
                                  const google::protobuf::Message& request, Response* response,
                                  absl::string_view method, Answer answer);

  const audit_log::AuditLogReader reader_;
  const CallGate& gate_;
  CallAuditor& auditor_;
};

}  // namespace cir::server

#endif  // CIR_SERVER_AUDIT_SERVICE_H_
