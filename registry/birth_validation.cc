#include "registry/birth_validation.h"

#include <optional>

#include "absl/status/status.h"
#include "absl/strings/ascii.h"
#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "absl/time/clock.h"
#include "absl/time/time.h"
#include "errors/refusal.h"
#include "identifiers/local_authority.h"
#include "identifiers/nhs_number.h"
#include "identifiers/postcode.h"

namespace cir::registry {
namespace {

constexpr size_t kMaxNotificationIdLength = 128;
constexpr size_t kMinOdsCodeLength = 3;
constexpr size_t kMaxOdsCodeLength = 10;
constexpr int kEarliestBirthYear = 1900;
constexpr int kMaxNameCharacters = 100;

absl::Status ValidateNotificationId(const std::string& id) {
  if (id.empty()) {
    return errors::InvalidField(
        "notification_id",
        "required; give the notifying system's own id for this notification so that retries are "
        "recognised",
        v1::FIELD_REQUIRED);
  }
  if (id.size() > kMaxNotificationIdLength) {
    return errors::InvalidField("notification_id",
                                absl::StrCat("at most ", kMaxNotificationIdLength,
                                             " characters, got ", id.size()));
  }
  for (char c : id) {
    if (c < 0x21 || c > 0x7e) {
      return errors::InvalidField("notification_id",
                                  "only printable ASCII characters without spaces are allowed");
    }
  }
  return absl::OkStatus();
}

// An ODS organisation code: 3 to 10 letters and digits, returned upper case.
absl::StatusOr<std::string> ValidateNotifyingSystem(const std::string& code) {
  if (code.empty()) {
    return errors::InvalidField(
        "notifying_system",
        "required; give the ODS organisation code of the system sending the notification, such "
        "as \"RXH01\"",
        v1::FIELD_REQUIRED);
  }
  if (code.size() < kMinOdsCodeLength || code.size() > kMaxOdsCodeLength) {
    return errors::InvalidField(
        "notifying_system", absl::StrCat("an ODS organisation code has ", kMinOdsCodeLength,
                                         " to ", kMaxOdsCodeLength, " characters, got ",
                                         code.size()));
  }
  for (char c : code) {
    if (!absl::ascii_isalnum(static_cast<unsigned char>(c))) {
      return errors::InvalidField(
          "notifying_system", "an ODS organisation code has only letters and digits");
    }
  }
  return absl::AsciiStrToUpper(code);
}

// Counts the code points of well-formed UTF-8 without control characters, or returns -1.
int CountPrintableUtf8(const std::string& text) {
  int count = 0;
  for (size_t i = 0; i < text.size();) {
    unsigned char lead = static_cast<unsigned char>(text[i]);
    size_t length;
    uint32_t code_point;
    if (lead < 0x80) {
      length = 1;
      code_point = lead;
    } else if ((lead & 0xe0) == 0xc0) {
      length = 2;
      code_point = lead & 0x1f;
    } else if ((lead & 0xf0) == 0xe0) {
      length = 3;
      code_point = lead & 0x0f;
    } else if ((lead & 0xf8) == 0xf0) {
      length = 4;
      code_point = lead & 0x07;
    } else {
      return -1;
    }
    if (i + length > text.size()) return -1;
    for (size_t k = 1; k < length; ++k) {
      unsigned char next = static_cast<unsigned char>(text[i + k]);
      if ((next & 0xc0) != 0x80) return -1;
      code_point = (code_point << 6) | (next & 0x3f);
    }
    static constexpr uint32_t kSmallest[] = {0, 0, 0x80, 0x800, 0x10000};
    if (code_point < kSmallest[length] || code_point > 0x10ffff ||
        (code_point >= 0xd800 && code_point <= 0xdfff)) {
      return -1;  // overlong form, beyond Unicode, or a surrogate
    }
    if (code_point < 0x20 || (code_point >= 0x7f && code_point < 0xa0)) return -1;
    ++count;
    i += length;
  }
  return count;
}

// A name as notified: ValidateName's checks, refused as FIELD_INVALID naming the field.
absl::Status ValidateNameField(const std::string& name, absl::string_view field) {
  absl::Status status = ValidateName(name, field);
  if (status.ok() || errors::ReasonOf(status) != v1::ERROR_REASON_UNSPECIFIED) return status;
  return errors::WithReason(std::move(status), v1::FIELD_INVALID, {{"field", field}});
}

absl::StatusOr<absl::CivilDay> ValidateDate(const v1::RegisterBirthRequest& request,
                                            absl::CivilDay today) {
  if (!request.has_date_of_birth()) {
    return errors::InvalidField("date_of_birth", "required", v1::FIELD_REQUIRED);
  }
  // The messages say what is wrong without repeating the date: a date of birth is a child's detail.
  const v1::Date& date = request.date_of_birth();
  if (date.month() < 1 || date.month() > 12) {
    return errors::InvalidField("date_of_birth", "is not a calendar date: month must be 1 to 12");
  }
  absl::CivilDay day(date.year(), date.month(), date.day());
  if (day.year() != date.year() || day.month() != date.month() || day.day() != date.day()) {
    return errors::InvalidField("date_of_birth",
                                "is not a calendar date: the day is not a day of that month");
  }
  if (day > today) {
    return errors::InvalidField(
        "date_of_birth", absl::StrCat("is in the future (today is ", absl::FormatCivilTime(today),
                                      " in England)"));
  }
  if (day.year() < kEarliestBirthYear) {
    return errors::InvalidField("date_of_birth",
                                absl::StrCat("must not be before ", kEarliestBirthYear));
  }
  return day;
}

absl::StatusOr<int> ValidateBirthOrder(int32_t order) {
  if (order == 0) return 1;  // unset: a singleton
  if (order < 1 || order > kMaxBirthOrder) {
    return errors::InvalidField(
        "birth_order", absl::StrCat("must be 1 to ", kMaxBirthOrder,
                                    " (1 for a singleton; 0 or unset also means 1)"));
  }
  return order;
}

bool IsTestRangeNhsNumber(absl::string_view canonical) {
  return absl::StartsWith(canonical, "999");
}

}  // namespace

absl::Status FieldError(absl::string_view field, const absl::Status& cause,
                        v1::ErrorReason reason) {
  return errors::InvalidField(field, cause.message(), reason);
}

absl::StatusOr<std::string> ValidateNhsNumberField(absl::string_view input, absl::string_view field,
                                                   bool allow_test_nhs_numbers) {
  absl::StatusOr<std::string> nhs = identifiers::ParseNhsNumber(input);
  if (!nhs.ok()) return FieldError(field, nhs.status());
  if (!allow_test_nhs_numbers && IsTestRangeNhsNumber(*nhs)) {
    return errors::InvalidField(
        field,
        "is an NHS number of the test range (beginning 999), which is never issued to a person; "
        "this registry is not a test environment and does not accept test NHS numbers",
        v1::TEST_NHS_NUMBER_NOT_ACCEPTED);
  }
  return nhs;
}

absl::Status ValidateName(const std::string& name, absl::string_view field) {
  int characters = CountPrintableUtf8(name);
  if (characters < 0) {
    return absl::InvalidArgumentError(
        absl::StrCat(field, ": must be UTF-8 text without control characters"));
  }
  if (characters > kMaxNameCharacters) {
    return absl::InvalidArgumentError(absl::StrCat(field, ": at most ", kMaxNameCharacters,
                                                   " characters, got ", characters));
  }
  return absl::OkStatus();
}

absl::CivilDay TodayInEngland() {
  // Loaded once: every registration asks, and the zone's rules do not change while we run.
  static const std::optional<absl::TimeZone> england = []() -> std::optional<absl::TimeZone> {
    absl::TimeZone zone;
    if (!absl::LoadTimeZone("Europe/London", &zone)) return std::nullopt;
    return zone;
  }();
  if (!england.has_value()) {
    // Without the time zone database, allow for British Summer Time (UTC+1).
    return absl::ToCivilDay(absl::Now() + absl::Hours(1), absl::UTCTimeZone());
  }
  return absl::ToCivilDay(absl::Now(), *england);
}

absl::StatusOr<ValidBirth> ValidateBirth(const v1::RegisterBirthRequest& request,
                                         absl::CivilDay today, bool allow_test_nhs_numbers) {
  ValidBirth birth;
  absl::StatusOr<std::string> system = ValidateNotifyingSystem(request.notifying_system());
  if (!system.ok()) return system.status();
  birth.notifying_system = *std::move(system);
  if (absl::Status s = ValidateNotificationId(request.notification_id()); !s.ok()) return s;
  birth.notification_id = request.notification_id();

  if (!request.nhs_number().empty()) {
    absl::StatusOr<std::string> nhs =
        ValidateNhsNumberField(request.nhs_number(), "nhs_number", allow_test_nhs_numbers);
    if (!nhs.ok()) return nhs.status();
    birth.nhs_number = *std::move(nhs);
  }

  absl::StatusOr<absl::CivilDay> day = ValidateDate(request, today);
  if (!day.ok()) return day.status();
  birth.date_of_birth = *day;

  if (request.sex() == v1::SEX_UNSPECIFIED) {
    return errors::InvalidField(
        "sex", "required; one of SEX_MALE, SEX_FEMALE, SEX_INDETERMINATE, SEX_NOT_KNOWN",
        v1::FIELD_REQUIRED);
  }
  if (!v1::Sex_IsValid(request.sex())) {
    return errors::InvalidField(
        "sex", "not a known value; one of SEX_MALE, SEX_FEMALE, SEX_INDETERMINATE, SEX_NOT_KNOWN");
  }
  birth.sex = request.sex();

  absl::StatusOr<int> order = ValidateBirthOrder(request.birth_order());
  if (!order.ok()) return order.status();
  birth.birth_order = *order;

  if (absl::Status s = ValidateNameField(request.given_name(), "given_name"); !s.ok()) return s;
  if (absl::Status s = ValidateNameField(request.family_name(), "family_name"); !s.ok()) return s;
  birth.given_name = request.given_name();
  birth.family_name = request.family_name();

  if (request.postcode().empty()) {
    return errors::InvalidField("postcode", "required; the postcode of usual residence",
                                v1::FIELD_REQUIRED);
  }
  absl::StatusOr<std::string> postcode = identifiers::ParsePostcode(request.postcode());
  if (!postcode.ok()) return FieldError("postcode", postcode.status());
  birth.postcode = *std::move(postcode);

  if (request.local_authority().empty()) {
    return errors::InvalidField(
        "local_authority",
        "required; the DfE three-digit local authority number of usual residence",
        v1::FIELD_REQUIRED);
  }
  absl::StatusOr<std::string> la = identifiers::ParseLocalAuthority(request.local_authority());
  if (!la.ok()) return FieldError("local_authority", la.status());
  birth.local_authority = *std::move(la);

  if (!request.mother_nhs_number().empty()) {
    absl::StatusOr<std::string> mother = ValidateNhsNumberField(
        request.mother_nhs_number(), "mother_nhs_number", allow_test_nhs_numbers);
    if (!mother.ok()) return mother.status();
    if (*mother == birth.nhs_number) {
      return errors::InvalidField("mother_nhs_number",
                                  "is the same as the child's nhs_number; check which is which",
                                  v1::NHS_NUMBER_IS_MOTHERS);
    }
    birth.mother_nhs_number = *std::move(mother);
  }
  if (absl::Status s = ValidateNameField(request.mother_given_name(), "mother_given_name");
      !s.ok()) {
    return s;
  }
  if (absl::Status s = ValidateNameField(request.mother_family_name(), "mother_family_name");
      !s.ok()) {
    return s;
  }
  birth.mother_given_name = request.mother_given_name();
  birth.mother_family_name = request.mother_family_name();
  return birth;
}

}  // namespace cir::registry
