#include "identifiers/nhs_number.h"

#include "absl/status/status.h"
#include "absl/strings/ascii.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "identifiers/normalize.h"

namespace cir::identifiers {

int NhsCheckDigit(absl::string_view first_nine_digits) {
  int sum = 0;
  for (int i = 0; i < 9; ++i) sum += (first_nine_digits[i] - '0') * (10 - i);
  int check = 11 - (sum % 11);
  if (check == 11) return 0;
  if (check == 10) return -1;
  return check;
}

absl::StatusOr<std::string> ParseNhsNumber(absl::string_view input) {
  absl::StatusOr<std::string> stripped = StripSeparatorsAndUpperCase(input, "NHS number");
  if (!stripped.ok()) return stripped.status();
  std::string digits = *std::move(stripped);
  if (digits.empty()) return absl::InvalidArgumentError("NHS number is empty");
  if (digits.size() != 10) {
    return absl::InvalidArgumentError(
        absl::StrCat("NHS number must have 10 digits, got ", digits.size(), " characters"));
  }
  for (char c : digits) {
    if (!absl::ascii_isdigit(static_cast<unsigned char>(c))) {
      return absl::InvalidArgumentError("NHS number must contain only digits, spaces and hyphens");
    }
  }
  int check = NhsCheckDigit(digits);
  if (check < 0) {
    return absl::InvalidArgumentError(
        "NHS number is not valid: its first nine digits give check value 10, which is never issued");
  }
  if (digits[9] - '0' != check) {
    return absl::InvalidArgumentError(
        "NHS number check digit is wrong: check the number for a mistyped or swapped digit");
  }
  return digits;
}

std::string TestRangeNhsNumber(uint32_t n) {
  // Bodies 999qqqqqd: for each five-digit q the ten values of d give ten different weighted sums
  // modulo 11 (d has weight 2), so at most one d has check value 10 and at least nine are valid.
  // n picks q = n / 9 and the (n % 9)-th valid d.
  const uint32_t q = (n / 9) % 100000;
  uint32_t wanted = n % 9;
  for (int d = 0; d < 10; ++d) {
    std::string digits = absl::StrFormat("999%05u%d", q, d);
    int check = NhsCheckDigit(digits);
    if (check < 0) continue;
    if (wanted-- == 0) return digits + static_cast<char>('0' + check);
  }
  return "";  // unreachable: see above
}

std::string FormatNhsNumber(absl::string_view canonical) {
  if (canonical.size() != 10) return std::string(canonical);
  return absl::StrCat(canonical.substr(0, 3), " ", canonical.substr(3, 3), " ",
                      canonical.substr(6, 4));
}

}  // namespace cir::identifiers
