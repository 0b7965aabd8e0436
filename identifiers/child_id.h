#ifndef CIR_IDENTIFIERS_CHILD_ID_H_
#define CIR_IDENTIFIERS_CHILD_ID_H_

#include <string>
#include "absl/strings/string_view.h"

#include "absl/status/statusor.h"

namespace cir::identifiers {

// The registry's own child identifier.
//
//   child_id := letter payload{9} check
//   letter   := one of the 20 letters of kChildIdAlphabet
//   payload  := one of the 23 characters of kChildIdAlphabet
//   check    := the character c for which  sum(w_i * v_i) + v_c = 0 (mod 23)
//
// where v is a character's index in kChildIdAlphabet and the weights of the ten characters before
// the check are w = 2, 3, ..., 11. Because 23 is prime and every weight, and every difference of
// adjacent weights (1 between payload characters, 10 between the last payload character and the
// check, whose weight is 1), is non-zero modulo 23, every single-character substitution and every
// transposition of two adjacent different characters changes the sum and is detected.
//
// The alphabet has no look-alikes (no 0/O, 1/I/L-with-1, 2/Z, 5/S, 6/G, 8/B, 9/q, U/V) and is read
// case-insensitively. Identifiers are drawn uniformly at random from a CSPRNG, so they reveal
// nothing: not the birth date, the place, nor the order of issue; 20 * 23^9 (about 3.6e13) values.
// They are 11 characters long and start with a letter, so never look like an NHS number (10 digits)
// or a UPN (13 characters). Displayed in groups of 4-4-3: "KDMX-4PAR-TWE".
inline constexpr absl::string_view kChildIdAlphabet = "ACDEFGHJKLMNPQRTVWXY347";
inline constexpr int kChildIdLength = 11;

// Draws a new random identifier in canonical form. Uniqueness against identifiers already issued
// is the store's job: the caller must check and draw again on a collision.
std::string GenerateChildId();

// Validates `input` (Unicode spaces and dashes, full-width forms and case ignored: see
// StripSeparatorsAndUpperCase) and returns the canonical form.
absl::StatusOr<std::string> ParseChildId(absl::string_view input);

// The check character for the ten characters before it (all from the alphabet).
char ChildIdCheckCharacter(absl::string_view first_ten);

// The display form "KDMX-4PAR-TWE" of a canonical identifier.
std::string FormatChildId(absl::string_view canonical);

}  // namespace cir::identifiers

#endif  // CIR_IDENTIFIERS_CHILD_ID_H_
