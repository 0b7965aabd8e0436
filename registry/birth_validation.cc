#include "registry/birth_validation.h"

#include <unicode/normalizer2.h>
#include <unicode/uchar.h>
#include <unicode/unistr.h>
#include <unicode/utf8.h>

#include <algorithm>
#include <cstdint>
#include <limits>
#include <optional>

#include "absl/status/status.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "absl/time/clock.h"
#include "absl/time/time.h"
#include "errors/refusal.h"
#include "identifiers/local_authority.h"
#include "identifiers/nhs_number.h"
#include "identifiers/postcode.h"

namespace cir::registry {
namespace {

constexpr size_t kMaxNotificationIdLength = 128;
constexpr int64_t kMaxNameCharacters = 100;

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

absl::StatusOr<std::string> NormalizeName(absl::string_view name, absl::string_view field) {
  const bool ascii = std::all_of(name.begin(), name.end(),
                                 [](char c) { return static_cast<unsigned char>(c) < 0x80; });
  if (ascii) return CheckAsciiName(name, field);
  if (name.size() > static_cast<size_t>(std::numeric_limits<int32_t>::max())) {
    return NameTooLong(field, static_cast<int64_t>(name.size()));
  }
  // ICU's conversion from UTF-8 would quietly replace a malformed sequence with U+FFFD: check
  // first, strictly (overlong forms, surrogates and truncated sequences are all malformed).
  const int32_t length = static_cast<int32_t>(name.size());
  for (int32_t i = 0; i < length;) {
    UChar32 c;
    U8_NEXT(name.data(), i, length, c);
    if (c < 0) return errors::InvalidField(field, "must be valid UTF-8 text");
  }
  UErrorCode error = U_ZERO_ERROR;
  const icu::Normalizer2* nfc = icu::Normalizer2::getNFCInstance(error);
  icu::UnicodeString normalized;
  if (U_SUCCESS(error)) {
    normalized =
        nfc->normalize(icu::UnicodeString::fromUTF8(icu::StringPiece(name.data(), length)), error);
  }
  if (U_FAILURE(error)) {
    return absl::InternalError(
        absl::StrCat("Unicode normalisation failed (ICU: ", u_errorName(error), ")"));
  }
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

  absl::StatusOr<std::string> given_name = NormalizeName(request.given_name(), "given_name");
  if (!given_name.ok()) return given_name.status();
  birth.given_name = *std::move(given_name);
  absl::StatusOr<std::string> family_name = NormalizeName(request.family_name(), "family_name");
  if (!family_name.ok()) return family_name.status();
  birth.family_name = *std::move(family_name);

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
