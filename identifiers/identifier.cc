#include "identifiers/identifier.h"

#include "absl/status/status.h"
#include "absl/strings/str_cat.h"
#include "identifiers/child_id.h"
#include "identifiers/nhs_number.h"
#include "identifiers/normalize.h"
#include "identifiers/upn.h"

namespace cir::identifiers {

absl::StatusOr<Identifier> ParseIdentifier(absl::string_view input, IdentifierKind kind) {
  absl::StatusOr<std::string> value;
  switch (kind) {
    case IdentifierKind::kChildId:
      value = ParseChildId(input);
      break;
    case IdentifierKind::kNhsNumber:
      value = ParseNhsNumber(input);
      break;
    case IdentifierKind::kUpn:
      value = ParseUpn(input);
      break;
  }
  if (!value.ok()) return value.status();
  return Identifier{kind, *std::move(value)};
}

absl::StatusOr<Identifier> ParseAnyIdentifier(absl::string_view input) {
  absl::StatusOr<std::string> stripped = StripSeparatorsAndUpperCase(input, "identifier");
  if (!stripped.ok()) return stripped.status();
  // The stripped form is its own stripped form, so each parser below takes it as it is.
  const size_t length = stripped->size();
  switch (length) {
    case 10:
      return ParseIdentifier(*stripped, IdentifierKind::kNhsNumber);
    case kChildIdLength:
      return ParseIdentifier(*stripped, IdentifierKind::kChildId);
    case 13:
      return ParseIdentifier(*stripped, IdentifierKind::kUpn);
    case 0:
      return absl::InvalidArgumentError("identifier is empty");
    default:
      return absl::InvalidArgumentError(absl::StrCat(
          "identifier has ", length,
          " characters; expected a child identifier (11), an NHS number (10 digits) or a UPN (13)"));
  }
}

absl::string_view IdentifierKindName(IdentifierKind kind) {
  switch (kind) {
    case IdentifierKind::kChildId:
      return "child identifier";
    case IdentifierKind::kNhsNumber:
      return "NHS number";
    case IdentifierKind::kUpn:
      return "UPN";
  }
  return "identifier";
}

}  // namespace cir::identifiers
