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
  std::string given_name;   // NFC (NormalizeName), or empty
  std::string family_name;  // NFC (NormalizeName), or empty
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

// Returns a person's name as notified in Unicode Normalization Form C, the form in which names are
// checked, compared, fingerprinted and stored: "e" followed by a combining acute accent (U+0301)
// and the precomposed "é" (U+00E9) are one name.
//
// INVALID_ARGUMENT (reason FIELD_INVALID) naming `field` and saying what to fix if the name is not
// valid UTF-8, has more than 100 characters (Unicode code points once normalised, not bytes), or
// contains a character that would make two names look alike but differ, or display out of order:
// a control character, a bidirectional control (U+061C, U+200E, U+200F, U+202A to U+202E, U+2066
// to U+2069), a zero-width character (U+200B, U+200C, U+200D, U+2060, U+FEFF), any other invisible
// formatting character (Unicode category Cf), or a line or paragraph separator. Empty is allowed
// (babies are often unnamed at notification).
absl::StatusOr<std::string> NormalizeName(absl::string_view name, absl::string_view field);

}  // namespace cir::registry

#endif  // CIR_REGISTRY_BIRTH_VALIDATION_H_
