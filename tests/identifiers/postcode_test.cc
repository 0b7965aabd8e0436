#include "identifiers/postcode.h"

#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "identifiers/local_authority.h"

namespace cir::identifiers {
namespace {

using ::testing::HasSubstr;

TEST(Postcode, AcceptsEveryOutwardShapeAndNormalisesSpacingAndCase) {
  EXPECT_EQ(*ParsePostcode("m1 1aa"), "M1 1AA");            // A9
  EXPECT_EQ(*ParsePostcode("M601NW"), "M60 1NW");           // A99
  EXPECT_EQ(*ParsePostcode("CR2 6XH"), "CR2 6XH");          // AA9
  EXPECT_EQ(*ParsePostcode("DN55 1PT"), "DN55 1PT");        // AA99
  EXPECT_EQ(*ParsePostcode("W1A 0AX"), "W1A 0AX");          // A9A
  EXPECT_EQ(*ParsePostcode("  ec1a1bb "), "EC1A 1BB");      // AA9A
  EXPECT_EQ(*ParsePostcode("GIR 0AA"), "GIR 0AA");          // the special case
}

TEST(Postcode, RejectsEmptyInput) {
  EXPECT_THAT(ParsePostcode("").status().message(), HasSubstr("empty"));
}

TEST(Postcode, RejectsPartialAndMalformedPostcodes) {
  for (const char* input : {"SW1A", "SW1A 1A", "1SW 1AA", "SW1A AAA", "SW1A 11A", "SW1AA 1AA",
                            "S-1 1AA"}) {
    absl::Status status = ParsePostcode(input).status();
    EXPECT_EQ(status.code(), absl::StatusCode::kInvalidArgument) << input;
  }
}

TEST(LocalAuthority, AcceptsThreeDigitDfeNumbersIncludingHistoricOnes) {
  EXPECT_EQ(*ParseLocalAuthority("938"), "938");
  EXPECT_EQ(*ParseLocalAuthority("201"), "201");
  EXPECT_TRUE(ParseLocalAuthority("100").ok());
}

TEST(LocalAuthority, RejectsAnythingButThreeDigits) {
  for (const char* input : {"", "93", "9380", "93A", "012"}) {
    EXPECT_FALSE(ParseLocalAuthority(input).ok()) << input;
  }
  EXPECT_THAT(ParseLocalAuthority("93").status().message(), HasSubstr("three-digit"));
}

}  // namespace
}  // namespace cir::identifiers
