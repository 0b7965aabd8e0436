#include "identifiers/normalize.h"

#include "absl/strings/ascii.h"

namespace cir::identifiers {

std::string StripSeparatorsAndUpperCase(absl::string_view input) {
  std::string out;
  out.reserve(input.size());
  for (char c : input) {
    if (c == ' ' || c == '-') continue;
    out.push_back(absl::ascii_toupper(static_cast<unsigned char>(c)));
  }
  return out;
}

}  // namespace cir::identifiers
