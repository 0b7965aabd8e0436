// The life events of a child's record: deaths, addresses, corrections, superseded NHS numbers and
// sharing restrictions. Each is checked for its rules, the event it appends to the log, the feed
// events it writes to each local authority, its idempotent retry by request_id, and its refusals,
// none of which changes anything. Merges and their undoing: record_merge_test.cc; races:
// life_event_race_test.cc.

#include <ostream>
#include <string>
#include <vector>

#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "identifiers/child_id.h"
#include "tests/registry/registry_fixture.h"

namespace cir::registry {
namespace {

using ::testing::ElementsAre;
using testing::FictionalMotherNhsNumber;
using testing::FictionalNhsNumber;
using ::testing::HasSubstr;
using ::testing::IsEmpty;
using ::testing::Not;

// The kinds of the events of a local authority's feed, in order.
std::vector<int> KindsOf(const std::vector<storage::StoredFeedEvent>& feed) {
  std::vector<int> kinds;
  for (const storage::StoredFeedEvent& event : feed) kinds.push_back(event.kind());
  return kinds;
}

// The area sequences of a feed, in order: 1, 2, ... n if it has no gap.
std::vector<uint64_t> SequencesOf(const std::vector<storage::StoredFeedEvent>& feed) {
  std::vector<uint64_t> sequences;
  for (const storage::StoredFeedEvent& event : feed) sequences.push_back(event.area_sequence());
  return sequences;
}

bool SameMessage(const google::protobuf::Message& a, const google::protobuf::Message& b) {
  return a.SerializeAsString() == b.SerializeAsString();
}

// ---- Deaths ------------------------------------------------------------------------------------

TEST_F(RegistryTest, AnInformalDeathMarksTheRecordDeceasedAndTellsTheChildsAreaAtOnce) {
  const std::string id = RegisterAt(1);
  absl::StatusOr<v1::RecordDeathResponse> r = RecordDeath(
      DeathRequest("death-1", id, v1::DEATH_NOTICE_INFORMAL, absl::CivilDay(2026, 10, 30)));
  ASSERT_TRUE(r.ok()) << r.status();
  EXPECT_TRUE(r->changed());
  EXPECT_EQ(r->record().status(), v1::RECORD_STATUS_DECEASED);
  EXPECT_EQ(r->record().death_kind(), v1::DEATH_KIND_INFORMAL);
  EXPECT_EQ(r->record().date_of_death().month(), 10);
  EXPECT_EQ(r->record().date_of_death().day(), 30);
  EXPECT_EQ(r->record().version(), 2);

  // The record stays and resolves, marked deceased.
  absl::StatusOr<v1::ResolveResponse> resolved = Resolve(FictionalNhsNumber(1));
  ASSERT_TRUE(resolved.ok()) << resolved.status();
  EXPECT_EQ(resolved->record().child_id(), id);
  EXPECT_EQ(resolved->record().status(), v1::RECORD_STATUS_DECEASED);

  std::vector<storage::StoredEvent> events = Events();
  ASSERT_EQ(events.size(), 2u);
  const storage::StoredEvent& death = events[1];
  EXPECT_EQ(death.kind(), storage::EVENT_KIND_DEATH_RECORDED);
  EXPECT_EQ(death.child_id(), id);
  EXPECT_EQ(death.child_version(), 2);
  EXPECT_EQ(death.made_by(), kRecordedBy);
  ASSERT_EQ(death.area_sequences_size(), 1);
  EXPECT_EQ(death.area_sequences(0).local_authority(), "938");
  EXPECT_EQ(death.area_sequences(0).area_sequence(), 2u);

  std::vector<storage::StoredFeedEvent> feed = AreaFeed("938");
  ASSERT_THAT(KindsOf(feed),
              ElementsAre(v1::FEED_EVENT_KIND_BIRTH_REGISTERED, v1::FEED_EVENT_KIND_DIED));
  const storage::StoredFeedEvent& died = feed[1];
  EXPECT_EQ(died.child_id(), id);
  EXPECT_EQ(died.child_version(), 2);
  EXPECT_EQ(died.event_sequence(), death.sequence());
  EXPECT_EQ(died.made_by(), kRecordedBy);
  EXPECT_EQ(died.recorded_at_unix_micros(), death.at_unix_micros());
  EXPECT_EQ(died.effective_date().day(), 30);  // the date of death, not of recording
  EXPECT_EQ(died.child().status(), v1::RECORD_STATUS_DECEASED);
  EXPECT_EQ(died.child().death_kind(), v1::DEATH_KIND_INFORMAL);
  EXPECT_EQ(died.child().given_name(), "Ada");
}

TEST_F(RegistryTest, AFormalDeathReplacesAnInformalOneAndAnInformalNoticeAfterItChangesNothing) {
  const std::string id = RegisterAt(2);
  ASSERT_TRUE(RecordDeath(DeathRequest("death-2a", id, v1::DEATH_NOTICE_INFORMAL)).ok());
  absl::StatusOr<v1::RecordDeathResponse> formal =
      RecordDeath(DeathRequest("death-2b", id, v1::DEATH_NOTICE_FORMAL));
  ASSERT_TRUE(formal.ok()) << formal.status();
  EXPECT_TRUE(formal->changed());
  EXPECT_EQ(formal->record().death_kind(), v1::DEATH_KIND_FORMAL);
  EXPECT_EQ(formal->record().version(), 3);
  EXPECT_EQ(AreaFeed("938").back().child().death_kind(), v1::DEATH_KIND_FORMAL);
  const size_t events = EventCount();
  const size_t feed = AreaFeed("938").size();

  // An informal notice after the formal one, and the formal one again, add nothing.
  for (v1::DeathNotice notice : {v1::DEATH_NOTICE_INFORMAL, v1::DEATH_NOTICE_FORMAL}) {
    absl::StatusOr<v1::RecordDeathResponse> again =
        RecordDeath(DeathRequest(NewRequestId(), id, notice));
    ASSERT_TRUE(again.ok()) << again.status();
    EXPECT_FALSE(again->changed());
    EXPECT_EQ(again->record().death_kind(), v1::DEATH_KIND_FORMAL);
    EXPECT_EQ(again->record().version(), 3);
  }
  EXPECT_EQ(EventCount(), events);
  EXPECT_EQ(AreaFeed("938").size(), feed);
}

TEST_F(RegistryTest, AFormalDeathWithAnotherDateCorrectsTheDateOfDeath) {
  const std::string id = RegisterAt(3);
  ASSERT_TRUE(RecordDeath(DeathRequest("death-3a", id, v1::DEATH_NOTICE_FORMAL,
                                       absl::CivilDay(2026, 11, 2)))
                  .ok());
  absl::StatusOr<v1::RecordDeathResponse> corrected = RecordDeath(
      DeathRequest("death-3b", id, v1::DEATH_NOTICE_FORMAL, absl::CivilDay(2026, 11, 3)));
  ASSERT_TRUE(corrected.ok()) << corrected.status();
  EXPECT_TRUE(corrected->changed());
  EXPECT_EQ(corrected->record().date_of_death().day(), 3);
  EXPECT_EQ(corrected->record().version(), 3);
  EXPECT_EQ(AreaFeed("938").back().kind(), v1::FEED_EVENT_KIND_DIED);
  EXPECT_EQ(AreaFeed("938").back().effective_date().day(), 3);
}

TEST_F(RegistryTest, ARetractedDeathMakesTheChildLivingAgainAndTellsItsArea) {
  const std::string id = RegisterAt(4);
  ASSERT_TRUE(RecordDeath(DeathRequest("death-4", id, v1::DEATH_NOTICE_INFORMAL)).ok());
  absl::StatusOr<v1::RecordDeathResponse> retracted =
      RecordDeath(DeathRequest("retraction-4", id, v1::DEATH_NOTICE_RETRACTION));
  ASSERT_TRUE(retracted.ok()) << retracted.status();
  EXPECT_TRUE(retracted->changed());
  EXPECT_EQ(retracted->record().status(), v1::RECORD_STATUS_ACTIVE);
  EXPECT_EQ(retracted->record().death_kind(), v1::DEATH_KIND_UNSPECIFIED);
  EXPECT_FALSE(retracted->record().has_date_of_death());
  EXPECT_EQ(retracted->record().version(), 3);
  EXPECT_EQ(Events().back().kind(), storage::EVENT_KIND_DEATH_RETRACTED);
  std::vector<storage::StoredFeedEvent> feed = AreaFeed("938");
  EXPECT_THAT(KindsOf(feed),
              ElementsAre(v1::FEED_EVENT_KIND_BIRTH_REGISTERED, v1::FEED_EVENT_KIND_DIED,
                          v1::FEED_EVENT_KIND_DEATH_RETRACTED));
  EXPECT_EQ(feed.back().child().status(), v1::RECORD_STATUS_ACTIVE);
  EXPECT_EQ(feed.back().child_version(), 3);
  EXPECT_EQ(Stored(id).status(), v1::RECORD_STATUS_ACTIVE);
}

TEST_F(RegistryTest, RetractingTheDeathOfALivingChildIsRefusedAndChangesNothing) {
  const std::string id = RegisterAt(5);
  const storage::StoredChild before = Stored(id);
  absl::StatusOr<v1::RecordDeathResponse> r =
      RecordDeath(DeathRequest("retraction-5", id, v1::DEATH_NOTICE_RETRACTION));
  ExpectRefused(r.status(), absl::StatusCode::kFailedPrecondition, v1::CHILD_NOT_DECEASED,
                "notice");
  EXPECT_EQ(EventCount(), 1u);
  EXPECT_EQ(AreaFeed("938").size(), 1u);
  EXPECT_TRUE(SameMessage(Stored(id), before));
}

TEST_F(RegistryTest, ADeathBeforeTheDateOfBirthOrInTheFutureIsRefusedAndChangesNothing) {
  const std::string id = RegisterAt(6);  // born 14 March 2026; "today" is 25 November 2026
  const storage::StoredChild before = Stored(id);
  for (absl::CivilDay date : {absl::CivilDay(2026, 3, 13), absl::CivilDay(2026, 11, 26)}) {
    for (v1::DeathNotice notice : {v1::DEATH_NOTICE_INFORMAL, v1::DEATH_NOTICE_FORMAL}) {
      absl::StatusOr<v1::RecordDeathResponse> r =
          RecordDeath(DeathRequest(NewRequestId(), id, notice, date));
      ExpectRefused(r.status(), absl::StatusCode::kInvalidArgument, v1::FIELD_INVALID,
                    "date_of_death");
    }
  }
  EXPECT_TRUE(SameMessage(Stored(id), before));
  EXPECT_EQ(EventCount(), 1u);
  EXPECT_EQ(AreaFeed("938").size(), 1u);
  // The day of birth itself is a possible day of death.
  EXPECT_TRUE(RecordDeath(DeathRequest(NewRequestId(), id, v1::DEATH_NOTICE_FORMAL,
                                       absl::CivilDay(2026, 3, 14)))
                  .ok());
}

// ---- Addresses ---------------------------------------------------------------------------------

TEST_F(RegistryTest,
       AMoveToAnotherAuthorityTellsTheOldOneMovedOutWithoutTheAddressAndTheNewOneMovedIn) {
  const std::string id = RegisterAt(10, "938");
  v1::ChangeAddressRequest move =
      AddressRequest("move-10", id, {"1 Guildhall Yard", "London"}, "ec2v7hh", "201");
  move.mutable_effective_date()->set_year(2026);
  move.mutable_effective_date()->set_month(11);
  move.mutable_effective_date()->set_day(20);
  absl::StatusOr<v1::ChangeAddressResponse> r = ChangeAddress(move);
  ASSERT_TRUE(r.ok()) << r.status();
  EXPECT_TRUE(r->changed());
  EXPECT_EQ(r->record().local_authority(), "201");
  EXPECT_THAT(r->record().address_lines(), ElementsAre("1 Guildhall Yard", "London"));
  EXPECT_EQ(r->record().postcode(), "EC2V 7HH");
  EXPECT_EQ(r->record().version(), 2);
  EXPECT_EQ(Resolve(id)->record().local_authority(), "201");

  std::vector<storage::StoredEvent> events = Events();
  ASSERT_EQ(events.size(), 2u);
  const storage::StoredEvent& moved = events[1];
  EXPECT_EQ(moved.kind(), storage::EVENT_KIND_ADDRESS_CHANGED);
  EXPECT_EQ(moved.local_authority(), "201");
  EXPECT_EQ(moved.child_version(), 2);
  EXPECT_EQ(moved.made_by(), kRecordedBy);
  ASSERT_EQ(moved.area_sequences_size(), 2);

  // The old area: its second event, a move-out without the new address.
  std::vector<storage::StoredFeedEvent> old_area = AreaFeed("938");
  ASSERT_THAT(KindsOf(old_area),
              ElementsAre(v1::FEED_EVENT_KIND_BIRTH_REGISTERED, v1::FEED_EVENT_KIND_MOVED_OUT));
  EXPECT_THAT(SequencesOf(old_area), ElementsAre(1u, 2u));
  const storage::StoredFeedEvent& moved_out = old_area[1];
  EXPECT_EQ(moved_out.local_authority(), "938");
  EXPECT_EQ(moved_out.area_sequence(), 2u);
  EXPECT_EQ(moved_out.child_id(), id);
  EXPECT_THAT(moved_out.child().address_lines(), IsEmpty());
  EXPECT_EQ(moved_out.child().postcode(), "");
  EXPECT_EQ(moved_out.child().given_name(), "Ada");
  EXPECT_EQ(moved_out.moved_from(), "938");
  EXPECT_EQ(moved_out.moved_to(), "201");
  EXPECT_EQ(moved_out.effective_date().day(), 20);

  // The new area: its first event, a move-in with the address.
  std::vector<storage::StoredFeedEvent> new_area = AreaFeed("201");
  ASSERT_THAT(KindsOf(new_area), ElementsAre(v1::FEED_EVENT_KIND_MOVED_IN));
  const storage::StoredFeedEvent& moved_in = new_area[0];
  EXPECT_EQ(moved_in.local_authority(), "201");
  EXPECT_EQ(moved_in.area_sequence(), 1u);
  EXPECT_THAT(moved_in.child().address_lines(), ElementsAre("1 Guildhall Yard", "London"));
  EXPECT_EQ(moved_in.child().postcode(), "EC2V 7HH");
  EXPECT_EQ(moved_in.moved_from(), "938");
  EXPECT_EQ(moved_in.moved_to(), "201");
  EXPECT_EQ(moved_in.child_version(), 2);
  EXPECT_EQ(moved_in.made_by(), kRecordedBy);

  // Both in one event, written together.
  EXPECT_EQ(moved_out.event_sequence(), moved.sequence());
  EXPECT_EQ(moved_in.event_sequence(), moved.sequence());
  EXPECT_EQ(moved_out.recorded_at_unix_micros(), moved_in.recorded_at_unix_micros());
  EXPECT_EQ(moved.area_sequences(0).local_authority(), "938");
  EXPECT_EQ(moved.area_sequences(0).area_sequence(), 2u);
  EXPECT_EQ(moved.area_sequences(1).local_authority(), "201");
  EXPECT_EQ(moved.area_sequences(1).area_sequence(), 1u);
  EXPECT_THAT(Stored(id).feed_areas(), ElementsAre("938", "201"));
}

TEST_F(RegistryTest, AMoveWithinAnAuthorityTellsThatAuthorityAlone) {
  const std::string id = RegisterAt(11, "938");
  absl::StatusOr<v1::ChangeAddressResponse> r =
      ChangeAddress(AddressRequest("move-11", id, {"2 Other Road"}, "RH13 5AA", "938"));
  ASSERT_TRUE(r.ok()) << r.status();
  EXPECT_TRUE(r->changed());
  EXPECT_EQ(r->record().postcode(), "RH13 5AA");
  std::vector<storage::StoredFeedEvent> feed = AreaFeed("938");
  ASSERT_THAT(KindsOf(feed), ElementsAre(v1::FEED_EVENT_KIND_BIRTH_REGISTERED,
                                         v1::FEED_EVENT_KIND_ADDRESS_CHANGED));
  EXPECT_THAT(feed[1].child().address_lines(), ElementsAre("2 Other Road"));
  EXPECT_EQ(feed[1].child().postcode(), "RH13 5AA");
  EXPECT_EQ(feed[1].moved_to(), "");
  EXPECT_EQ(Events().back().area_sequences_size(), 1);
  EXPECT_THAT(Stored(id).feed_areas(), ElementsAre("938"));
}

TEST_F(RegistryTest, AnAddressThatNormalisesToTheCurrentOneIsNoChangeAndWritesNothing) {
  const std::string id = RegisterAt(12, "938");  // "1 Test Row 938", "Fictional Town", RH12 1AA
  const storage::StoredChild before = Stored(id);
  const std::vector<std::vector<std::string>> same_lines = {
      {"1 Test Row 938", "Fictional Town"},
      {"1 TEST ROW 938", "fictional town"},
      {"  1  Test   Row 938 ", "Fictional  Town"},
      {"1, Test Row 938,", "Fictional Town."},
  };
  for (const std::vector<std::string>& lines : same_lines) {
    for (const char* postcode : {"RH12 1AA", "rh121aa", " RH12  1AA "}) {
      absl::StatusOr<v1::ChangeAddressResponse> r =
          ChangeAddress(AddressRequest(NewRequestId(), id, lines, postcode, "938"));
      ASSERT_TRUE(r.ok()) << r.status();
      EXPECT_FALSE(r->changed()) << lines[0] << " / " << postcode;
      EXPECT_EQ(r->record().version(), 1);
      EXPECT_THAT(r->record().address_lines(), ElementsAre("1 Test Row 938", "Fictional Town"));
    }
  }
  EXPECT_EQ(EventCount(), 1u);
  EXPECT_EQ(AreaFeed("938").size(), 1u);
  EXPECT_TRUE(SameMessage(Stored(id), before));

  // Another postcode, another line or another authority is a change.
  EXPECT_TRUE(
      ChangeAddress(AddressRequest(NewRequestId(), id, {"1 Test Row 938"}, "RH12 1AA", "938"))
          ->changed());
}

// ---- Corrections -------------------------------------------------------------------------------

TEST_F(RegistryTest, ACorrectionAtTheRecordsVersionIsAppliedAndTellsTheArea) {
  const std::string id = RegisterAt(20);
  v1::CorrectDetailsRequest correction = CorrectionRequest("correction-20", id, 1);
  correction.set_given_name("Augusta");
  correction.set_family_name("");  // an empty name clears it
  correction.set_sex(v1::SEX_NOT_KNOWN);
  correction.mutable_date_of_birth()->set_year(2026);
  correction.mutable_date_of_birth()->set_month(3);
  correction.mutable_date_of_birth()->set_day(15);
  absl::StatusOr<v1::CorrectDetailsResponse> r = CorrectDetails(correction);
  ASSERT_TRUE(r.ok()) << r.status();
  EXPECT_TRUE(r->changed());
  EXPECT_EQ(r->record().given_name(), "Augusta");
  EXPECT_EQ(r->record().family_name(), "");
  EXPECT_EQ(r->record().sex(), v1::SEX_NOT_KNOWN);
  EXPECT_EQ(r->record().date_of_birth().day(), 15);
  EXPECT_EQ(r->record().mother_given_name(), "Mary");  // not corrected: kept
  EXPECT_EQ(r->record().version(), 2);

  const storage::StoredEvent event = Events().back();
  EXPECT_EQ(event.kind(), storage::EVENT_KIND_DETAILS_CORRECTED);
  EXPECT_EQ(event.child_version(), 2);
  EXPECT_EQ(event.made_by(), kRecordedBy);
  std::vector<storage::StoredFeedEvent> feed = AreaFeed("938");
  ASSERT_THAT(KindsOf(feed), ElementsAre(v1::FEED_EVENT_KIND_BIRTH_REGISTERED,
                                         v1::FEED_EVENT_KIND_DETAILS_CORRECTED));
  EXPECT_EQ(feed[1].child().given_name(), "Augusta");
  EXPECT_EQ(feed[1].child().date_of_birth().day(), 15);
  EXPECT_EQ(feed[1].event_sequence(), event.sequence());
}

TEST_F(RegistryTest, ACorrectionPreparedFromAnEarlierVersionIsRefusedAsStaleAndChangesNothing) {
  const std::string id = RegisterAt(21);
  ASSERT_TRUE(Move(id, "201").ok());  // version 2
  const storage::StoredChild before = Stored(id);
  const size_t events = EventCount();
  for (int64_t version : {1, 3}) {
    v1::CorrectDetailsRequest stale = CorrectionRequest(NewRequestId(), id, version);
    stale.set_given_name("Augusta");
    absl::StatusOr<v1::CorrectDetailsResponse> r = CorrectDetails(stale);
    ExpectRefused(r.status(), absl::StatusCode::kFailedPrecondition, v1::RECORD_VERSION_STALE,
                  "expected_version");
    EXPECT_THAT(r.status().message(), Not(HasSubstr(id)));
  }
  EXPECT_EQ(EventCount(), events);
  EXPECT_TRUE(SameMessage(Stored(id), before));
  // Read again and reapplied, it is made.
  v1::CorrectDetailsRequest fresh = CorrectionRequest(NewRequestId(), id, 2);
  fresh.set_given_name("Augusta");
  absl::StatusOr<v1::CorrectDetailsResponse> r = CorrectDetails(fresh);
  ASSERT_TRUE(r.ok()) << r.status();
  EXPECT_EQ(r->record().version(), 3);
}

TEST_F(RegistryTest, ACorrectionEqualToTheRecordChangesNothing) {
  const std::string id = RegisterAt(22);
  v1::CorrectDetailsRequest same = CorrectionRequest("correction-22", id, 1);
  same.set_given_name("ada");  // stored as sent: a change of case is a correction...
  same.set_family_name("Lovelace-Test");
  same.set_birth_order(1);
  same.set_sex(v1::SEX_FEMALE);
  absl::StatusOr<v1::CorrectDetailsResponse> r = CorrectDetails(same);
  ASSERT_TRUE(r.ok()) << r.status();
  EXPECT_TRUE(r->changed());
  // ...while the same values again are none.
  v1::CorrectDetailsRequest again = CorrectionRequest("correction-22b", id, 2);
  again.set_given_name("ada");
  again.set_family_name("Lovelace-Test");
  again.set_mother_given_name("Mary");
  absl::StatusOr<v1::CorrectDetailsResponse> none = CorrectDetails(again);
  ASSERT_TRUE(none.ok()) << none.status();
  EXPECT_FALSE(none->changed());
  EXPECT_EQ(none->record().version(), 2);
  EXPECT_EQ(EventCount(), 2u);
  EXPECT_EQ(AreaFeed("938").size(), 2u);
}

TEST_F(RegistryTest, ADateOfBirthAfterTheRecordedDeathIsRefused) {
  const std::string id = RegisterAt(23);
  ASSERT_TRUE(
      RecordDeath(DeathRequest("death-23", id, v1::DEATH_NOTICE_FORMAL, absl::CivilDay(2026, 4, 1)))
          .ok());
  v1::CorrectDetailsRequest correction = CorrectionRequest("correction-23", id, 2);
  correction.mutable_date_of_birth()->set_year(2026);
  correction.mutable_date_of_birth()->set_month(4);
  correction.mutable_date_of_birth()->set_day(2);
  ExpectRefused(CorrectDetails(correction).status(), absl::StatusCode::kInvalidArgument,
                v1::FIELD_INVALID, "date_of_birth");
  EXPECT_EQ(Stored(id).date_of_birth().month(), 3);
  EXPECT_EQ(EventCount(), 2u);
}

// ---- NHS numbers -------------------------------------------------------------------------------

TEST_F(RegistryTest, ASupersededNhsNumberStaysAsAFormerNumberThatResolvesAndNoFeedIsTold) {
  const std::string id = RegisterAt(30);
  absl::StatusOr<v1::SupersedeNhsNumberResponse> r =
      SupersedeNhsNumber(SupersessionRequest("supersede-30", id, FictionalNhsNumber(31)));
  ASSERT_TRUE(r.ok()) << r.status();
  EXPECT_TRUE(r->changed());
  EXPECT_EQ(r->record().nhs_number(), FictionalNhsNumber(31));
  EXPECT_THAT(r->record().former_nhs_numbers(), ElementsAre(FictionalNhsNumber(30)));
  EXPECT_EQ(r->record().version(), 2);

  absl::StatusOr<v1::ResolveResponse> by_former = Resolve(FictionalNhsNumber(30));
  ASSERT_TRUE(by_former.ok()) << by_former.status();
  EXPECT_EQ(by_former->record().child_id(), id);
  EXPECT_TRUE(by_former->matched_former());
  absl::StatusOr<v1::ResolveResponse> by_current = Resolve(FictionalNhsNumber(31));
  ASSERT_TRUE(by_current.ok()) << by_current.status();
  EXPECT_EQ(by_current->record().child_id(), id);
  EXPECT_FALSE(by_current->matched_former());

  const storage::StoredEvent event = Events().back();
  EXPECT_EQ(event.kind(), storage::EVENT_KIND_NHS_NUMBER_SUPERSEDED);
  EXPECT_EQ(event.child_version(), 2);
  EXPECT_EQ(event.made_by(), kRecordedBy);
  EXPECT_THAT(event.area_sequences(), IsEmpty());  // centres never receive NHS numbers
  EXPECT_EQ(AreaFeed("938").size(), 1u);

  // The same number again is no change.
  absl::StatusOr<v1::SupersedeNhsNumberResponse> again =
      SupersedeNhsNumber(SupersessionRequest(NewRequestId(), id, FictionalNhsNumber(31)));
  ASSERT_TRUE(again.ok()) << again.status();
  EXPECT_FALSE(again->changed());
  EXPECT_EQ(EventCount(), 2u);
}

TEST_F(RegistryTest, SupersedingTheNhsNumberOfAChildWithoutOneIsRefused) {
  const std::string id = RegisterWithoutNhsNumber("abroad-32");
  ExpectRefused(
      SupersedeNhsNumber(SupersessionRequest("supersede-32", id, FictionalNhsNumber(32))).status(),
      absl::StatusCode::kFailedPrecondition, v1::CHILD_HAS_NO_NHS_NUMBER, "child_id");
  EXPECT_EQ(Resolve(FictionalNhsNumber(32)).status().code(), absl::StatusCode::kNotFound);
  EXPECT_EQ(Stored(id).version(), 1);
  EXPECT_EQ(EventCount(), 1u);
}

TEST_F(RegistryTest, AnNhsNumberHeldByAnotherChildIsRefusedWithoutDisclosingThatChild) {
  const std::string id = RegisterAt(33);
  const std::string other = RegisterAt(34);
  absl::StatusOr<v1::SupersedeNhsNumberResponse> r =
      SupersedeNhsNumber(SupersessionRequest("supersede-33", id, FictionalNhsNumber(34)));
  ExpectRefused(r.status(), absl::StatusCode::kAlreadyExists, v1::NHS_NUMBER_HELD_BY_ANOTHER_CHILD,
                "new_nhs_number");
  for (const std::string& detail :
       {other, identifiers::FormatChildId(other), FictionalNhsNumber(34), id}) {
    EXPECT_THAT(r.status().message(), Not(HasSubstr(detail)));
  }
  EXPECT_EQ(Resolve(FictionalNhsNumber(34))->record().child_id(), other);
  EXPECT_EQ(Stored(id).nhs_number(), FictionalNhsNumber(33));
  EXPECT_EQ(EventCount(), 2u);
}

TEST_F(RegistryTest, AFormerNhsNumberOrTheMothersIsNotMadeCurrent) {
  const std::string id = RegisterAt(35);
  ASSERT_TRUE(
      SupersedeNhsNumber(SupersessionRequest("supersede-35", id, FictionalNhsNumber(36))).ok());
  ExpectRefused(
      SupersedeNhsNumber(SupersessionRequest(NewRequestId(), id, FictionalNhsNumber(35))).status(),
      absl::StatusCode::kFailedPrecondition, v1::FORMER_IDENTIFIER_NOT_REUSABLE, "new_nhs_number");
  ExpectRefused(
      SupersedeNhsNumber(SupersessionRequest(NewRequestId(), id, FictionalMotherNhsNumber()))
          .status(),
      absl::StatusCode::kInvalidArgument, v1::NHS_NUMBER_IS_MOTHERS, "new_nhs_number");
  EXPECT_EQ(Stored(id).nhs_number(), FictionalNhsNumber(36));
  EXPECT_EQ(EventCount(), 2u);
}

// ---- Sharing restrictions ----------------------------------------------------------------------

TEST_F(RegistryTest, AnObjectionTellsEveryAreaThatCarriedTheChildToDeleteItWithoutItsDetails) {
  const std::string id = RegisterAt(40, "938");
  ASSERT_TRUE(Move(id, "201").ok());
  absl::StatusOr<v1::RestrictSharingResponse> r =
      RestrictSharing(RestrictionRequest("object-40", id, v1::RESTRICTION_CHANGE_SET));
  ASSERT_TRUE(r.ok()) << r.status();
  EXPECT_TRUE(r->changed());
  EXPECT_TRUE(r->record().sharing_objection());
  EXPECT_FALSE(r->record().sensitive());
  EXPECT_EQ(r->record().version(), 3);

  const storage::StoredEvent event = Events().back();
  EXPECT_EQ(event.kind(), storage::EVENT_KIND_SHARING_RESTRICTED);
  EXPECT_EQ(event.area_sequences_size(), 2);
  for (const std::string area : {"938", "201"}) {
    std::vector<storage::StoredFeedEvent> feed = AreaFeed(area);
    ASSERT_FALSE(feed.empty());
    const storage::StoredFeedEvent& withdrawn = feed.back();
    EXPECT_EQ(withdrawn.kind(), v1::FEED_EVENT_KIND_SHARING_WITHDRAWN) << area;
    EXPECT_EQ(withdrawn.child_id(), id);
    EXPECT_EQ(withdrawn.local_authority(), area);
    EXPECT_EQ(withdrawn.event_sequence(), event.sequence());
    EXPECT_FALSE(withdrawn.has_child()) << area;
    EXPECT_EQ(withdrawn.moved_to(), "");
  }
  EXPECT_EQ(AreaFeed("938").size(), 3u);  // birth, moved out, withdrawn
  EXPECT_EQ(AreaFeed("201").size(), 2u);  // moved in, withdrawn
}

TEST_F(RegistryTest, LiftingTheObjectionSendsTheChildsDetailsToItsCurrentAreaAlone) {
  const std::string id = RegisterAt(41, "938");
  ASSERT_TRUE(Move(id, "201").ok());
  ASSERT_TRUE(
      RestrictSharing(RestrictionRequest("object-41", id, v1::RESTRICTION_CHANGE_SET)).ok());
  const size_t old_area = AreaFeed("938").size();
  absl::StatusOr<v1::RestrictSharingResponse> r =
      RestrictSharing(RestrictionRequest("lift-41", id, v1::RESTRICTION_CHANGE_LIFT));
  ASSERT_TRUE(r.ok()) << r.status();
  EXPECT_TRUE(r->changed());
  EXPECT_FALSE(r->record().sharing_objection());
  EXPECT_EQ(AreaFeed("938").size(), old_area);
  const storage::StoredFeedEvent resumed = AreaFeed("201").back();
  EXPECT_EQ(resumed.kind(), v1::FEED_EVENT_KIND_SHARING_RESUMED);
  EXPECT_EQ(resumed.child().given_name(), "Ada");
  EXPECT_EQ(resumed.child().postcode(), "EC2V 7HH");
  EXPECT_EQ(resumed.child_version(), 4);
}

TEST_F(RegistryTest, MarkingARecordSensitiveTellsEveryAreaToDeleteTheAddressAndLiftingItSendsIt) {
  const std::string id = RegisterAt(42, "938");
  ASSERT_TRUE(Move(id, "201").ok());
  absl::StatusOr<v1::RestrictSharingResponse> r = RestrictSharing(RestrictionRequest(
      "sensitive-42", id, v1::RESTRICTION_CHANGE_UNSPECIFIED, v1::RESTRICTION_CHANGE_SET));
  ASSERT_TRUE(r.ok()) << r.status();
  EXPECT_TRUE(r->record().sensitive());
  EXPECT_FALSE(r->record().sharing_objection());
  for (const std::string area : {"938", "201"}) {
    const storage::StoredFeedEvent restricted = AreaFeed(area).back();
    EXPECT_EQ(restricted.kind(), v1::FEED_EVENT_KIND_RESTRICTED) << area;
    EXPECT_FALSE(restricted.has_child()) << area;
  }
  absl::StatusOr<v1::RestrictSharingResponse> lifted = RestrictSharing(RestrictionRequest(
      "unsensitive-42", id, v1::RESTRICTION_CHANGE_UNSPECIFIED, v1::RESTRICTION_CHANGE_LIFT));
  ASSERT_TRUE(lifted.ok()) << lifted.status();
  EXPECT_FALSE(lifted->record().sensitive());
  EXPECT_EQ(AreaFeed("938").back().kind(), v1::FEED_EVENT_KIND_RESTRICTED);
  const storage::StoredFeedEvent restored = AreaFeed("201").back();
  EXPECT_EQ(restored.kind(), v1::FEED_EVENT_KIND_RESTRICTION_LIFTED);
  EXPECT_EQ(restored.child().postcode(), "EC2V 7HH");
}

TEST_F(RegistryTest, RestrictionsAlreadyAsAskedChangeNothing) {
  const std::string id = RegisterAt(43);
  for (auto [objection, sensitive] :
       std::vector<std::pair<v1::RestrictionChange, v1::RestrictionChange>>{
           {v1::RESTRICTION_CHANGE_LIFT, v1::RESTRICTION_CHANGE_UNSPECIFIED},
           {v1::RESTRICTION_CHANGE_UNSPECIFIED, v1::RESTRICTION_CHANGE_LIFT},
           {v1::RESTRICTION_CHANGE_LIFT, v1::RESTRICTION_CHANGE_LIFT}}) {
    absl::StatusOr<v1::RestrictSharingResponse> r =
        RestrictSharing(RestrictionRequest(NewRequestId(), id, objection, sensitive));
    ASSERT_TRUE(r.ok()) << r.status();
    EXPECT_FALSE(r->changed());
    EXPECT_EQ(r->record().version(), 1);
  }
  ASSERT_TRUE(RestrictSharing(RestrictionRequest(NewRequestId(), id, v1::RESTRICTION_CHANGE_SET,
                                                 v1::RESTRICTION_CHANGE_SET))
                  .ok());
  const size_t events = EventCount();
  const size_t feed = AreaFeed("938").size();
  absl::StatusOr<v1::RestrictSharingResponse> again = RestrictSharing(RestrictionRequest(
      NewRequestId(), id, v1::RESTRICTION_CHANGE_SET, v1::RESTRICTION_CHANGE_SET));
  ASSERT_TRUE(again.ok()) << again.status();
  EXPECT_FALSE(again->changed());
  EXPECT_EQ(EventCount(), events);
  EXPECT_EQ(AreaFeed("938").size(), feed);
}

// ---- What every life event does alike -----------------------------------------------------------

enum class LifeEvent {
  kRecordDeath,
  kChangeAddress,
  kCorrectDetails,
  kSupersedeNhsNumber,
  kRestrictSharing,
  kMergeRecords,
  kUndoMerge,
};

std::string NameOf(LifeEvent event) {
  switch (event) {
    case LifeEvent::kRecordDeath:
      return "RecordDeath";
    case LifeEvent::kChangeAddress:
      return "ChangeAddress";
    case LifeEvent::kCorrectDetails:
      return "CorrectDetails";
    case LifeEvent::kSupersedeNhsNumber:
      return "SupersedeNhsNumber";
    case LifeEvent::kRestrictSharing:
      return "RestrictSharing";
    case LifeEvent::kMergeRecords:
      return "MergeRecords";
    case LifeEvent::kUndoMerge:
      return "UndoMerge";
  }
  return "";
}

void PrintTo(LifeEvent event, std::ostream* os) { *os << NameOf(event); }

class LifeEventTest : public RegistryTest, public ::testing::WithParamInterface<LifeEvent> {
 protected:
  void SetUp() override {
    RegistryTest::SetUp();
    child_ = RegisterAt(1, "938");
    other_ = RegisterWithoutNhsNumber("abroad-2");
  }

  // Sends a valid request of `event` about `child_id` (merged into, or undone from, other_), or,
  // with `variant`, another request of the same method (one of the five that change one record).
  // The serialised response, or the refusal.
  absl::StatusOr<std::string> Send(LifeEvent event, const std::string& child_id,
                                   const std::string& request_id,
                                   const std::string& recorded_by = kRecordedBy,
                                   bool variant = false) {
    switch (event) {
      case LifeEvent::kRecordDeath: {
        v1::RecordDeathRequest r = DeathRequest(request_id, child_id, v1::DEATH_NOTICE_INFORMAL,
                                                absl::CivilDay(2026, 11, variant ? 2 : 1));
        r.set_recorded_by(recorded_by);
        return Serialized(RecordDeath(r));
      }
      case LifeEvent::kChangeAddress: {
        v1::ChangeAddressRequest r =
            AddressRequest(request_id, child_id, {variant ? "2 Mill Lane" : "1 Guildhall Yard"},
                           "EC2V 7HH", "201");
        r.set_recorded_by(recorded_by);
        return Serialized(ChangeAddress(r));
      }
      case LifeEvent::kCorrectDetails: {
        v1::CorrectDetailsRequest r = CorrectionRequest(request_id, child_id, 1);
        r.set_given_name(variant ? "Augusta" : "Ada Augusta");
        r.set_recorded_by(recorded_by);
        return Serialized(CorrectDetails(r));
      }
      case LifeEvent::kSupersedeNhsNumber: {
        v1::SupersedeNhsNumberRequest r =
            SupersessionRequest(request_id, child_id, FictionalNhsNumber(variant ? 501 : 500));
        r.set_recorded_by(recorded_by);
        return Serialized(SupersedeNhsNumber(r));
      }
      case LifeEvent::kRestrictSharing: {
        v1::RestrictSharingRequest r =
            variant ? RestrictionRequest(request_id, child_id, v1::RESTRICTION_CHANGE_UNSPECIFIED,
                                         v1::RESTRICTION_CHANGE_SET)
                    : RestrictionRequest(request_id, child_id, v1::RESTRICTION_CHANGE_SET);
        r.set_recorded_by(recorded_by);
        return Serialized(RestrictSharing(r));
      }
      case LifeEvent::kMergeRecords: {
        v1::MergeRecordsRequest r = MergeRequest(request_id, other_, child_id);
        r.set_recorded_by(recorded_by);
        return Serialized(MergeRecords(r));
      }
      case LifeEvent::kUndoMerge: {
        v1::UndoMergeRequest r = UndoRequest(request_id, child_id);
        r.set_recorded_by(recorded_by);
        return Serialized(UndoMerge(r));
      }
    }
    return absl::InternalError("unknown life event");
  }

  // The field naming the child that `event` changes.
  static std::string ChildField(LifeEvent event) {
    return event == LifeEvent::kMergeRecords || event == LifeEvent::kUndoMerge ? "retired_child_id"
                                                                               : "child_id";
  }

  template <typename Response>
  static absl::StatusOr<std::string> Serialized(const absl::StatusOr<Response>& response) {
    if (!response.ok()) return response.status();
    return response->SerializeAsString();
  }

  // Everything a refused request must leave as it was.
  struct Snapshot {
    std::string child;
    std::string other;
    size_t events;
    std::vector<storage::StoredFeedEvent> old_area;
    std::vector<storage::StoredFeedEvent> new_area;
  };
  Snapshot Take() {
    return {Stored(child_).SerializeAsString(), Stored(other_).SerializeAsString(), EventCount(),
            AreaFeed("938"), AreaFeed("201")};
  }
  void ExpectUnchanged(const Snapshot& before) {
    const Snapshot now = Take();
    EXPECT_EQ(now.child, before.child);
    EXPECT_EQ(now.other, before.other);
    EXPECT_EQ(now.events, before.events);
    EXPECT_EQ(now.old_area.size(), before.old_area.size());
    EXPECT_EQ(now.new_area.size(), before.new_area.size());
  }

  std::string child_;
  std::string other_;
};

// The five life events that change one record; merges and their undoing retry alike
// (record_merge_test.cc).
const LifeEvent kOneRecordEvents[] = {LifeEvent::kRecordDeath, LifeEvent::kChangeAddress,
                                      LifeEvent::kCorrectDetails, LifeEvent::kSupersedeNhsNumber,
                                      LifeEvent::kRestrictSharing};
const LifeEvent kEveryLifeEvent[] = {LifeEvent::kRecordDeath,     LifeEvent::kChangeAddress,
                                     LifeEvent::kCorrectDetails,  LifeEvent::kSupersedeNhsNumber,
                                     LifeEvent::kRestrictSharing, LifeEvent::kMergeRecords,
                                     LifeEvent::kUndoMerge};

class OneRecordLifeEventTest : public LifeEventTest {};

TEST_P(OneRecordLifeEventTest, ARetryWithTheSameRequestIdReturnsTheFirstResponseAndWritesNothing) {
  absl::StatusOr<std::string> first = Send(GetParam(), child_, "retried-1");
  ASSERT_TRUE(first.ok()) << first.status();
  // The record changes again after the first call, as it may before a retry arrives.
  ASSERT_TRUE(Move(child_, "873").ok());
  const Snapshot before = Take();
  for (int retry = 0; retry < 2; ++retry) {
    absl::StatusOr<std::string> again = Send(GetParam(), child_, "retried-1");
    ASSERT_TRUE(again.ok()) << again.status();
    EXPECT_EQ(*again, *first);  // the first call's response, byte for byte
  }
  ExpectUnchanged(before);
}

TEST_P(OneRecordLifeEventTest, ARequestIdReusedForAnotherRequestIsRefusedAndChangesNothing) {
  ASSERT_TRUE(Send(GetParam(), child_, "reused-1").ok());
  const Snapshot before = Take();
  absl::StatusOr<std::string> other =
      Send(GetParam(), child_, "reused-1", kRecordedBy, /*variant=*/true);
  ExpectRefused(other.status(), absl::StatusCode::kAlreadyExists,
                v1::REQUEST_ID_REUSED_WITH_OTHER_DETAILS, "request_id");
  // Another author is another request too.
  ExpectRefused(Send(GetParam(), child_, "reused-1", "Another Clerk").status(),
                absl::StatusCode::kAlreadyExists, v1::REQUEST_ID_REUSED_WITH_OTHER_DETAILS,
                "request_id");
  // So is the same request about another child.
  ExpectRefused(Send(GetParam(), other_, "reused-1").status(), absl::StatusCode::kAlreadyExists,
                v1::REQUEST_ID_REUSED_WITH_OTHER_DETAILS, "request_id");
  ExpectUnchanged(before);
}

INSTANTIATE_TEST_SUITE_P(EachLifeEvent, OneRecordLifeEventTest,
                         ::testing::ValuesIn(kOneRecordEvents),
                         [](const auto& info) { return NameOf(info.param); });

TEST_P(LifeEventTest, AnUnknownChildIsRefusedAsNotFoundAndChangesNothing) {
  const Snapshot before = Take();
  const std::string unknown = identifiers::GenerateChildId();
  absl::StatusOr<std::string> r = Send(GetParam(), unknown, NewRequestId());
  ExpectRefused(r.status(), absl::StatusCode::kNotFound, v1::CHILD_NOT_FOUND,
                ChildField(GetParam()));
  EXPECT_THAT(r.status().message(), Not(HasSubstr(unknown)));
  ExpectUnchanged(before);
}

TEST_P(LifeEventTest, ARequestWithoutRequestIdOrRecordedByIsRefusedAndChangesNothing) {
  const Snapshot before = Take();
  ExpectRefused(Send(GetParam(), child_, "").status(), absl::StatusCode::kInvalidArgument,
                v1::FIELD_REQUIRED, "request_id");
  for (const char* nobody : {"", "   "}) {
    ExpectRefused(Send(GetParam(), child_, NewRequestId(), nobody).status(),
                  absl::StatusCode::kInvalidArgument, v1::FIELD_REQUIRED, "recorded_by");
  }
  ExpectRefused(Send(GetParam(), child_, "two words").status(), absl::StatusCode::kInvalidArgument,
                v1::FIELD_INVALID, "request_id");
  ExpectRefused(Send(GetParam(), child_, std::string(129, 'r')).status(),
                absl::StatusCode::kInvalidArgument, v1::FIELD_INVALID, "request_id");
  ExpectRefused(Send(GetParam(), child_, NewRequestId(), "Clerk\u200B").status(),
                absl::StatusCode::kInvalidArgument, v1::FIELD_INVALID, "recorded_by");
  ExpectUnchanged(before);
}

TEST_P(LifeEventTest, AMalformedOrMissingChildIdentifierIsRefusedAndChangesNothing) {
  const Snapshot before = Take();
  ExpectRefused(Send(GetParam(), "", NewRequestId()).status(), absl::StatusCode::kInvalidArgument,
                v1::FIELD_REQUIRED, ChildField(GetParam()));
  // A single character mistyped, and an NHS number where the child's identifier belongs.
  std::string mistyped = child_;
  mistyped[3] = mistyped[3] == 'K' ? 'M' : 'K';
  for (const std::string& wrong : {mistyped, FictionalNhsNumber(1)}) {
    absl::StatusOr<std::string> r = Send(GetParam(), wrong, NewRequestId());
    ExpectRefused(r.status(), absl::StatusCode::kInvalidArgument, v1::FIELD_INVALID,
                  ChildField(GetParam()));
    EXPECT_THAT(r.status().message(), Not(HasSubstr(wrong)));
  }
  ExpectUnchanged(before);
}

INSTANTIATE_TEST_SUITE_P(EveryLifeEvent, LifeEventTest, ::testing::ValuesIn(kEveryLifeEvent),
                         [](const auto& info) { return NameOf(info.param); });

TEST_F(RegistryTest, ARequestIdUsedByAnotherLifeEventIsRefused) {
  const std::string id = RegisterAt(50);
  ASSERT_TRUE(RecordDeath(DeathRequest("shared-50", id, v1::DEATH_NOTICE_INFORMAL)).ok());
  absl::StatusOr<v1::ChangeAddressResponse> r =
      ChangeAddress(AddressRequest("shared-50", id, {"2 Mill Lane"}, "RH12 1AA", "938"));
  ExpectRefused(r.status(), absl::StatusCode::kAlreadyExists,
                v1::REQUEST_ID_REUSED_WITH_OTHER_DETAILS, "request_id");
  EXPECT_EQ(Stored(id).postcode(), "RH12 1AA");
  EXPECT_EQ(EventCount(), 2u);
}

TEST_F(RegistryTest, ARetryOfALifeEventThatChangedNothingAlsoReturnsItsFirstResponse) {
  const std::string id = RegisterAt(51);
  v1::ChangeAddressRequest same =
      AddressRequest("same-51", id, {AddressLineIn("938"), "Fictional Town"}, "RH12 1AA", "938");
  absl::StatusOr<v1::ChangeAddressResponse> first = ChangeAddress(same);
  ASSERT_TRUE(first.ok()) << first.status();
  EXPECT_FALSE(first->changed());
  ASSERT_TRUE(Move(id, "201").ok());
  // Were it made again, it would move the child back.
  absl::StatusOr<v1::ChangeAddressResponse> retry = ChangeAddress(same);
  ASSERT_TRUE(retry.ok()) << retry.status();
  EXPECT_FALSE(retry->changed());
  EXPECT_EQ(retry->record().local_authority(), "938");
  EXPECT_EQ(Stored(id).local_authority(), "201");
  EXPECT_EQ(EventCount(), 2u);
}

// ---- Bad fields --------------------------------------------------------------------------------

// A life event request with one bad field (`name`, sent by SendBad), and the refusal it gets.
struct BadLifeEventField {
  const char* name;
  const char* field;
  v1::ErrorReason reason;
};

void PrintTo(const BadLifeEventField& bad, std::ostream* os) { *os << bad.name; }

class BadLifeEventFieldTest : public RegistryTest,
                              public ::testing::WithParamInterface<BadLifeEventField> {
 protected:
  // Sends the request the case names about `child_id`.
  absl::Status SendBad(const std::string& name, const std::string& child_id) {
    auto date = [](int year, int month, int day) {
      v1::Date d;
      d.set_year(year);
      d.set_month(month);
      d.set_day(day);
      return d;
    };
    auto death = [&](v1::DeathNotice notice) { return DeathRequest("bad", child_id, notice); };
    auto address = [&]() {
      return AddressRequest("bad", child_id, {"2 Mill Lane"}, "RH12 1AA", "938");
    };
    auto correction = [&]() {
      v1::CorrectDetailsRequest r = CorrectionRequest("bad", child_id, 1);
      r.set_given_name("Augusta");
      return r;
    };
    if (name == "DeathWithoutNotice")
      return RecordDeath(death(v1::DEATH_NOTICE_UNSPECIFIED)).status();
    if (name == "DeathWithUnknownNotice") {
      return RecordDeath(death(static_cast<v1::DeathNotice>(9))).status();
    }
    if (name == "DeathWithoutDate") {
      v1::RecordDeathRequest r = death(v1::DEATH_NOTICE_FORMAL);
      r.clear_date_of_death();
      return RecordDeath(r).status();
    }
    if (name == "DeathOnADayNotInTheCalendar") {
      v1::RecordDeathRequest r = death(v1::DEATH_NOTICE_FORMAL);
      *r.mutable_date_of_death() = date(2026, 2, 30);
      return RecordDeath(r).status();
    }
    if (name == "AddressWithoutLines") {
      v1::ChangeAddressRequest r = address();
      r.clear_address_lines();
      return ChangeAddress(r).status();
    }
    if (name == "AddressWithFiveLines") {
      v1::ChangeAddressRequest r = address();
      for (int i = 0; i < 4; ++i) r.add_address_lines("More");
      return ChangeAddress(r).status();
    }
    if (name == "AddressWithAnEmptyLine") {
      v1::ChangeAddressRequest r = address();
      r.add_address_lines("  ");
      return ChangeAddress(r).status();
    }
    if (name == "AddressWithAControlCharacter") {
      v1::ChangeAddressRequest r = address();
      r.set_address_lines(0, "2 Mill\tLane");
      return ChangeAddress(r).status();
    }
    if (name == "AddressWithoutPostcode") {
      v1::ChangeAddressRequest r = address();
      r.clear_postcode();
      return ChangeAddress(r).status();
    }
    if (name == "AddressWithABadPostcode") {
      v1::ChangeAddressRequest r = address();
      r.set_postcode("NOT A POSTCODE");
      return ChangeAddress(r).status();
    }
    if (name == "AddressWithoutLocalAuthority") {
      v1::ChangeAddressRequest r = address();
      r.clear_local_authority();
      return ChangeAddress(r).status();
    }
    if (name == "AddressWithABadLocalAuthority") {
      v1::ChangeAddressRequest r = address();
      r.set_local_authority("93");
      return ChangeAddress(r).status();
    }
    if (name == "AddressEffectiveInTheFuture") {
      v1::ChangeAddressRequest r = address();
      *r.mutable_effective_date() = date(2026, 11, 26);
      return ChangeAddress(r).status();
    }
    if (name == "CorrectionWithoutExpectedVersion") {
      v1::CorrectDetailsRequest r = correction();
      r.clear_expected_version();
      return CorrectDetails(r).status();
    }
    if (name == "CorrectionWithNothingToCorrect") {
      v1::CorrectDetailsRequest r = correction();
      r.clear_given_name();
      return CorrectDetails(r).status();
    }
    if (name == "CorrectionWithAnInvisibleCharacterInAName") {
      v1::CorrectDetailsRequest r = correction();
      r.set_family_name("Love\u200Dlace");
      return CorrectDetails(r).status();
    }
    if (name == "CorrectionWithAnUnknownSex") {
      v1::CorrectDetailsRequest r = correction();
      r.set_sex(static_cast<v1::Sex>(9));
      return CorrectDetails(r).status();
    }
    if (name == "CorrectionWithABirthOrderOfTen") {
      v1::CorrectDetailsRequest r = correction();
      r.set_birth_order(10);
      return CorrectDetails(r).status();
    }
    if (name == "CorrectionWithABirthInTheFuture") {
      v1::CorrectDetailsRequest r = correction();
      *r.mutable_date_of_birth() = date(2026, 11, 26);
      return CorrectDetails(r).status();
    }
    if (name == "SupersessionWithoutNumber") {
      return SupersedeNhsNumber(SupersessionRequest("bad", child_id, "")).status();
    }
    if (name == "SupersessionWithABadCheckDigit") {
      std::string nhs = FictionalNhsNumber(60);
      nhs[9] = nhs[9] == '0' ? '1' : '0';
      return SupersedeNhsNumber(SupersessionRequest("bad", child_id, nhs)).status();
    }
    if (name == "RestrictionChangingNothing") {
      return RestrictSharing(
                 RestrictionRequest("bad", child_id, v1::RESTRICTION_CHANGE_UNSPECIFIED))
          .status();
    }
    if (name == "RestrictionWithAnUnknownObjection") {
      return RestrictSharing(
                 RestrictionRequest("bad", child_id, static_cast<v1::RestrictionChange>(7)))
          .status();
    }
    if (name == "RestrictionWithAnUnknownSensitiveChange") {
      return RestrictSharing(RestrictionRequest("bad", child_id, v1::RESTRICTION_CHANGE_SET,
                                                static_cast<v1::RestrictionChange>(7)))
          .status();
    }
    if (name == "MergeWithoutSurvivor") {
      return MergeRecords(MergeRequest("bad", "", child_id)).status();
    }
    return absl::InternalError("no such case");
  }
};

TEST_P(BadLifeEventFieldTest, IsRefusedWithItsReasonNamingTheFieldAndChangesNothing) {
  const std::string id = RegisterAt(60);
  const std::string before = Stored(id).SerializeAsString();
  const absl::Status status = SendBad(GetParam().name, id);
  ExpectRefused(status, absl::StatusCode::kInvalidArgument, GetParam().reason, GetParam().field);
  for (const std::string& detail :
       {id, FictionalNhsNumber(60), std::string("RH12 1AA"), std::string("Lovelace")}) {
    EXPECT_THAT(status.message(), Not(HasSubstr(detail)));
  }
  EXPECT_EQ(Stored(id).SerializeAsString(), before);
  EXPECT_EQ(EventCount(), 1u);
  EXPECT_EQ(AreaFeed("938").size(), 1u);
  // Nothing was recorded against the request id either: a valid request may use it.
  EXPECT_TRUE(RecordDeath(DeathRequest("bad", id, v1::DEATH_NOTICE_INFORMAL)).ok());
}

INSTANTIATE_TEST_SUITE_P(
    LifeEvents, BadLifeEventFieldTest,
    ::testing::Values(
        BadLifeEventField{"DeathWithoutNotice", "notice", v1::FIELD_REQUIRED},
        BadLifeEventField{"DeathWithUnknownNotice", "notice", v1::FIELD_INVALID},
        BadLifeEventField{"DeathWithoutDate", "date_of_death", v1::FIELD_REQUIRED},
        BadLifeEventField{"DeathOnADayNotInTheCalendar", "date_of_death", v1::FIELD_INVALID},
        BadLifeEventField{"AddressWithoutLines", "address_lines", v1::FIELD_REQUIRED},
        BadLifeEventField{"AddressWithFiveLines", "address_lines", v1::FIELD_INVALID},
        BadLifeEventField{"AddressWithAnEmptyLine", "address_lines", v1::FIELD_INVALID},
        BadLifeEventField{"AddressWithAControlCharacter", "address_lines", v1::FIELD_INVALID},
        BadLifeEventField{"AddressWithoutPostcode", "postcode", v1::FIELD_REQUIRED},
        BadLifeEventField{"AddressWithABadPostcode", "postcode", v1::FIELD_INVALID},
        BadLifeEventField{"AddressWithoutLocalAuthority", "local_authority", v1::FIELD_REQUIRED},
        BadLifeEventField{"AddressWithABadLocalAuthority", "local_authority", v1::FIELD_INVALID},
        BadLifeEventField{"AddressEffectiveInTheFuture", "effective_date", v1::FIELD_INVALID},
        BadLifeEventField{"CorrectionWithoutExpectedVersion", "expected_version",
                          v1::FIELD_REQUIRED},
        BadLifeEventField{"CorrectionWithNothingToCorrect", "", v1::FIELD_REQUIRED},
        BadLifeEventField{"CorrectionWithAnInvisibleCharacterInAName", "family_name",
                          v1::FIELD_INVALID},
        BadLifeEventField{"CorrectionWithAnUnknownSex", "sex", v1::FIELD_INVALID},
        BadLifeEventField{"CorrectionWithABirthOrderOfTen", "birth_order", v1::FIELD_INVALID},
        BadLifeEventField{"CorrectionWithABirthInTheFuture", "date_of_birth", v1::FIELD_INVALID},
        BadLifeEventField{"SupersessionWithoutNumber", "new_nhs_number", v1::FIELD_REQUIRED},
        BadLifeEventField{"SupersessionWithABadCheckDigit", "new_nhs_number", v1::FIELD_INVALID},
        BadLifeEventField{"RestrictionChangingNothing", "objection", v1::FIELD_REQUIRED},
        BadLifeEventField{"RestrictionWithAnUnknownObjection", "objection", v1::FIELD_INVALID},
        BadLifeEventField{"RestrictionWithAnUnknownSensitiveChange", "sensitive",
                          v1::FIELD_INVALID},
        BadLifeEventField{"MergeWithoutSurvivor", "surviving_child_id", v1::FIELD_REQUIRED}),
    [](const auto& info) { return std::string(info.param.name); });

}  // namespace
}  // namespace cir::registry
