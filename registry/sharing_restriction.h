#ifndef CIR_REGISTRY_SHARING_RESTRICTION_H_
#define CIR_REGISTRY_SHARING_RESTRICTION_H_

#include <string>

#include "absl/status/statusor.h"
#include "cir/v1/registry.pb.h"
#include "registry/record_scope.h"
#include "storage/child_store.h"

namespace cir::registry {

// A RestrictSharing request, checked: at least one of the two is a change.
struct ValidRestriction {
  std::string child_id;
  std::string recorded_by;
  v1::RestrictionChange objection = v1::RESTRICTION_CHANGE_UNSPECIFIED;
  v1::RestrictionChange sensitive = v1::RESTRICTION_CHANGE_UNSPECIFIED;
};

absl::StatusOr<ValidRestriction> ValidateRestriction(const v1::RestrictSharingRequest& request);

// The unit of work. The objection set: every area whose feed carried the child is told to delete
// what it holds (sharing withdrawn), and the feed withholds the child's events from then on, also
// on replay. Lifted: the child's area gets its details again (sharing resumed). Sensitive set:
// every area that carried the child is told to delete its address (restricted); lifted: the
// child's area gets it back (restriction lifted). Flags already as asked change nothing.
absl::Status RestrictSharingInTxn(const ValidRestriction& restriction, const RecordScope& scope,
                                  storage::WriteTxn& txn, v1::RestrictSharingResponse& response);

}  // namespace cir::registry

#endif  // CIR_REGISTRY_SHARING_RESTRICTION_H_
