// Fuzzes the identifier parsers (identifiers/): the first byte of the input picks the parser, the
// rest is the text it reads.
//
//   first byte % 6:  0 ParseNhsNumber   1 ParseUpn   2 ParseChildId   3 ParsePostcode
//                    4 ParseLocalAuthority   5 ParseAnyIdentifier
//
// Beyond not crashing, every parse is checked:
// - ASCII text is judged exactly as a plain model of each format (written here from the formats'
//   descriptions in the headers, not from the parsers) judges it: accepted or refused alike, and
//   accepted as the same canonical value.
// - Case is ignored: lower-cased text gives the same result.
// - The Unicode path agrees with the ASCII one: the same text with a no-break space in front,
//   or with its letters, digits and spaces in their full-width forms, gives the same result.
// - A value accepted is canonical: it parses again to itself, its check character holds, and its
//   display form (NHS number, child identifier) parses back to it.

#include <cstddef>
#include <cstdint>
#include <optional>
#include <string>

#include "absl/status/statusor.h"
#include "absl/strings/ascii.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/string_view.h"
#include "identifiers/child_id.h"
#include "identifiers/identifier.h"
#include "identifiers/local_authority.h"
#include "identifiers/nhs_number.h"
#include "identifiers/postcode.h"
#include "identifiers/upn.h"
#include "tests/fuzz/fuzz_check.h"

namespace cir::identifiers {
namespace {

using fuzz::Printable;

enum class Parser { kNhsNumber, kUpn, kChildId, kPostcode, kLocalAuthority, kAny };
constexpr int kParserCount = 6;

// Longest text the Unicode variants are made for: longer text says nothing new about them.
constexpr size_t kMaxVariantInput = 256;

// The parser's verdict: the canonical value, or nullopt when refused.
std::optional<std::string> Parse(Parser parser, absl::string_view text) {
  absl::StatusOr<std::string> value;
  switch (parser) {
    case Parser::kNhsNumber:
      value = ParseNhsNumber(text);
      break;
    case Parser::kUpn:
      value = ParseUpn(text);
      break;
    case Parser::kChildId:
      value = ParseChildId(text);
      break;
    case Parser::kPostcode:
      value = ParsePostcode(text);
      break;
    case Parser::kLocalAuthority:
      value = ParseLocalAuthority(text);
      break;
    case Parser::kAny: {
      absl::StatusOr<Identifier> identifier = ParseAnyIdentifier(text);
      if (!identifier.ok()) return std::nullopt;
      return identifier->value;
    }
  }
  if (!value.ok()) {
    CIR_FUZZ_CHECK(absl::IsInvalidArgument(value.status()),
                   absl::StrCat(value.status().ToString(), " for \"", Printable(text), "\""));
    CIR_FUZZ_CHECK(!value.status().message().empty(), Printable(text));
    return std::nullopt;
  }
  return *std::move(value);
}

// ---- The model: each format as its header describes it, for ASCII text ----------------------

bool IsAsciiText(absl::string_view text) {
  for (char c : text) {
    if (static_cast<unsigned char>(c) >= 0x80) return false;
  }
  return true;
}

// ASCII text without its separators (white space, and the hyphen-minus when `dashes`), upper case.
std::string ModelStrip(absl::string_view text, bool dashes) {
  std::string out;
  for (char c : text) {
    if (c == ' ' || c == '\t' || c == '\n' || c == '\v' || c == '\f' || c == '\r') continue;
    if (dashes && c == '-') continue;
    out.push_back(absl::ascii_toupper(static_cast<unsigned char>(c)));
  }
  return out;
}

bool AllDigits(absl::string_view text) {
  for (char c : text) {
    if (c < '0' || c > '9') return false;
  }
  return true;
}

std::optional<std::string> ModelNhsNumber(const std::string& v) {
  if (v.size() != 10 || !AllDigits(v)) return std::nullopt;
  int sum = 0;
  for (int i = 0; i < 9; ++i) sum += (v[i] - '0') * (10 - i);
  const int check = (11 - sum % 11) % 11;  // 11 becomes 0
  if (check == 10 || v[9] - '0' != check) return std::nullopt;
  return v;
}

constexpr absl::string_view kUpnLetters = "ABCDEFGHJKLMNPQRTUVWXYZ";

std::optional<std::string> ModelUpn(const std::string& v) {
  if (v.size() != 13) return std::nullopt;
  if (kUpnLetters.find(v[0]) == absl::string_view::npos) return std::nullopt;
  if (!AllDigits(absl::string_view(v).substr(1, 11))) return std::nullopt;
  int sum = 0;
  for (int position = 2; position <= 13; ++position) {
    const char c = v[position - 1];
    int value;
    if (c >= '0' && c <= '9') {
      value = c - '0';
    } else if (position == 13 && kUpnLetters.find(c) != absl::string_view::npos) {
      value = static_cast<int>(kUpnLetters.find(c));
    } else {
      return std::nullopt;
    }
    sum += value * position;
  }
  if (kUpnLetters[sum % 23] != v[0]) return std::nullopt;
  return v;
}

std::optional<std::string> ModelChildId(const std::string& v) {
  constexpr absl::string_view kAlphabet = "ACDEFGHJKLMNPQRTVWXY347";
  if (v.size() != 11) return std::nullopt;
  int sum = 0;
  for (size_t i = 0; i < v.size(); ++i) {
    const size_t index = kAlphabet.find(v[i]);
    if (index == absl::string_view::npos) return std::nullopt;
    if (i == 0 && index >= 20) return std::nullopt;  // a letter first
    const int weight = i < 10 ? static_cast<int>(i) + 2 : 1;
    sum += weight * static_cast<int>(index);
  }
  if (sum % 23 != 0) return std::nullopt;
  return v;
}

// Whether `text` has `shape`: 'A' an upper-case letter, '9' a digit.
bool HasShape(absl::string_view text, absl::string_view shape) {
  if (text.size() != shape.size()) return false;
  for (size_t i = 0; i < text.size(); ++i) {
    const bool ok =
        shape[i] == 'A' ? (text[i] >= 'A' && text[i] <= 'Z') : (text[i] >= '0' && text[i] <= '9');
    if (!ok) return false;
  }
  return true;
}

std::optional<std::string> ModelPostcode(const std::string& v) {
  if (v == "GIR0AA") return std::string("GIR 0AA");
  if (v.size() < 5 || v.size() > 7) return std::nullopt;
  const absl::string_view outward = absl::string_view(v).substr(0, v.size() - 3);
  const absl::string_view inward = absl::string_view(v).substr(v.size() - 3);
  if (!HasShape(inward, "9AA")) return std::nullopt;
  bool outward_ok = false;
  for (absl::string_view shape : {"A9", "A99", "AA9", "AA99", "A9A", "AA9A"}) {
    outward_ok = outward_ok || HasShape(outward, shape);
  }
  if (!outward_ok) return std::nullopt;
  return absl::StrCat(outward, " ", inward);
}

std::optional<std::string> ModelLocalAuthority(const std::string& v) {
  if (v.size() != 3 || !AllDigits(v) || v[0] == '0') return std::nullopt;
  return v;
}

std::optional<std::string> Model(Parser parser, absl::string_view ascii) {
  switch (parser) {
    case Parser::kNhsNumber:
      return ModelNhsNumber(ModelStrip(ascii, true));
    case Parser::kUpn:
      return ModelUpn(ModelStrip(ascii, true));
    case Parser::kChildId:
      return ModelChildId(ModelStrip(ascii, true));
    case Parser::kPostcode:
      return ModelPostcode(ModelStrip(ascii, false));
    case Parser::kLocalAuthority:
      return ModelLocalAuthority(ModelStrip(ascii, false));
    case Parser::kAny: {
      const std::string v = ModelStrip(ascii, true);
      if (v.size() == 10) return ModelNhsNumber(v);
      if (v.size() == 11) return ModelChildId(v);
      if (v.size() == 13) return ModelUpn(v);
      return std::nullopt;
    }
  }
  return std::nullopt;
}

// ---- Variants of ASCII text that must read alike ---------------------------------------------

// Appends the UTF-8 encoding of `code_point` (below U+10000).
void AppendUtf8(uint32_t code_point, std::string& out) {
  if (code_point < 0x80) {
    out.push_back(static_cast<char>(code_point));
  } else if (code_point < 0x800) {
    out.push_back(static_cast<char>(0xC0 | (code_point >> 6)));
    out.push_back(static_cast<char>(0x80 | (code_point & 0x3F)));
  } else {
    out.push_back(static_cast<char>(0xE0 | (code_point >> 12)));
    out.push_back(static_cast<char>(0x80 | ((code_point >> 6) & 0x3F)));
    out.push_back(static_cast<char>(0x80 | (code_point & 0x3F)));
  }
}

// ASCII text with its letters and digits in their full-width forms (U+FF10-U+FF19, U+FF21-U+FF3A,
// U+FF41-U+FF5A) and its spaces as ideographic spaces (U+3000), which NFKC reads as the ASCII.
std::string FullWidth(absl::string_view ascii) {
  std::string out;
  for (char c : ascii) {
    if (absl::ascii_isalnum(static_cast<unsigned char>(c))) {
      AppendUtf8(0xFF00 + static_cast<uint32_t>(c) - 0x20, out);
    } else if (c == ' ') {
      AppendUtf8(0x3000, out);
    } else {
      out.push_back(c);
    }
  }
  return out;
}

std::string Show(const std::optional<std::string>& verdict) {
  return verdict.has_value() ? absl::StrCat("\"", Printable(*verdict), "\"") : "refused";
}

void CheckSameVerdict(Parser parser, absl::string_view text, absl::string_view variant,
                      const std::optional<std::string>& expected, absl::string_view what) {
  const std::optional<std::string> got = Parse(parser, variant);
  CIR_FUZZ_CHECK(got == expected,
                 absl::StrCat(what, ": \"", Printable(text), "\" gives ", Show(expected), " but \"",
                              Printable(variant), "\" gives ", Show(got)));
}

// ---- What an accepted value must be ----------------------------------------------------------

void CheckAccepted(Parser parser, absl::string_view text, const std::string& value) {
  const std::string context =
      absl::StrCat("\"", Printable(text), "\" -> \"", Printable(value), "\"");
  // Canonical: it reads as itself.
  CIR_FUZZ_CHECK(Parse(parser, value) == value, context);
  switch (parser) {
    case Parser::kNhsNumber: {
      CIR_FUZZ_CHECK(value.size() == 10 && AllDigits(value), context);
      CIR_FUZZ_CHECK(NhsCheckDigit(value.substr(0, 9)) == value[9] - '0', context);
      const std::string display = FormatNhsNumber(value);
      CIR_FUZZ_CHECK(display.size() == 12 && display[3] == ' ' && display[7] == ' ', context);
      CIR_FUZZ_CHECK(Parse(parser, display) == value, context);
      absl::StatusOr<Identifier> any = ParseAnyIdentifier(value);
      CIR_FUZZ_CHECK(any.ok() && any->kind == IdentifierKind::kNhsNumber && any->value == value,
                     context);
      break;
    }
    case Parser::kUpn: {
      CIR_FUZZ_CHECK(value.size() == 13, context);
      CIR_FUZZ_CHECK(UpnCheckLetter(absl::string_view(value).substr(1)) == value[0], context);
      CIR_FUZZ_CHECK(IsTemporaryUpn(value) == !absl::ascii_isdigit(value[12]), context);
      absl::StatusOr<Identifier> any = ParseAnyIdentifier(value);
      CIR_FUZZ_CHECK(any.ok() && any->kind == IdentifierKind::kUpn && any->value == value, context);
      break;
    }
    case Parser::kChildId: {
      CIR_FUZZ_CHECK(value.size() == static_cast<size_t>(kChildIdLength), context);
      CIR_FUZZ_CHECK(ChildIdCheckCharacter(absl::string_view(value).substr(0, 10)) == value[10],
                     context);
      const std::string display = FormatChildId(value);
      CIR_FUZZ_CHECK(display.size() == 13 && display[4] == '-' && display[9] == '-', context);
      CIR_FUZZ_CHECK(Parse(parser, display) == value, context);
      CIR_FUZZ_CHECK(Parse(parser, absl::AsciiStrToLower(display)) == value, context);
      absl::StatusOr<Identifier> any = ParseAnyIdentifier(display);
      CIR_FUZZ_CHECK(any.ok() && any->kind == IdentifierKind::kChildId && any->value == value,
                     context);
      break;
    }
    case Parser::kPostcode: {
      // One space, before the three-character inward code.
      CIR_FUZZ_CHECK(value.size() >= 6 && value.size() <= 8, context);
      CIR_FUZZ_CHECK(value.find(' ') == value.size() - 4 && value.rfind(' ') == value.size() - 4,
                     context);
      std::string compact = value;
      compact.erase(compact.size() - 4, 1);
      CIR_FUZZ_CHECK(Parse(parser, compact) == value, context);
      break;
    }
    case Parser::kLocalAuthority:
      CIR_FUZZ_CHECK(value.size() == 3 && AllDigits(value) && value[0] != '0', context);
      break;
    case Parser::kAny: {
      absl::StatusOr<Identifier> any = ParseAnyIdentifier(text);
      CIR_FUZZ_CHECK(any.ok(), context);
      absl::StatusOr<Identifier> as_kind = ParseIdentifier(text, any->kind);
      CIR_FUZZ_CHECK(as_kind.ok() && as_kind->value == value, context);
      break;
    }
  }
}

void TestOneInput(absl::string_view input) {
  if (input.empty()) return;
  const auto parser = static_cast<Parser>(static_cast<unsigned char>(input[0]) % kParserCount);
  const absl::string_view text = input.substr(1);

  const std::optional<std::string> verdict = Parse(parser, text);
  if (verdict.has_value()) CheckAccepted(parser, text, *verdict);
  if (!IsAsciiText(text)) return;

  const std::optional<std::string> expected = Model(parser, text);
  CIR_FUZZ_CHECK(verdict == expected, absl::StrCat("\"", Printable(text), "\": the parser gives ",
                                                   Show(verdict), ", the format ", Show(expected)));
  CheckSameVerdict(parser, text, absl::AsciiStrToLower(text), verdict, "lower case");
  if (text.size() <= kMaxVariantInput) {
    CheckSameVerdict(parser, text, absl::StrCat("\xC2\xA0", text), verdict,
                     "after a no-break space");
    CheckSameVerdict(parser, text, FullWidth(text), verdict, "in full-width forms");
  }
}

}  // namespace
}  // namespace cir::identifiers

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  cir::identifiers::TestOneInput(absl::string_view(reinterpret_cast<const char*>(data), size));
  return 0;
}
