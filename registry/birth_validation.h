#ifndef CIR_REGISTRY_BIRTH_VALIDATION_H_
#define CIR_REGISTRY_BIRTH_VALIDATION_H_

#include <string>

#include "absl/status/statusor.h"
#include "absl/time/civil_time.h"
#include "cir/v1/registry.pb.h"

namespace cir::registry {

// A birth notification whose every field has been checked and put in canonical form.
struct ValidBirth {
  std::string notification_id;
  std::string nhs_number;  // canonical, or empty
  absl::CivilDay date_of_birth;
  v1::Sex sex = v1::SEX_UNSPECIFIED;
  std::string given_name;
  std::string family_name;
  std::string postcode;         // canonical
  std::string local_authority;  // three digits
  std::string mother_nhs_number;  // canonical, or empty
};

// Checks a RegisterBirth request field by field. INVALID_ARGUMENT names the first field that is
// wrong and says how to fix it. `today` is the current date in England.
absl::StatusOr<ValidBirth> ValidateBirth(const v1::RegisterBirthRequest& request,
                                         absl::CivilDay today);

// INVALID_ARGUMENT "field: <what cause says>": how a bad field is reported to the caller.
absl::Status FieldError(absl::string_view field, const absl::Status& cause);

// The current calendar date in England (Europe/London).
absl::CivilDay TodayInEngland();

// Checks a person's name as notified: at most 100 characters of UTF-8 with no control characters.
// Empty is allowed (babies are often unnamed at notification).
absl::Status ValidateName(const std::string& name, absl::string_view field);

}  // namespace cir::registry

#endif  // CIR_REGISTRY_BIRTH_VALIDATION_H_
