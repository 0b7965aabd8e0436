#ifndef CIR_IDENTIFIERS_NHS_NUMBER_H_
#define CIR_IDENTIFIERS_NHS_NUMBER_H_

#include <cstdint>
#include <string>
#include "absl/strings/string_view.h"

#include "absl/status/statusor.h"

namespace cir::identifiers {

// NHS number (England, Wales, Isle of Man): 10 digits, the last a Modulus 11 check digit.
// Digits 1-9 are weighted 10, 9, ..., 2 and summed; check = 11 - (sum mod 11), where 11 becomes 0
// and 10 means the number is invalid (never issued).

// Validates `input` (Unicode spaces and dashes ignored, full-width digits read as digits: see
// StripSeparatorsAndUpperCase) and returns the canonical 10-digit form.
// INVALID_ARGUMENT says what is wrong: length, a non-digit, a check value of 10, a wrong check digit.
absl::StatusOr<std::string> ParseNhsNumber(absl::string_view input);

// The display form "943 476 5919" of a canonical 10-digit NHS number.
std::string FormatNhsNumber(absl::string_view canonical);

// NHS numbers beginning 999 are a test range, never issued to a person: every fixture, example
// and benchmark uses them. Returns the n-th of kTestRangeNhsNumberCount valid numbers in that range;
// distinct n give distinct numbers.
inline constexpr uint32_t kTestRangeNhsNumberCount = 900000;
std::string TestRangeNhsNumber(uint32_t n);

// The Modulus 11 check digit for nine digits, or -1 when the check value is 10 (no valid number).
int NhsCheckDigit(absl::string_view first_nine_digits);

}  // namespace cir::identifiers

#endif  // CIR_IDENTIFIERS_NHS_NUMBER_H_
