// RegisterBirths: many births in one call, each registered as RegisterBirth would register it
// alone and answered on its own, all in one unit of work.
#include <future>
#include <set>
#include <string>
#include <thread>
#include <vector>

#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "tests/registry/registry_fixture.h"

namespace cir::registry {
namespace {

using ::testing::SizeIs;
using testing::FictionalBirth;
using testing::FictionalNhsNumber;

class BulkRegistrationTest : public RegistryTest {
 protected:
  absl::StatusOr<v1::RegisterBirthsResponse> RegisterAll(const v1::RegisterBirthsRequest& request,
                                                         Registry* registry = nullptr) {
    std::promise<absl::StatusOr<v1::RegisterBirthsResponse>> reply;
    (registry != nullptr ? registry : registry_.get())
        ->RegisterBirths(request, [&](auto r) { reply.set_value(std::move(r)); });
    return reply.get_future().get();
  }

  // Births n = first .. first + count - 1: notification "bulk-n", the n-th fictional NHS number.
  static v1::RegisterBirthsRequest Births(int first, int count) {
    v1::RegisterBirthsRequest request;
    for (int n = first; n < first + count; ++n) {
      *request.add_births() = FictionalBirth(absl::StrCat("bulk-", n), FictionalNhsNumber(n));
    }
    return request;
  }

  // The feed events of area 938, in area order: each one's area sequence.
  std::vector<uint64_t> AreaSequences() {
    std::vector<uint64_t> sequences;
    for (const storage::StoredEvent& event : Events()) {
      for (const storage::StoredAreaSequence& area : event.area_sequences()) {
        if (area.local_authority() == "938") sequences.push_back(area.area_sequence());
      }
    }
    return sequences;
  }
};

TEST_F(BulkRegistrationTest, EachBirthIsRegisteredAsRegisterBirthWouldWithItsResultInOrder) {
  absl::StatusOr<v1::RegisterBirthsResponse> answer = RegisterAll(Births(1, 3));
  ASSERT_TRUE(answer.ok()) << answer.status();
  ASSERT_THAT(answer->results(), SizeIs(3));
  EXPECT_EQ(answer->registered_count(), 3);
  EXPECT_EQ(answer->refused_count(), 0);
  std::set<std::string> children;
  for (int i = 0; i < 3; ++i) {
    const v1::RegisterBirthsResult& result = answer->results(i);
    ASSERT_TRUE(result.has_registered()) << result.DebugString();
    EXPECT_TRUE(result.registered().created());
    // In request order: the i-th result is the i-th birth's child, and its record is whole.
    EXPECT_EQ(result.registered().record().nhs_number(), FictionalNhsNumber(1 + i));
    EXPECT_EQ(result.registered().record().postcode(), "RH12 1AA");
    absl::StatusOr<v1::ResolveResponse> found = Resolve(FictionalNhsNumber(1 + i));
    ASSERT_TRUE(found.ok()) << found.status();
    EXPECT_EQ(found->record().child_id(), result.registered().record().child_id());
    children.insert(found->record().child_id());
  }
  EXPECT_THAT(children, SizeIs(3));
  EXPECT_THAT(Events(), SizeIs(3));
  EXPECT_EQ(AreaSequences(), (std::vector<uint64_t>{1, 2, 3}));
}

TEST_F(BulkRegistrationTest, ARefusedBirthChangesNothingAndTheOthersGoOn) {
  const std::string first = RegisterNew(100);  // notification-100, NHS number 100
  v1::RegisterBirthsRequest request = Births(1, 1);
  v1::RegisterBirthRequest* bad_nhs = request.add_births();
  *bad_nhs = FictionalBirth("bulk-bad-nhs", "9990000019");  // check digit wrong
  v1::RegisterBirthRequest* reused = request.add_births();
  *reused = FictionalBirth("notification-100", FictionalNhsNumber(100));
  reused->set_given_name("Someone Else");  // the same notification id with other details
  *request.add_births() = FictionalBirth("bulk-2", FictionalNhsNumber(2));

  absl::StatusOr<v1::RegisterBirthsResponse> answer = RegisterAll(request);
  ASSERT_TRUE(answer.ok()) << answer.status();
  ASSERT_THAT(answer->results(), SizeIs(4));
  EXPECT_EQ(answer->registered_count(), 2);
  EXPECT_EQ(answer->refused_count(), 2);
  EXPECT_TRUE(answer->results(0).has_registered());
  const v1::BirthRefusal& invalid = answer->results(1).refused();
  EXPECT_EQ(invalid.code(), static_cast<int>(absl::StatusCode::kInvalidArgument));
  EXPECT_EQ(invalid.reason(), v1::FIELD_INVALID);
  EXPECT_EQ(invalid.metadata().at("field"), "nhs_number");
  EXPECT_THAT(invalid.message(), ::testing::HasSubstr("check digit"));
  const v1::BirthRefusal& duplicate = answer->results(2).refused();
  EXPECT_EQ(duplicate.code(), static_cast<int>(absl::StatusCode::kAlreadyExists));
  EXPECT_EQ(duplicate.reason(), v1::NOTIFICATION_REUSED_WITH_OTHER_DETAILS);
  EXPECT_TRUE(answer->results(3).has_registered());

  // The refused births changed nothing: the first child is as it was, and the feed holds the
  // three births (the first alone, then the two of the call) without a gap.
  EXPECT_EQ(Stored(first).version(), 1);
  EXPECT_EQ(Stored(first).given_name(), FictionalBirth("x", "").given_name());
  EXPECT_EQ(AreaSequences(), (std::vector<uint64_t>{1, 2, 3}));
}

TEST_F(BulkRegistrationTest, ACallSentAgainReturnsTheSameChildrenAndWritesNothing) {
  absl::StatusOr<v1::RegisterBirthsResponse> first = RegisterAll(Births(1, 5));
  ASSERT_TRUE(first.ok()) << first.status();
  const size_t events = Events().size();
  absl::StatusOr<v1::RegisterBirthsResponse> again = RegisterAll(Births(1, 5));
  ASSERT_TRUE(again.ok()) << again.status();
  for (int i = 0; i < 5; ++i) {
    EXPECT_TRUE(again->results(i).registered().created());
    EXPECT_EQ(again->results(i).registered().record().child_id(),
              first->results(i).registered().record().child_id());
  }
  EXPECT_EQ(Events().size(), events);
}

TEST_F(BulkRegistrationTest, ALaterBirthOfTheCallFindsTheChildAnEarlierOneCreated) {
  v1::RegisterBirthsRequest request = Births(7, 1);
  // Another notification of the same birth (another id, the same NHS number and details).
  *request.add_births() = FictionalBirth("bulk-7-again", FictionalNhsNumber(7));
  absl::StatusOr<v1::RegisterBirthsResponse> answer = RegisterAll(request);
  ASSERT_TRUE(answer.ok()) << answer.status();
  EXPECT_TRUE(answer->results(0).registered().created());
  EXPECT_FALSE(answer->results(1).registered().created());
  EXPECT_EQ(answer->results(1).registered().record().child_id(),
            answer->results(0).registered().record().child_id());
  std::vector<storage::StoredEvent> events = Events();
  ASSERT_THAT(events, SizeIs(2));
  EXPECT_EQ(events[1].kind(), storage::EVENT_KIND_BIRTH_NOTIFIED_AGAIN);
}

TEST_F(BulkRegistrationTest, TooManyBirthsOrNoneAreRefusedAsAWholeAndWriteNothing) {
  RegistryOptions options = TestOptions();
  options.max_bulk_births = 3;
  Registry small(*store_, options);
  absl::StatusOr<v1::RegisterBirthsResponse> too_many = RegisterAll(Births(1, 4), &small);
  ExpectRefused(too_many.status(), absl::StatusCode::kInvalidArgument, v1::BATCH_TOO_LARGE,
                "births");
  absl::StatusOr<v1::RegisterBirthsResponse> none = RegisterAll({}, &small);
  ExpectRefused(none.status(), absl::StatusCode::kInvalidArgument, v1::FIELD_REQUIRED, "births");
  v1::RegisterBirthsRequest unknown_view = Births(1, 1);
  unknown_view.set_view(static_cast<v1::RecordView>(99));
  ExpectRefused(RegisterAll(unknown_view, &small).status(), absl::StatusCode::kInvalidArgument,
                v1::FIELD_INVALID, "view");
  EXPECT_TRUE(Events().empty());
}

TEST_F(BulkRegistrationTest, TheChildIdViewAnswersWithTheIdentifierAlone) {
  v1::RegisterBirthsRequest request = Births(1, 2);
  request.set_view(v1::RECORD_VIEW_CHILD_ID);
  absl::StatusOr<v1::RegisterBirthsResponse> answer = RegisterAll(request);
  ASSERT_TRUE(answer.ok()) << answer.status();
  const v1::ChildRecord& record = answer->results(0).registered().record();
  EXPECT_EQ(record.child_id().size(), 11u);
  EXPECT_FALSE(record.child_id_display().empty());
  EXPECT_TRUE(record.nhs_number().empty());
  EXPECT_TRUE(record.postcode().empty());
  EXPECT_FALSE(record.has_date_of_birth());
}

TEST_F(BulkRegistrationTest, RacingCallsNotifyingTheSameBirthsCreateEachChildOnce) {
  constexpr int kRacers = 8;
  constexpr int kBirths = 200;
  std::vector<std::thread> racers;
  std::vector<absl::StatusOr<v1::RegisterBirthsResponse>> answers(kRacers);
  for (int r = 0; r < kRacers; ++r) {
    racers.emplace_back([&, r] {
      // Each racer its own notification ids for the same births (same NHS numbers, details).
      v1::RegisterBirthsRequest request;
      for (int n = 1; n <= kBirths; ++n) {
        *request.add_births() =
            FictionalBirth(absl::StrCat("racer-", r, "-", n), FictionalNhsNumber(n));
      }
      answers[r] = RegisterAll(request);
    });
  }
  for (std::thread& racer : racers) racer.join();
  for (int n = 1; n <= kBirths; ++n) {
    std::set<std::string> children;
    int created = 0;
    for (int r = 0; r < kRacers; ++r) {
      ASSERT_TRUE(answers[r].ok()) << answers[r].status();
      const v1::RegisterBirthResponse& birth = answers[r]->results(n - 1).registered();
      children.insert(birth.record().child_id());
      created += birth.created() ? 1 : 0;
    }
    EXPECT_THAT(children, SizeIs(1)) << "birth " << n;
    EXPECT_EQ(created, 1) << "birth " << n;
  }
}

}  // namespace
}  // namespace cir::registry
