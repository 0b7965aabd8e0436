#ifndef CIR_AUDIT_LOG_AUDIT_LOG_READER_H_
#define CIR_AUDIT_LOG_AUDIT_LOG_READER_H_

#include "absl/status/statusor.h"
#include "cir/v1/registry.pb.h"
#include "registry/registry.h"
#include "storage/audit_log_store.h"

namespace cir::audit_log {

// The answers of the AuditLog RPCs, read from a store's audit log: what the AuditLog service
// (server/audit_service.cc) sends once a call is admitted, and what the audit_requests fuzz target
// drives with requests built from fuzz input. Nothing here writes; a request that asks for
// something the log cannot give is refused with a reason (errors/refusal.h) and changes nothing.
//
// Thread safety: every method may be called from any thread at once, as the store's are.
class AuditLogReader {
 public:
  AuditLogReader(storage::AuditLogStore& log, registry::Registry& registry)
      : log_(log), registry_(registry) {}

  // Up to max_entries entries (0: 1,000; at most 10,000) from from_index, and the log's size.
  absl::StatusOr<v1::ReadAuditEntriesResponse> ReadEntries(
      const v1::ReadAuditEntriesRequest& request) const;
  // Up to max_checkpoints signed checkpoints (0: 1,000; at most 10,000) of trees of from_size
  // entries or more, in order of size.
  absl::StatusOr<v1::ListCheckpointsResponse> ListCheckpoints(
      const v1::ListCheckpointsRequest& request) const;
  // The proof (RFC 6962) that the log of old_size entries is the start of the log of new_size.
  // OUT_OF_RANGE (AUDIT_SIZE_OUT_OF_RANGE) if new_size exceeds the log.
  absl::StatusOr<v1::ProveConsistencyResponse> ProveConsistency(
      const v1::ProveConsistencyRequest& request) const;
  // Every entry naming the child (or a record merged into it) in the newest signed checkpoint's
  // tree, each with its inclusion proof against that checkpoint; neither checkpoint nor entries
  // while no checkpoint has been signed. `entry`, the call's own audit entry, is told the child
  // it names.
  absl::StatusOr<v1::GetAccessReportResponse> GetAccessReport(
      const v1::GetAccessReportRequest& request, v1::AuditEntry& entry) const;

 private:
  storage::AuditLogStore& log_;
  registry::Registry& registry_;
};

}  // namespace cir::audit_log

#endif  // CIR_AUDIT_LOG_AUDIT_LOG_READER_H_
