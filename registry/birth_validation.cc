#include "registry/birth_validation.h"

#include <unicode/uchar.h>
#include <unicode/unistr.h>

#include <cstdint>
#include <limits>
#include <optional>

#include "absl/status/status.h"
#include "absl/strings/ascii.h"
#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "absl/time/clock.h"
#include "absl/time/time.h"
#include "errors/refusal.h"
#include "identifiers/local_authority.h"
#include "identifiers/nhs_number.h"
#include "identifiers/postcode.h"
#include "identifiers/unicode_text.h"
#include "registry/field_validation.h"

namespace cir::registry {
namespace {

constexpr size_t kMinOdsCodeLength = 3;
constexpr size_t kMaxOdsCodeLength = 10;
constexpr int64_t kMaxNameCharacters = 100;

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

// The kind of character, if any, that a name may not contain, as the refusal names it.
const char* RefusedInName(UChar32 c) {
  if (u_hasBinaryProperty(c, UCHAR_BIDI_CONTROL)) return "bidirectional control characters";
  switch (c) {
    case 0x200B:  // zero width space
    case 0x200C:  // zero width non-joiner
    case 0x200D:  // zero width joiner
    case 0x2060:  // word joiner
    case 0xFEFF:  // zero width no-break space (byte order mark)
      return "zero-width characters";
  }
  switch (u_charType(c)) {
    case U_CONTROL_CHAR:
      return "control characters";
    case U_FORMAT_CHAR:
      return "invisible formatting characters";
    case U_LINE_SEPARATOR:
    case U_PARAGRAPH_SEPARATOR:
      return "line or paragraph separators";
    default:
      return nullptr;
  }
}

// Names the kind and the code point (never the name: refusals are logged).
absl::Status RefusedCharacter(absl::string_view field, const char* kind, UChar32 c) {
  return errors::InvalidField(field, absl::StrFormat("must not contain %s; found U+%04X", kind, c));
}

absl::Status NameTooLong(absl::string_view field, int64_t characters) {
  return errors::InvalidField(field, absl::StrCat("at most ", kMaxNameCharacters,
                                                  " characters, got ", characters));
}

// A name of ASCII only is already in NFC: checked byte by byte, without ICU's normaliser.
absl::StatusOr<std::string> CheckAsciiName(absl::string_view name, absl::string_view field) {
  for (char c : name) {
    if (const char* refused = RefusedInName(static_cast<unsigned char>(c)); refused != nullptr) {
      return RefusedCharacter(field, refused, static_cast<unsigned char>(c));
    }
  }
  if (name.size() > static_cast<size_t>(kMaxNameCharacters)) {
    return NameTooLong(field, static_cast<int64_t>(name.size()));
  }
  return std::string(name);
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

absl::StatusOr<std::string> NormalizeName(absl::string_view name, absl::string_view field) {
  if (identifiers::IsAscii(name)) return CheckAsciiName(name, field);
  if (name.size() > static_cast<size_t>(std::numeric_limits<int32_t>::max())) {
    return NameTooLong(field, static_cast<int64_t>(name.size()));
  }
  absl::StatusOr<icu::UnicodeString> nfc =
      identifiers::NormalizeUtf8(name, identifiers::NormalForm::kNfc);
  if (absl::IsInvalidArgument(nfc.status())) {
    return errors::InvalidField(field, "must be valid UTF-8 text");
  }
  if (!nfc.ok()) return nfc.status();
  const icu::UnicodeString& normalized = *nfc;
  int64_t characters = 0;
  for (int32_t i = 0; i < normalized.length(); i = normalized.moveIndex32(i, 1)) {
    const UChar32 c = normalized.char32At(i);
    if (const char* refused = RefusedInName(c); refused != nullptr) {
      return RefusedCharacter(field, refused, c);
    }
    ++characters;
  }
  if (characters > kMaxNameCharacters) return NameTooLong(field, characters);
  std::string out;
  normalized.toUTF8String(out);
  return out;
}

namespace {

// England's time zone, loaded once: the zone's rules do not change while we run. Empty without
// the time zone database.
const std::optional<absl::TimeZone>& England() {
  static const std::optional<absl::TimeZone> england = []() -> std::optional<absl::TimeZone> {
    absl::TimeZone zone;
    if (!absl::LoadTimeZone("Europe/London", &zone)) return std::nullopt;
    return zone;
  }();
  return england;
}

}  // namespace

absl::CivilDay DayInEngland(absl::Time when) {
  if (!England().has_value()) {
    // Without the time zone database, allow for British Summer Time (UTC+1).
    return absl::ToCivilDay(when + absl::Hours(1), absl::UTCTimeZone());
  }
  return absl::ToCivilDay(when, *England());
}

absl::Time StartOfDayInEngland(absl::CivilDay day) {
  if (!England().has_value()) return absl::FromCivil(day, absl::UTCTimeZone()) - absl::Hours(1);
  return absl::FromCivil(day, *England());
}

absl::CivilDay TodayInEngland() { return DayInEngland(absl::Now()); }

absl::StatusOr<ValidBirth> ValidateBirth(const v1::RegisterBirthRequest& request,
                                         absl::CivilDay today, bool allow_test_nhs_numbers) {
  ValidBirth birth;
  absl::StatusOr<std::string> system = ValidateNotifyingSystem(request.notifying_system());
  if (!system.ok()) return system.status();
  birth.notifying_system = *std::move(system);
  if (absl::Status s = ValidateCallerId(request.notification_id(), "notification_id",
                                        "give the notifying system's own id for this "
                                        "notification so that retries are recognised");
      !s.ok()) {
    return s;
  }
  birth.notification_id = request.notification_id();

  if (!request.nhs_number().empty()) {
    absl::StatusOr<std::string> nhs =
        ValidateNhsNumberField(request.nhs_number(), "nhs_number", allow_test_nhs_numbers);
    if (!nhs.ok()) return nhs.status();
    birth.nhs_number = *std::move(nhs);
  }

  if (!request.has_date_of_birth()) {
    return errors::InvalidField("date_of_birth", "required", v1::FIELD_REQUIRED);
  }
  absl::StatusOr<absl::CivilDay> day =
      ValidateCalendarDate(request.date_of_birth(), "date_of_birth", today);
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

  absl::StatusOr<int> order = ValidateBirthOrderField(request.birth_order());
  if (!order.ok()) return order.status();
  birth.birth_order = *order;

  absl::StatusOr<std::string> given_name = NormalizeName(request.given_name(), "given_name");
  if (!given_name.ok()) return given_name.status();
  birth.given_name = *std::move(given_name);
  absl::StatusOr<std::string> family_name = NormalizeName(request.family_name(), "family_name");
  if (!family_name.ok()) return family_name.status();
  birth.family_name = *std::move(family_name);

  absl::StatusOr<ValidAddress> address =
      ValidateAddress(request.address_lines(), request.postcode(), request.local_authority(),
                      /*lines_required=*/false);
  if (!address.ok()) return address.status();
  birth.address_lines = std::move(address->lines);
  birth.postcode = std::move(address->postcode);
  birth.local_authority = std::move(address->local_authority);

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
  absl::StatusOr<std::string> mother_given =
      NormalizeName(request.mother_given_name(), "mother_given_name");
  if (!mother_given.ok()) return mother_given.status();
  birth.mother_given_name = *std::move(mother_given);
  absl::StatusOr<std::string> mother_family =
      NormalizeName(request.mother_family_name(), "mother_family_name");
  if (!mother_family.ok()) return mother_family.status();
  birth.mother_family_name = *std::move(mother_family);
  return birth;
}

}  // namespace cir::registry
