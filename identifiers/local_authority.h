#ifndef CIR_IDENTIFIERS_LOCAL_AUTHORITY_H_
#define CIR_IDENTIFIERS_LOCAL_AUTHORITY_H_

#include <string>
#include "absl/strings/string_view.h"

#include "absl/status/statusor.h"

namespace cir::identifiers {

// A DfE local authority number: three digits, 201 (City of London) to 999 in use; the area key of
// feeds and scopes. Historic numbers of merged authorities stay valid, so only the shape is checked:
// three digits, the first non-zero. Unicode spaces are ignored; full-width digits read as digits.
absl::StatusOr<std::string> ParseLocalAuthority(absl::string_view input);

}  // namespace cir::identifiers

#endif  // CIR_IDENTIFIERS_LOCAL_AUTHORITY_H_
