#include "identifiers/nhs_number.h"

#include <set>

#include "gmock/gmock.h"
#include "gtest/gtest.h"

namespace cir::identifiers {
namespace {

using ::testing::HasSubstr;

TEST(NhsNumber, AcceptsAValidNumberInItsCanonicalForm) {
  absl::StatusOr<std::string> nhs = ParseNhsNumber("9990000018");
  ASSERT_TRUE(nhs.ok()) << nhs.status();
  EXPECT_EQ(*nhs, "9990000018");
}

TEST(NhsNumber, IgnoresSpacesAndHyphens) {
  EXPECT_EQ(*ParseNhsNumber("999 000 0018"), "9990000018");
  EXPECT_EQ(*ParseNhsNumber("999-000-0018"), "9990000018");
  EXPECT_EQ(*ParseNhsNumber(" 999 000-0018 "), "9990000018");
}

TEST(NhsNumber, AcceptsCheckDigitZeroWhenElevenMinusRemainderIsEleven) {
  EXPECT_TRUE(ParseNhsNumber("9990000050").ok());
}

TEST(NhsNumber, RejectsEmptyInput) {
  EXPECT_THAT(ParseNhsNumber("").status().message(), HasSubstr("empty"));
  EXPECT_THAT(ParseNhsNumber(" - ").status().message(), HasSubstr("empty"));
}

TEST(NhsNumber, RejectsWrongLength) {
  for (const char* input : {"999000001", "99900000188", "9"}) {
    absl::Status status = ParseNhsNumber(input).status();
    EXPECT_EQ(status.code(), absl::StatusCode::kInvalidArgument) << input;
    EXPECT_THAT(status.message(), HasSubstr("10 digits")) << input;
  }
}

TEST(NhsNumber, RejectsNonDigits) {
  for (const char* input : {"99900000A8", "999_000018", "999000001O"}) {
    EXPECT_THAT(ParseNhsNumber(input).status().message(), HasSubstr("only digits")) << input;
  }
}

TEST(NhsNumber, RejectsANumberWhoseCheckValueWouldBeTen) {
  absl::Status status = ParseNhsNumber("9991234560").status();
  EXPECT_EQ(status.code(), absl::StatusCode::kInvalidArgument);
  EXPECT_THAT(status.message(), HasSubstr("check value 10"));
}

TEST(NhsNumber, RejectsAWrongCheckDigit) {
  absl::Status status = ParseNhsNumber("9990000017").status();
  EXPECT_EQ(status.code(), absl::StatusCode::kInvalidArgument);
  EXPECT_THAT(status.message(), HasSubstr("check digit is wrong"));
}

TEST(NhsNumber, DetectsEverySingleDigitMistakeOfAValidNumber) {
  const std::string valid = "9990000026";
  for (int position = 0; position < 10; ++position) {
    for (char digit = '0'; digit <= '9'; ++digit) {
      if (digit == valid[position]) continue;
      std::string mistyped = valid;
      mistyped[position] = digit;
      EXPECT_FALSE(ParseNhsNumber(mistyped).ok()) << mistyped;
    }
  }
}

TEST(NhsNumber, FormatsForDisplayInGroupsOfThreeThreeFour) {
  EXPECT_EQ(FormatNhsNumber("9990000018"), "999 000 0018");
}

TEST(NhsNumber, TheTestRangeYieldsNineHundredThousandDistinctValidNumbersBeginning999) {
  std::set<std::string> seen;
  for (uint32_t n = 0; n < kTestRangeNhsNumberCount; ++n) {
    std::string nhs = TestRangeNhsNumber(n);
    ASSERT_TRUE(ParseNhsNumber(nhs).ok()) << n << " " << nhs;
    ASSERT_EQ(nhs.substr(0, 3), "999");
    seen.insert(std::move(nhs));
  }
  EXPECT_EQ(seen.size(), kTestRangeNhsNumberCount);
}

}  // namespace
}  // namespace cir::identifiers
