#include "identifiers/upn.h"

#include "absl/status/status.h"
#include "absl/strings/ascii.h"
#include "absl/strings/str_cat.h"
#include "identifiers/normalize.h"

namespace cir::identifiers {
namespace {

int CheckAlphabetIndex(char c) {
  size_t at = kUpnCheckAlphabet.find(c);
  return at == absl::string_view::npos ? -1 : static_cast<int>(at);
}

bool IsDigit(char c) { return absl::ascii_isdigit(static_cast<unsigned char>(c)); }

}  // namespace

char UpnCheckLetter(absl::string_view rest) {
  if (rest.size() != 12) return '\0';
  int sum = 0;
  for (int i = 0; i < 12; ++i) {
    char c = rest[i];
    int value;
    if (IsDigit(c)) {
      value = c - '0';
    } else if (i == 11 && CheckAlphabetIndex(c) >= 0) {
      value = CheckAlphabetIndex(c);
    } else {
      return '\0';
    }
    sum += value * (i + 2);
  }
  return kUpnCheckAlphabet[sum % 23];
}

absl::StatusOr<std::string> ParseUpn(absl::string_view input) {
  absl::StatusOr<std::string> stripped = StripSeparatorsAndUpperCase(input, "UPN");
  if (!stripped.ok()) return stripped.status();
  std::string upn = *std::move(stripped);
  if (upn.empty()) return absl::InvalidArgumentError("UPN is empty");
  if (upn.size() != 13) {
    return absl::InvalidArgumentError(
        absl::StrCat("UPN must have 13 characters, got ", upn.size()));
  }
  if (CheckAlphabetIndex(upn[0]) < 0) {
    return absl::InvalidArgumentError(
        "UPN must start with a check letter from ABCDEFGHJKLMNPQRTUVWXYZ");
  }
  for (int i = 1; i < 12; ++i) {
    if (!IsDigit(upn[i])) {
      return absl::InvalidArgumentError(absl::StrCat(
          "UPN characters 2 to 12 must be digits; character ", i + 1, " is not"));
    }
  }
  if (!IsDigit(upn[12]) && CheckAlphabetIndex(upn[12]) < 0) {
    return absl::InvalidArgumentError(
        "UPN character 13 must be a digit, or for a temporary UPN a letter from "
        "ABCDEFGHJKLMNPQRTUVWXYZ");
  }
  if (UpnCheckLetter(absl::string_view(upn).substr(1)) != upn[0]) {
    return absl::InvalidArgumentError(
        "UPN check letter is wrong: check the UPN for a mistyped or swapped character");
  }
  return upn;
}

bool IsTemporaryUpn(absl::string_view canonical) {
  return canonical.size() == 13 && !IsDigit(canonical[12]);
}

}  // namespace cir::identifiers
