#include "identifiers/upn.h"

#include "gmock/gmock.h"
#include "gtest/gtest.h"

namespace cir::identifiers {
namespace {

using ::testing::HasSubstr;

TEST(Upn, AcceptsThePermanentExampleFromTheDfeGuidance) {
  absl::StatusOr<std::string> upn = ParseUpn("B801200005001");
  ASSERT_TRUE(upn.ok()) << upn.status();
  EXPECT_EQ(*upn, "B801200005001");
  EXPECT_FALSE(IsTemporaryUpn(*upn));
}

TEST(Upn, AcceptsATemporaryUpnEndingInALetter) {
  absl::StatusOr<std::string> upn = ParseUpn("K93820002600A");
  ASSERT_TRUE(upn.ok()) << upn.status();
  EXPECT_TRUE(IsTemporaryUpn(*upn));
  EXPECT_TRUE(ParseUpn("H20100002400Z").ok());
}

TEST(Upn, IgnoresCaseSpacesAndHyphens) {
  EXPECT_EQ(*ParseUpn("b801200005001"), "B801200005001");
  EXPECT_EQ(*ParseUpn("B801 2000 05001"), "B801200005001");
  EXPECT_EQ(*ParseUpn("k938-2000-2600-a"), "K93820002600A");
}

TEST(Upn, AcceptsHistoricLaCodesWithoutCheckingTodaysList) {
  // LA 100 is on no current list; a UPN carrying it is still a UPN.
  std::string rest = "100200026001";
  std::string upn = UpnCheckLetter(rest) + rest;
  EXPECT_TRUE(ParseUpn(upn).ok()) << upn;
}

TEST(Upn, RejectsEmptyInput) { EXPECT_THAT(ParseUpn("").status().message(), HasSubstr("empty")); }

TEST(Upn, RejectsWrongLength) {
  for (const char* input : {"B80120000500", "B8012000050011"}) {
    EXPECT_THAT(ParseUpn(input).status().message(), HasSubstr("13 characters")) << input;
  }
}

TEST(Upn, RejectsAFirstCharacterOutsideTheCheckAlphabet) {
  for (const char* input : {"I801200005001", "O801200005001", "S801200005001", "8801200005001"}) {
    EXPECT_THAT(ParseUpn(input).status().message(), HasSubstr("check letter from")) << input;
  }
}

TEST(Upn, RejectsLettersInsideTheNumericPart) {
  EXPECT_THAT(ParseUpn("B80120A005001").status().message(), HasSubstr("must be digits"));
}

TEST(Upn, RejectsALastLetterOutsideTheCheckAlphabet) {
  for (const char* input : {"K93820002600I", "K93820002600O", "K93820002600S"}) {
    EXPECT_THAT(ParseUpn(input).status().message(), HasSubstr("character 13")) << input;
  }
}

TEST(Upn, RejectsABadCheckLetter) {
  absl::Status status = ParseUpn("C801200005001").status();
  EXPECT_EQ(status.code(), absl::StatusCode::kInvalidArgument);
  EXPECT_THAT(status.message(), HasSubstr("check letter is wrong"));
  EXPECT_FALSE(ParseUpn("A93820002600A").ok());
}

TEST(Upn, DetectsEverySingleDigitMistakeInThePermanentPart) {
  const std::string valid = "B801200005001";
  for (int position = 1; position < 13; ++position) {
    for (char digit = '0'; digit <= '9'; ++digit) {
      if (digit == valid[position]) continue;
      std::string mistyped = valid;
      mistyped[position] = digit;
      EXPECT_FALSE(ParseUpn(mistyped).ok()) << mistyped;
    }
  }
}

}  // namespace
}  // namespace cir::identifiers
