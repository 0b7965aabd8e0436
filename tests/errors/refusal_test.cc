// Refusals: a status carrying a machine-readable reason, and copies of one to hand to other
// threads.

#include "errors/refusal.h"

#include <string>

#include "absl/status/status.h"
#include "gtest/gtest.h"

namespace cir::errors {
namespace {

TEST(RefusalTest, CarriesItsReasonAndItsMetadata) {
  absl::Status refusal = Refusal(absl::StatusCode::kUnavailable, v1::WRITES_SUSPENDED,
                                 "no writes for now", {{"retry", "later"}});
  EXPECT_EQ(refusal.code(), absl::StatusCode::kUnavailable);
  EXPECT_EQ(refusal.message(), "no writes for now");
  EXPECT_EQ(ReasonOf(refusal), v1::WRITES_SUSPENDED);
  ASSERT_TRUE(ErrorInfoOf(refusal).has_value());
  EXPECT_EQ(ErrorInfoOf(refusal)->domain(), kErrorDomain);
  EXPECT_EQ(ErrorInfoOf(refusal)->metadata().at("retry"), "later");
}

TEST(RefusalTest, AnUnsharedCopyEqualsTheOriginalInCodeMessageAndReason) {
  absl::Status original = InvalidField("postcode", "is not a full UK postcode");
  absl::Status copy = Unshared(original);
  EXPECT_EQ(copy, original);
  EXPECT_NE(copy.message().data(), original.message().data()) << "the copy shares the message";
  EXPECT_EQ(ReasonOf(copy), v1::FIELD_INVALID);
  EXPECT_EQ(ErrorInfoOf(copy)->metadata().at("field"), "postcode");
}

TEST(RefusalTest, AnUnsharedCopyStaysWholeOnceTheOriginalIsGone) {
  absl::Status copy;
  {
    absl::Status original =
        Refusal(absl::StatusCode::kUnavailable, v1::SERVER_STOPPING, std::string(200, 'x'));
    copy = Unshared(original);
  }
  EXPECT_EQ(copy.message(), std::string(200, 'x'));
  EXPECT_EQ(ReasonOf(copy), v1::SERVER_STOPPING);
}

TEST(RefusalTest, AnUnsharedCopyOfOkIsOk) { EXPECT_TRUE(Unshared(absl::OkStatus()).ok()); }

}  // namespace
}  // namespace cir::errors
