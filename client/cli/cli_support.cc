#include "client/cli/cli_support.h"

#include <iostream>
#include <map>
#include <vector>

#include "absl/strings/ascii.h"
#include "absl/strings/numbers.h"
#include "absl/strings/str_split.h"

namespace cir::cli {

int Fail(const absl::Status& status) {
  std::string reason = ErrorReasonNameOf(status);
  std::cerr << "error: " << absl::StatusCodeToString(status.code())
            << (reason.empty() ? "" : " [" + reason + "]") << ": " << status.message() << "\n";
  return 1;
}

int UsageError(const std::string& message) {
  std::cerr << "usage error: " << message << "\n";
  return 2;
}

std::optional<v1::Date> ParseDate(const std::string& text) {
  std::vector<std::string> parts = absl::StrSplit(text, '-');
  int year, month, day;
  if (parts.size() != 3 || !absl::SimpleAtoi(parts[0], &year) ||
      !absl::SimpleAtoi(parts[1], &month) || !absl::SimpleAtoi(parts[2], &day)) {
    return std::nullopt;
  }
  v1::Date date;
  date.set_year(year);
  date.set_month(month);
  date.set_day(day);
  return date;
}

std::optional<v1::Sex> ParseSex(const std::string& text) {
  static const std::map<std::string, v1::Sex> kNames = {{"male", v1::SEX_MALE},
                                                        {"m", v1::SEX_MALE},
                                                        {"female", v1::SEX_FEMALE},
                                                        {"f", v1::SEX_FEMALE},
                                                        {"indeterminate", v1::SEX_INDETERMINATE},
                                                        {"not-known", v1::SEX_NOT_KNOWN},
                                                        {"unknown", v1::SEX_NOT_KNOWN}};
  auto it = kNames.find(absl::AsciiStrToLower(text));
  if (it == kNames.end()) return std::nullopt;
  return it->second;
}

}  // namespace cir::cli
