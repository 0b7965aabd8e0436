#include "registry/notification_fingerprint.h"

#include <openssl/sha.h>

#include "absl/strings/str_cat.h"
#include "absl/time/civil_time.h"

namespace cir::registry {
namespace {

// Appends a field with its length, so that no two different notifications encode alike.
void AppendField(std::string& out, absl::string_view field) {
  absl::StrAppend(&out, field.size(), ":", field, ";");
}

std::string Sha256(const std::string& canonical) {
  std::string digest(SHA256_DIGEST_LENGTH, '\0');
  SHA256(reinterpret_cast<const unsigned char*>(canonical.data()), canonical.size(),
         reinterpret_cast<unsigned char*>(digest.data()));
  return digest;
}

}  // namespace

std::string NotificationFingerprint(const ValidBirth& birth) {
  // Starts "v2;", which no legacy encoding does (those start with a field's length).
  std::string canonical = "v2;";
  AppendField(canonical, birth.notifying_system);
  AppendField(canonical, birth.notification_id);
  AppendField(canonical, birth.nhs_number);
  AppendField(canonical, absl::FormatCivilTime(birth.date_of_birth));
  AppendField(canonical, absl::StrCat(static_cast<int>(birth.sex)));
  AppendField(canonical, absl::StrCat(birth.birth_order));
  AppendField(canonical, birth.given_name);
  AppendField(canonical, birth.family_name);
  AppendField(canonical, birth.postcode);
  AppendField(canonical, birth.local_authority);
  AppendField(canonical, birth.mother_nhs_number);
  AppendField(canonical, birth.mother_given_name);
  AppendField(canonical, birth.mother_family_name);
  // Address lines, recorded since schema version 3, only when given: a notification sent
  // without them keeps the digest it had before.
  for (const std::string& line : birth.address_lines) AppendField(canonical, line);
  return Sha256(canonical);
}

std::string LegacyNotificationFingerprint(const ValidBirth& birth) {
  std::string canonical;
  AppendField(canonical, birth.nhs_number);
  AppendField(canonical, absl::FormatCivilTime(birth.date_of_birth));
  AppendField(canonical, absl::StrCat(static_cast<int>(birth.sex)));
  AppendField(canonical, birth.given_name);
  AppendField(canonical, birth.family_name);
  AppendField(canonical, birth.postcode);
  AppendField(canonical, birth.local_authority);
  AppendField(canonical, birth.mother_nhs_number);
  return Sha256(canonical);
}

}  // namespace cir::registry
