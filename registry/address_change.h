#ifndef CIR_REGISTRY_ADDRESS_CHANGE_H_
#define CIR_REGISTRY_ADDRESS_CHANGE_H_

#include <string>

#include "absl/status/statusor.h"
#include "absl/time/civil_time.h"
#include "cir/v1/registry.pb.h"
#include "registry/field_validation.h"
#include "registry/record_scope.h"
#include "storage/child_store.h"

namespace cir::registry {

// A ChangeAddress request, checked.
struct ValidAddressChange {
  std::string child_id;
  std::string recorded_by;
  ValidAddress address;
  absl::CivilDay effective_date;  // today when not given
};

absl::StatusOr<ValidAddressChange> ValidateAddressChange(const v1::ChangeAddressRequest& request,
                                                         absl::CivilDay today);

// The unit of work. An address that compares equal to the current one (AddressComparisonKey)
// changes nothing. A move to another local authority tells the old one (moved out, without the
// new address) and the new one (moved in) in the same write; a move within one, that one.
absl::Status ChangeAddressInTxn(const ValidAddressChange& change, const RecordScope& scope,
                                storage::WriteTxn& txn, v1::ChangeAddressResponse& response);

}  // namespace cir::registry

#endif  // CIR_REGISTRY_ADDRESS_CHANGE_H_
