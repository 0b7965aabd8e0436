#include "identifiers/normalize.h"

#include <unicode/uchar.h>
#include <unicode/unistr.h>

#include <cstdint>
#include <limits>

#include "absl/status/status.h"
#include "absl/strings/ascii.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "identifiers/unicode_text.h"

namespace cir::identifiers {
namespace {

// ASCII white space (space, tab, line feed, vertical tab, form feed, carriage return) and the
// hyphen-minus: exactly the ASCII characters with the White_Space and Dash properties, so the two
// paths below agree.
bool IsAsciiSeparator(char c, Separators separators) {
  if (c == ' ' || (c >= '\t' && c <= '\r')) return true;
  return c == '-' && separators == Separators::kSpacesAndDashes;
}

bool IsSeparator(UChar32 c, Separators separators) {
  if (u_isUWhiteSpace(c)) return true;
  return separators == Separators::kSpacesAndDashes && u_hasBinaryProperty(c, UCHAR_DASH);
}

// The slow path, for input with any byte outside ASCII.
absl::StatusOr<std::string> StripUnicodeSeparators(absl::string_view input, absl::string_view what,
                                                   Separators separators) {
  if (input.size() > static_cast<size_t>(std::numeric_limits<int32_t>::max())) {
    return absl::InvalidArgumentError(absl::StrCat(what, " is far too long"));
  }
  absl::StatusOr<icu::UnicodeString> normalized = NormalizeUtf8(input, NormalForm::kNfkc);
  if (absl::IsInvalidArgument(normalized.status())) {
    return absl::InvalidArgumentError(absl::StrCat(what, " is not valid UTF-8 text"));
  }
  if (!normalized.ok()) return normalized.status();
  const icu::UnicodeString& text = *normalized;
  std::string out;
  for (int32_t i = 0; i < text.length(); i = text.moveIndex32(i, 1)) {
    const UChar32 c = text.char32At(i);
    if (IsSeparator(c, separators)) continue;
    if (c >= 0x80) {
      return absl::InvalidArgumentError(absl::StrFormat(
          "%s may contain only %s; U+%04X is none of these", what,
          separators == Separators::kSpacesAndDashes ? "letters, digits, spaces and dashes"
                                                     : "letters, digits and spaces",
          c));
    }
    out.push_back(absl::ascii_toupper(static_cast<unsigned char>(c)));
  }
  return out;
}

}  // namespace

absl::StatusOr<std::string> StripSeparatorsAndUpperCase(absl::string_view input,
                                                        absl::string_view what,
                                                        Separators separators) {
  std::string out;
  out.reserve(input.size());
  for (char c : input) {
    if (static_cast<unsigned char>(c) >= 0x80) {
      return StripUnicodeSeparators(input, what, separators);
    }
    if (IsAsciiSeparator(c, separators)) continue;
    out.push_back(absl::ascii_toupper(static_cast<unsigned char>(c)));
  }
  return out;
}

}  // namespace cir::identifiers
