#ifndef CIR_REGISTRY_DEATH_H_
#define CIR_REGISTRY_DEATH_H_

#include <string>

#include "absl/status/statusor.h"
#include "absl/time/civil_time.h"
#include "cir/v1/registry.pb.h"
#include "registry/record_scope.h"
#include "storage/child_store.h"

namespace cir::registry {

// A RecordDeath request, checked.
struct ValidDeath {
  std::string child_id;
  std::string recorded_by;
  v1::DeathNotice notice = v1::DEATH_NOTICE_UNSPECIFIED;
  absl::CivilDay date_of_death;  // unset for a retraction
};

// Checks every field (request_id, child_id, notice, date_of_death unless a retraction,
// recorded_by); `today` is the date in England.
absl::StatusOr<ValidDeath> ValidateDeath(const v1::RecordDeathRequest& request,
                                         absl::CivilDay today);

// The unit of work: records the death (or its retraction) and tells the child's area.
// An informal death is recorded on a living child; a formal one replaces an informal one or
// corrects the date of a formal one; an informal notice of a child already deceased changes
// nothing. A retraction of a living child's death is refused (FAILED_PRECONDITION,
// CHILD_NOT_DECEASED); a date of death before the date of birth, INVALID_ARGUMENT.
absl::Status RecordDeathInTxn(const ValidDeath& death, const RecordScope& scope,
                              storage::WriteTxn& txn, v1::RecordDeathResponse& response);

}  // namespace cir::registry

#endif  // CIR_REGISTRY_DEATH_H_
