// Names as notified: normalised to NFC before they are checked, fingerprinted and stored; invisible
// and direction-changing characters refused; lengths counted in characters, not bytes.
#include <optional>
#include <string>

#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "absl/strings/str_cat.h"
#include "errors/refusal.h"
#include "registry/birth_validation.h"
#include "registry/notification_fingerprint.h"
#include "tests/testing/fictional_children.h"

namespace cir::registry {
namespace {

using ::testing::HasSubstr;
using ::testing::Not;
using ::testing::StartsWith;

// The value, or the refusal as text, so that a failed expectation shows why.
std::string ValueOrRefusal(const absl::StatusOr<std::string>& result) {
  return result.ok() ? *result : absl::StrCat("refused: ", result.status().ToString());
}

std::string Repeated(absl::string_view text, int times) {
  std::string out;
  for (int i = 0; i < times; ++i) absl::StrAppend(&out, text);
  return out;
}

TEST(NameNormalization, ADecomposedAccentAndAPrecomposedOneAreOneName) {
  absl::StatusOr<std::string> decomposed = NormalizeName("Zoe\u0301", "given_name");
  absl::StatusOr<std::string> precomposed = NormalizeName("Zo\u00E9", "given_name");
  ASSERT_TRUE(decomposed.ok()) << decomposed.status();
  ASSERT_TRUE(precomposed.ok()) << precomposed.status();
  EXPECT_EQ(*decomposed, "Zo\u00E9");
  EXPECT_EQ(*precomposed, "Zo\u00E9");
}

TEST(NameNormalization, TwoSpellingsOfOneBirthHaveOneFingerprint) {
  // The same notification typed on two systems: one sends combining accents, the other does not.
  v1::RegisterBirthRequest composed = testing::FictionalBirth("n-1", "");
  composed.set_given_name("Zo\u00E9 Si\u00E2n");
  composed.set_family_name("Gon\u00E7alves");
  v1::RegisterBirthRequest decomposed = composed;
  decomposed.set_given_name("Zoe\u0301 Sia\u0302n");
  decomposed.set_family_name("Gonc\u0327alves");
  const absl::CivilDay today(2026, 11, 25);
  absl::StatusOr<ValidBirth> a = ValidateBirth(composed, today, /*allow_test_nhs_numbers=*/true);
  absl::StatusOr<ValidBirth> b = ValidateBirth(decomposed, today, /*allow_test_nhs_numbers=*/true);
  ASSERT_TRUE(a.ok()) << a.status();
  ASSERT_TRUE(b.ok()) << b.status();
  EXPECT_EQ(a->given_name, b->given_name);
  EXPECT_EQ(a->family_name, b->family_name);
  EXPECT_EQ(NotificationFingerprint(*a), NotificationFingerprint(*b));
}

TEST(NameNormalization, LeavesAsciiAndEmptyNamesAsTheyAre) {
  EXPECT_EQ(ValueOrRefusal(NormalizeName("Lovelace-Test", "family_name")), "Lovelace-Test");
  EXPECT_EQ(ValueOrRefusal(NormalizeName("", "given_name")), "");
}

// Each character that must not appear in a name, with the kind the refusal names.
struct RefusedCharacter {
  const char* name;
  const char* text;  // UTF-8
  const char* kind;
  const char* code_point;
};

void PrintTo(const RefusedCharacter& refused, std::ostream* os) { *os << refused.name; }

class RefusedNameCharacterTest : public ::testing::TestWithParam<RefusedCharacter> {};

TEST_P(RefusedNameCharacterTest, IsRefusedNamingTheFieldAndTheKindOfCharacter) {
  const std::string name = absl::StrCat("Ada", GetParam().text, "Lovelace");
  absl::StatusOr<std::string> normalized = NormalizeName(name, "family_name");
  const absl::Status& status = normalized.status();
  EXPECT_EQ(status.code(), absl::StatusCode::kInvalidArgument);
  EXPECT_THAT(std::string(status.message()), StartsWith("family_name: "));
  EXPECT_THAT(status.message(), HasSubstr(GetParam().kind));
  EXPECT_THAT(status.message(), HasSubstr(GetParam().code_point));
  EXPECT_THAT(status.message(), Not(HasSubstr("Lovelace")));  // refusals are logged
  EXPECT_EQ(errors::ReasonOf(status), v1::FIELD_INVALID);
  std::optional<google::rpc::ErrorInfo> info = errors::ErrorInfoOf(status);
  ASSERT_TRUE(info.has_value());
  EXPECT_EQ(info->metadata().at("field"), "family_name");
}

TEST_P(RefusedNameCharacterTest, IsRefusedInABirthNotification) {
  v1::RegisterBirthRequest birth = testing::FictionalBirth("n-1", "");
  birth.set_given_name(absl::StrCat("Zo\u00E9", GetParam().text));
  absl::Status status = ValidateBirth(birth, absl::CivilDay(2026, 11, 25), /*allow_test_nhs_numbers=*/true).status();
  EXPECT_EQ(status.code(), absl::StatusCode::kInvalidArgument);
  EXPECT_THAT(std::string(status.message()), StartsWith("given_name: "));
  EXPECT_EQ(errors::ReasonOf(status), v1::FIELD_INVALID);
}

constexpr char kBidi[] = "bidirectional control";
constexpr char kZeroWidth[] = "zero-width";
constexpr char kControl[] = "control characters";

INSTANTIATE_TEST_SUITE_P(
    EveryKind, RefusedNameCharacterTest,
    ::testing::Values(
        RefusedCharacter{"LeftToRightEmbedding", "\u202A", kBidi, "U+202A"},
        RefusedCharacter{"RightToLeftEmbedding", "\u202B", kBidi, "U+202B"},
        RefusedCharacter{"PopDirectionalFormatting", "\u202C", kBidi, "U+202C"},
        RefusedCharacter{"LeftToRightOverride", "\u202D", kBidi, "U+202D"},
        RefusedCharacter{"RightToLeftOverride", "\u202E", kBidi, "U+202E"},
        RefusedCharacter{"LeftToRightIsolate", "\u2066", kBidi, "U+2066"},
        RefusedCharacter{"RightToLeftIsolate", "\u2067", kBidi, "U+2067"},
        RefusedCharacter{"FirstStrongIsolate", "\u2068", kBidi, "U+2068"},
        RefusedCharacter{"PopDirectionalIsolate", "\u2069", kBidi, "U+2069"},
        RefusedCharacter{"LeftToRightMark", "\u200E", kBidi, "U+200E"},
        RefusedCharacter{"RightToLeftMark", "\u200F", kBidi, "U+200F"},
        RefusedCharacter{"ArabicLetterMark", "\u061C", kBidi, "U+061C"},
        RefusedCharacter{"ZeroWidthSpace", "\u200B", kZeroWidth, "U+200B"},
        RefusedCharacter{"ZeroWidthNonJoiner", "\u200C", kZeroWidth, "U+200C"},
        RefusedCharacter{"ZeroWidthJoiner", "\u200D", kZeroWidth, "U+200D"},
        RefusedCharacter{"WordJoiner", "\u2060", kZeroWidth, "U+2060"},
        RefusedCharacter{"ByteOrderMark", "\uFEFF", kZeroWidth, "U+FEFF"},
        RefusedCharacter{"LineFeed", "\n", kControl, "U+000A"},
        RefusedCharacter{"Tab", "\t", kControl, "U+0009"},
        RefusedCharacter{"Delete", "\x7f", kControl, "U+007F"},
        RefusedCharacter{"NextLine", "\u0085", kControl, "U+0085"},
        RefusedCharacter{"SoftHyphen", "\u00AD", "invisible formatting", "U+00AD"},
        RefusedCharacter{"LineSeparator", "\u2028", "line or paragraph separator", "U+2028"}),
    [](const ::testing::TestParamInfo<RefusedCharacter>& info) { return info.param.name; });

TEST(NameLength, CountsCharactersNotBytes) {
  // "é" is two bytes of UTF-8; a hundred of them are a hundred characters.
  EXPECT_TRUE(NormalizeName(Repeated("\u00E9", 100), "family_name").ok());
  absl::Status status = NormalizeName(Repeated("\u00E9", 101), "family_name").status();
  EXPECT_EQ(status.code(), absl::StatusCode::kInvalidArgument);
  EXPECT_EQ(status.message(), "family_name: at most 100 characters, got 101");
  EXPECT_EQ(errors::ReasonOf(status), v1::FIELD_INVALID);
}

TEST(NameLength, CountsCharactersOfFourBytesAsOne) {
  // U+20000, a CJK ideograph outside the Basic Multilingual Plane: four bytes of UTF-8.
  EXPECT_TRUE(NormalizeName(Repeated("\U00020000", 100), "given_name").ok());
  EXPECT_EQ(NormalizeName(Repeated("\U00020000", 101), "given_name").status().message(),
            "given_name: at most 100 characters, got 101");
}

TEST(NameLength, CountsCharactersOnceNormalised) {
  // "e" and a combining acute accent are two code points as sent, one character once composed.
  EXPECT_TRUE(NormalizeName(Repeated("e\u0301", 100), "given_name").ok());
  EXPECT_EQ(NormalizeName(Repeated("e\u0301", 101), "given_name").status().message(),
            "given_name: at most 100 characters, got 101");
}

TEST(NameLength, CountsAsciiNamesToo) {
  EXPECT_TRUE(NormalizeName(std::string(100, 'a'), "given_name").ok());
  EXPECT_EQ(NormalizeName(std::string(101, 'a'), "given_name").status().message(),
            "given_name: at most 100 characters, got 101");
}

TEST(NameEncoding, InvalidUtf8IsRefusedRatherThanRepaired) {
  for (const char* broken : {
           "Ada\xff",              // a byte that is never UTF-8
           "Zo\xc3",               // a lead byte without its continuation
           "Ad\xc0\xa1",           // an overlong encoding of '!'
           "Ada\xed\xa0\x80",      // a surrogate
           "\xe9l\xe8ne",          // Latin-1, not UTF-8
       }) {
    absl::Status status = NormalizeName(broken, "given_name").status();
    EXPECT_EQ(status.code(), absl::StatusCode::kInvalidArgument);
    EXPECT_EQ(status.message(), "given_name: must be valid UTF-8 text");
    EXPECT_EQ(errors::ReasonOf(status), v1::FIELD_INVALID);
  }
}

}  // namespace
}  // namespace cir::registry
