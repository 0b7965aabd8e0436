// Merging two records of one child, and undoing a wrong merge: the retired identifier and every
// identifier it held resolve to the survivor, in one hop however long the chain; an undo gives
// every identifier back exactly, keeps what changed on the survivor since, and marks the pair as
// not the same child.

#include <map>
#include <string>
#include <vector>

#include "absl/strings/ascii.h"
#include "absl/strings/escaping.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "identifiers/child_id.h"
#include "tests/registry/registry_fixture.h"

namespace cir::registry {
namespace {

using storage::IndexKind;
using ::testing::ElementsAre;
using testing::FictionalBirth;
using testing::FictionalNhsNumber;
using testing::FictionalTemporaryUpn;
using testing::FictionalUpn;
using ::testing::IsEmpty;

// Every index key that can name `child`: its NHS numbers, UPNs and notifications, current and
// former, and its identifier as a retired one.
std::vector<storage::IndexKey> IndexKeysOf(const storage::StoredChild& child) {
  std::vector<storage::IndexKey> keys;
  auto add = [&](IndexKind kind, const std::string& value) {
    if (!value.empty()) keys.push_back({kind, value});
  };
  add(IndexKind::kNhsNumber, child.nhs_number());
  for (const std::string& nhs : child.former_nhs_numbers()) add(IndexKind::kNhsNumber, nhs);
  add(IndexKind::kUpn, child.upn());
  for (const std::string& upn : child.former_upns()) add(IndexKind::kUpn, upn);
  for (const storage::StoredNotification& n : child.notifications()) {
    add(IndexKind::kNotification,
        storage::NotificationIndexValue(n.notifying_system(), n.notification_id()));
  }
  add(IndexKind::kRetiredChildId, child.child_id());
  return keys;
}

// What the index says of each key: the child it names and its fingerprint, or "(none)".
std::map<std::string, std::string> IndexSays(storage::ChildStore& store,
                                             const std::vector<storage::IndexKey>& keys) {
  std::map<std::string, std::string> says;
  for (const storage::IndexKey& key : keys) {
    const std::string name = absl::StrCat(static_cast<int>(key.kind), ":", key.value);
    absl::StatusOr<std::optional<storage::IndexEntry>> entry = store.Lookup(key.kind, key.value);
    if (!entry.ok()) {
      says[name] = entry.status().ToString();
    } else if (!entry->has_value()) {
      says[name] = "(none)";
    } else {
      says[name] =
          absl::StrCat((*entry)->child_id, " ", absl::BytesToHexString((*entry)->fingerprint));
    }
  }
  return says;
}

// The identifier fields of a stored record, and what says where it stands in merges.
std::string IdentifiersOf(const storage::StoredChild& child) {
  storage::StoredChild only;
  only.set_child_id(child.child_id());
  only.set_nhs_number(child.nhs_number());
  *only.mutable_former_nhs_numbers() = child.former_nhs_numbers();
  only.set_upn(child.upn());
  *only.mutable_former_upns() = child.former_upns();
  only.set_notification_id(child.notification_id());
  *only.mutable_notifications() = child.notifications();
  only.set_status(child.status());
  only.set_merged_into(child.merged_into());
  *only.mutable_merged_from() = child.merged_from();
  if (child.has_merge_undo()) *only.mutable_merge_undo() = child.merge_undo();
  return only.DebugString();
}

absl::StatusOr<v1::BatchResolveResponse> BatchResolve(Registry& registry,
                                                      const std::vector<std::string>& identifiers,
                                                      v1::RecordView view) {
  v1::BatchResolveRequest request;
  for (const std::string& identifier : identifiers) request.add_identifiers(identifier);
  request.set_view(view);
  return registry.BatchResolve(request);
}

constexpr v1::RecordView kEveryView[] = {v1::RECORD_VIEW_UNSPECIFIED, v1::RECORD_VIEW_IDENTIFIERS,
                                         v1::RECORD_VIEW_FULL, v1::RECORD_VIEW_CHILD_ID};

// ---- Merging -----------------------------------------------------------------------------------

TEST_F(RegistryTest, AfterAMergeTheRetiredIdentifierAndEveryIdentifierItHeldResolveToTheSurvivor) {
  const v1::RegisterBirthRequest first = FictionalBirth("notification-30", FictionalNhsNumber(30));
  const v1::RegisterBirthRequest again = FictionalBirth("notification-30b", FictionalNhsNumber(30));
  const std::string retired = Register(first)->record().child_id();
  ASSERT_EQ(Register(again)->record().child_id(), retired);
  ASSERT_TRUE(LinkUpn(retired, FictionalTemporaryUpn(30)).ok());
  ASSERT_TRUE(LinkUpn(retired, FictionalUpn(30), /*replace=*/true).ok());
  ASSERT_TRUE(
      SupersedeNhsNumber(SupersessionRequest("supersede-30", retired, FictionalNhsNumber(31)))
          .ok());
  const std::string survivor = RegisterWithoutNhsNumber("b-32");

  absl::StatusOr<v1::MergeRecordsResponse> merged =
      MergeRecords(MergeRequest("merge-30", survivor, retired));
  ASSERT_TRUE(merged.ok()) << merged.status();
  EXPECT_TRUE(merged->changed());
  const v1::ChildRecord& record = merged->record();
  EXPECT_EQ(record.child_id(), survivor);
  EXPECT_EQ(record.nhs_number(), FictionalNhsNumber(31));
  EXPECT_THAT(record.former_nhs_numbers(), ElementsAre(FictionalNhsNumber(30)));
  EXPECT_EQ(record.upn(), FictionalUpn(30));
  EXPECT_THAT(record.former_upns(), ElementsAre(FictionalTemporaryUpn(30)));
  EXPECT_THAT(record.merged_from_child_ids(), ElementsAre(retired));
  EXPECT_EQ(record.status(), v1::RECORD_STATUS_ACTIVE);
  EXPECT_EQ(record.version(), 2);
  const storage::StoredEvent event = Events().back();
  EXPECT_EQ(event.kind(), storage::EVENT_KIND_RECORDS_MERGED);
  EXPECT_EQ(event.child_id(), survivor);
  EXPECT_EQ(event.other_child_id(), retired);
  EXPECT_EQ(event.made_by(), kRecordedBy);

  const storage::StoredChild stored = Stored(retired);
  EXPECT_EQ(stored.status(), v1::RECORD_STATUS_MERGED);
  EXPECT_EQ(stored.merged_into(), survivor);

  // The retired identifier, in any form it is written, resolves to the survivor and says so.
  for (const std::string& form : {retired, identifiers::FormatChildId(retired),
                                  absl::AsciiStrToLower(identifiers::FormatChildId(retired))}) {
    absl::StatusOr<v1::ResolveResponse> r = Resolve(form);
    ASSERT_TRUE(r.ok()) << r.status();
    EXPECT_EQ(r->record().child_id(), survivor);
    EXPECT_EQ(r->redirected_from_child_id(), retired);
    EXPECT_EQ(r->matched_kind(), v1::IDENTIFIER_KIND_CHILD_ID);
    EXPECT_EQ(r->record().status(), v1::RECORD_STATUS_ACTIVE);
  }
  // Every NHS number and UPN it held, current or former.
  for (const std::string& identifier : {FictionalNhsNumber(30), FictionalNhsNumber(31),
                                        FictionalUpn(30), FictionalTemporaryUpn(30)}) {
    absl::StatusOr<v1::ResolveResponse> r = Resolve(identifier);
    ASSERT_TRUE(r.ok()) << r.status();
    EXPECT_EQ(r->record().child_id(), survivor) << identifier;
    EXPECT_EQ(r->redirected_from_child_id(), "");
  }
  EXPECT_TRUE(Resolve(FictionalNhsNumber(30))->matched_former());
  EXPECT_FALSE(Resolve(FictionalNhsNumber(31))->matched_former());
  // Every notification it held: the index, and a retry of each through RegisterBirth.
  const size_t events = EventCount();
  for (const v1::RegisterBirthRequest& notification : {first, again}) {
    EXPECT_EQ(store_
                  ->Lookup(IndexKind::kNotification,
                           storage::NotificationIndexValue(testing::kFictionalNotifyingSystem,
                                                           notification.notification_id()))
                  ->value()
                  .child_id,
              survivor);
    absl::StatusOr<v1::RegisterBirthResponse> retry = Register(notification);
    ASSERT_TRUE(retry.ok()) << retry.status();
    EXPECT_EQ(retry->record().child_id(), survivor);
  }
  EXPECT_EQ(EventCount(), events);
  // In a batch, with every view.
  const std::vector<std::string> batch = {retired,
                                          identifiers::FormatChildId(retired),
                                          FictionalNhsNumber(30),
                                          FictionalNhsNumber(31),
                                          FictionalUpn(30),
                                          FictionalTemporaryUpn(30),
                                          survivor};
  for (v1::RecordView view : kEveryView) {
    absl::StatusOr<v1::BatchResolveResponse> r = BatchResolve(*registry_, batch, view);
    ASSERT_TRUE(r.ok()) << r.status();
    ASSERT_EQ(r->results_size(), static_cast<int>(batch.size()));
    for (int i = 0; i < r->results_size(); ++i) {
      EXPECT_EQ(r->results(i).outcome(), v1::BatchResolveResult::OUTCOME_FOUND)
          << "view " << view << ", " << batch[i];
      EXPECT_EQ(r->results(i).record().child_id(), survivor) << "view " << view << ", " << batch[i];
      if (view != v1::RECORD_VIEW_CHILD_ID) {
        EXPECT_EQ(r->results(i).record().status(), v1::RECORD_STATUS_ACTIVE);
      }
    }
  }
}

TEST_F(RegistryTest, AChainOfMergesResolvesTheFirstRetiredRecordInOneHop) {
  const std::string a = RegisterNew(40);
  const std::string b = RegisterWithoutNhsNumber("b-41");
  const std::string c = RegisterWithoutNhsNumber("c-42");
  ASSERT_TRUE(Merge(b, a).ok());
  absl::StatusOr<v1::MergeRecordsResponse> second = Merge(c, b);
  ASSERT_TRUE(second.ok()) << second.status();
  EXPECT_THAT(second->record().merged_from_child_ids(), ElementsAre(a, b));
  EXPECT_EQ(second->record().nhs_number(), FictionalNhsNumber(40));

  EXPECT_EQ(Stored(a).merged_into(), c);  // one hop, not through b
  EXPECT_EQ(Stored(b).merged_into(), c);
  EXPECT_EQ(store_->Lookup(IndexKind::kRetiredChildId, a)->value().child_id, c);
  EXPECT_EQ(store_->Lookup(IndexKind::kRetiredChildId, b)->value().child_id, c);
  for (const std::string& retired : {a, b}) {
    absl::StatusOr<v1::ResolveResponse> r = Resolve(retired);
    ASSERT_TRUE(r.ok()) << r.status();
    EXPECT_EQ(r->record().child_id(), c);
    EXPECT_EQ(r->redirected_from_child_id(), retired);
  }
  EXPECT_EQ(Resolve(FictionalNhsNumber(40))->record().child_id(), c);
  for (v1::RecordView view : kEveryView) {
    absl::StatusOr<v1::BatchResolveResponse> r =
        BatchResolve(*registry_, {a, b, FictionalNhsNumber(40)}, view);
    ASSERT_TRUE(r.ok()) << r.status();
    for (const v1::BatchResolveResult& result : r->results()) {
      EXPECT_EQ(result.record().child_id(), c) << "view " << view;
    }
  }
  absl::StatusOr<v1::RegisterBirthResponse> retry =
      Register(FictionalBirth("notification-40", FictionalNhsNumber(40)));
  ASSERT_TRUE(retry.ok()) << retry.status();
  EXPECT_EQ(retry->record().child_id(), c);
}

TEST_F(RegistryTest, ARecordIsNotMergedIntoItselfHoweverItsIdentifierIsWritten) {
  const std::string id = RegisterNew(43);
  for (const std::string& form : {id, identifiers::FormatChildId(id), absl::AsciiStrToLower(id)}) {
    absl::StatusOr<v1::MergeRecordsResponse> r =
        MergeRecords(MergeRequest(NewRequestId(), id, form));
    ExpectRefused(r.status(), absl::StatusCode::kInvalidArgument, v1::MERGE_INTO_ITSELF,
                  "retired_child_id");
  }
  EXPECT_EQ(Stored(id).version(), 1);
  EXPECT_EQ(EventCount(), 1u);
}

TEST_F(RegistryTest, RecordsWithDifferentNhsNumbersAreMergedOnlyOnceTheRetiredOnesIsSuperseded) {
  const std::string retired = RegisterNew(44);
  const std::string survivor = RegisterNew(45);
  const std::string retired_before = Stored(retired).SerializeAsString();
  const std::string survivor_before = Stored(survivor).SerializeAsString();
  ExpectRefused(Merge(survivor, retired).status(), absl::StatusCode::kFailedPrecondition,
                v1::NHS_NUMBERS_DIFFER, "retired_nhs_number_superseded");
  EXPECT_EQ(Stored(retired).SerializeAsString(), retired_before);
  EXPECT_EQ(Stored(survivor).SerializeAsString(), survivor_before);
  EXPECT_EQ(Resolve(FictionalNhsNumber(44))->record().child_id(), retired);
  EXPECT_EQ(EventCount(), 2u);

  v1::MergeRecordsRequest confirmed = MergeRequest("merge-44", survivor, retired);
  confirmed.set_retired_nhs_number_superseded(true);
  absl::StatusOr<v1::MergeRecordsResponse> r = MergeRecords(confirmed);
  ASSERT_TRUE(r.ok()) << r.status();
  EXPECT_EQ(r->record().nhs_number(), FictionalNhsNumber(45));
  EXPECT_THAT(r->record().former_nhs_numbers(), ElementsAre(FictionalNhsNumber(44)));
  absl::StatusOr<v1::ResolveResponse> by_retired_number = Resolve(FictionalNhsNumber(44));
  ASSERT_TRUE(by_retired_number.ok()) << by_retired_number.status();
  EXPECT_EQ(by_retired_number->record().child_id(), survivor);
  EXPECT_TRUE(by_retired_number->matched_former());
}

TEST_F(RegistryTest, ADeceasedRecordAndALivingOneAreNotMerged) {
  const std::string deceased = RegisterWithoutNhsNumber("d-46");
  const std::string living = RegisterWithoutNhsNumber("l-47");
  ASSERT_TRUE(RecordDeath(DeathRequest("death-46", deceased, v1::DEATH_NOTICE_FORMAL)).ok());
  const size_t events = EventCount();
  for (auto [survivor, retired] :
       std::vector<std::pair<std::string, std::string>>{{living, deceased}, {deceased, living}}) {
    ExpectRefused(Merge(survivor, retired).status(), absl::StatusCode::kFailedPrecondition,
                  v1::DECEASED_AND_LIVING_NOT_MERGED, "retired_child_id");
  }
  EXPECT_EQ(EventCount(), events);
  EXPECT_EQ(Stored(living).status(), v1::RECORD_STATUS_ACTIVE);
  EXPECT_EQ(Stored(deceased).status(), v1::RECORD_STATUS_DECEASED);

  // Two deceased records of one child are merged.
  ASSERT_TRUE(RecordDeath(DeathRequest("death-47", living, v1::DEATH_NOTICE_INFORMAL)).ok());
  absl::StatusOr<v1::MergeRecordsResponse> r = Merge(deceased, living);
  ASSERT_TRUE(r.ok()) << r.status();
  EXPECT_EQ(r->record().status(), v1::RECORD_STATUS_DECEASED);
  EXPECT_EQ(r->record().death_kind(), v1::DEATH_KIND_FORMAL);
}

TEST_F(RegistryTest, ALifeEventOrLinkOnARetiredRecordIsRefusedAsMergedAndChangesNothing) {
  const std::string retired = RegisterAt(48);
  const std::string survivor = RegisterWithoutNhsNumber("s-49");
  const std::string elsewhere = RegisterWithoutNhsNumber("e-50");
  ASSERT_TRUE(Merge(survivor, retired).ok());
  const std::string retired_before = Stored(retired).SerializeAsString();
  const std::string survivor_before = Stored(survivor).SerializeAsString();
  const size_t events = EventCount();

  auto expect_merged = [&](const absl::Status& status, const std::string& field) {
    ExpectRefused(status, absl::StatusCode::kFailedPrecondition, v1::CHILD_MERGED, field);
  };
  expect_merged(
      RecordDeath(DeathRequest(NewRequestId(), retired, v1::DEATH_NOTICE_INFORMAL)).status(),
      "child_id");
  expect_merged(Move(retired, "201").status(), "child_id");
  v1::CorrectDetailsRequest correction = CorrectionRequest(NewRequestId(), retired, 2);
  correction.set_given_name("Augusta");
  expect_merged(CorrectDetails(correction).status(), "child_id");
  expect_merged(
      SupersedeNhsNumber(SupersessionRequest(NewRequestId(), retired, FictionalNhsNumber(51)))
          .status(),
      "child_id");
  expect_merged(
      RestrictSharing(RestrictionRequest(NewRequestId(), retired, v1::RESTRICTION_CHANGE_SET))
          .status(),
      "child_id");
  expect_merged(LinkUpn(retired, FictionalUpn(48)).status(), "child_id");
  expect_merged(LinkNhs(retired, FictionalNhsNumber(52)).status(), "child_id");
  // Nor is anything merged into it, nor is it merged into a third record.
  expect_merged(Merge(retired, elsewhere).status(), "surviving_child_id");
  expect_merged(Merge(elsewhere, retired).status(), "retired_child_id");

  EXPECT_EQ(Stored(retired).SerializeAsString(), retired_before);
  EXPECT_EQ(Stored(survivor).SerializeAsString(), survivor_before);
  EXPECT_EQ(Stored(elsewhere).version(), 1);
  EXPECT_EQ(EventCount(), events);
  EXPECT_EQ(Resolve(FictionalUpn(48)).status().code(), absl::StatusCode::kNotFound);

  // Merging it into its survivor again is no change.
  absl::StatusOr<v1::MergeRecordsResponse> again = Merge(survivor, retired);
  ASSERT_TRUE(again.ok()) << again.status();
  EXPECT_FALSE(again->changed());
  EXPECT_EQ(EventCount(), events);
}

TEST_F(RegistryTest, AMergeNamingAnUnknownSurvivorIsRefusedAsNotFound) {
  const std::string retired = RegisterNew(53);
  ExpectRefused(Merge(identifiers::GenerateChildId(), retired).status(),
                absl::StatusCode::kNotFound, v1::CHILD_NOT_FOUND, "surviving_child_id");
  EXPECT_EQ(Stored(retired).status(), v1::RECORD_STATUS_ACTIVE);
  EXPECT_EQ(EventCount(), 1u);
}

TEST_F(RegistryTest, AMergeTellsEveryAreaThatCarriedEitherRecord) {
  const std::string retired = RegisterAt(54, "938");
  ASSERT_TRUE(Move(retired, "201").ok());
  const std::string survivor = RegisterAt(55, "873");
  const std::string bystander = RegisterAt(56, "919");
  v1::MergeRecordsRequest merge = MergeRequest("merge-54", survivor, retired);
  merge.set_retired_nhs_number_superseded(true);
  ASSERT_TRUE(MergeRecords(merge).ok());

  const storage::StoredEvent event = Events().back();
  EXPECT_EQ(event.kind(), storage::EVENT_KIND_RECORDS_MERGED);
  EXPECT_EQ(event.area_sequences_size(), 3);
  for (const std::string area : {"938", "201", "873"}) {
    const storage::StoredFeedEvent merged = AreaFeed(area).back();
    EXPECT_EQ(merged.kind(), v1::FEED_EVENT_KIND_MERGED) << area;
    EXPECT_EQ(merged.child_id(), survivor) << area;
    EXPECT_EQ(merged.other_child_id(), retired) << area;
    EXPECT_EQ(merged.event_sequence(), event.sequence()) << area;
    EXPECT_EQ(merged.made_by(), kRecordedBy);
    EXPECT_EQ(merged.child().postcode(), PostcodeIn("873"));  // the survivor's details
  }
  EXPECT_EQ(AreaFeed("919").size(), 1u);  // an area that carried neither hears nothing
  EXPECT_THAT(Stored(survivor).feed_areas(), ElementsAre("873", "938", "201"));
  EXPECT_EQ(Stored(bystander).version(), 1);
}

// What the last change written to an area's feed told it: (kind, child) of each of its feed events.
std::vector<std::pair<int, std::string>> LastChangeIn(
    const std::vector<storage::StoredFeedEvent>& feed) {
  std::vector<std::pair<int, std::string>> last;
  for (const storage::StoredFeedEvent& event : feed) {
    if (event.event_sequence() == feed.back().event_sequence()) {
      last.emplace_back(event.kind(), event.child_id());
    }
  }
  return last;
}

TEST_F(RegistryTest, AMergeThatLeavesTheSurvivorObjectingTellsEveryAreaHoldingEitherToDeleteIt) {
  // The retired record objects, the survivor did not: the survivor's area holds its details.
  const std::string objecting = RegisterAt(82, "938");
  ASSERT_TRUE(
      RestrictSharing(RestrictionRequest("object-82", objecting, v1::RESTRICTION_CHANGE_SET)).ok());
  const std::string sharing = RegisterAt(83, "873");
  v1::MergeRecordsRequest merge = MergeRequest("merge-82", sharing, objecting);
  merge.set_retired_nhs_number_superseded(true);
  absl::StatusOr<v1::MergeRecordsResponse> r = MergeRecords(merge);
  ASSERT_TRUE(r.ok()) << r.status();
  EXPECT_TRUE(r->record().sharing_objection());
  using Told = std::vector<std::pair<int, std::string>>;
  EXPECT_EQ(LastChangeIn(AreaFeed("873")), (Told{{v1::FEED_EVENT_KIND_SHARING_WITHDRAWN, sharing},
                                                 {v1::FEED_EVENT_KIND_MERGED, sharing}}));
  for (const storage::StoredFeedEvent& event : AreaFeed("873")) {
    if (event.kind() == v1::FEED_EVENT_KIND_SHARING_WITHDRAWN) {
      EXPECT_FALSE(event.has_child());
      EXPECT_EQ(event.child_version(), Stored(sharing).version());
    }
  }
  // The objecting record's area was told when the objection was made, not again.
  EXPECT_EQ(LastChangeIn(AreaFeed("938")), (Told{{v1::FEED_EVENT_KIND_MERGED, sharing}}));

  // The survivor objects, the retired record did not: the retired record's area is told.
  const std::string objecting_survivor = RegisterAt(84, "201");
  ASSERT_TRUE(RestrictSharing(
                  RestrictionRequest("object-84", objecting_survivor, v1::RESTRICTION_CHANGE_SET))
                  .ok());
  const std::string shared = RegisterAt(85, "919");
  merge = MergeRequest("merge-84", objecting_survivor, shared);
  merge.set_retired_nhs_number_superseded(true);
  ASSERT_TRUE(MergeRecords(merge).ok());
  EXPECT_EQ(LastChangeIn(AreaFeed("919")),
            (Told{{v1::FEED_EVENT_KIND_SHARING_WITHDRAWN, shared},
                  {v1::FEED_EVENT_KIND_MERGED, objecting_survivor}}));
  EXPECT_EQ(LastChangeIn(AreaFeed("201")),
            (Told{{v1::FEED_EVENT_KIND_MERGED, objecting_survivor}}));
}

TEST_F(RegistryTest, AMergeThatLeavesTheSurvivorSensitiveTellsEveryAreaHoldingAnAddressToDeleteIt) {
  const std::string sensitive = RegisterAt(86, "938");
  ASSERT_TRUE(RestrictSharing(RestrictionRequest("sensitive-86", sensitive,
                                                 v1::RESTRICTION_CHANGE_UNSPECIFIED,
                                                 v1::RESTRICTION_CHANGE_SET))
                  .ok());
  const std::string open = RegisterAt(87, "873");
  v1::MergeRecordsRequest merge = MergeRequest("merge-86", open, sensitive);
  merge.set_retired_nhs_number_superseded(true);
  absl::StatusOr<v1::MergeRecordsResponse> r = MergeRecords(merge);
  ASSERT_TRUE(r.ok()) << r.status();
  EXPECT_TRUE(r->record().sensitive());
  using Told = std::vector<std::pair<int, std::string>>;
  EXPECT_EQ(LastChangeIn(AreaFeed("873")),
            (Told{{v1::FEED_EVENT_KIND_RESTRICTED, open}, {v1::FEED_EVENT_KIND_MERGED, open}}));
  EXPECT_EQ(LastChangeIn(AreaFeed("938")), (Told{{v1::FEED_EVENT_KIND_MERGED, open}}));
}

TEST_F(RegistryTest, ARetriedMergeReturnsTheFirstResponseEvenAfterItWasUndone) {
  const std::string retired = RegisterNew(57);
  const std::string survivor = RegisterWithoutNhsNumber("s-58");
  const v1::MergeRecordsRequest merge = MergeRequest("merge-57", survivor, retired);
  absl::StatusOr<v1::MergeRecordsResponse> first = MergeRecords(merge);
  ASSERT_TRUE(first.ok()) << first.status();
  absl::StatusOr<v1::MergeRecordsResponse> retry = MergeRecords(merge);
  ASSERT_TRUE(retry.ok()) << retry.status();
  EXPECT_EQ(retry->SerializeAsString(), first->SerializeAsString());

  ASSERT_TRUE(Undo(retired).ok());
  const size_t events = EventCount();
  retry = MergeRecords(merge);
  ASSERT_TRUE(retry.ok()) << retry.status();
  EXPECT_EQ(retry->SerializeAsString(), first->SerializeAsString());
  EXPECT_EQ(Stored(retired).status(), v1::RECORD_STATUS_ACTIVE);  // not merged again
  EXPECT_EQ(EventCount(), events);

  v1::MergeRecordsRequest other = merge;
  other.set_override_not_same_child(true);
  ExpectRefused(MergeRecords(other).status(), absl::StatusCode::kAlreadyExists,
                v1::REQUEST_ID_REUSED_WITH_OTHER_DETAILS, "request_id");
  EXPECT_EQ(Stored(retired).status(), v1::RECORD_STATUS_ACTIVE);
  EXPECT_EQ(EventCount(), events);
}

// ---- Undoing a merge ---------------------------------------------------------------------------

TEST_F(RegistryTest, UndoingAMergeGivesBackEveryIdentifierExactlyAsItWas) {
  // x, merged into a before; a with two notifications, a former NHS number, a permanent UPN and a
  // former temporary one; b with a temporary UPN that a's permanent one replaces on merging.
  const std::string x = RegisterAt(60);
  ASSERT_TRUE(LinkUpn(x, FictionalTemporaryUpn(60)).ok());
  const std::string a = RegisterNew(61);
  ASSERT_TRUE(Register(FictionalBirth("notification-61b", FictionalNhsNumber(61))).ok());
  ASSERT_TRUE(LinkUpn(a, FictionalTemporaryUpn(61)).ok());
  ASSERT_TRUE(LinkUpn(a, FictionalUpn(61), /*replace=*/true).ok());
  ASSERT_TRUE(
      SupersedeNhsNumber(SupersessionRequest("supersede-61", a, FictionalNhsNumber(62))).ok());
  v1::MergeRecordsRequest x_into_a = MergeRequest("merge-60", a, x);
  x_into_a.set_retired_nhs_number_superseded(true);
  ASSERT_TRUE(MergeRecords(x_into_a).ok());
  const std::string b = RegisterAt(63, "873");
  ASSERT_TRUE(LinkUpn(b, FictionalTemporaryUpn(63)).ok());

  std::vector<storage::IndexKey> keys;
  for (const std::string& child : {x, a, b}) {
    for (storage::IndexKey& key : IndexKeysOf(Stored(child))) keys.push_back(std::move(key));
  }
  const std::map<std::string, std::string> index_before = IndexSays(*store_, keys);
  const std::string x_before = IdentifiersOf(Stored(x));
  const std::string a_before = IdentifiersOf(Stored(a));
  const std::string b_before = IdentifiersOf(Stored(b));
  const int64_t b_version = Stored(b).version();

  v1::MergeRecordsRequest a_into_b = MergeRequest("merge-61", b, a);
  a_into_b.set_retired_nhs_number_superseded(true);
  absl::StatusOr<v1::MergeRecordsResponse> merged = MergeRecords(a_into_b);
  ASSERT_TRUE(merged.ok()) << merged.status();
  EXPECT_EQ(merged->record().upn(), FictionalUpn(61));
  EXPECT_EQ(Stored(x).merged_into(), b);
  for (const storage::IndexKey& key : IndexKeysOf(Stored(a))) {
    EXPECT_EQ(store_->Lookup(key.kind, key.value)->value().child_id, b) << key.value;
  }

  absl::StatusOr<v1::UndoMergeResponse> undone = UndoMerge(UndoRequest("undo-61", a));
  ASSERT_TRUE(undone.ok()) << undone.status();
  EXPECT_TRUE(undone->changed());
  EXPECT_EQ(IndexSays(*store_, keys), index_before);
  EXPECT_EQ(IdentifiersOf(Stored(x)), x_before);
  EXPECT_EQ(IdentifiersOf(Stored(a)), a_before);
  EXPECT_EQ(IdentifiersOf(Stored(b)), b_before);
  EXPECT_EQ(Stored(b).version(), b_version + 2);  // the merge and its undo are changes too

  EXPECT_EQ(undone->record().child_id(), a);
  EXPECT_EQ(undone->record().status(), v1::RECORD_STATUS_ACTIVE);
  EXPECT_EQ(undone->record().upn(), FictionalUpn(61));
  EXPECT_EQ(undone->survivor().child_id(), b);
  EXPECT_EQ(undone->survivor().upn(), FictionalTemporaryUpn(63));
  EXPECT_THAT(undone->survivor().merged_from_child_ids(), IsEmpty());
  absl::StatusOr<v1::ResolveResponse> by_a = Resolve(a);
  ASSERT_TRUE(by_a.ok()) << by_a.status();
  EXPECT_EQ(by_a->record().child_id(), a);
  EXPECT_EQ(by_a->redirected_from_child_id(), "");
  absl::StatusOr<v1::ResolveResponse> by_x = Resolve(x);
  ASSERT_TRUE(by_x.ok()) << by_x.status();
  EXPECT_EQ(by_x->record().child_id(), a);
  EXPECT_EQ(by_x->redirected_from_child_id(), x);
  for (v1::RecordView view : kEveryView) {
    absl::StatusOr<v1::BatchResolveResponse> r = BatchResolve(*registry_, {a, x, b}, view);
    ASSERT_TRUE(r.ok()) << r.status();
    EXPECT_EQ(r->results(0).record().child_id(), a) << "view " << view;
    EXPECT_EQ(r->results(1).record().child_id(), a) << "view " << view;
    EXPECT_EQ(r->results(2).record().child_id(), b) << "view " << view;
  }
}

TEST_F(RegistryTest, AUpnGivenToTheSurvivorSinceBecomesCurrentWhenTheMergedOneGoesBack) {
  const std::string retired = RegisterNew(67);
  const std::string survivor = RegisterWithoutNhsNumber("s-68");
  ASSERT_TRUE(LinkUpn(retired, FictionalUpn(67)).ok());
  ASSERT_TRUE(Merge(survivor, retired).ok());
  EXPECT_EQ(Stored(survivor).upn(), FictionalUpn(67));  // the survivor had none
  // A second permanent UPN since: kept as former, the first staying current.
  ASSERT_TRUE(LinkUpn(survivor, FictionalUpn(68), /*replace=*/true).ok());
  ASSERT_THAT(Stored(survivor).former_upns(), ElementsAre(FictionalUpn(68)));

  ASSERT_TRUE(Undo(retired).ok());
  EXPECT_EQ(Stored(retired).upn(), FictionalUpn(67));
  EXPECT_EQ(Stored(survivor).upn(), FictionalUpn(68));
  EXPECT_THAT(Stored(survivor).former_upns(), IsEmpty());
  EXPECT_FALSE(Resolve(FictionalUpn(68))->matched_former());
}

TEST_F(RegistryTest, UndoingAMergeKeepsWhatChangedOnTheSurvivorSince) {
  const std::string retired = RegisterNew(64);
  const std::string survivor = RegisterWithoutNhsNumber("s-65");
  ASSERT_TRUE(Merge(survivor, retired).ok());
  EXPECT_EQ(Stored(survivor).nhs_number(), FictionalNhsNumber(64));
  // Since the merge: a UPN, a superseded NHS number, a corrected name and a move.
  ASSERT_TRUE(LinkUpn(survivor, FictionalUpn(65)).ok());
  ASSERT_TRUE(
      SupersedeNhsNumber(SupersessionRequest("supersede-65", survivor, FictionalNhsNumber(66)))
          .ok());
  v1::CorrectDetailsRequest correction =
      CorrectionRequest("correct-65", survivor, Stored(survivor).version());
  correction.set_given_name("Grace");
  ASSERT_TRUE(CorrectDetails(correction).ok());
  ASSERT_TRUE(Move(survivor, "201").ok());

  absl::StatusOr<v1::UndoMergeResponse> undone = Undo(retired);
  ASSERT_TRUE(undone.ok()) << undone.status();
  const storage::StoredChild kept = Stored(survivor);
  EXPECT_EQ(kept.upn(), FictionalUpn(65));
  EXPECT_EQ(kept.nhs_number(), FictionalNhsNumber(66));
  EXPECT_THAT(kept.former_nhs_numbers(), IsEmpty());  // the retired child's number went back
  EXPECT_EQ(kept.given_name(), "Grace");
  EXPECT_EQ(kept.local_authority(), "201");
  EXPECT_EQ(Resolve(FictionalUpn(65))->record().child_id(), survivor);
  EXPECT_EQ(Resolve(FictionalNhsNumber(66))->record().child_id(), survivor);
  absl::StatusOr<v1::ResolveResponse> by_number = Resolve(FictionalNhsNumber(64));
  ASSERT_TRUE(by_number.ok()) << by_number.status();
  EXPECT_EQ(by_number->record().child_id(), retired);
  EXPECT_FALSE(by_number->matched_former());
  const storage::StoredChild restored = Stored(retired);
  EXPECT_EQ(restored.nhs_number(), FictionalNhsNumber(64));
  EXPECT_EQ(restored.upn(), "");
  EXPECT_EQ(restored.given_name(), "Ada");
}

TEST_F(RegistryTest, AnUndoTellsEveryAreaThatCarriedEitherRecordAndMarksThePairNotTheSameChild) {
  const std::string retired = RegisterAt(67, "938");
  ASSERT_TRUE(Move(retired, "201").ok());
  const std::string survivor = RegisterAt(68, "873");
  v1::MergeRecordsRequest merge = MergeRequest("merge-67", survivor, retired);
  merge.set_retired_nhs_number_superseded(true);
  ASSERT_TRUE(MergeRecords(merge).ok());
  absl::StatusOr<v1::UndoMergeResponse> undone = UndoMerge(UndoRequest("undo-67", retired));
  ASSERT_TRUE(undone.ok()) << undone.status();

  const storage::StoredEvent event = Events().back();
  EXPECT_EQ(event.kind(), storage::EVENT_KIND_MERGE_UNDONE);
  EXPECT_EQ(event.child_id(), retired);
  EXPECT_EQ(event.other_child_id(), survivor);
  EXPECT_EQ(event.made_by(), kRecordedBy);
  EXPECT_EQ(event.area_sequences_size(), 3);
  for (const std::string area : {"938", "201", "873"}) {
    const storage::StoredFeedEvent unmerged = AreaFeed(area).back();
    EXPECT_EQ(unmerged.kind(), v1::FEED_EVENT_KIND_UNMERGED) << area;
    EXPECT_EQ(unmerged.child_id(), retired) << area;
    EXPECT_EQ(unmerged.other_child_id(), survivor) << area;
    EXPECT_EQ(unmerged.event_sequence(), event.sequence()) << area;
    if (std::string(area) == "873") {
      // An area that only ever held the survivor learns the two are apart, not who the other is.
      EXPECT_FALSE(unmerged.has_child());
    } else {
      EXPECT_EQ(unmerged.child().postcode(), PostcodeIn("201"));  // the restored child's details
      EXPECT_EQ(unmerged.child().status(), v1::RECORD_STATUS_ACTIVE);
    }
  }
  EXPECT_THAT(Stored(retired).not_same_child(), ElementsAre(survivor));
  EXPECT_THAT(Stored(survivor).not_same_child(), ElementsAre(retired));
}

TEST_F(RegistryTest, APairWhoseMergeWasUndoneIsMergedAgainOnlyWithTheOverride) {
  const std::string retired = RegisterNew(69);
  const std::string survivor = RegisterWithoutNhsNumber("s-70");
  ASSERT_TRUE(Merge(survivor, retired).ok());
  ASSERT_TRUE(Undo(retired).ok());
  const size_t events = EventCount();
  for (auto [keep, retire] :
       std::vector<std::pair<std::string, std::string>>{{survivor, retired}, {retired, survivor}}) {
    ExpectRefused(Merge(keep, retire).status(), absl::StatusCode::kFailedPrecondition,
                  v1::MARKED_NOT_SAME_CHILD, "override_not_same_child");
  }
  EXPECT_EQ(Stored(retired).status(), v1::RECORD_STATUS_ACTIVE);
  EXPECT_EQ(Resolve(FictionalNhsNumber(69))->record().child_id(), retired);
  EXPECT_EQ(EventCount(), events);

  v1::MergeRecordsRequest checked_again = MergeRequest("merge-69-again", survivor, retired);
  checked_again.set_override_not_same_child(true);
  absl::StatusOr<v1::MergeRecordsResponse> r = MergeRecords(checked_again);
  ASSERT_TRUE(r.ok()) << r.status();
  EXPECT_EQ(Stored(retired).merged_into(), survivor);
  EXPECT_EQ(Resolve(FictionalNhsNumber(69))->record().child_id(), survivor);
}

TEST_F(RegistryTest, AnUndoWhoseSurvivorWasMergedSinceIsRefusedUntilThatMergeIsUndone) {
  const std::string a = RegisterNew(71);
  const std::string b = RegisterWithoutNhsNumber("b-72");
  const std::string c = RegisterWithoutNhsNumber("c-73");
  ASSERT_TRUE(Merge(b, a).ok());
  ASSERT_TRUE(Merge(c, b).ok());
  const std::string a_before = Stored(a).SerializeAsString();
  const std::string c_before = Stored(c).SerializeAsString();
  const size_t events = EventCount();
  ExpectRefused(Undo(a).status(), absl::StatusCode::kFailedPrecondition, v1::SURVIVOR_MERGED_SINCE,
                "retired_child_id");
  EXPECT_EQ(Stored(a).SerializeAsString(), a_before);
  EXPECT_EQ(Stored(c).SerializeAsString(), c_before);
  EXPECT_EQ(EventCount(), events);

  // Undone in the other order, each step leaves every identifier resolving in one hop.
  ASSERT_TRUE(Undo(b).ok());
  EXPECT_EQ(Stored(a).merged_into(), b);
  EXPECT_EQ(store_->Lookup(IndexKind::kRetiredChildId, a)->value().child_id, b);
  EXPECT_EQ(Resolve(a)->record().child_id(), b);
  EXPECT_EQ(Resolve(FictionalNhsNumber(71))->record().child_id(), b);
  EXPECT_FALSE(store_->Lookup(IndexKind::kRetiredChildId, b)->has_value());
  EXPECT_THAT(Stored(c).merged_from(), IsEmpty());
  ASSERT_TRUE(Undo(a).ok());
  EXPECT_EQ(Resolve(a)->record().child_id(), a);
  EXPECT_EQ(Resolve(FictionalNhsNumber(71))->record().child_id(), a);
  EXPECT_THAT(Stored(b).merged_from(), IsEmpty());
}

TEST_F(RegistryTest, OnlyAMergedRecordHasAMergeToUndo) {
  const std::string a = RegisterNew(74);
  const std::string b = RegisterWithoutNhsNumber("b-75");
  ExpectRefused(Undo(a).status(), absl::StatusCode::kFailedPrecondition, v1::CHILD_NOT_MERGED,
                "retired_child_id");
  ExpectRefused(Undo(identifiers::GenerateChildId()).status(), absl::StatusCode::kNotFound,
                v1::CHILD_NOT_FOUND, "retired_child_id");
  ASSERT_TRUE(Merge(b, a).ok());
  ExpectRefused(Undo(b).status(), absl::StatusCode::kFailedPrecondition, v1::CHILD_NOT_MERGED,
                "retired_child_id");  // the survivor
  const v1::UndoMergeRequest undo = UndoRequest("undo-74", a);
  absl::StatusOr<v1::UndoMergeResponse> first = UndoMerge(undo);
  ASSERT_TRUE(first.ok()) << first.status();
  const size_t events = EventCount();
  // A retry answers as the first call did; a new request finds nothing left to undo.
  absl::StatusOr<v1::UndoMergeResponse> retry = UndoMerge(undo);
  ASSERT_TRUE(retry.ok()) << retry.status();
  EXPECT_EQ(retry->SerializeAsString(), first->SerializeAsString());
  ExpectRefused(Undo(a).status(), absl::StatusCode::kFailedPrecondition, v1::CHILD_NOT_MERGED,
                "retired_child_id");
  EXPECT_EQ(EventCount(), events);
}

TEST_F(RegistryTest, UndoingAMergeOfTwoDeceasedRecordsRestoresTheRetiredOneAsDeceased) {
  const std::string a = RegisterNew(76);
  const std::string b = RegisterWithoutNhsNumber("b-77");
  for (const std::string& child : {a, b}) {
    ASSERT_TRUE(RecordDeath(DeathRequest(NewRequestId(), child, v1::DEATH_NOTICE_FORMAL)).ok());
  }
  ASSERT_TRUE(Merge(b, a).ok());
  absl::StatusOr<v1::UndoMergeResponse> undone = Undo(a);
  ASSERT_TRUE(undone.ok()) << undone.status();
  EXPECT_EQ(undone->record().status(), v1::RECORD_STATUS_DECEASED);
  EXPECT_EQ(undone->record().death_kind(), v1::DEATH_KIND_FORMAL);
  EXPECT_EQ(Stored(a).status(), v1::RECORD_STATUS_DECEASED);
}

}  // namespace
}  // namespace cir::registry
