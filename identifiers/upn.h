#ifndef CIR_IDENTIFIERS_UPN_H_
#define CIR_IDENTIFIERS_UPN_H_

#include <string>
#include "absl/strings/string_view.h"

#include "absl/status/statusor.h"

namespace cir::identifiers {

// Unique Pupil Number (DfE): 13 characters,
//   check letter (1) + LA code (3 digits) + establishment number (4 digits)
//   + last two digits of the allocation year (2) + serial (3 digits).
// A temporary UPN has a letter from the check alphabet in position 13 instead of a digit.
// Check letter: positions 2..13 are weighted 2..13; a digit counts as its value, a letter (only in
// position 13) as its index in "ABCDEFGHJKLMNPQRTUVWXYZ"; the check letter is that alphabet's
// letter at (sum mod 23). LA codes are not checked against today's list: historic codes are valid.

// The check alphabet: 23 letters, no I, O or S.
inline constexpr absl::string_view kUpnCheckAlphabet = "ABCDEFGHJKLMNPQRTUVWXYZ";

// Validates `input` (Unicode spaces and dashes, full-width forms and case ignored: see
// StripSeparatorsAndUpperCase) and returns the canonical upper-case form.
absl::StatusOr<std::string> ParseUpn(absl::string_view input);

// True for a valid canonical UPN whose last character is a letter.
bool IsTemporaryUpn(absl::string_view canonical);

// The check letter for characters 2..13 of a UPN (12 characters), or '\0' if they are malformed.
char UpnCheckLetter(absl::string_view characters_2_to_13);

}  // namespace cir::identifiers

#endif  // CIR_IDENTIFIERS_UPN_H_
