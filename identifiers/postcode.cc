#include "identifiers/postcode.h"

#include "absl/status/status.h"
#include "absl/strings/ascii.h"
#include "absl/strings/str_cat.h"
#include "identifiers/normalize.h"

namespace cir::identifiers {
namespace {

bool MatchesShape(absl::string_view text, absl::string_view shape) {
  if (text.size() != shape.size()) return false;
  for (size_t i = 0; i < text.size(); ++i) {
    unsigned char c = static_cast<unsigned char>(text[i]);
    bool ok = shape[i] == 'A' ? absl::ascii_isupper(c) : absl::ascii_isdigit(c);
    if (!ok) return false;
  }
  return true;
}

bool IsOutwardCode(absl::string_view outward) {
  for (absl::string_view shape : {"A9", "A99", "AA9", "AA99", "A9A", "AA9A"}) {
    if (MatchesShape(outward, shape)) return true;
  }
  return false;
}

}  // namespace

absl::StatusOr<std::string> ParsePostcode(absl::string_view input) {
  absl::StatusOr<std::string> stripped =
      StripSeparatorsAndUpperCase(input, "postcode", Separators::kSpaces);
  if (!stripped.ok()) return stripped.status();
  const std::string compact = *std::move(stripped);
  if (compact.empty()) return absl::InvalidArgumentError("postcode is empty");
  if (compact.size() < 5 || compact.size() > 7) {
    return absl::InvalidArgumentError(absl::StrCat(
        "postcode must be a full UK postcode of 5 to 7 letters and digits such as \"SW1A 1AA\"; got ",
        compact.size()));
  }
  absl::string_view outward = absl::string_view(compact).substr(0, compact.size() - 3);
  absl::string_view inward = absl::string_view(compact).substr(compact.size() - 3);
  bool special = compact == "GIR0AA";
  if (!special && (!IsOutwardCode(outward) || !MatchesShape(inward, "9AA"))) {
    return absl::InvalidArgumentError(
        "postcode is not in a UK postcode format (outward code such as \"SW1A\" or \"M1\", then "
        "an inward code of a digit and two letters such as \"1AA\")");
  }
  return absl::StrCat(outward, " ", inward);
}

}  // namespace cir::identifiers
