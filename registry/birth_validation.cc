#include "registry/birth_validation.h"

#include <optional>

#include "absl/status/status.h"
#include "absl/strings/str_cat.h"
#include "absl/time/clock.h"
#include "absl/time/time.h"
#include "identifiers/local_authority.h"
#include "identifiers/nhs_number.h"
#include "identifiers/postcode.h"

namespace cir::registry {
namespace {

constexpr size_t kMaxNotificationIdLength = 128;
constexpr int kMaxNameCharacters = 100;

absl::Status ValidateNotificationId(const std::string& id) {
  if (id.empty()) {
    return absl::InvalidArgumentError(
        "notification_id: required; give the notifying system's own id for this notification so "
        "that retries are recognised");
  }
  if (id.size() > kMaxNotificationIdLength) {
    return absl::InvalidArgumentError(absl::StrCat(
        "notification_id: at most ", kMaxNotificationIdLength, " characters, got ", id.size()));
  }
  for (char c : id) {
    if (c < 0x21 || c > 0x7e) {
      return absl::InvalidArgumentError(
          "notification_id: only printable ASCII characters without spaces are allowed");
    }
  }
  return absl::OkStatus();
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

absl::StatusOr<absl::CivilDay> ValidateDate(const v1::RegisterBirthRequest& request,
                                            absl::CivilDay today) {
  if (!request.has_date_of_birth()) {
    return absl::InvalidArgumentError("date_of_birth: required");
  }
  const v1::Date& date = request.date_of_birth();
  absl::CivilDay day(date.year(), date.month(), date.day());
  if (day.year() != date.year() || day.month() != date.month() || day.day() != date.day()) {
    return absl::InvalidArgumentError(absl::StrCat("date_of_birth: ", date.year(), "-",
                                                   date.month(), "-", date.day(),
                                                   " is not a calendar date"));
  }
  if (day > today) {
    return absl::InvalidArgumentError(
        absl::StrCat("date_of_birth: ", absl::FormatCivilTime(day), " is in the future (today is ",
                     absl::FormatCivilTime(today), " in England)"));
  }
  if (day.year() < 1900) {
    return absl::InvalidArgumentError("date_of_birth: must not be before 1900");
  }
  return day;
}

}  // namespace

absl::Status FieldError(absl::string_view field, const absl::Status& cause) {
  return absl::InvalidArgumentError(absl::StrCat(field, ": ", cause.message()));
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
                                         absl::CivilDay today) {
  ValidBirth birth;
  if (absl::Status s = ValidateNotificationId(request.notification_id()); !s.ok()) return s;
  birth.notification_id = request.notification_id();

  if (!request.nhs_number().empty()) {
    absl::StatusOr<std::string> nhs = identifiers::ParseNhsNumber(request.nhs_number());
    if (!nhs.ok()) return FieldError("nhs_number", nhs.status());
    birth.nhs_number = *std::move(nhs);
  }

  absl::StatusOr<absl::CivilDay> day = ValidateDate(request, today);
  if (!day.ok()) return day.status();
  birth.date_of_birth = *day;

  if (request.sex() == v1::SEX_UNSPECIFIED || !v1::Sex_IsValid(request.sex())) {
    return absl::InvalidArgumentError(
        "sex: required; one of SEX_MALE, SEX_FEMALE, SEX_INDETERMINATE, SEX_NOT_KNOWN");
  }
  birth.sex = request.sex();

  if (absl::Status s = ValidateName(request.given_name(), "given_name"); !s.ok()) return s;
  if (absl::Status s = ValidateName(request.family_name(), "family_name"); !s.ok()) return s;
  birth.given_name = request.given_name();
  birth.family_name = request.family_name();

  absl::StatusOr<std::string> postcode = identifiers::ParsePostcode(request.postcode());
  if (!postcode.ok()) return FieldError("postcode", postcode.status());
  birth.postcode = *std::move(postcode);

  absl::StatusOr<std::string> la = identifiers::ParseLocalAuthority(request.local_authority());
  if (!la.ok()) return FieldError("local_authority", la.status());
  birth.local_authority = *std::move(la);

  if (!request.mother_nhs_number().empty()) {
    absl::StatusOr<std::string> mother = identifiers::ParseNhsNumber(request.mother_nhs_number());
    if (!mother.ok()) return FieldError("mother_nhs_number", mother.status());
    if (*mother == birth.nhs_number) {
      return absl::InvalidArgumentError(
          "mother_nhs_number: is the same as the child's nhs_number; check which is which");
    }
    birth.mother_nhs_number = *std::move(mother);
  }
  return birth;
}

}  // namespace cir::registry
