#include "identifiers/local_authority.h"

#include "absl/status/status.h"
#include "absl/strings/ascii.h"
#include "absl/strings/str_cat.h"
#include "identifiers/normalize.h"

namespace cir::identifiers {

absl::StatusOr<std::string> ParseLocalAuthority(absl::string_view input) {
  absl::StatusOr<std::string> stripped =
      StripSeparatorsAndUpperCase(input, "local authority", Separators::kSpaces);
  if (!stripped.ok()) return stripped.status();
  std::string code = *std::move(stripped);
  if (code.empty()) return absl::InvalidArgumentError("local authority is empty");
  bool digits = code.size() == 3;
  for (char c : code) digits = digits && absl::ascii_isdigit(static_cast<unsigned char>(c));
  if (!digits || code[0] == '0') {
    return absl::InvalidArgumentError(
        "local authority must be a DfE three-digit LA number such as \"938\"");
  }
  return code;
}

}  // namespace cir::identifiers
