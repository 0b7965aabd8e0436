#ifndef CIR_IDENTIFIERS_POSTCODE_H_
#define CIR_IDENTIFIERS_POSTCODE_H_

#include <string>
#include "absl/strings/string_view.h"

#include "absl/status/statusor.h"

namespace cir::identifiers {

// A full UK postcode: an outward code in one of the shapes A9, A99, AA9, AA99, A9A, AA9A, then an
// inward code 9AA (A a letter, 9 a digit), plus the special "GIR 0AA". Checks the shape, not
// whether the postcode is in use.
//
// Validates `input` (case, full-width forms and any Unicode spacing ignored; a dash is refused)
// and returns the canonical form: upper case, one space before the inward code, e.g. "SW1A 1AA".
absl::StatusOr<std::string> ParsePostcode(absl::string_view input);

}  // namespace cir::identifiers

#endif  // CIR_IDENTIFIERS_POSTCODE_H_
