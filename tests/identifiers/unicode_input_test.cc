// Identifiers as they arrive from spreadsheets and word processors: Unicode spaces and dashes
// between the groups, full-width digits and letters, and the characters that must still be refused.
#include <string>
#include <utility>

#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "absl/strings/ascii.h"
#include "absl/strings/str_cat.h"
#include "identifiers/child_id.h"
#include "identifiers/identifier.h"
#include "identifiers/local_authority.h"
#include "identifiers/nhs_number.h"
#include "identifiers/normalize.h"
#include "identifiers/postcode.h"
#include "identifiers/upn.h"

namespace cir::identifiers {
namespace {

using ::testing::HasSubstr;

// The value, or the refusal as text, so that a failed expectation shows why.
std::string ValueOrRefusal(const absl::StatusOr<std::string>& result) {
  return result.ok() ? *result : absl::StrCat("refused: ", result.status().ToString());
}

constexpr absl::string_view kNhs = "9990000018";
constexpr absl::string_view kUpn = "B801200005001";

// A valid child identifier in canonical form.
std::string ValidChildId() {
  std::string first_ten = "KDMX4PARTW";
  return first_ten + ChildIdCheckCharacter(first_ten);
}

// `ascii` with every printable character replaced by its full-width form (U+FF01 to U+FF5E) and
// each space by the ideographic space (U+3000), as East Asian input methods type them.
std::string FullWidth(absl::string_view ascii) {
  std::string out;
  for (char c : ascii) {
    // '!' (0x21) becomes U+FF01, and so on up to '~'.
    const char32_t wide = c == ' ' ? 0x3000 : static_cast<char32_t>(c) + 0xFEE0;
    out.push_back(static_cast<char>(0xE0 | (wide >> 12)));
    out.push_back(static_cast<char>(0x80 | ((wide >> 6) & 0x3F)));
    out.push_back(static_cast<char>(0x80 | (wide & 0x3F)));
  }
  return out;
}

// Joins `text` in groups of `group` characters with `separator` between them.
std::string Grouped(absl::string_view text, size_t group, absl::string_view separator) {
  std::string out;
  for (size_t at = 0; at < text.size(); at += group) {
    if (at > 0) absl::StrAppend(&out, separator);
    absl::StrAppend(&out, text.substr(at, group));
  }
  return out;
}

struct Separator {
  const char* name;
  const char* text;  // UTF-8
};

void PrintTo(const Separator& separator, std::ostream* os) { *os << separator.name; }

class UnicodeSeparatorTest : public ::testing::TestWithParam<Separator> {};

TEST_P(UnicodeSeparatorTest, IsIgnoredInAnNhsNumber) {
  absl::StatusOr<std::string> nhs = ParseNhsNumber(Grouped(kNhs, 3, GetParam().text));
  ASSERT_TRUE(nhs.ok()) << nhs.status();
  EXPECT_EQ(*nhs, kNhs);
}

TEST_P(UnicodeSeparatorTest, IsIgnoredInAUpn) {
  absl::StatusOr<std::string> upn = ParseUpn(Grouped(kUpn, 4, GetParam().text));
  ASSERT_TRUE(upn.ok()) << upn.status();
  EXPECT_EQ(*upn, kUpn);
}

TEST_P(UnicodeSeparatorTest, IsIgnoredInAChildIdentifier) {
  const std::string id = ValidChildId();
  absl::StatusOr<std::string> parsed = ParseChildId(Grouped(id, 4, GetParam().text));
  ASSERT_TRUE(parsed.ok()) << parsed.status();
  EXPECT_EQ(*parsed, id);
}

TEST_P(UnicodeSeparatorTest, IsIgnoredWhenTheKindOfIdentifierIsDetected) {
  for (const auto& [canonical, kind] :
       {std::pair<std::string, IdentifierKind>{std::string(kNhs), IdentifierKind::kNhsNumber},
        {std::string(kUpn), IdentifierKind::kUpn},
        {ValidChildId(), IdentifierKind::kChildId}}) {
    absl::StatusOr<Identifier> parsed = ParseAnyIdentifier(Grouped(canonical, 3, GetParam().text));
    ASSERT_TRUE(parsed.ok()) << canonical << ": " << parsed.status();
    EXPECT_EQ(parsed->kind, kind);
    EXPECT_EQ(parsed->value, canonical);
  }
}

TEST_P(UnicodeSeparatorTest, IsIgnoredAroundAnIdentifierToo) {
  const std::string padded = absl::StrCat(GetParam().text, kNhs, GetParam().text);
  absl::StatusOr<std::string> nhs = ParseNhsNumber(padded);
  ASSERT_TRUE(nhs.ok()) << nhs.status();
  EXPECT_EQ(*nhs, kNhs);
}

INSTANTIATE_TEST_SUITE_P(
    SpacesAndDashes, UnicodeSeparatorTest,
    ::testing::Values(Separator{"Space", " "}, Separator{"HyphenMinus", "-"},
                      Separator{"Tab", "\t"}, Separator{"NoBreakSpace", "\u00A0"},
                      Separator{"NarrowNoBreakSpace", "\u202F"},
                      Separator{"FigureSpace", "\u2007"}, Separator{"ThinSpace", "\u2009"},
                      Separator{"EmSpace", "\u2003"}, Separator{"IdeographicSpace", "\u3000"},
                      Separator{"LineFeed", "\n"}, Separator{"NextLine", "\u0085"},
                      Separator{"LineSeparator", "\u2028"}, Separator{"OghamSpaceMark", "\u1680"},
                      Separator{"Hyphen", "\u2010"}, Separator{"NonBreakingHyphen", "\u2011"},
                      Separator{"FigureDash", "\u2012"}, Separator{"EnDash", "\u2013"},
                      Separator{"EmDash", "\u2014"}, Separator{"MinusSign", "\u2212"},
                      Separator{"SmallHyphenMinus", "\uFE63"},
                      Separator{"FullWidthHyphenMinus", "\uFF0D"},
                      Separator{"NoBreakSpaceThenEnDash", "\u00A0\u2013\u00A0"}),
    [](const ::testing::TestParamInfo<Separator>& info) { return info.param.name; });

TEST(FullWidthForms, AreReadAsDigitsInAnNhsNumber) {
  absl::StatusOr<std::string> nhs = ParseNhsNumber(FullWidth(kNhs));
  ASSERT_TRUE(nhs.ok()) << nhs.status();
  EXPECT_EQ(*nhs, kNhs);
  // With ideographic spaces between the groups too.
  EXPECT_EQ(ValueOrRefusal(ParseNhsNumber(FullWidth("999 000 0018"))), kNhs);
}

TEST(FullWidthForms, AreReadAsLettersAndDigitsInAUpnWhateverTheirCase) {
  EXPECT_EQ(ValueOrRefusal(ParseUpn(FullWidth(kUpn))), kUpn);
  EXPECT_EQ(ValueOrRefusal(ParseUpn(FullWidth("b801-2000-05001"))), kUpn);
}

TEST(FullWidthForms, AreReadAsLettersAndDigitsInAChildIdentifierWhateverTheirCase) {
  const std::string id = ValidChildId();
  EXPECT_EQ(ValueOrRefusal(ParseChildId(FullWidth(id))), id);
  EXPECT_EQ(ValueOrRefusal(ParseChildId(FullWidth(absl::AsciiStrToLower(id)))), id);
  absl::StatusOr<Identifier> any = ParseAnyIdentifier(FullWidth(id));
  ASSERT_TRUE(any.ok()) << any.status();
  EXPECT_EQ(any->value, id);
}

TEST(FullWidthForms, AreReadInPostcodesAndLocalAuthorities) {
  EXPECT_EQ(ValueOrRefusal(ParsePostcode(FullWidth("sw1a 1aa"))), "SW1A 1AA");
  EXPECT_EQ(ValueOrRefusal(ParseLocalAuthority(FullWidth("938"))), "938");
}

TEST(PostcodeInput, IgnoresUnicodeSpacesButRefusesEveryKindOfDash) {
  EXPECT_EQ(ValueOrRefusal(ParsePostcode("SW1A\u00A01AA")), "SW1A 1AA");
  EXPECT_EQ(ValueOrRefusal(ParsePostcode("\tSW1A\u202F1AA\u00A0")), "SW1A 1AA");
  for (const char* dashed : {"SW1A-1AA", "SW1A\u20131AA", "SW1A\u22121AA"}) {
    absl::Status status = ParsePostcode(dashed).status();
    EXPECT_EQ(status.code(), absl::StatusCode::kInvalidArgument) << dashed;
  }
}

TEST(LocalAuthorityInput, IgnoresUnicodeSpaces) {
  EXPECT_EQ(ValueOrRefusal(ParseLocalAuthority("\u00A0938\t")), "938");
}

TEST(IdentifierInput, RefusesAZeroWidthSpaceNamingItsCodePoint) {
  const std::string hidden = "999\u200B0000018";
  for (absl::Status status : {ParseNhsNumber(hidden).status(),
                              ParseAnyIdentifier(hidden).status()}) {
    EXPECT_EQ(status.code(), absl::StatusCode::kInvalidArgument);
    EXPECT_THAT(status.message(), HasSubstr("U+200B"));
  }
  EXPECT_THAT(ParseUpn("B8012000\u200B05001").status().message(), HasSubstr("U+200B"));
  EXPECT_THAT(ParseChildId(ValidChildId() + "\uFEFF").status().message(), HasSubstr("U+FEFF"));
}

TEST(IdentifierInput, RefusesLettersOutsideTheAlphabetEvenWhenTheyLookLikeOnesInIt) {
  const std::string id = ValidChildId();  // begins with K
  // Greek capital kappa and Cyrillic capital ka look exactly like K.
  for (const char* look_alike : {"\u039A", "\u041A"}) {
    const std::string spoofed = look_alike + id.substr(1);
    absl::Status status = ParseChildId(spoofed).status();
    EXPECT_EQ(status.code(), absl::StatusCode::kInvalidArgument) << look_alike;
    EXPECT_THAT(status.message(), HasSubstr("letters, digits, spaces and dashes")) << look_alike;
  }
  // B (Latin) begins the UPN; Cyrillic capital ve looks like it.
  EXPECT_EQ(ParseUpn("\u0412" + std::string(kUpn.substr(1))).status().code(),
            absl::StatusCode::kInvalidArgument);
  // Letters that are ASCII but not in the child identifier alphabet: O and I.
  EXPECT_THAT(ParseChildId("O" + id.substr(1)).status().message(), HasSubstr("not one of them"));
  EXPECT_THAT(ParseChildId(id.substr(0, 10) + "I").status().message(),
              HasSubstr("not one of them"));
}

TEST(IdentifierInput, RefusesInvalidUtf8RatherThanGuessing) {
  for (const char* broken : {
           "999\xff" "000018",         // a byte that is never UTF-8
           "999\xc3" "000018",         // a lead byte without its continuation
           "999\xc0\xa0" "000018",     // an overlong encoding of a space
           "999\xed\xa0\x80" "000018",  // a surrogate
           "999 000 001\xe2\x80",      // cut short at the end
       }) {
    for (absl::Status status : {ParseNhsNumber(broken).status(), ParseUpn(broken).status(),
                                ParseChildId(broken).status(),
                                ParseAnyIdentifier(broken).status(),
                                ParsePostcode(broken).status()}) {
      EXPECT_EQ(status.code(), absl::StatusCode::kInvalidArgument);
      EXPECT_THAT(status.message(), HasSubstr("not valid UTF-8"));
    }
  }
}

TEST(IdentifierInput, AsciiAndUnicodeInputGiveTheSameCanonicalForm) {
  // The ASCII path and the ICU path must agree on which characters are separators.
  for (absl::string_view ascii : {"999 000\t0018", "k938-2000-2600-a", "\r\n9990000018\v\f"}) {
    absl::StatusOr<std::string> plain = StripSeparatorsAndUpperCase(ascii, "identifier");
    absl::StatusOr<std::string> unicode =
        StripSeparatorsAndUpperCase(absl::StrCat(ascii, "\u00A0"), "identifier");
    ASSERT_TRUE(plain.ok() && unicode.ok()) << ascii;
    EXPECT_EQ(*plain, *unicode) << ascii;
  }
}

}  // namespace
}  // namespace cir::identifiers
