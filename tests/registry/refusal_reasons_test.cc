// Every refusal the registry makes carries its machine-readable reason (and, for a field, the
// field's name), changes nothing, and says nothing of any child: no identifier, no date of birth,
// no name.

#include <functional>
#include <string>
#include <vector>

#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "absl/strings/str_format.h"
#include "identifiers/child_id.h"
#include "tests/registry/registry_fixture.h"

namespace cir::registry {
namespace {

using ::testing::HasSubstr;
using ::testing::Not;
using ::testing::StartsWith;
using testing::FictionalBirth;
using testing::FictionalMotherNhsNumber;
using testing::FictionalNhsNumber;
using testing::FictionalUpn;

// The field a refusal's metadata names, or "" if none.
std::string FieldOf(const absl::Status& status) {
  std::optional<google::rpc::ErrorInfo> info = errors::ErrorInfoOf(status);
  if (!info.has_value()) return "";
  auto it = info->metadata().find("field");
  return it == info->metadata().end() ? "" : it->second;
}

void ExpectRefusal(const absl::Status& status, absl::StatusCode code, v1::ErrorReason reason,
                   const std::string& field) {
  EXPECT_EQ(status.code(), code) << status;
  EXPECT_EQ(errors::ReasonOf(status), reason) << status;
  EXPECT_EQ(FieldOf(status), field) << status;
  if (!field.empty()) {
    EXPECT_THAT(std::string(status.message()), StartsWith(field + ": "));
  }
}

// The child's details a message about `birth` must not repeat, in the forms they were sent in.
std::vector<std::string> DetailsOf(const v1::RegisterBirthRequest& birth) {
  const v1::Date& dob = birth.date_of_birth();
  std::vector<std::string> details = {
      birth.nhs_number(), birth.mother_nhs_number(), birth.given_name(), birth.family_name(),
      birth.mother_given_name(), birth.mother_family_name(), birth.postcode(),
      absl::StrFormat("%04d-%02d-%02d", dob.year(), dob.month(), dob.day()),
      absl::StrCat(dob.year(), "-", dob.month(), "-", dob.day())};
  details.erase(std::remove_if(details.begin(), details.end(),
                               [](const std::string& d) { return d.size() < 3; }),
                details.end());
  return details;
}

// Each bad field is refused with INVALID_ARGUMENT, its reason and the field's name, and nothing is
// written.
struct BadField {
  const char* name;
  std::function<void(v1::RegisterBirthRequest&)> spoil;
  const char* field;
  v1::ErrorReason reason;
};

void PrintTo(const BadField& bad, std::ostream* os) { *os << bad.name; }

class RegistryBadBirthTest : public RegistryTest,
                             public ::testing::WithParamInterface<BadField> {};

TEST_P(RegistryBadBirthTest, IsRefusedWithItsReasonNamingTheFieldAndChangesNothing) {
  v1::RegisterBirthRequest birth = FictionalBirth("n-bad", FictionalNhsNumber(5));
  GetParam().spoil(birth);
  absl::StatusOr<v1::RegisterBirthResponse> r = Register(birth);
  ExpectRefusal(r.status(), absl::StatusCode::kInvalidArgument, GetParam().reason,
                GetParam().field);
  for (const std::string& detail : DetailsOf(birth)) {
    EXPECT_THAT(r.status().message(), Not(HasSubstr(detail)));
  }
  EXPECT_EQ(EventCount(), 0u);
  EXPECT_FALSE(NotificationRecorded("n-bad"));
  EXPECT_FALSE(
      store_->Lookup(storage::IndexKind::kNhsNumber, FictionalNhsNumber(5))->has_value());
}

INSTANTIATE_TEST_SUITE_P(
    EveryField, RegistryBadBirthTest,
    ::testing::Values(
        BadField{"NoNotifyingSystem", [](auto& b) { b.clear_notifying_system(); },
                 "notifying_system", v1::FIELD_REQUIRED},
        BadField{"NotifyingSystemTooShort", [](auto& b) { b.set_notifying_system("RX"); },
                 "notifying_system", v1::FIELD_INVALID},
        BadField{"NotifyingSystemTooLong", [](auto& b) { b.set_notifying_system("RXH01234567"); },
                 "notifying_system", v1::FIELD_INVALID},
        BadField{"NotifyingSystemWithPunctuation", [](auto& b) { b.set_notifying_system("RXH-1"); },
                 "notifying_system", v1::FIELD_INVALID},
        BadField{"NotifyingSystemWithSpace", [](auto& b) { b.set_notifying_system("RXH 01"); },
                 "notifying_system", v1::FIELD_INVALID},
        BadField{"NoNotificationId", [](auto& b) { b.clear_notification_id(); },
                 "notification_id", v1::FIELD_REQUIRED},
        BadField{"NotificationIdWithSpace", [](auto& b) { b.set_notification_id("a b"); },
                 "notification_id", v1::FIELD_INVALID},
        BadField{"NotificationIdTooLong",
                 [](auto& b) { b.set_notification_id(std::string(129, 'x')); }, "notification_id",
                 v1::FIELD_INVALID},
        BadField{"NhsWrongCheck", [](auto& b) { b.set_nhs_number("9990000017"); }, "nhs_number",
                 v1::FIELD_INVALID},
        BadField{"NhsCheckTen", [](auto& b) { b.set_nhs_number("9991234560"); }, "nhs_number",
                 v1::FIELD_INVALID},
        BadField{"NoDateOfBirth", [](auto& b) { b.clear_date_of_birth(); }, "date_of_birth",
                 v1::FIELD_REQUIRED},
        BadField{"ImpossibleDay",
                 [](auto& b) {
                   b.mutable_date_of_birth()->set_day(31);
                   b.mutable_date_of_birth()->set_month(2);
                 },
                 "date_of_birth", v1::FIELD_INVALID},
        BadField{"MonthThirteen", [](auto& b) { b.mutable_date_of_birth()->set_month(13); },
                 "date_of_birth", v1::FIELD_INVALID},
        BadField{"FutureDate", [](auto& b) { b.mutable_date_of_birth()->set_year(2027); },
                 "date_of_birth", v1::FIELD_INVALID},
        BadField{"AncientDate", [](auto& b) { b.mutable_date_of_birth()->set_year(1899); },
                 "date_of_birth", v1::FIELD_INVALID},
        BadField{"NoSex", [](auto& b) { b.set_sex(v1::SEX_UNSPECIFIED); }, "sex",
                 v1::FIELD_REQUIRED},
        BadField{"UnknownSexValue", [](auto& b) { b.set_sex(static_cast<v1::Sex>(42)); }, "sex",
                 v1::FIELD_INVALID},
        BadField{"NegativeBirthOrder", [](auto& b) { b.set_birth_order(-1); }, "birth_order",
                 v1::FIELD_INVALID},
        BadField{"BirthOrderTen", [](auto& b) { b.set_birth_order(10); }, "birth_order",
                 v1::FIELD_INVALID},
        BadField{"NameTooLong", [](auto& b) { b.set_given_name(std::string(101, 'a')); },
                 "given_name", v1::FIELD_INVALID},
        BadField{"NameWithControlCharacter", [](auto& b) { b.set_family_name("Ab\ncd"); },
                 "family_name", v1::FIELD_INVALID},
        BadField{"NameNotUtf8", [](auto& b) { b.set_family_name("\xff\xfe"); }, "family_name",
                 v1::FIELD_INVALID},
        BadField{"MothersGivenNameTooLong",
                 [](auto& b) { b.set_mother_given_name(std::string(101, 'm')); },
                 "mother_given_name", v1::FIELD_INVALID},
        BadField{"MothersFamilyNameWithControlCharacter",
                 [](auto& b) { b.set_mother_family_name("Ab\tcd"); }, "mother_family_name",
                 v1::FIELD_INVALID},
        BadField{"NoPostcode", [](auto& b) { b.clear_postcode(); }, "postcode",
                 v1::FIELD_REQUIRED},
        BadField{"BadPostcode", [](auto& b) { b.set_postcode("NOT A POSTCODE"); }, "postcode",
                 v1::FIELD_INVALID},
        BadField{"NoLocalAuthority", [](auto& b) { b.clear_local_authority(); },
                 "local_authority", v1::FIELD_REQUIRED},
        BadField{"BadLocalAuthority", [](auto& b) { b.set_local_authority("93"); },
                 "local_authority", v1::FIELD_INVALID},
        BadField{"BadMotherNhs", [](auto& b) { b.set_mother_nhs_number("123"); },
                 "mother_nhs_number", v1::FIELD_INVALID},
        BadField{"MotherIsChild", [](auto& b) { b.set_mother_nhs_number(b.nhs_number()); },
                 "mother_nhs_number", v1::NHS_NUMBER_IS_MOTHERS}),
    [](const ::testing::TestParamInfo<BadField>& info) { return info.param.name; });

TEST_F(RegistryTest, AnImpossibleDateIsRefusedWithoutRepeatingIt) {
  v1::RegisterBirthRequest birth = FictionalBirth("n-date", FictionalNhsNumber(5));
  birth.mutable_date_of_birth()->set_month(13);
  birth.mutable_date_of_birth()->set_day(40);
  absl::Status refused = Register(birth).status();
  EXPECT_EQ(errors::ReasonOf(refused), v1::FIELD_INVALID);
  EXPECT_THAT(refused.message(), HasSubstr("not a calendar date"));
  EXPECT_THAT(refused.message(), Not(HasSubstr("40")));
  EXPECT_THAT(refused.message(), Not(HasSubstr("2026")));
}

TEST_F(RegistryTest, ChangesNamingAnUnknownOrMalformedChildAreRefusedWithTheirReasons) {
  const std::string unknown =
      "KDMX4PARTW" + std::string(1, identifiers::ChildIdCheckCharacter("KDMX4PARTW"));
  for (const absl::Status& status : {LinkUpn(unknown, FictionalUpn(1)).status(),
                                     LinkNhs(unknown, FictionalNhsNumber(1)).status()}) {
    ExpectRefusal(status, absl::StatusCode::kNotFound, v1::CHILD_NOT_FOUND, "child_id");
    EXPECT_THAT(status.message(), Not(HasSubstr(unknown)));
    EXPECT_THAT(status.message(), Not(HasSubstr(identifiers::FormatChildId(unknown))));
  }
  ExpectRefusal(LinkUpn("not-an-id", FictionalUpn(1)).status(), absl::StatusCode::kInvalidArgument,
                v1::FIELD_INVALID, "child_id");
  ExpectRefusal(LinkUpn("", FictionalUpn(1)).status(), absl::StatusCode::kInvalidArgument,
                v1::FIELD_REQUIRED, "child_id");
  ExpectRefusal(LinkNhs("", FictionalNhsNumber(1)).status(), absl::StatusCode::kInvalidArgument,
                v1::FIELD_REQUIRED, "child_id");
  std::string id = RegisterNew(13);
  ExpectRefusal(LinkUpn(id, "B801200005002").status(), absl::StatusCode::kInvalidArgument,
                v1::FIELD_INVALID, "upn");
  ExpectRefusal(LinkUpn(id, "").status(), absl::StatusCode::kInvalidArgument, v1::FIELD_REQUIRED,
                "upn");
  ExpectRefusal(LinkNhs(id, "9990000017").status(), absl::StatusCode::kInvalidArgument,
                v1::FIELD_INVALID, "nhs_number");
  ExpectRefusal(LinkNhs(id, "").status(), absl::StatusCode::kInvalidArgument, v1::FIELD_REQUIRED,
                "nhs_number");
  EXPECT_EQ(EventCount(), 1u);
}

TEST_F(RegistryTest, LinkingAnNhsNumberIsRefusedWithItsReasonWhenItCannotBeTheChilds) {
  std::string numbered = RegisterNew(15);
  ExpectRefusal(LinkNhs(numbered, FictionalNhsNumber(16)).status(),
                absl::StatusCode::kFailedPrecondition, v1::CHILD_HAS_ANOTHER_NHS_NUMBER,
                "nhs_number");
  // Another child's NHS number, without disclosing that child.
  std::string other = RegisterNew(16);
  std::string unnumbered = RegisterWithoutNhsNumber("born-abroad");
  absl::Status taken = LinkNhs(unnumbered, FictionalNhsNumber(16)).status();
  ExpectRefusal(taken, absl::StatusCode::kAlreadyExists, v1::NHS_NUMBER_HELD_BY_ANOTHER_CHILD,
                "nhs_number");
  for (const std::string& detail :
       {other, identifiers::FormatChildId(other), FictionalNhsNumber(16)}) {
    EXPECT_THAT(taken.message(), Not(HasSubstr(detail)));
  }
  // The mother's NHS number.
  absl::Status mothers = LinkNhs(unnumbered, FictionalMotherNhsNumber()).status();
  ExpectRefusal(mothers, absl::StatusCode::kInvalidArgument, v1::NHS_NUMBER_IS_MOTHERS,
                "nhs_number");
  EXPECT_THAT(mothers.message(), Not(HasSubstr(FictionalMotherNhsNumber())));
  EXPECT_EQ(EventCount(), 3u);
}

TEST_F(RegistryTest, AFormerNhsNumberNeverBecomesCurrentAgain) {
  // NHS England retired this child's first number (written here as the supersede change would).
  std::string id = RegisterNew(17);
  storage::StoredChild child = Stored(id);
  child.add_former_nhs_numbers(FictionalNhsNumber(18));
  std::promise<absl::Status> written;
  store_->Submit(
      [&](storage::WriteTxn& txn) {
        absl::Status s = txn.PutChild(child);
        if (!s.ok()) return s;
        return txn.PutIndex(storage::IndexKind::kNhsNumber, FictionalNhsNumber(18),
                            storage::IndexEntry{id, ""});
      },
      [&](absl::Status s) { written.set_value(s); });
  ASSERT_TRUE(written.get_future().get().ok());
  ExpectRefusal(LinkNhs(id, FictionalNhsNumber(18)).status(), absl::StatusCode::kFailedPrecondition,
                v1::FORMER_IDENTIFIER_NOT_REUSABLE, "nhs_number");
}

TEST_F(RegistryTest, ResolvingAnUnknownOrMalformedIdentifierIsRefusedWithItsReason) {
  for (const std::string& unknown :
       {FictionalNhsNumber(8), FictionalUpn(8),
        "KDMX4PARTW" + std::string(1, identifiers::ChildIdCheckCharacter("KDMX4PARTW"))}) {
    absl::Status status = Resolve(unknown).status();
    ExpectRefusal(status, absl::StatusCode::kNotFound, v1::IDENTIFIER_NOT_FOUND, "identifier");
    EXPECT_THAT(status.message(), Not(HasSubstr(unknown)));
  }
  ExpectRefusal(Resolve("9990000017").status(), absl::StatusCode::kInvalidArgument,
                v1::FIELD_INVALID, "identifier");
  ExpectRefusal(Resolve("").status(), absl::StatusCode::kInvalidArgument, v1::FIELD_REQUIRED,
                "identifier");
  v1::ResolveRequest mismatched;
  mismatched.set_identifier(FictionalNhsNumber(1));
  mismatched.set_kind(v1::IDENTIFIER_KIND_UPN);
  ExpectRefusal(registry_->Resolve(mismatched).status(), absl::StatusCode::kInvalidArgument,
                v1::FIELD_INVALID, "identifier");
  mismatched.set_kind(static_cast<v1::IdentifierKind>(9));
  ExpectRefusal(registry_->Resolve(mismatched).status(), absl::StatusCode::kInvalidArgument,
                v1::FIELD_INVALID, "kind");
}

TEST_F(RegistryTest, BatchResolveRefusesEmptyOversizedAndUnknownViewBatchesWithTheirReasons) {
  v1::BatchResolveRequest empty;
  ExpectRefusal(registry_->BatchResolve(empty).status(), absl::StatusCode::kInvalidArgument,
                v1::FIELD_REQUIRED, "identifiers");
  v1::BatchResolveRequest big;
  for (int i = 0; i < 10001; ++i) big.add_identifiers(FictionalNhsNumber(i));
  absl::Status too_big = registry_->BatchResolve(big).status();
  ExpectRefusal(too_big, absl::StatusCode::kInvalidArgument, v1::BATCH_TOO_LARGE, "identifiers");
  EXPECT_THAT(too_big.message(), HasSubstr("10000"));
  v1::BatchResolveRequest unknown_view;
  unknown_view.add_identifiers(FictionalNhsNumber(1));
  unknown_view.set_view(static_cast<v1::RecordView>(7));
  ExpectRefusal(registry_->BatchResolve(unknown_view).status(), absl::StatusCode::kInvalidArgument,
                v1::FIELD_INVALID, "view");
}

TEST_F(RegistryTest, AnIndexEntryNamingNoStoredChildIsAnInternalErrorNamingNoChild) {
  const std::string missing =
      "KDMX4PARTW" + std::string(1, identifiers::ChildIdCheckCharacter("KDMX4PARTW"));
  std::promise<absl::Status> written;
  store_->Submit(
      [&](storage::WriteTxn& txn) {
        return txn.PutIndex(storage::IndexKind::kNhsNumber, FictionalNhsNumber(19),
                            storage::IndexEntry{missing, ""});
      },
      [&](absl::Status s) { written.set_value(s); });
  ASSERT_TRUE(written.get_future().get().ok());
  absl::Status resolved = Resolve(FictionalNhsNumber(19)).status();
  ExpectRefusal(resolved, absl::StatusCode::kInternal, v1::INTERNAL_ERROR, "");
  absl::Status registered = Register(FictionalBirth("n-19", FictionalNhsNumber(19))).status();
  ExpectRefusal(registered, absl::StatusCode::kInternal, v1::INTERNAL_ERROR, "");
  for (const absl::Status& status : {resolved, registered}) {
    EXPECT_THAT(status.message(), Not(HasSubstr(missing)));
    EXPECT_THAT(status.message(), Not(HasSubstr(FictionalNhsNumber(19))));
  }
}

// Outside a test environment (the default), NHS numbers of the test range are refused in every
// write, naming the field; nothing is written; reads still answer.
TEST_F(RegistryTest, ARegistryThatIsNotATestEnvironmentRefusesTestNhsNumbersInEveryWrite) {
  EXPECT_FALSE(RegistryOptions{}.allow_test_nhs_numbers);
  RegistryOptions production_options = TestOptions();
  production_options.allow_test_nhs_numbers = RegistryOptions{}.allow_test_nhs_numbers;
  Registry production(*store_, production_options);
  auto register_birth = [&](const v1::RegisterBirthRequest& request) {
    std::promise<absl::StatusOr<v1::RegisterBirthResponse>> reply;
    production.RegisterBirth(request, [&](auto r) { reply.set_value(std::move(r)); });
    return reply.get_future().get().status();
  };

  absl::Status child = register_birth(FictionalBirth("n-test", FictionalNhsNumber(20)));
  ExpectRefusal(child, absl::StatusCode::kInvalidArgument, v1::TEST_NHS_NUMBER_NOT_ACCEPTED,
                "nhs_number");
  EXPECT_THAT(child.message(), HasSubstr("not a test environment"));
  EXPECT_THAT(child.message(), Not(HasSubstr(FictionalNhsNumber(20))));
  ExpectRefusal(register_birth(FictionalBirth("n-test-mother", "")),
                absl::StatusCode::kInvalidArgument, v1::TEST_NHS_NUMBER_NOT_ACCEPTED,
                "mother_nhs_number");

  std::string id = RegisterWithoutNhsNumber("n-registered-in-test");  // through the test registry
  v1::LinkNhsNumberRequest link;
  link.set_child_id(id);
  link.set_nhs_number(FictionalNhsNumber(21));
  std::promise<absl::StatusOr<v1::LinkNhsNumberResponse>> linked;
  production.LinkNhsNumber(link, [&](auto r) { linked.set_value(std::move(r)); });
  ExpectRefusal(linked.get_future().get().status(), absl::StatusCode::kInvalidArgument,
                v1::TEST_NHS_NUMBER_NOT_ACCEPTED, "nhs_number");
  EXPECT_EQ(EventCount(), 1u);

  RegisterNew(22);
  v1::ResolveRequest resolve;
  resolve.set_identifier(FictionalNhsNumber(22));
  EXPECT_TRUE(production.Resolve(resolve).ok());
}

}  // namespace
}  // namespace cir::registry
