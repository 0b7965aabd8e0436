#ifndef CIR_IDENTIFIERS_IDENTIFIER_H_
#define CIR_IDENTIFIERS_IDENTIFIER_H_

#include <string>
#include "absl/strings/string_view.h"

#include "absl/status/statusor.h"

namespace cir::identifiers {

// The kinds of identifier a child is resolved by. The three shapes never overlap once separators
// are removed: a child identifier has 11 characters, an NHS number 10 digits, a UPN 13 characters.
enum class IdentifierKind { kChildId, kNhsNumber, kUpn };

struct Identifier {
  IdentifierKind kind;
  std::string value;  // canonical form
};

// Validates `input` as the given kind.
absl::StatusOr<Identifier> ParseIdentifier(absl::string_view input, IdentifierKind kind);

// Detects the kind of `input` from its length once separators are removed, then validates it.
absl::StatusOr<Identifier> ParseAnyIdentifier(absl::string_view input);

absl::string_view IdentifierKindName(IdentifierKind kind);

}  // namespace cir::identifiers

#endif  // CIR_IDENTIFIERS_IDENTIFIER_H_
