#include "registry/field_validation.h"

#include "absl/strings/ascii.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "absl/strings/str_split.h"
#include "errors/refusal.h"
#include "identifiers/local_authority.h"
#include "identifiers/postcode.h"
#include "registry/birth_identity.h"
#include "registry/birth_validation.h"

namespace cir::registry {
namespace {

constexpr size_t kMaxCallerIdLength = 128;

// `line` with surrounding spaces dropped and each run of spaces made one.
std::string CollapseSpaces(absl::string_view line) {
  return absl::StrJoin(absl::StrSplit(line, ' ', absl::SkipEmpty()), " ");
}

}  // namespace

absl::StatusOr<absl::CivilDay> ValidateCalendarDate(const v1::Date& date, absl::string_view field,
                                                    absl::CivilDay today) {
  // The messages say what is wrong without repeating the date: dates are a child's details.
  if (date.month() < 1 || date.month() > 12) {
    return errors::InvalidField(field, "is not a calendar date: month must be 1 to 12");
  }
  absl::CivilDay day(date.year(), date.month(), date.day());
  if (day.year() != date.year() || day.month() != date.month() || day.day() != date.day()) {
    return errors::InvalidField(field,
                                "is not a calendar date: the day is not a day of that month");
  }
  if (day > today) {
    return errors::InvalidField(field, absl::StrCat("is in the future (today is ",
                                                    absl::FormatCivilTime(today), " in England)"));
  }
  if (day.year() < kEarliestYear) {
    return errors::InvalidField(field, absl::StrCat("must not be before ", kEarliestYear));
  }
  return day;
}

absl::StatusOr<int> ValidateBirthOrderField(int32_t order) {
  if (order == 0) return 1;  // unset: a singleton
  if (order < 1 || order > kMaxBirthOrder) {
    return errors::InvalidField("birth_order",
                                absl::StrCat("must be 1 to ", kMaxBirthOrder,
                                             " (1 for a singleton; 0 or unset also means 1)"));
  }
  return order;
}

absl::StatusOr<ValidAddress> ValidateAddress(
    const google::protobuf::RepeatedPtrField<std::string>& lines, absl::string_view postcode,
    absl::string_view local_authority, bool lines_required) {
  ValidAddress address;
  if (lines.empty() && lines_required) {
    return errors::InvalidField("address_lines",
                                "required; 1 to 4 lines of the address, without the postcode",
                                v1::FIELD_REQUIRED);
  }
  if (lines.size() > kMaxAddressLines) {
    return errors::InvalidField(
        "address_lines", absl::StrCat("at most ", kMaxAddressLines, " lines, got ", lines.size(),
                                      "; put the postcode in postcode"));
  }
  for (const std::string& line : lines) {
    absl::StatusOr<std::string> normalized = NormalizeName(line, "address_lines");
    if (!normalized.ok()) return normalized.status();
    std::string collapsed = CollapseSpaces(*normalized);
    if (collapsed.empty()) {
      return errors::InvalidField("address_lines", "an address line is empty; leave it out");
    }
    address.lines.push_back(std::move(collapsed));
  }
  if (postcode.empty()) {
    return errors::InvalidField("postcode", "required; the postcode of usual residence",
                                v1::FIELD_REQUIRED);
  }
  absl::StatusOr<std::string> canonical_postcode = identifiers::ParsePostcode(postcode);
  if (!canonical_postcode.ok()) return FieldError("postcode", canonical_postcode.status());
  address.postcode = *std::move(canonical_postcode);
  if (local_authority.empty()) {
    return errors::InvalidField(
        "local_authority",
        "required; the DfE three-digit local authority number of usual residence",
        v1::FIELD_REQUIRED);
  }
  absl::StatusOr<std::string> la = identifiers::ParseLocalAuthority(local_authority);
  if (!la.ok()) return FieldError("local_authority", la.status());
  address.local_authority = *std::move(la);
  return address;
}

std::string AddressComparisonKey(const std::vector<std::string>& lines, absl::string_view postcode,
                                 absl::string_view local_authority) {
  std::string key;
  for (const std::string& line : lines) {
    std::string plain;
    for (char c : line) plain.push_back(c == ',' || c == '.' ? ' ' : c);
    std::string folded = NameComparisonKey(plain);
    if (folded.empty()) continue;
    absl::StrAppend(&key, folded, "\n");
  }
  absl::StrAppend(&key, postcode, "\n", local_authority);
  return key;
}

absl::Status ValidateCallerId(absl::string_view id, absl::string_view field,
                              absl::string_view when_missing) {
  if (id.empty()) {
    return errors::InvalidField(field, absl::StrCat("required; ", when_missing),
                                v1::FIELD_REQUIRED);
  }
  if (id.size() > kMaxCallerIdLength) {
    return errors::InvalidField(
        field, absl::StrCat("at most ", kMaxCallerIdLength, " characters, got ", id.size()));
  }
  for (char c : id) {
    if (c < 0x21 || c > 0x7e) {
      return errors::InvalidField(field,
                                  "only printable ASCII characters without spaces are allowed");
    }
  }
  return absl::OkStatus();
}

absl::Status ValidateRequestId(absl::string_view request_id) {
  return ValidateCallerId(request_id, "request_id",
                          "give your own id for this change, so that a retry is recognised and "
                          "not made twice");
}

absl::StatusOr<std::string> ValidateRecordedBy(absl::string_view recorded_by) {
  absl::StatusOr<std::string> normalized = NormalizeName(recorded_by, "recorded_by");
  if (!normalized.ok()) return normalized.status();
  std::string collapsed = CollapseSpaces(*normalized);
  if (collapsed.empty()) {
    return errors::InvalidField(
        "recorded_by",
        "required; who makes the change (a person and organisation, or a system), as your audit "
        "trail names them",
        v1::FIELD_REQUIRED);
  }
  return collapsed;
}

}  // namespace cir::registry
