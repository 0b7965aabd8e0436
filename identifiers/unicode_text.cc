#include "identifiers/unicode_text.h"

#include <unicode/normalizer2.h>
#include <unicode/utf8.h>

#include <algorithm>
#include <cstdint>
#include <limits>

#include "absl/status/status.h"
#include "absl/strings/str_cat.h"

namespace cir::identifiers {

bool IsAscii(absl::string_view text) {
  return std::all_of(text.begin(), text.end(),
                     [](char c) { return static_cast<unsigned char>(c) < 0x80; });
}

absl::StatusOr<icu::UnicodeString> NormalizeUtf8(absl::string_view text, NormalForm form) {
  if (text.size() > static_cast<size_t>(std::numeric_limits<int32_t>::max())) {
    return absl::InvalidArgumentError("text of 2 GiB or more");
  }
  const int32_t length = static_cast<int32_t>(text.size());
  for (int32_t i = 0; i < length;) {
    UChar32 c;
    U8_NEXT(text.data(), i, length, c);
    if (c < 0) return absl::InvalidArgumentError("not valid UTF-8");
  }
  UErrorCode error = U_ZERO_ERROR;
  const icu::Normalizer2* normalizer = form == NormalForm::kNfc
                                           ? icu::Normalizer2::getNFCInstance(error)
                                           : icu::Normalizer2::getNFKCInstance(error);
  icu::UnicodeString normalized;
  if (U_SUCCESS(error)) {
    normalized = normalizer->normalize(
        icu::UnicodeString::fromUTF8(icu::StringPiece(text.data(), length)), error);
  }
  if (U_FAILURE(error)) {
    return absl::InternalError(
        absl::StrCat("Unicode normalisation failed (ICU: ", u_errorName(error), ")"));
  }
  return normalized;
}

}  // namespace cir::identifiers
