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

}  // namespace

std::string NotificationFingerprint(const ValidBirth& birth) {
  std::string canonical;
  AppendField(canonical, birth.nhs_number);
  AppendField(canonical, absl::FormatCivilTime(birth.date_of_birth));
  AppendField(canonical, absl::StrCat(static_cast<int>(birth.sex)));
  AppendField(canonical, birth.given_name);
  AppendField(canonical, birth.family_name);
  AppendField(canonical, birth.postcode);
  AppendField(canonical, birth.local_authority);
  AppendField(canonical, birth.mother_nhs_number);
  std::string digest(SHA256_DIGEST_LENGTH, '\0');
  SHA256(reinterpret_cast<const unsigned char*>(canonical.data()), canonical.size(),
         reinterpret_cast<unsigned char*>(digest.data()));
  return digest;
}

}  // namespace cir::registry
