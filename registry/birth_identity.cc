#include "registry/birth_identity.h"

#include <unicode/unistr.h>

#include <algorithm>

#include "absl/strings/ascii.h"
#include "registry/record_mapping.h"

namespace cir::registry {
namespace {

// True unless both notifications name a value and the values differ.
bool AgreeWhereBothGiven(absl::string_view stored, absl::string_view notified) {
  return stored.empty() || notified.empty() || stored == notified;
}

bool NamesAgree(absl::string_view stored, absl::string_view notified) {
  return AgreeWhereBothGiven(NameComparisonKey(stored), NameComparisonKey(notified));
}

}  // namespace

std::string NameComparisonKey(absl::string_view name) {
  std::string key;
  key.reserve(name.size());
  bool pending_space = false;
  for (char c : absl::StripAsciiWhitespace(name)) {
    if (absl::ascii_isspace(static_cast<unsigned char>(c))) {
      pending_space = true;
      continue;
    }
    if (pending_space) key.push_back(' ');
    pending_space = false;
    key.push_back(absl::ascii_tolower(static_cast<unsigned char>(c)));
  }
  const bool ascii = std::all_of(key.begin(), key.end(),
                                 [](char c) { return static_cast<unsigned char>(c) < 0x80; });
  if (ascii) return key;
  // Letters beyond ASCII ("ZOË" and "zoë") are compared by Unicode's full case folding.
  std::string folded;
  icu::UnicodeString::fromUTF8(key).foldCase().toUTF8String(folded);
  return folded;
}

bool IsSameBirth(const storage::StoredChild& child, const ValidBirth& birth) {
  const storage::StoredDate& dob = child.date_of_birth();
  return dob.year() == birth.date_of_birth.year() && dob.month() == birth.date_of_birth.month() &&
         dob.day() == birth.date_of_birth.day() && child.sex() == birth.sex &&
         BirthOrderOf(child) == birth.birth_order &&
         AgreeWhereBothGiven(child.mother_nhs_number(), birth.mother_nhs_number) &&
         NamesAgree(child.mother_given_name(), birth.mother_given_name) &&
         NamesAgree(child.mother_family_name(), birth.mother_family_name) &&
         NamesAgree(child.given_name(), birth.given_name);
}

}  // namespace cir::registry
