// The registry's rules through its API: registration, resolving, linking NHS numbers, batches and
// races. Births of one family: birth_identity_test.cc; UPNs: upn_link_test.cc; reasons on every
// refusal: refusal_reasons_test.cc.

#include <algorithm>
#include <future>
#include <thread>
#include <vector>

#include "absl/strings/escaping.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "identifiers/child_id.h"
#include "registry/birth_validation.h"
#include "registry/notification_fingerprint.h"
#include "tests/registry/registry_fixture.h"

namespace cir::registry {
namespace {

using ::testing::HasSubstr;
using ::testing::Not;
using testing::FictionalBirth;
using testing::FictionalMotherNhsNumber;
using testing::FictionalNhsNumber;
using testing::FictionalUpn;

TEST_F(RegistryTest, RegisteringABirthCreatesAChildWithANewIdentifierAndAnEvent) {
  absl::StatusOr<v1::RegisterBirthResponse> r =
      Register(FictionalBirth("n-1", "999 000 0018"));
  ASSERT_TRUE(r.ok()) << r.status();
  EXPECT_TRUE(r->created());
  const v1::ChildRecord& record = r->record();
  EXPECT_EQ(record.child_id().size(), 11u);
  EXPECT_EQ(record.nhs_number(), "9990000018");
  EXPECT_EQ(record.postcode(), "RH12 1AA");
  EXPECT_EQ(record.birth_order(), 1);
  EXPECT_EQ(record.mother_nhs_number(), FictionalMotherNhsNumber());
  EXPECT_EQ(record.mother_given_name(), "Mary");
  EXPECT_EQ(record.mother_family_name(), "Lovelace-Test");
  EXPECT_EQ(record.status(), v1::RECORD_STATUS_ACTIVE);
  EXPECT_EQ(record.version(), 1);
  std::vector<storage::StoredEvent> events = Events();
  ASSERT_EQ(events.size(), 1u);
  EXPECT_EQ(events[0].kind(), storage::EVENT_KIND_BIRTH_REGISTERED);
  EXPECT_EQ(events[0].child_id(), record.child_id());
  EXPECT_EQ(events[0].local_authority(), "938");
  // The notification that created the child is recorded on it, with its system.
  storage::StoredChild stored = Stored(record.child_id());
  ASSERT_EQ(stored.notifications_size(), 1);
  EXPECT_EQ(stored.notifications(0).notifying_system(), "RXH01");
  EXPECT_EQ(stored.notifications(0).notification_id(), "n-1");
}

// Identifiers issued before a restore from backup are reserved in the restored store
// (storage/store_backups.h): a draw that lands on one, or on a retired identifier, is drawn again.
TEST_F(RegistryTest, AReservedOrRetiredIdentifierIsNeverIssuedToANewChild) {
  const std::string reserved = identifiers::GenerateChildId();
  const std::string retired = identifiers::GenerateChildId();
  const std::string fresh = identifiers::GenerateChildId();
  std::promise<absl::Status> written;
  store_->Submit(
      [&](storage::WriteTxn& txn) {
        absl::Status s = txn.PutIndex(storage::IndexKind::kReservedChildId, reserved,
                                      storage::IndexEntry{reserved, ""});
        if (s.ok()) {
          s = txn.PutIndex(storage::IndexKind::kRetiredChildId, retired,
                           storage::IndexEntry{fresh, ""});
        }
        return s;
      },
      [&](absl::Status s) { written.set_value(s); });
  ASSERT_TRUE(written.get_future().get().ok());

  RegistryOptions options = TestOptions();
  std::vector<std::string> draws = {reserved, retired, fresh};
  size_t drawn = 0;
  options.draw_child_id = [&] { return draws[std::min(drawn++, draws.size() - 1)]; };
  Registry registry(*store_, options);
  std::promise<absl::StatusOr<v1::RegisterBirthResponse>> reply;
  registry.RegisterBirth(FictionalBirth("reserved-1", FictionalNhsNumber(1)),
                         [&](auto r) { reply.set_value(std::move(r)); });
  absl::StatusOr<v1::RegisterBirthResponse> registered = reply.get_future().get();
  ASSERT_TRUE(registered.ok()) << registered.status();
  EXPECT_EQ(registered->record().child_id(), fresh);
  EXPECT_EQ(drawn, 3u);
}

TEST_F(RegistryTest, ABirthOrderLeftUnsetIsRecordedAsASingleton) {
  v1::RegisterBirthRequest birth = FictionalBirth("n-unset-order", FictionalNhsNumber(40));
  birth.clear_birth_order();
  absl::StatusOr<v1::RegisterBirthResponse> r = Register(birth);
  ASSERT_TRUE(r.ok()) << r.status();
  EXPECT_EQ(r->record().birth_order(), 1);
  // And a notification naming order 1 explicitly is the same birth.
  absl::StatusOr<v1::RegisterBirthResponse> again =
      Register(FictionalBirth("n-order-one", FictionalNhsNumber(40)));
  ASSERT_TRUE(again.ok()) << again.status();
  EXPECT_EQ(again->record().child_id(), r->record().child_id());
}

TEST_F(RegistryTest, ANotifyingSystemCodeIsStoredInUpperCase) {
  v1::RegisterBirthRequest birth = FictionalBirth("n-lower", FictionalNhsNumber(41));
  birth.set_notifying_system("rxh01");
  absl::StatusOr<v1::RegisterBirthResponse> r = Register(birth);
  ASSERT_TRUE(r.ok()) << r.status();
  EXPECT_TRUE(NotificationRecorded("n-lower", "RXH01"));
  // The same system in capitals sends the same notification: a retry.
  birth.set_notifying_system("RXH01");
  absl::StatusOr<v1::RegisterBirthResponse> retry = Register(birth);
  ASSERT_TRUE(retry.ok()) << retry.status();
  EXPECT_TRUE(retry->created());
  EXPECT_EQ(retry->record().child_id(), r->record().child_id());
}

TEST_F(RegistryTest, ARetryWithTheSameNotificationReturnsWhatTheFirstCallReturnedAndWritesNothing) {
  v1::RegisterBirthRequest birth = FictionalBirth("n-1", FictionalNhsNumber(1));
  absl::StatusOr<v1::RegisterBirthResponse> first = Register(birth);
  ASSERT_TRUE(first.ok()) << first.status();
  absl::StatusOr<v1::RegisterBirthResponse> retry = Register(birth);
  ASSERT_TRUE(retry.ok()) << retry.status();
  EXPECT_TRUE(retry->created());  // this notification created the child
  EXPECT_EQ(retry->record().child_id(), first->record().child_id());
  EXPECT_EQ(retry->record().version(), 1);
  EXPECT_EQ(EventCount(), 1u);
}

TEST_F(RegistryTest, ARetryOfABirthWithoutNhsNumberReturnsTheSameChild) {
  v1::RegisterBirthRequest birth = FictionalBirth("n-unnamed", "");
  birth.clear_given_name();
  std::string first = Register(birth)->record().child_id();
  absl::StatusOr<v1::RegisterBirthResponse> retry = Register(birth);
  ASSERT_TRUE(retry.ok()) << retry.status();
  EXPECT_EQ(retry->record().child_id(), first);
  EXPECT_TRUE(retry->created());
  EXPECT_EQ(EventCount(), 1u);
}

TEST_F(RegistryTest, ANotificationIdReusedWithOtherDetailsIsRefusedAndChangesNothing) {
  ASSERT_TRUE(Register(FictionalBirth("n-1", FictionalNhsNumber(3))).ok());
  for (auto spoil : std::vector<std::function<void(v1::RegisterBirthRequest&)>>{
           [](auto& b) { b.set_nhs_number(FictionalNhsNumber(4)); },
           [](auto& b) { b.set_birth_order(2); },
           [](auto& b) { b.set_mother_given_name("Maria"); },
           [](auto& b) { b.set_mother_family_name("Other-Test"); },
           [](auto& b) { b.set_family_name("Corrected-Test"); }}) {
    v1::RegisterBirthRequest other = FictionalBirth("n-1", FictionalNhsNumber(3));
    spoil(other);
    absl::StatusOr<v1::RegisterBirthResponse> r = Register(other);
    EXPECT_EQ(r.status().code(), absl::StatusCode::kAlreadyExists);
    EXPECT_EQ(errors::ReasonOf(r.status()), v1::NOTIFICATION_REUSED_WITH_OTHER_DETAILS);
    EXPECT_THAT(r.status().message(), HasSubstr("notification_id"));
    EXPECT_THAT(r.status().message(), Not(HasSubstr("n-1")));
  }
  EXPECT_EQ(Resolve(FictionalNhsNumber(4)).status().code(), absl::StatusCode::kNotFound);
  EXPECT_EQ(EventCount(), 1u);
}

// Leaves the store as the schema migration leaves a child registered before notifying systems
// were recorded: the child with its notification id and no notifications recorded, and the
// notification's index entry under the system "-" with the digest of that time. Returns the child.
class RegisteredBeforeNotifyingSystemsTest : public RegistryTest {
 protected:
  std::string RegisteredBeforeNotifyingSystems(const v1::RegisterBirthRequest& birth) {
  v1::RegisterBirthRequest setup = birth;
  setup.set_notification_id(birth.notification_id() + "-setup");
  std::string id = Register(setup)->record().child_id();
  storage::StoredChild stored = Stored(id);
  stored.clear_notifications();  // as stored then
  stored.set_notification_id(birth.notification_id());
  stored.clear_birth_order();
  stored.clear_mother_given_name();
  stored.clear_mother_family_name();
  absl::StatusOr<ValidBirth> valid = ValidateBirth(birth, absl::CivilDay(2026, 11, 25), true);
  EXPECT_TRUE(valid.ok()) << valid.status();
  std::promise<absl::Status> rewritten;
  store_->Submit(
      [&](storage::WriteTxn& txn) {
        absl::Status s = txn.PutChild(stored);
        if (!s.ok()) return s;
        return txn.PutIndex(
            storage::IndexKind::kNotification,
            storage::NotificationIndexValue(storage::kNotifyingSystemBeforeSystems,
                                            birth.notification_id()),
            storage::IndexEntry{id, LegacyNotificationFingerprint(*valid)});
      },
      [&](absl::Status s) { rewritten.set_value(s); });
  EXPECT_TRUE(rewritten.get_future().get().ok());
  return id;
  }
};

TEST_F(RegisteredBeforeNotifyingSystemsTest, TheDigestOfItsNotificationIsTheOneStoredThen) {
  absl::StatusOr<ValidBirth> valid = ValidateBirth(FictionalBirth("n-old", FictionalNhsNumber(42)),
                                                   absl::CivilDay(2026, 11, 25), true);
  ASSERT_TRUE(valid.ok()) << valid.status();
  // What the registry stored then for this notification (SHA-256 of its encoding at that time).
  EXPECT_EQ(absl::BytesToHexString(LegacyNotificationFingerprint(*valid)),
            "069f25804a7b0995e229164a4c7b52c1135e343fc0cff40f72928955c7dab84c");
}

TEST_F(RegisteredBeforeNotifyingSystemsTest, ARetryOfItsNotificationFindsItsChild) {
  // Without an NHS number, only the notification tells a retry from a new birth.
  v1::RegisterBirthRequest birth = FictionalBirth("n-old", "");
  std::string id = RegisteredBeforeNotifyingSystems(birth);
  const size_t events = EventCount();
  absl::StatusOr<v1::RegisterBirthResponse> retry = Register(birth);
  ASSERT_TRUE(retry.ok()) << retry.status();
  EXPECT_EQ(retry->record().child_id(), id);
  EXPECT_TRUE(retry->created());  // the notification the child was registered under
  EXPECT_EQ(EventCount(), events);  // a retry writes nothing
  // The same id with other details is another system's birth of its own, not a retry.
  v1::RegisterBirthRequest other = FictionalBirth("n-old", "");
  other.set_given_name("Somebody");
  other.set_notifying_system("RYJ02");
  absl::StatusOr<v1::RegisterBirthResponse> another = Register(other);
  ASSERT_TRUE(another.ok()) << another.status();
  EXPECT_NE(another->record().child_id(), id);
}

TEST_F(RegisteredBeforeNotifyingSystemsTest, ItKeepsItsCreatorFirst) {
  v1::RegisterBirthRequest birth = FictionalBirth("n-old", FictionalNhsNumber(42));
  std::string id = RegisteredBeforeNotifyingSystems(birth);
  const size_t events = EventCount();
  absl::StatusOr<v1::RegisterBirthResponse> retry = Register(birth);
  ASSERT_TRUE(retry.ok()) << retry.status();
  EXPECT_EQ(retry->record().child_id(), id);
  EXPECT_TRUE(retry->created());
  EXPECT_EQ(EventCount(), events);

  // A later notification of the same birth is recorded after the one that created the child.
  v1::RegisterBirthRequest later = FictionalBirth("n-later", FictionalNhsNumber(42));
  later.set_notifying_system("RYJ02");
  ASSERT_TRUE(Register(later).ok());
  storage::StoredChild notified = Stored(id);
  ASSERT_EQ(notified.notifications_size(), 2);
  EXPECT_EQ(notified.notifications(0).notification_id(), "n-old");
  EXPECT_EQ(notified.notifications(0).notifying_system(), storage::kNotifyingSystemBeforeSystems);
  EXPECT_EQ(notified.notifications(1).notification_id(), "n-later");
  EXPECT_FALSE(Register(later)->created());
  EXPECT_TRUE(Register(birth)->created());
}

TEST_F(RegistryTest, AcceptsAccentedNamesUpToOneHundredCharacters) {
  v1::RegisterBirthRequest birth = FictionalBirth("n-name", FictionalNhsNumber(6));
  birth.set_given_name("Zoë Siân");
  std::string hundred;
  for (int i = 0; i < 100; ++i) hundred += "é";
  birth.set_family_name(hundred);
  birth.set_mother_family_name(hundred);
  EXPECT_TRUE(Register(birth).ok());
}

TEST_F(RegistryTest, ResolvesAChildByEachOfItsIdentifiers) {
  std::string id = RegisterNew(7);
  ASSERT_TRUE(LinkUpn(id, FictionalUpn(7)).ok());
  for (const std::string& identifier :
       {id, FictionalNhsNumber(7), FictionalUpn(7), identifiers::FormatChildId(id)}) {
    absl::StatusOr<v1::ResolveResponse> r = Resolve(identifier);
    ASSERT_TRUE(r.ok()) << identifier << ": " << r.status();
    EXPECT_EQ(r->record().child_id(), id);
    EXPECT_EQ(r->record().upn(), FictionalUpn(7));
    EXPECT_FALSE(r->matched_former());
  }
}

TEST_F(RegistryTest, AnNhsNumberIsAddedToAChildRegisteredWithoutOne) {
  std::string id = RegisterWithoutNhsNumber("born-abroad");
  absl::StatusOr<v1::LinkNhsNumberResponse> linked = LinkNhs(id, FictionalNhsNumber(14));
  ASSERT_TRUE(linked.ok()) << linked.status();
  EXPECT_TRUE(linked->changed());
  EXPECT_EQ(Resolve(FictionalNhsNumber(14))->record().child_id(), id);
  EXPECT_FALSE(LinkNhs(id, FictionalNhsNumber(14))->changed());
  EXPECT_EQ(Events().back().kind(), storage::EVENT_KIND_NHS_NUMBER_LINKED);
}

TEST_F(RegistryTest, BatchResolveAnswersEachIdentifierInOrder) {
  std::string id = RegisterNew(17);
  ASSERT_TRUE(LinkUpn(id, FictionalUpn(17)).ok());
  v1::BatchResolveRequest request;
  for (const std::string& identifier :
       {FictionalUpn(17), std::string("garbage"), FictionalNhsNumber(18), id,
        FictionalNhsNumber(17)}) {
    request.add_identifiers(identifier);
  }
  absl::StatusOr<v1::BatchResolveResponse> r = registry_->BatchResolve(request);
  ASSERT_TRUE(r.ok()) << r.status();
  ASSERT_EQ(r->results_size(), 5);
  using Result = v1::BatchResolveResult;
  EXPECT_EQ(r->results(0).outcome(), Result::OUTCOME_FOUND);
  EXPECT_EQ(r->results(0).record().child_id(), id);
  EXPECT_EQ(r->results(0).matched_kind(), v1::IDENTIFIER_KIND_UPN);
  EXPECT_EQ(r->results(1).outcome(), Result::OUTCOME_INVALID);
  EXPECT_THAT(r->results(1).error(), HasSubstr("characters"));
  EXPECT_EQ(r->results(2).outcome(), Result::OUTCOME_NOT_FOUND);
  EXPECT_EQ(r->results(3).outcome(), Result::OUTCOME_FOUND);
  EXPECT_EQ(r->results(3).matched_kind(), v1::IDENTIFIER_KIND_CHILD_ID);
  EXPECT_EQ(r->results(4).record().child_id(), id);
}

TEST_F(RegistryTest, BatchResolveReturnsIdentifiersOnlyUnlessTheFullRecordIsAskedFor) {
  std::string id = RegisterNew(19);
  v1::BatchResolveRequest request;
  request.add_identifiers(FictionalNhsNumber(19));
  absl::StatusOr<v1::BatchResolveResponse> lean = registry_->BatchResolve(request);
  ASSERT_TRUE(lean.ok()) << lean.status();
  const v1::ChildRecord& identifiers_only = lean->results(0).record();
  EXPECT_EQ(identifiers_only.child_id(), id);
  EXPECT_EQ(identifiers_only.nhs_number(), FictionalNhsNumber(19));
  EXPECT_EQ(identifiers_only.status(), v1::RECORD_STATUS_ACTIVE);
  EXPECT_EQ(identifiers_only.postcode(), "");
  EXPECT_EQ(identifiers_only.family_name(), "");
  EXPECT_EQ(identifiers_only.mother_given_name(), "");
  EXPECT_FALSE(identifiers_only.has_date_of_birth());
  request.set_view(v1::RECORD_VIEW_FULL);
  absl::StatusOr<v1::BatchResolveResponse> full = registry_->BatchResolve(request);
  ASSERT_TRUE(full.ok()) << full.status();
  EXPECT_EQ(full->results(0).record().postcode(), "RH12 1AA");
  EXPECT_EQ(full->results(0).record().mother_family_name(), "Lovelace-Test");
  request.set_view(v1::RECORD_VIEW_CHILD_ID);
  request.add_identifiers(id);
  absl::StatusOr<v1::BatchResolveResponse> ids_only = registry_->BatchResolve(request);
  ASSERT_TRUE(ids_only.ok()) << ids_only.status();
  for (const v1::BatchResolveResult& result : ids_only->results()) {
    EXPECT_EQ(result.outcome(), v1::BatchResolveResult::OUTCOME_FOUND);
    EXPECT_EQ(result.record().child_id(), id);
    EXPECT_EQ(result.record().nhs_number(), "");
  }
}

// A batch nobody waits for any more stops: one whose deadline has passed reads nothing, and one
// cancelled after its index lookups never reads the children's records.
TEST_F(RegistryTest, ABatchWhoseCallerHasGoneStopsAndIsAnsweredCallAbandoned) {
  RegisterNew(21);
  v1::BatchResolveRequest request;
  request.add_identifiers(FictionalNhsNumber(21));
  request.set_view(v1::RECORD_VIEW_FULL);

  ReadCall late{absl::Now() - absl::Seconds(1), nullptr};
  absl::StatusOr<v1::BatchResolveResponse> past = registry_->BatchResolve(request, late);
  EXPECT_EQ(past.status().code(), absl::StatusCode::kDeadlineExceeded) << past.status();
  EXPECT_EQ(errors::ReasonOf(past.status()), v1::CALL_ABANDONED);

  int checks = 0;
  ReadCall cancelled_midway{absl::InfiniteFuture(), [&checks] { return ++checks > 1; }};
  absl::StatusOr<v1::BatchResolveResponse> gone =
      registry_->BatchResolve(request, cancelled_midway);
  EXPECT_EQ(gone.status().code(), absl::StatusCode::kCancelled) << gone.status();
  EXPECT_EQ(errors::ReasonOf(gone.status()), v1::CALL_ABANDONED);
  EXPECT_EQ(checks, 2);

  ReadCall waiting{absl::Now() + absl::Minutes(1), [] { return false; }};
  absl::StatusOr<v1::BatchResolveResponse> answered = registry_->BatchResolve(request, waiting);
  ASSERT_TRUE(answered.ok()) << answered.status();
  EXPECT_EQ(answered->results(0).outcome(), v1::BatchResolveResult::OUTCOME_FOUND);
}

// The child-id view reads only the index: it carries neither the record's status nor whether the
// identifier is a former one (the proto says so), and never sets either, for any kind of input.
// The identifiers view carries both.
TEST_F(RegistryTest, TheChildIdViewCarriesNeitherStatusNorMatchedFormerAndTheIdentifiersViewBoth) {
  std::string id = RegisterNew(20);
  const std::string temporary = "K93820002600A";
  ASSERT_TRUE(LinkUpn(id, temporary).ok());
  ASSERT_TRUE(LinkUpn(id, FictionalUpn(20), /*replace=*/true).ok());  // the temporary is former
  v1::BatchResolveRequest request;
  for (const std::string& identifier : {temporary, FictionalUpn(20), FictionalNhsNumber(20), id}) {
    request.add_identifiers(identifier);
  }
  request.set_view(v1::RECORD_VIEW_CHILD_ID);
  absl::StatusOr<v1::BatchResolveResponse> child_ids = registry_->BatchResolve(request);
  ASSERT_TRUE(child_ids.ok()) << child_ids.status();
  for (const v1::BatchResolveResult& result : child_ids->results()) {
    EXPECT_EQ(result.outcome(), v1::BatchResolveResult::OUTCOME_FOUND);
    EXPECT_EQ(result.record().child_id(), id);
    EXPECT_EQ(result.record().status(), v1::RECORD_STATUS_UNSPECIFIED);
    EXPECT_FALSE(result.matched_former());
    v1::ChildRecord only_child_id;
    only_child_id.set_child_id(id);
    EXPECT_EQ(result.record().SerializeAsString(), only_child_id.SerializeAsString());
  }
  request.set_view(v1::RECORD_VIEW_IDENTIFIERS);
  absl::StatusOr<v1::BatchResolveResponse> full = registry_->BatchResolve(request);
  ASSERT_TRUE(full.ok()) << full.status();
  EXPECT_TRUE(full->results(0).matched_former());
  for (int i = 1; i < 4; ++i) EXPECT_FALSE(full->results(i).matched_former()) << i;
  for (const v1::BatchResolveResult& result : full->results()) {
    EXPECT_EQ(result.record().status(), v1::RECORD_STATUS_ACTIVE);
  }
}

// In the child-id view a child identifier given as input is answered from whether the child is
// stored, without its record: found with the identifier itself, or not found.
TEST_F(RegistryTest, TheChildIdViewFindsAStoredChildIdentifierAndNotAnUnknownOne) {
  const std::string id = RegisterNew(21);
  v1::BatchResolveRequest request;
  request.add_identifiers(id);
  request.add_identifiers("KDMX-4PAR-TWE");  // well formed, issued to no child here
  request.set_view(v1::RECORD_VIEW_CHILD_ID);
  absl::StatusOr<v1::BatchResolveResponse> response = registry_->BatchResolve(request);
  ASSERT_TRUE(response.ok()) << response.status();
  ASSERT_EQ(response->results_size(), 2);
  EXPECT_EQ(response->results(0).outcome(), v1::BatchResolveResult::OUTCOME_FOUND);
  EXPECT_EQ(response->results(0).matched_kind(), v1::IDENTIFIER_KIND_CHILD_ID);
  EXPECT_EQ(response->results(0).record().child_id(), id);
  EXPECT_EQ(response->results(1).outcome(), v1::BatchResolveResult::OUTCOME_NOT_FOUND);
  EXPECT_FALSE(response->results(1).has_record());
}

TEST_F(RegistryTest, SixteenRacersLinkingOneUpnToSixteenChildrenLeaveExactlyOneOwner) {
  std::vector<std::string> children;
  for (int i = 0; i < 16; ++i) children.push_back(RegisterNew(100 + i));
  std::vector<std::thread> racers;
  std::vector<absl::Status> results(16);
  for (int i = 0; i < 16; ++i) {
    racers.emplace_back([&, i] { results[i] = LinkUpn(children[i], FictionalUpn(999)).status(); });
  }
  for (std::thread& t : racers) t.join();
  int winners = 0, refused = 0;
  for (const absl::Status& s : results) {
    winners += s.ok();
    refused += errors::ReasonOf(s) == v1::UPN_HELD_BY_ANOTHER_CHILD;
  }
  EXPECT_EQ(winners, 1);
  EXPECT_EQ(refused, 15);
  std::string owner = Resolve(FictionalUpn(999))->record().child_id();
  int holding = 0;
  for (const std::string& child : children) {
    holding += Resolve(child)->record().upn() == FictionalUpn(999);
  }
  EXPECT_EQ(holding, 1);
  EXPECT_TRUE(results[std::find(children.begin(), children.end(), owner) - children.begin()].ok());
}

TEST_F(RegistryTest, SixteenRacersLinkingOneNhsNumberToSixteenChildrenLeaveExactlyOneOwner) {
  std::vector<std::string> children;
  for (int i = 0; i < 16; ++i) {
    children.push_back(RegisterWithoutNhsNumber(absl::StrCat("abroad-", i)));
  }
  std::vector<std::thread> racers;
  std::vector<absl::Status> results(16);
  for (int i = 0; i < 16; ++i) {
    racers.emplace_back(
        [&, i] { results[i] = LinkNhs(children[i], FictionalNhsNumber(777)).status(); });
  }
  for (std::thread& t : racers) t.join();
  int winners = 0, refused = 0;
  for (const absl::Status& s : results) {
    winners += s.ok();
    refused += errors::ReasonOf(s) == v1::NHS_NUMBER_HELD_BY_ANOTHER_CHILD;
  }
  EXPECT_EQ(winners, 1);
  EXPECT_EQ(refused, 15);
  int holding = 0;
  for (const std::string& child : children) {
    holding += Resolve(child)->record().nhs_number() == FictionalNhsNumber(777);
  }
  EXPECT_EQ(holding, 1);
}

}  // namespace
}  // namespace cir::registry
