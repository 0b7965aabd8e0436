#ifndef CIR_IDENTIFIERS_NORMALIZE_H_
#define CIR_IDENTIFIERS_NORMALIZE_H_

#include <string>
#include "absl/strings/string_view.h"

namespace cir::identifiers {

// Returns `input` with spaces and hyphens removed and ASCII letters upper-cased: the form in which
// every identifier is validated and stored, whatever separators or case a person typed.
std::string StripSeparatorsAndUpperCase(absl::string_view input);

}  // namespace cir::identifiers

#endif  // CIR_IDENTIFIERS_NORMALIZE_H_
