#ifndef CIR_REGISTRY_BIRTH_VALIDATION_H_
#define CIR_REGISTRY_BIRTH_VALIDATION_H_

#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "absl/time/civil_time.h"
#include "absl/time/time.h"
#include "cir/v1/registry.pb.h"

namespace cir::registry {

// A birth notification whose every field has been checked and put in canonical form.
struct ValidBirth {
  std::string notifying_system;  // ODS organisation code, upper case
  std::string notification_id;   // unique within notifying_system
  std::string nhs_number;  // canonical, or empty
  absl::CivilDay date_of_birth;
  v1::Sex sex = v1::SEX_UNSPECIFIED;
  int birth_order = 1;  // 1 for a singleton; 1, 2, ... within a multiple birth
  std::string given_name;   // NFC (NormalizeName), or empty
  std::string family_name;  // NFC (NormalizeName), or empty
  std::vector<std::string> address_lines;  // 0-4 lines (ValidateAddress), without the postcode
  std::string postcode;         // canonical
  std::string local_authority;  // three digits
  std::string mother_nhs_number;  // canonical, or empty
  std::string mother_given_name;   // NFC (NormalizeName), or empty
  std::string mother_family_name;  // NFC (NormalizeName), or empty
};

// Most children in one birth that the registry accepts (birth_order 1 to this).
inline constexpr int kMaxBirthOrder = 9;

// Checks a RegisterBirth request field by field. INVALID_ARGUMENT names the first field that is
// wrong and says how to fix it, with reason FIELD_REQUIRED, FIELD_INVALID, NHS_NUMBER_IS_MOTHERS or
// TEST_NHS_NUMBER_NOT_ACCEPTED and metadata {"field": name}; the message never repeats the value.
// `today` is the current date in England; NHS numbers of the test range (999...) are refused
// unless `allow_test_nhs_numbers`.
absl::StatusOr<ValidBirth> ValidateBirth(const v1::RegisterBirthRequest& request,
                                         absl::CivilDay today, bool allow_test_nhs_numbers);

// Validates an NHS number sent in `field` and returns its canonical form: INVALID_ARGUMENT,
// FIELD_INVALID if it is not a valid NHS number, TEST_NHS_NUMBER_NOT_ACCEPTED if it is of the test
// range (999...) and `allow_test_nhs_numbers` is false.
absl::StatusOr<std::string> ValidateNhsNumberField(absl::string_view input, absl::string_view field,
                                                   bool allow_test_nhs_numbers);

// INVALID_ARGUMENT "field: <what cause says>" with `reason` and metadata {"field": field}: how a
// bad field is reported to the caller. `cause` must not repeat the value (the identifier parsers'
// messages do not).
absl::Status FieldError(absl::string_view field, const absl::Status& cause,
                        v1::ErrorReason reason = v1::FIELD_INVALID);

// The current calendar date in England (Europe/London).
absl::CivilDay TodayInEngland();
// The calendar date in England at `when`.
absl::CivilDay DayInEngland(absl::Time when);
// Midnight at the start of `day` in England.
absl::Time StartOfDayInEngland(absl::CivilDay day);

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
