#include "registry/registry.h"

#include <algorithm>
#include <functional>
#include <future>
#include <thread>
#include <vector>

#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "absl/strings/str_cat.h"
#include "identifiers/child_id.h"
#include "storage/rocksdb_child_store.h"
#include "tests/testing/fictional_children.h"
#include "tests/testing/temp_dir.h"

namespace cir::registry {
namespace {

using ::testing::HasSubstr;
using ::testing::Not;
using testing::FictionalBirth;
using testing::FictionalNhsNumber;
using testing::FictionalUpn;

class RegistryTest : public ::testing::Test {
 protected:
  void SetUp() override {
    absl::StatusOr<std::unique_ptr<storage::ChildStore>> store =
        storage::RocksDbChildStore::Open({.path = dir_.Sub("db"), .create_if_missing = true});
    ASSERT_TRUE(store.ok()) << store.status();
    store_ = *std::move(store);
    registry_ = std::make_unique<Registry>(
        *store_, RegistryOptions{.today = [] { return absl::CivilDay(2026, 11, 25); }});
  }

  // The write calls, waited for (tests only).
  absl::StatusOr<v1::RegisterBirthResponse> Register(const v1::RegisterBirthRequest& request) {
    std::promise<absl::StatusOr<v1::RegisterBirthResponse>> reply;
    registry_->RegisterBirth(request, [&](auto r) { reply.set_value(std::move(r)); });
    return reply.get_future().get();
  }
  absl::StatusOr<v1::LinkUpnResponse> LinkUpn(const std::string& child_id, const std::string& upn,
                                              bool replace = false) {
    v1::LinkUpnRequest request;
    request.set_child_id(child_id);
    request.set_upn(upn);
    request.set_replace_current(replace);
    std::promise<absl::StatusOr<v1::LinkUpnResponse>> reply;
    registry_->LinkUpn(request, [&](auto r) { reply.set_value(std::move(r)); });
    return reply.get_future().get();
  }
  absl::StatusOr<v1::LinkNhsNumberResponse> LinkNhs(const std::string& child_id,
                                                    const std::string& nhs) {
    v1::LinkNhsNumberRequest request;
    request.set_child_id(child_id);
    request.set_nhs_number(nhs);
    std::promise<absl::StatusOr<v1::LinkNhsNumberResponse>> reply;
    registry_->LinkNhsNumber(request, [&](auto r) { reply.set_value(std::move(r)); });
    return reply.get_future().get();
  }
  absl::StatusOr<v1::ResolveResponse> Resolve(const std::string& identifier) {
    v1::ResolveRequest request;
    request.set_identifier(identifier);
    return registry_->Resolve(request);
  }
  std::string RegisterNew(int n) {
    absl::StatusOr<v1::RegisterBirthResponse> r =
        Register(FictionalBirth(absl::StrCat("notification-", n), FictionalNhsNumber(n)));
    EXPECT_TRUE(r.ok()) << r.status();
    return r.ok() ? r->record().child_id() : "";
  }
  size_t EventCount() { return store_->ReadEvents(0, 1000000)->size(); }

  testing::TempDir dir_;
  std::unique_ptr<storage::ChildStore> store_;
  std::unique_ptr<Registry> registry_;
};

TEST_F(RegistryTest, RegisteringABirthCreatesAChildWithANewIdentifierAndAnEvent) {
  absl::StatusOr<v1::RegisterBirthResponse> r =
      Register(FictionalBirth("n-1", "999 000 0018"));
  ASSERT_TRUE(r.ok()) << r.status();
  EXPECT_TRUE(r->created());
  const v1::ChildRecord& record = r->record();
  EXPECT_EQ(record.child_id().size(), 11u);
  EXPECT_EQ(record.nhs_number(), "9990000018");
  EXPECT_EQ(record.postcode(), "RH12 1AA");
  EXPECT_EQ(record.status(), v1::RECORD_STATUS_ACTIVE);
  EXPECT_EQ(record.version(), 1);
  std::vector<storage::StoredEvent> events = *store_->ReadEvents(0, 10);
  ASSERT_EQ(events.size(), 1u);
  EXPECT_EQ(events[0].kind(), storage::EVENT_KIND_BIRTH_REGISTERED);
  EXPECT_EQ(events[0].child_id(), record.child_id());
  EXPECT_EQ(events[0].local_authority(), "938");
}

TEST_F(RegistryTest, ARetryWithTheSameNotificationIdReturnsTheSameChildAndWritesNoEvent) {
  v1::RegisterBirthRequest birth = FictionalBirth("n-1", FictionalNhsNumber(1));
  std::string first = Register(birth)->record().child_id();
  absl::StatusOr<v1::RegisterBirthResponse> retry = Register(birth);
  ASSERT_TRUE(retry.ok()) << retry.status();
  EXPECT_FALSE(retry->created());
  EXPECT_EQ(retry->record().child_id(), first);
  EXPECT_EQ(EventCount(), 1u);
}

TEST_F(RegistryTest, ARetryOfABirthWithoutNhsNumberReturnsTheSameChild) {
  v1::RegisterBirthRequest birth = FictionalBirth("n-unnamed", "");
  birth.clear_given_name();
  std::string first = Register(birth)->record().child_id();
  EXPECT_EQ(Register(birth)->record().child_id(), first);
  EXPECT_EQ(EventCount(), 1u);
}

TEST_F(RegistryTest, TheSameNhsNumberUnderAnotherNotificationIdReturnsTheExistingChild) {
  std::string first = Register(FictionalBirth("from-maternity", FictionalNhsNumber(2)))
                          ->record()
                          .child_id();
  absl::StatusOr<v1::RegisterBirthResponse> again =
      Register(FictionalBirth("from-other-system", FictionalNhsNumber(2)));
  ASSERT_TRUE(again.ok()) << again.status();
  EXPECT_FALSE(again->created());
  EXPECT_EQ(again->record().child_id(), first);
  // And the second notification's own retries now find the same child.
  EXPECT_EQ(Register(FictionalBirth("from-other-system", FictionalNhsNumber(2)))
                ->record()
                .child_id(),
            first);
  EXPECT_EQ(EventCount(), 1u);
}

TEST_F(RegistryTest, AnNhsNumberOnANotificationOfAnotherBirthIsRefusedAndDisclosesNothing) {
  std::string first = Register(FictionalBirth("twin-a", FictionalNhsNumber(30)))->record().child_id();
  v1::RegisterBirthRequest twin_b = FictionalBirth("twin-b", FictionalNhsNumber(30));
  twin_b.set_sex(v1::SEX_MALE);  // twin A is female: twin A's number keyed in on twin B's notice
  absl::StatusOr<v1::RegisterBirthResponse> r = Register(twin_b);
  EXPECT_EQ(r.status().code(), absl::StatusCode::kAlreadyExists);
  EXPECT_THAT(r.status().message(), HasSubstr("nhs_number"));
  EXPECT_THAT(r.status().message(), Not(HasSubstr(first)));
  v1::RegisterBirthRequest other_day = FictionalBirth("twin-c", FictionalNhsNumber(30));
  other_day.mutable_date_of_birth()->set_day(15);
  EXPECT_EQ(Register(other_day).status().code(), absl::StatusCode::kAlreadyExists);
  // Nothing was linked: the refused notification ids are still free.
  EXPECT_FALSE(store_->Lookup(storage::IndexKind::kLegacyNotificationId, "twin-b")->has_value());
  EXPECT_FALSE(store_->Lookup(storage::IndexKind::kLegacyNotificationId, "twin-c")->has_value());
  EXPECT_EQ(EventCount(), 1u);
}

TEST_F(RegistryTest, ANotificationIdReusedWithOtherDetailsIsRefusedAndChangesNothing) {
  Register(FictionalBirth("n-1", FictionalNhsNumber(3)));
  v1::RegisterBirthRequest other = FictionalBirth("n-1", FictionalNhsNumber(4));
  absl::StatusOr<v1::RegisterBirthResponse> r = Register(other);
  EXPECT_EQ(r.status().code(), absl::StatusCode::kAlreadyExists);
  EXPECT_THAT(r.status().message(), HasSubstr("notification_id"));
  EXPECT_EQ(Resolve(FictionalNhsNumber(4)).status().code(), absl::StatusCode::kNotFound);
  EXPECT_EQ(EventCount(), 1u);
}

// Each bad field is refused with INVALID_ARGUMENT naming the field, and nothing is written.
struct BadField {
  const char* name;
  std::function<void(v1::RegisterBirthRequest&)> spoil;
  const char* field;
};

void PrintTo(const BadField& bad, std::ostream* os) { *os << bad.name; }

class RegistryBadBirthTest : public RegistryTest,
                             public ::testing::WithParamInterface<BadField> {};

TEST_P(RegistryBadBirthTest, IsRefusedNamingTheFieldAndChangesNothing) {
  v1::RegisterBirthRequest birth = FictionalBirth("n-bad", FictionalNhsNumber(5));
  GetParam().spoil(birth);
  absl::StatusOr<v1::RegisterBirthResponse> r = Register(birth);
  EXPECT_EQ(r.status().code(), absl::StatusCode::kInvalidArgument);
  EXPECT_THAT(r.status().message(), HasSubstr(GetParam().field));
  EXPECT_EQ(EventCount(), 0u);
  EXPECT_FALSE(store_->Lookup(storage::IndexKind::kLegacyNotificationId, "n-bad")->has_value());
  EXPECT_FALSE(
      store_->Lookup(storage::IndexKind::kNhsNumber, FictionalNhsNumber(5))->has_value());
}

INSTANTIATE_TEST_SUITE_P(
    EveryField, RegistryBadBirthTest,
    ::testing::Values(
        BadField{"NoNotificationId", [](auto& b) { b.clear_notification_id(); },
                 "notification_id"},
        BadField{"NotificationIdWithSpace", [](auto& b) { b.set_notification_id("a b"); },
                 "notification_id"},
        BadField{"NotificationIdTooLong",
                 [](auto& b) { b.set_notification_id(std::string(129, 'x')); }, "notification_id"},
        BadField{"NhsWrongCheck", [](auto& b) { b.set_nhs_number("9990000017"); }, "nhs_number"},
        BadField{"NhsCheckTen", [](auto& b) { b.set_nhs_number("9991234560"); }, "nhs_number"},
        BadField{"NoDateOfBirth", [](auto& b) { b.clear_date_of_birth(); }, "date_of_birth"},
        BadField{"ImpossibleDate",
                 [](auto& b) { b.mutable_date_of_birth()->set_day(31);
                               b.mutable_date_of_birth()->set_month(2); },
                 "not a calendar date"},
        BadField{"FutureDate", [](auto& b) { b.mutable_date_of_birth()->set_year(2027); },
                 "in the future"},
        BadField{"AncientDate", [](auto& b) { b.mutable_date_of_birth()->set_year(1899); },
                 "before 1900"},
        BadField{"NoSex", [](auto& b) { b.set_sex(v1::SEX_UNSPECIFIED); }, "sex"},
        BadField{"UnknownSexValue", [](auto& b) { b.set_sex(static_cast<v1::Sex>(42)); }, "sex"},
        BadField{"NameTooLong", [](auto& b) { b.set_given_name(std::string(101, 'a')); },
                 "given_name"},
        BadField{"NameWithControlCharacter", [](auto& b) { b.set_family_name("Ab\ncd"); },
                 "family_name"},
        BadField{"NameNotUtf8", [](auto& b) { b.set_family_name("\xff\xfe"); }, "family_name"},
        BadField{"NoPostcode", [](auto& b) { b.clear_postcode(); }, "postcode"},
        BadField{"BadPostcode", [](auto& b) { b.set_postcode("NOT A POSTCODE"); }, "postcode"},
        BadField{"NoLocalAuthority", [](auto& b) { b.clear_local_authority(); },
                 "local_authority"},
        BadField{"BadLocalAuthority", [](auto& b) { b.set_local_authority("93"); },
                 "local_authority"},
        BadField{"BadMotherNhs", [](auto& b) { b.set_mother_nhs_number("123"); },
                 "mother_nhs_number"},
        BadField{"MotherIsChild",
                 [](auto& b) { b.set_mother_nhs_number(b.nhs_number()); }, "mother_nhs_number"}),
    [](const ::testing::TestParamInfo<BadField>& info) { return info.param.name; });

TEST_F(RegistryTest, AcceptsAccentedNamesUpToOneHundredCharacters) {
  v1::RegisterBirthRequest birth = FictionalBirth("n-name", FictionalNhsNumber(6));
  birth.set_given_name("Zoë Siân");
  std::string hundred;
  for (int i = 0; i < 100; ++i) hundred += "é";
  birth.set_family_name(hundred);
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

TEST_F(RegistryTest, ResolvingAnUnknownOrMalformedIdentifierSaysWhich) {
  EXPECT_EQ(Resolve(FictionalNhsNumber(8)).status().code(), absl::StatusCode::kNotFound);
  EXPECT_EQ(Resolve(FictionalUpn(8)).status().code(), absl::StatusCode::kNotFound);
  EXPECT_EQ(Resolve("KDMX4PARTW" + std::string(1, identifiers::ChildIdCheckCharacter("KDMX4PARTW")))
                .status()
                .code(),
            absl::StatusCode::kNotFound);
  absl::Status bad = Resolve("9990000017").status();
  EXPECT_EQ(bad.code(), absl::StatusCode::kInvalidArgument);
  EXPECT_THAT(bad.message(), HasSubstr("identifier"));
  v1::ResolveRequest mismatched;
  mismatched.set_identifier(FictionalNhsNumber(1));
  mismatched.set_kind(v1::IDENTIFIER_KIND_UPN);
  EXPECT_EQ(registry_->Resolve(mismatched).status().code(), absl::StatusCode::kInvalidArgument);
}

TEST_F(RegistryTest, LinkingAUpnIsRecordedAndRepeatingItChangesNothing) {
  std::string id = RegisterNew(9);
  absl::StatusOr<v1::LinkUpnResponse> linked = LinkUpn(id, FictionalUpn(9));
  ASSERT_TRUE(linked.ok()) << linked.status();
  EXPECT_TRUE(linked->changed());
  EXPECT_EQ(linked->record().version(), 2);
  absl::StatusOr<v1::LinkUpnResponse> again = LinkUpn(id, FictionalUpn(9));
  ASSERT_TRUE(again.ok());
  EXPECT_FALSE(again->changed());
  EXPECT_EQ(again->record().version(), 2);
  EXPECT_EQ(EventCount(), 2u);
}

TEST_F(RegistryTest, ASecondUpnNeedsReplaceAndTheOldOneStillResolvesAsFormer) {
  std::string id = RegisterNew(10);
  std::string temporary = "K93820002600A";
  ASSERT_TRUE(LinkUpn(id, temporary).ok());
  absl::StatusOr<v1::LinkUpnResponse> refused = LinkUpn(id, FictionalUpn(10));
  EXPECT_EQ(refused.status().code(), absl::StatusCode::kFailedPrecondition);
  EXPECT_THAT(refused.status().message(), HasSubstr("replace_current"));
  absl::StatusOr<v1::LinkUpnResponse> replaced = LinkUpn(id, FictionalUpn(10), true);
  ASSERT_TRUE(replaced.ok()) << replaced.status();
  EXPECT_EQ(replaced->record().upn(), FictionalUpn(10));
  EXPECT_THAT(replaced->record().former_upns(), ::testing::ElementsAre(temporary));
  absl::StatusOr<v1::ResolveResponse> by_former = Resolve(temporary);
  ASSERT_TRUE(by_former.ok());
  EXPECT_EQ(by_former->record().child_id(), id);
  EXPECT_TRUE(by_former->matched_former());
  // A former UPN never becomes current again.
  EXPECT_EQ(LinkUpn(id, temporary, true).status().code(), absl::StatusCode::kFailedPrecondition);
  std::vector<storage::StoredEvent> events = *store_->ReadEvents(0, 10);
  EXPECT_EQ(events.back().kind(), storage::EVENT_KIND_UPN_REPLACED);
}

TEST_F(RegistryTest, APermanentUpnIsNeverReplacedByATemporaryOne) {
  std::string id = RegisterNew(31);
  ASSERT_TRUE(LinkUpn(id, FictionalUpn(31)).ok());
  absl::StatusOr<v1::LinkUpnResponse> r = LinkUpn(id, "K93820002600A", true);
  EXPECT_EQ(r.status().code(), absl::StatusCode::kFailedPrecondition);
  EXPECT_THAT(r.status().message(), HasSubstr("temporary"));
  EXPECT_EQ(Resolve(id)->record().upn(), FictionalUpn(31));
  EXPECT_EQ(Resolve("K93820002600A").status().code(), absl::StatusCode::kNotFound);
}

TEST_F(RegistryTest, AUpnOfAnotherChildIsRefusedWithoutDisclosingThatChild) {
  std::string first = RegisterNew(11);
  std::string second = RegisterNew(12);
  ASSERT_TRUE(LinkUpn(first, FictionalUpn(11)).ok());
  for (bool replace : {false, true}) {
    absl::StatusOr<v1::LinkUpnResponse> r = LinkUpn(second, FictionalUpn(11), replace);
    EXPECT_EQ(r.status().code(), absl::StatusCode::kAlreadyExists);
    EXPECT_THAT(r.status().message(), Not(HasSubstr(first)));
    EXPECT_THAT(r.status().message(), Not(HasSubstr(identifiers::FormatChildId(first))));
    EXPECT_THAT(r.status().message(), Not(HasSubstr(FictionalNhsNumber(11))));
  }
  EXPECT_EQ(Resolve(second)->record().upn(), "");
}

TEST_F(RegistryTest, LinkingToAnUnknownChildIsNotFoundAndAMalformedOneInvalid) {
  std::string unknown = "KDMX4PARTW" + std::string(1, identifiers::ChildIdCheckCharacter("KDMX4PARTW"));
  EXPECT_EQ(LinkUpn(unknown, FictionalUpn(1)).status().code(), absl::StatusCode::kNotFound);
  EXPECT_EQ(LinkNhs(unknown, FictionalNhsNumber(1)).status().code(), absl::StatusCode::kNotFound);
  absl::Status bad = LinkUpn("not-an-id", FictionalUpn(1)).status();
  EXPECT_EQ(bad.code(), absl::StatusCode::kInvalidArgument);
  EXPECT_THAT(bad.message(), HasSubstr("child_id"));
  std::string id = RegisterNew(13);
  absl::Status bad_upn = LinkUpn(id, "B801200005002").status();
  EXPECT_EQ(bad_upn.code(), absl::StatusCode::kInvalidArgument);
  EXPECT_THAT(bad_upn.message(), HasSubstr("upn"));
  EXPECT_EQ(EventCount(), 1u);
}

TEST_F(RegistryTest, AnNhsNumberIsAddedToAChildRegisteredWithoutOne) {
  std::string id = Register(FictionalBirth("born-abroad", ""))->record().child_id();
  absl::StatusOr<v1::LinkNhsNumberResponse> linked = LinkNhs(id, FictionalNhsNumber(14));
  ASSERT_TRUE(linked.ok()) << linked.status();
  EXPECT_TRUE(linked->changed());
  EXPECT_EQ(Resolve(FictionalNhsNumber(14))->record().child_id(), id);
  EXPECT_FALSE(LinkNhs(id, FictionalNhsNumber(14))->changed());
  EXPECT_EQ(LinkNhs(id, FictionalNhsNumber(15)).status().code(),
            absl::StatusCode::kFailedPrecondition);
  // Another child's NHS number is refused without disclosing that child.
  std::string other = RegisterNew(16);
  std::string third = Register(FictionalBirth("born-abroad-2", ""))->record().child_id();
  absl::Status taken = LinkNhs(third, FictionalNhsNumber(16)).status();
  EXPECT_EQ(taken.code(), absl::StatusCode::kAlreadyExists);
  EXPECT_THAT(taken.message(), Not(HasSubstr(other)));
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
  EXPECT_EQ(identifiers_only.postcode(), "");
  EXPECT_EQ(identifiers_only.family_name(), "");
  EXPECT_FALSE(identifiers_only.has_date_of_birth());
  request.set_view(v1::RECORD_VIEW_FULL);
  absl::StatusOr<v1::BatchResolveResponse> full = registry_->BatchResolve(request);
  ASSERT_TRUE(full.ok()) << full.status();
  EXPECT_EQ(full->results(0).record().postcode(), "RH12 1AA");
  request.set_view(v1::RECORD_VIEW_CHILD_ID);
  request.add_identifiers(id);
  absl::StatusOr<v1::BatchResolveResponse> ids_only = registry_->BatchResolve(request);
  ASSERT_TRUE(ids_only.ok()) << ids_only.status();
  for (const v1::BatchResolveResult& result : ids_only->results()) {
    EXPECT_EQ(result.outcome(), v1::BatchResolveResult::OUTCOME_FOUND);
    EXPECT_EQ(result.record().child_id(), id);
    EXPECT_EQ(result.record().nhs_number(), "");
  }
  request.set_view(static_cast<v1::RecordView>(7));
  EXPECT_EQ(registry_->BatchResolve(request).status().code(), absl::StatusCode::kInvalidArgument);
}

TEST_F(RegistryTest, BatchResolveRefusesEmptyAndOversizedBatches) {
  v1::BatchResolveRequest empty;
  EXPECT_EQ(registry_->BatchResolve(empty).status().code(), absl::StatusCode::kInvalidArgument);
  v1::BatchResolveRequest big;
  for (int i = 0; i < 10001; ++i) big.add_identifiers(FictionalNhsNumber(i));
  absl::Status status = registry_->BatchResolve(big).status();
  EXPECT_EQ(status.code(), absl::StatusCode::kInvalidArgument);
  EXPECT_THAT(status.message(), HasSubstr("10000"));
}

TEST_F(RegistryTest, SixteenRacersLinkingOneUpnToSixteenChildrenLeaveExactlyOneOwner) {
  std::vector<std::string> children;
  for (int i = 0; i < 16; ++i) children.push_back(RegisterNew(100 + i));
  std::vector<std::thread> racers;
  std::vector<absl::StatusCode> codes(16);
  for (int i = 0; i < 16; ++i) {
    racers.emplace_back([&, i] { codes[i] = LinkUpn(children[i], FictionalUpn(999)).status().code(); });
  }
  for (std::thread& t : racers) t.join();
  int winners = std::count(codes.begin(), codes.end(), absl::StatusCode::kOk);
  int refused = std::count(codes.begin(), codes.end(), absl::StatusCode::kAlreadyExists);
  EXPECT_EQ(winners, 1);
  EXPECT_EQ(refused, 15);
  std::string owner = Resolve(FictionalUpn(999))->record().child_id();
  int holding = 0;
  for (const std::string& child : children) holding += Resolve(child)->record().upn() == FictionalUpn(999);
  EXPECT_EQ(holding, 1);
  EXPECT_EQ(codes[std::find(children.begin(), children.end(), owner) - children.begin()],
            absl::StatusCode::kOk);
}

TEST_F(RegistryTest, SixteenRacersLinkingOneNhsNumberToSixteenChildrenLeaveExactlyOneOwner) {
  std::vector<std::string> children;
  for (int i = 0; i < 16; ++i) {
    children.push_back(
        Register(FictionalBirth(absl::StrCat("abroad-", i), ""))->record().child_id());
  }
  std::vector<std::thread> racers;
  std::vector<absl::StatusCode> codes(16);
  for (int i = 0; i < 16; ++i) {
    racers.emplace_back(
        [&, i] { codes[i] = LinkNhs(children[i], FictionalNhsNumber(777)).status().code(); });
  }
  for (std::thread& t : racers) t.join();
  EXPECT_EQ(std::count(codes.begin(), codes.end(), absl::StatusCode::kOk), 1);
  EXPECT_EQ(std::count(codes.begin(), codes.end(), absl::StatusCode::kAlreadyExists), 15);
  int holding = 0;
  for (const std::string& child : children) {
    holding += Resolve(child)->record().nhs_number() == FictionalNhsNumber(777);
  }
  EXPECT_EQ(holding, 1);
}

}  // namespace
}  // namespace cir::registry
