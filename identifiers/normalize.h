#ifndef CIR_IDENTIFIERS_NORMALIZE_H_
#define CIR_IDENTIFIERS_NORMALIZE_H_

#include <string>

#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"

namespace cir::identifiers {

// Which characters separate the groups of an identifier as people write them.
enum class Separators {
  kSpacesAndDashes,  // NHS number, UPN, child identifier: "999 000 0018", "KDMX-4PAR-TW7"
  kSpaces,           // postcode, LA code: a dash is a mistake there ("S-1 1AA"), not a separator
};

// Returns `input` in the form in which an identifier is validated and stored: separators removed
// and letters upper-cased, whatever a person typed or a spreadsheet pasted.
//
// Separators are every Unicode white space character (space, tab, no-break space U+00A0, narrow
// no-break space U+202F, figure space U+2007, ideographic space U+3000, ...) and, with
// kSpacesAndDashes, every character with the Unicode Dash property (hyphen-minus, hyphen U+2010,
// non-breaking hyphen U+2011, figure dash U+2012, en dash U+2013, em dash U+2014, minus sign
// U+2212, ...). Input is NFKC-normalised first, so full-width digits and Latin letters (U+FF10 to
// U+FF19, U+FF21 to U+FF3A, U+FF41 to U+FF5A) read as their ASCII forms.
//
// INVALID_ARGUMENT, starting with `what` ("NHS number", "postcode"), if `input` is not valid UTF-8
// or keeps, once normalised, a character outside ASCII (a zero-width space, a Greek letter): no
// identifier has one. ASCII characters that are not separators are left for the caller to judge.
//
// Plain ASCII input (nearly every call) is handled by one loop over its bytes, without ICU and,
// for identifiers of up to 15 characters, without touching the heap.
absl::StatusOr<std::string> StripSeparatorsAndUpperCase(
    absl::string_view input, absl::string_view what,
    Separators separators = Separators::kSpacesAndDashes);

}  // namespace cir::identifiers

#endif  // CIR_IDENTIFIERS_NORMALIZE_H_
