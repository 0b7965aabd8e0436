// When a notification is the birth of a child already registered: twins, notifying systems, and
// further notifications of the same birth.

#include <functional>
#include <vector>

#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "identifiers/child_id.h"
#include "tests/registry/registry_fixture.h"

namespace cir::registry {
namespace {

using ::testing::HasSubstr;
using ::testing::Not;
using testing::FictionalBirth;
using testing::FictionalNhsNumber;

// A notification of twin `given_name`, born `birth_order`-th, of the fictional mother.
v1::RegisterBirthRequest Twin(const std::string& notification_id, const std::string& nhs_number,
                              int birth_order, const std::string& given_name) {
  v1::RegisterBirthRequest birth = FictionalBirth(notification_id, nhs_number);
  birth.set_birth_order(birth_order);
  birth.set_given_name(given_name);
  return birth;
}

TEST_F(RegistryTest, ATwinsNotificationCarryingTheOtherTwinsNhsNumberIsRefusedWithoutDisclosingIt) {
  absl::StatusOr<v1::RegisterBirthResponse> a =
      Register(Twin("twin-a", FictionalNhsNumber(30), 1, "Ada"));
  ASSERT_TRUE(a.ok()) << a.status();
  const std::string a_id = a->record().child_id();

  // Twin B's notification, with twin A's NHS number keyed in by mistake.
  absl::StatusOr<v1::RegisterBirthResponse> mistaken =
      Register(Twin("twin-b", FictionalNhsNumber(30), 2, "Eve"));
  EXPECT_EQ(mistaken.status().code(), absl::StatusCode::kAlreadyExists);
  EXPECT_EQ(errors::ReasonOf(mistaken.status()), v1::NHS_NUMBER_HELD_BY_ANOTHER_CHILD);
  EXPECT_THAT(mistaken.status().message(), HasSubstr("nhs_number"));
  for (const std::string& detail : {a_id, identifiers::FormatChildId(a_id), FictionalNhsNumber(30),
                                    std::string("Ada"), std::string("2026")}) {
    EXPECT_THAT(mistaken.status().message(), Not(HasSubstr(detail)));
  }
  EXPECT_FALSE(NotificationRecorded("twin-b"));
  EXPECT_EQ(EventCount(), 1u);
  EXPECT_EQ(Stored(a_id).notifications_size(), 1);

  // Twin B's own notification then creates twin B.
  absl::StatusOr<v1::RegisterBirthResponse> b =
      Register(Twin("twin-b", FictionalNhsNumber(31), 2, "Eve"));
  ASSERT_TRUE(b.ok()) << b.status();
  EXPECT_TRUE(b->created());
  EXPECT_NE(b->record().child_id(), a_id);
  EXPECT_EQ(b->record().birth_order(), 2);
  EXPECT_EQ(Resolve(FictionalNhsNumber(30))->record().child_id(), a_id);
  EXPECT_EQ(Resolve(FictionalNhsNumber(31))->record().child_id(), b->record().child_id());
}

TEST_F(RegistryTest, SameSexTwinsWithoutNhsNumbersGetTwoChildren) {
  absl::StatusOr<v1::RegisterBirthResponse> first = Register(Twin("unnamed-1", "", 1, ""));
  absl::StatusOr<v1::RegisterBirthResponse> second = Register(Twin("unnamed-2", "", 2, ""));
  ASSERT_TRUE(first.ok()) << first.status();
  ASSERT_TRUE(second.ok()) << second.status();
  EXPECT_TRUE(first->created());
  EXPECT_TRUE(second->created());
  EXPECT_NE(first->record().child_id(), second->record().child_id());
  EXPECT_EQ(first->record().sex(), second->record().sex());
  EXPECT_EQ(EventCount(), 2u);
}

TEST_F(RegistryTest, TwoNotificationsWithTheSameMotherBirthDateAndBirthOrderAreTheSameChild) {
  absl::StatusOr<v1::RegisterBirthResponse> first =
      Register(Twin("first", FictionalNhsNumber(32), 2, "Eve"));
  ASSERT_TRUE(first.ok()) << first.status();
  // The same birth under another notification id (the given name not yet known there).
  absl::StatusOr<v1::RegisterBirthResponse> second =
      Register(Twin("second", FictionalNhsNumber(32), 2, ""));
  ASSERT_TRUE(second.ok()) << second.status();
  EXPECT_EQ(second->record().child_id(), first->record().child_id());
  EXPECT_FALSE(second->created());
  // Each notification's retries answer as it did.
  absl::StatusOr<v1::RegisterBirthResponse> second_again =
      Register(Twin("second", FictionalNhsNumber(32), 2, ""));
  ASSERT_TRUE(second_again.ok()) << second_again.status();
  EXPECT_EQ(second_again->record().child_id(), first->record().child_id());
  EXPECT_FALSE(second_again->created());
  absl::StatusOr<v1::RegisterBirthResponse> first_again =
      Register(Twin("first", FictionalNhsNumber(32), 2, "Eve"));
  ASSERT_TRUE(first_again.ok()) << first_again.status();
  EXPECT_TRUE(first_again->created());
}

// What tells another birth from another notification of the same one.
struct OtherBirth {
  const char* name;
  std::function<void(v1::RegisterBirthRequest&)> change;
};

void PrintTo(const OtherBirth& other, std::ostream* os) { *os << other.name; }

class RegistryOtherBirthTest : public RegistryTest,
                               public ::testing::WithParamInterface<OtherBirth> {};

TEST_P(RegistryOtherBirthTest, CarryingARegisteredChildsNhsNumberIsRefusedAndChangesNothing) {
  ASSERT_TRUE(Register(FictionalBirth("registered", FictionalNhsNumber(35))).ok());
  v1::RegisterBirthRequest other = FictionalBirth("other", FictionalNhsNumber(35));
  GetParam().change(other);
  absl::StatusOr<v1::RegisterBirthResponse> r = Register(other);
  EXPECT_EQ(r.status().code(), absl::StatusCode::kAlreadyExists);
  EXPECT_EQ(errors::ReasonOf(r.status()), v1::NHS_NUMBER_HELD_BY_ANOTHER_CHILD);
  EXPECT_FALSE(NotificationRecorded("other"));
  EXPECT_EQ(EventCount(), 1u);
}

INSTANTIATE_TEST_SUITE_P(
    EachDetailOfABirth, RegistryOtherBirthTest,
    ::testing::Values(
        OtherBirth{"Sex", [](auto& b) { b.set_sex(v1::SEX_MALE); }},
        OtherBirth{"DateOfBirth", [](auto& b) { b.mutable_date_of_birth()->set_day(15); }},
        OtherBirth{"BirthOrder", [](auto& b) { b.set_birth_order(2); }},
        OtherBirth{"GivenName", [](auto& b) { b.set_given_name("Eve"); }},
        OtherBirth{"MothersNhsNumber",
                   [](auto& b) { b.set_mother_nhs_number(FictionalNhsNumber(36)); }},
        OtherBirth{"MothersGivenName", [](auto& b) { b.set_mother_given_name("Maria"); }},
        OtherBirth{"MothersFamilyName", [](auto& b) { b.set_mother_family_name("Byron-Test"); }}),
    [](const ::testing::TestParamInfo<OtherBirth>& info) { return info.param.name; });

class RegistrySameBirthTest : public RegistryTest,
                              public ::testing::WithParamInterface<OtherBirth> {};

TEST_P(RegistrySameBirthTest, IsAnotherNotificationOfTheRegisteredChild) {
  std::string id =
      Register(FictionalBirth("registered", FictionalNhsNumber(37)))->record().child_id();
  v1::RegisterBirthRequest again = FictionalBirth("again", FictionalNhsNumber(37));
  GetParam().change(again);
  absl::StatusOr<v1::RegisterBirthResponse> r = Register(again);
  ASSERT_TRUE(r.ok()) << r.status();
  EXPECT_EQ(r->record().child_id(), id);
  EXPECT_FALSE(r->created());
}

INSTANTIATE_TEST_SUITE_P(
    DetailsThatDoNotTell, RegistrySameBirthTest,
    ::testing::Values(
        OtherBirth{"NoGivenNameYet", [](auto& b) { b.clear_given_name(); }},
        OtherBirth{"GivenNameInOtherCaseAndSpacing", [](auto& b) { b.set_given_name(" ADA "); }},
        OtherBirth{"FamilyNameCorrected", [](auto& b) { b.set_family_name("Byron-Test"); }},
        OtherBirth{"MovedHouse",
                   [](auto& b) {
                     b.set_postcode("SW1A 1AA");
                     b.set_local_authority("213");
                   }},
        OtherBirth{"NoMotherNamed",
                   [](auto& b) {
                     b.clear_mother_nhs_number();
                     b.clear_mother_given_name();
                     b.clear_mother_family_name();
                   }},
        OtherBirth{"MothersNameInOtherCaseAndSpacing",
                   [](auto& b) {
                     b.set_mother_given_name("mary");
                     b.set_mother_family_name("LOVELACE-TEST  ");
                   }},
        OtherBirth{"BirthOrderLeftUnset", [](auto& b) { b.clear_birth_order(); }},
        OtherBirth{"FromAnotherSystem", [](auto& b) { b.set_notifying_system("RYJ02"); }}),
    [](const ::testing::TestParamInfo<OtherBirth>& info) { return info.param.name; });

TEST_F(RegistryTest, NamesBeyondAsciiAreComparedWhateverTheirCase) {
  v1::RegisterBirthRequest birth = FictionalBirth("accented", FictionalNhsNumber(38));
  birth.set_given_name("Zo\u00EB");
  std::string id = Register(birth)->record().child_id();
  v1::RegisterBirthRequest again = FictionalBirth("accented-again", FictionalNhsNumber(38));
  again.set_given_name("ZO\u00CB");
  absl::StatusOr<v1::RegisterBirthResponse> r = Register(again);
  ASSERT_TRUE(r.ok()) << r.status();
  EXPECT_EQ(r->record().child_id(), id);
}

TEST_F(RegistryTest, TwoSystemsThatBothSendNotificationIdOneGetTwoChildren) {
  v1::RegisterBirthRequest from_first = FictionalBirth("1", FictionalNhsNumber(33));
  v1::RegisterBirthRequest from_second = FictionalBirth("1", FictionalNhsNumber(34));
  from_second.set_notifying_system("RYJ02");
  from_second.set_birth_order(2);
  absl::StatusOr<v1::RegisterBirthResponse> first = Register(from_first);
  absl::StatusOr<v1::RegisterBirthResponse> second = Register(from_second);
  ASSERT_TRUE(first.ok()) << first.status();
  ASSERT_TRUE(second.ok()) << second.status();
  EXPECT_TRUE(first->created());
  EXPECT_TRUE(second->created());
  EXPECT_NE(first->record().child_id(), second->record().child_id());
  // Each system's retry finds its own child.
  EXPECT_EQ(Register(from_first)->record().child_id(), first->record().child_id());
  EXPECT_EQ(Register(from_second)->record().child_id(), second->record().child_id());
  // And so without NHS numbers.
  v1::RegisterBirthRequest unnumbered_first = FictionalBirth("2", "");
  v1::RegisterBirthRequest unnumbered_second = FictionalBirth("2", "");
  unnumbered_second.set_notifying_system("RYJ02");
  unnumbered_second.set_birth_order(2);
  EXPECT_NE(Register(unnumbered_first)->record().child_id(),
            Register(unnumbered_second)->record().child_id());
  EXPECT_EQ(EventCount(), 4u);
}

TEST_F(RegistryTest, ASecondNotificationOfAKnownChildIsRecordedOnItWithAnEvent) {
  absl::StatusOr<v1::RegisterBirthResponse> first =
      Register(FictionalBirth("maternity-1", FictionalNhsNumber(38)));
  ASSERT_TRUE(first.ok()) << first.status();
  const std::string id = first->record().child_id();
  v1::RegisterBirthRequest again = FictionalBirth("other-7", FictionalNhsNumber(38));
  again.set_notifying_system("RYJ02");
  absl::StatusOr<v1::RegisterBirthResponse> second = Register(again);
  ASSERT_TRUE(second.ok()) << second.status();
  EXPECT_EQ(second->record().child_id(), id);
  EXPECT_FALSE(second->created());
  EXPECT_EQ(second->record().version(), 2);

  std::vector<storage::StoredEvent> events = Events();
  ASSERT_EQ(events.size(), 2u);
  EXPECT_EQ(events[1].kind(), storage::EVENT_KIND_BIRTH_NOTIFIED_AGAIN);
  EXPECT_EQ(events[1].child_id(), id);
  EXPECT_EQ(events[1].child_version(), 2);
  storage::StoredChild stored = Stored(id);
  ASSERT_EQ(stored.notifications_size(), 2);
  EXPECT_EQ(stored.notifications(0).notifying_system(), "RXH01");
  EXPECT_EQ(stored.notifications(0).notification_id(), "maternity-1");
  EXPECT_EQ(stored.notifications(1).notifying_system(), "RYJ02");
  EXPECT_EQ(stored.notifications(1).notification_id(), "other-7");
  EXPECT_GT(stored.notifications(1).recorded_at_unix_micros(), 0);

  // A retry of the second notification writes nothing more.
  absl::StatusOr<v1::RegisterBirthResponse> retry = Register(again);
  ASSERT_TRUE(retry.ok()) << retry.status();
  EXPECT_EQ(retry->record().child_id(), id);
  EXPECT_FALSE(retry->created());
  EXPECT_EQ(EventCount(), 2u);
  EXPECT_EQ(Stored(id).notifications_size(), 2);
  EXPECT_EQ(Stored(id).version(), 2);
}

}  // namespace
}  // namespace cir::registry
