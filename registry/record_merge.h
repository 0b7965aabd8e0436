#ifndef CIR_REGISTRY_RECORD_MERGE_H_
#define CIR_REGISTRY_RECORD_MERGE_H_

#include <string>

#include "absl/status/statusor.h"
#include "cir/v1/registry.pb.h"
#include "registry/record_scope.h"
#include "storage/child_store.h"

namespace cir::registry {

// A MergeRecords request, checked.
struct ValidMerge {
  std::string survivor_id;
  std::string retired_id;
  std::string recorded_by;
  bool retired_nhs_number_superseded = false;
  bool override_not_same_child = false;
};

// Refuses, besides bad fields, a child merged into itself (MERGE_INTO_ITSELF).
absl::StatusOr<ValidMerge> ValidateMerge(const v1::MergeRecordsRequest& request);

// The unit of work. Every index entry naming the retired child (its NHS numbers, UPNs and
// notifications, current and former, and those of children merged into it before) is pointed at
// the survivor, and so are the records merged into it before, so that every chain resolves in one
// hop. The survivor gains the retired child's identifiers: an NHS number or UPN it lacks becomes
// current (a permanent UPN replaces a temporary one), the others former. It keeps the stricter of
// the two records' sharing restrictions, and the areas that carried the less restricted record are
// told to delete what those no longer let them hold (as RestrictSharingInTxn tells them), before
// they are told of the merge. The retired record keeps its own details, is marked merged, and
// holds what the merge changed (StoredMergeUndo) for UndoMergeInTxn. Refusals: see MergeRecords
// in the proto.
absl::Status MergeRecordsInTxn(const ValidMerge& merge, const RecordScope& scope,
                               storage::WriteTxn& txn, v1::MergeRecordsResponse& response);

// An UndoMerge request, checked.
struct ValidUnmerge {
  std::string retired_id;
  std::string recorded_by;
};

absl::StatusOr<ValidUnmerge> ValidateUnmerge(const v1::UndoMergeRequest& request);

// The unit of work: every index entry the merge moved names the retired child again (if it still
// names the survivor), records repointed are pointed back, the survivor loses the identifiers and
// notifications the merge gave it and keeps every change since (a UPN it was given since becomes
// current if the one it loses was), keeping too the sharing restrictions it took from the retired
// record (the cautious side: lift them with RestrictSharing if they were the other child's alone), the retired record gets its status back, and the two are
// marked as not the same child.
absl::Status UndoMergeInTxn(const ValidUnmerge& unmerge, const RecordScope& scope,
                            storage::WriteTxn& txn, v1::UndoMergeResponse& response);

}  // namespace cir::registry

#endif  // CIR_REGISTRY_RECORD_MERGE_H_
