#ifndef CIR_REGISTRY_DETAILS_CORRECTION_H_
#define CIR_REGISTRY_DETAILS_CORRECTION_H_

#include <cstdint>
#include <optional>
#include <string>

#include "absl/status/statusor.h"
#include "absl/time/civil_time.h"
#include "cir/v1/registry.pb.h"
#include "registry/record_scope.h"
#include "storage/child_store.h"

namespace cir::registry {

// A CorrectDetails request, checked: each correction given, in the form stored.
struct ValidCorrection {
  std::string child_id;
  std::string recorded_by;
  int64_t expected_version = 0;
  std::optional<std::string> given_name;
  std::optional<std::string> family_name;
  std::optional<absl::CivilDay> date_of_birth;
  std::optional<v1::Sex> sex;
  std::optional<int> birth_order;
  std::optional<std::string> mother_given_name;
  std::optional<std::string> mother_family_name;
};

absl::StatusOr<ValidCorrection> ValidateCorrection(const v1::CorrectDetailsRequest& request,
                                                   absl::CivilDay today);

// The unit of work: FAILED_PRECONDITION (RECORD_VERSION_STALE) unless the record is at the
// expected version; corrections equal to what is recorded change nothing.
absl::Status CorrectDetailsInTxn(const ValidCorrection& correction, const RecordScope& scope,
                                 storage::WriteTxn& txn, v1::CorrectDetailsResponse& response);

}  // namespace cir::registry

#endif  // CIR_REGISTRY_DETAILS_CORRECTION_H_
