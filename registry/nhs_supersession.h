#ifndef CIR_REGISTRY_NHS_SUPERSESSION_H_
#define CIR_REGISTRY_NHS_SUPERSESSION_H_

#include <string>

#include "absl/status/statusor.h"
#include "cir/v1/registry.pb.h"
#include "registry/record_scope.h"
#include "storage/child_store.h"

namespace cir::registry {

// A SupersedeNhsNumber request, checked.
struct ValidSupersession {
  std::string child_id;
  std::string recorded_by;
  std::string new_nhs_number;  // canonical
};

absl::StatusOr<ValidSupersession> ValidateSupersession(const v1::SupersedeNhsNumberRequest& request,
                                                       bool allow_test_nhs_numbers);

// The unit of work: the current number becomes former (and keeps resolving to the child), the new
// one current. Refused: a child without an NHS number (CHILD_HAS_NO_NHS_NUMBER), a number held by
// another child (NHS_NUMBER_HELD_BY_ANOTHER_CHILD), a former number of this child
// (FORMER_IDENTIFIER_NOT_REUSABLE), the mother's number (NHS_NUMBER_IS_MOTHERS).
absl::Status SupersedeNhsNumberInTxn(const ValidSupersession& supersession,
                                     const RecordScope& scope, storage::WriteTxn& txn,
                                     v1::SupersedeNhsNumberResponse& response);

}  // namespace cir::registry

#endif  // CIR_REGISTRY_NHS_SUPERSESSION_H_
