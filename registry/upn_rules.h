#ifndef CIR_REGISTRY_UPN_RULES_H_
#define CIR_REGISTRY_UPN_RULES_H_

#include <string>

#include "absl/status/statusor.h"
#include "cir/v1/registry.pb.h"
#include "storage/stored_records.pb.h"

namespace cir::registry {

// What linking `upn` (canonical) to `child` does under the rule that a pupil keeps the permanent
// UPN first allocated for life:
//   - the child's current UPN:                      OUTCOME_UNCHANGED
//   - the child has no UPN:                         OUTCOME_LINKED
//   - the child has another UPN, !replace_current:  FAILED_PRECONDITION, CHILD_HAS_ANOTHER_UPN
//   - the current UPN is temporary:                 OUTCOME_REPLACED_TEMPORARY (it becomes former)
//   - current permanent, `upn` permanent:           OUTCOME_KEPT_AS_FORMER (current stays)
//   - current permanent, `upn` temporary:           FAILED_PRECONDITION,
//                                                   PERMANENT_UPN_NOT_REPLACED_BY_TEMPORARY
//   - `upn` is already a former UPN of the child:   OUTCOME_UNCHANGED where it would be kept as
//                                                   former again (a retry), otherwise
//                                                   FAILED_PRECONDITION,
//                                                   FORMER_IDENTIFIER_NOT_REUSABLE
// Whether `upn` belongs to another child is for the caller to check, against the index.
absl::StatusOr<v1::LinkUpnResponse::Outcome> DecideUpnLink(const storage::StoredChild& child,
                                                           const std::string& upn,
                                                           bool replace_current);

}  // namespace cir::registry

#endif  // CIR_REGISTRY_UPN_RULES_H_
