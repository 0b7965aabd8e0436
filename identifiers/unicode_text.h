#ifndef CIR_IDENTIFIERS_UNICODE_TEXT_H_
#define CIR_IDENTIFIERS_UNICODE_TEXT_H_

// Text from outside the registry (identifiers pasted from spreadsheets, names as notified), checked
// as UTF-8 and put in a Unicode normal form before anything judges it. Shared by identifier
// parsing (NFKC) and name validation (NFC).

#include <unicode/unistr.h>

#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"

namespace cir::identifiers {

enum class NormalForm {
  kNfc,   // canonical composition: how names are compared and stored
  kNfkc,  // compatibility composition: full-width digits and letters read as their ASCII forms
};

// True if every byte of `text` is ASCII: such text needs neither check nor normalisation.
bool IsAscii(absl::string_view text);

// `text` in normal form `form`. INVALID_ARGUMENT if `text` is not well-formed UTF-8, checked
// strictly first (overlong forms, surrogates and truncated sequences are malformed), since ICU's
// own conversion would quietly replace a malformed sequence with U+FFFD; callers say so in their
// own words. INTERNAL if ICU fails. `text` must be shorter than 2 GiB (ICU's index is 32-bit):
// callers refuse longer input before.
absl::StatusOr<icu::UnicodeString> NormalizeUtf8(absl::string_view text, NormalForm form);

}  // namespace cir::identifiers

#endif  // CIR_IDENTIFIERS_UNICODE_TEXT_H_
