// The caller of one call: who it is, what it may do and for whom (refused with gRPC codes and
// reasons otherwise), which records and feeds it reaches, the scope of its changes; and the policy
// in force, read again when its file changes, without dropping a call's policy.

#include "access/caller.h"

#include <cstdio>
#include <fstream>
#include <initializer_list>
#include <memory>
#include <optional>
#include <string>
#include <utility>

#include "absl/status/status.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/string_view.h"
#include "access/access_policy.h"
#include "access/method_rules.h"
#include "access/policy_source.h"
#include "cir/v1/registry.pb.h"
#include "errors/refusal.h"
#include "gmock/gmock.h"
#include "google/protobuf/descriptor.h"
#include "gtest/gtest.h"
#include "registry/actor.h"
#include "registry/record_scope.h"
#include "storage/stored_records.pb.h"
#include "tests/testing/temp_dir.h"

namespace cir::access {
namespace {

using ::testing::HasSubstr;
using ::testing::IsEmpty;
using ::testing::StartsWith;
using ::testing::UnorderedElementsAre;

constexpr absl::string_view kResolve = "/cir.v1.ChildRegistry/Resolve";
constexpr absl::string_view kBatchResolve = "/cir.v1.ChildRegistry/BatchResolve";
constexpr absl::string_view kLinkUpn = "/cir.v1.ChildRegistry/LinkUpn";
constexpr absl::string_view kLinkNhsNumber = "/cir.v1.ChildRegistry/LinkNhsNumber";
constexpr absl::string_view kRegisterBirth = "/cir.v1.ChildRegistry/RegisterBirth";
constexpr absl::string_view kRecordDeath = "/cir.v1.ChildRegistry/RecordDeath";
constexpr absl::string_view kChangeAddress = "/cir.v1.ChildRegistry/ChangeAddress";
constexpr absl::string_view kDescribeRegistry = "/cir.v1.ChildRegistry/DescribeRegistry";
constexpr absl::string_view kSubscribe = "/cir.v1.ChildrenFeed/Subscribe";

constexpr absl::string_view kEndUser = "nurse.jones@fictional-trust";
constexpr absl::string_view kPurpose = "DIRECT_CARE";

constexpr char kConfig[] = R"(trust_domain: "registry.test"
agency { id: "st-marys-maternity" role: ROLE_MATERNITY notifying_system: "RXH01" }
agency { id: "health-visiting" role: ROLE_HEALTH_VISITING }
agency { id: "oakfield-school" role: ROLE_SCHOOL }
agency {
  id: "west-sussex-centres"
  role: ROLE_CHILDRENS_CENTRE
  local_authority: "938"
  local_authority: "846"
}
agency { id: "west-sussex-data-team" role: ROLE_LA_DATA_TEAM local_authority: "938" }
agency { id: "registrar" role: ROLE_REGISTRAR }
agency { id: "auditor" role: ROLE_AUDITOR }
agency { id: "operator" role: ROLE_OPERATOR }
agency {
  id: "visiting-and-centres"
  role: ROLE_HEALTH_VISITING
  role: ROLE_CHILDRENS_CENTRE
  local_authority: "938"
}
agency {
  id: "maternity-and-registrar"
  role: ROLE_MATERNITY
  role: ROLE_REGISTRAR
  notifying_system: "RXH02"
}
)";

std::shared_ptr<const AccessPolicy> Policy() {
  absl::StatusOr<std::shared_ptr<const AccessPolicy>> policy =
      AccessPolicy::Parse(kConfig, "caller_test");
  EXPECT_TRUE(policy.ok()) << policy.status();
  return policy.ok() ? *policy : nullptr;
}

// A call by `agency` to `method` for the tests' person, DIRECT_CARE.
absl::StatusOr<Caller> ForPerson(absl::string_view agency, absl::string_view method) {
  return IdentifyCaller(Policy(), agency, method, kEndUser, kPurpose);
}

// A system's own call: no person named.
absl::StatusOr<Caller> SystemCall(absl::string_view agency, absl::string_view method) {
  return IdentifyCaller(Policy(), agency, method, std::nullopt, std::nullopt);
}

// A caller that must be admitted: the test stops if it is not.
Caller Admitted(absl::StatusOr<Caller> caller) {
  EXPECT_TRUE(caller.ok()) << caller.status();
  return caller.ok() ? *std::move(caller) : Caller{};
}

v1::ChildRecord RecordIn(absl::string_view local_authority, bool sharing_objection = false) {
  v1::ChildRecord record;
  record.set_child_id("fictional-child-1");
  record.set_nhs_number("9990000018");
  record.set_local_authority(std::string(local_authority));
  record.set_sharing_objection(sharing_objection);
  return record;
}

storage::StoredChild StoredIn(absl::string_view local_authority,
                              std::initializer_list<const char*> notifying_systems = {}) {
  storage::StoredChild child;
  child.set_child_id("fictional-child-1");
  child.set_nhs_number("9990000018");
  child.set_local_authority(std::string(local_authority));
  int id = 1;
  for (const char* system : notifying_systems) {
    storage::StoredNotification* notification = child.add_notifications();
    notification->set_notifying_system(system);
    notification->set_notification_id(absl::StrCat("fictional-notification-", id++));
  }
  return child;
}

void ExpectRefused(const absl::StatusOr<Caller>& caller, absl::StatusCode code,
                   v1::ErrorReason reason) {
  ASSERT_FALSE(caller.ok());
  EXPECT_EQ(caller.status().code(), code) << caller.status();
  EXPECT_EQ(errors::ReasonOf(caller.status()), reason)
      << v1::ErrorReason_Name(errors::ReasonOf(caller.status()));
}

// --- Who is calling ----------------------------------------------------------------------------

TEST(CallerTest, AnAgencyThePolicyDoesNotKnowIsNotIdentified) {
  ExpectRefused(ForPerson("no-such-agency", kResolve), absl::StatusCode::kUnauthenticated,
                v1::CALLER_NOT_IDENTIFIED);
  ExpectRefused(ForPerson("", kResolve), absl::StatusCode::kUnauthenticated,
                v1::CALLER_NOT_IDENTIFIED);
  ExpectRefused(ForPerson("spiffe://registry.test/agency/health-visiting", kResolve),
                absl::StatusCode::kUnauthenticated, v1::CALLER_NOT_IDENTIFIED);
}

TEST(CallerTest, AMethodNoneOfTheAgencysRolesMayCallIsNotPermittedAndNamed) {
  const absl::StatusOr<Caller> caller = ForPerson("oakfield-school", kChangeAddress);
  ExpectRefused(caller, absl::StatusCode::kPermissionDenied, v1::METHOD_NOT_PERMITTED);
  const std::optional<google::rpc::ErrorInfo> info = errors::ErrorInfoOf(caller.status());
  ASSERT_TRUE(info.has_value());
  EXPECT_EQ(info->metadata().at("method"), kChangeAddress);
}

TEST(CallerTest, AnUnknownMethodIsNotPermitted) {
  ExpectRefused(ForPerson("health-visiting", "/cir.v1.ChildRegistry/DropAllChildren"),
                absl::StatusCode::kPermissionDenied, v1::METHOD_NOT_PERMITTED);
  ExpectRefused(SystemCall("operator", kResolve), absl::StatusCode::kPermissionDenied,
                v1::METHOD_NOT_PERMITTED);
  ExpectRefused(SystemCall("auditor", kSubscribe), absl::StatusCode::kPermissionDenied,
                v1::METHOD_NOT_PERMITTED);
}

TEST(CallerTest, ACallerKnowsItsAgencyMethodPersonAndPurpose) {
  const Caller caller = Admitted(ForPerson("health-visiting", kResolve));
  ASSERT_NE(caller.agency, nullptr);
  EXPECT_EQ(caller.agency->id, "health-visiting");
  EXPECT_EQ(caller.method, kResolve);
  EXPECT_EQ(caller.end_user, kEndUser);
  EXPECT_EQ(caller.purpose, kPurpose);
  EXPECT_TRUE(caller.grant.GrantsRole(ROLE_HEALTH_VISITING));
  EXPECT_NE(caller.policy, nullptr);
  EXPECT_EQ(caller.policy->FindAgency("health-visiting"), caller.agency);
}

TEST(CallerTest, ACallerKeepsItsPolicyAlive) {
  std::shared_ptr<const AccessPolicy> policy = Policy();
  absl::StatusOr<Caller> caller =
      IdentifyCaller(policy, "west-sussex-centres", kResolve, kEndUser, kPurpose);
  ASSERT_TRUE(caller.ok()) << caller.status();
  policy.reset();
  ASSERT_NE(caller->agency, nullptr);
  EXPECT_EQ(caller->agency->id, "west-sussex-centres");
  EXPECT_THAT(caller->agency->local_authorities, UnorderedElementsAre("938", "846"));
}

// --- For whom ----------------------------------------------------------------------------------

TEST(CallerTest, ACallForAPersonWithoutAnEndUserIsUnauthenticated) {
  ExpectRefused(IdentifyCaller(Policy(), "health-visiting", kResolve, std::nullopt, kPurpose),
                absl::StatusCode::kUnauthenticated, v1::END_USER_REQUIRED);
  ExpectRefused(SystemCall("health-visiting", kResolve), absl::StatusCode::kUnauthenticated,
                v1::END_USER_REQUIRED);
  ExpectRefused(SystemCall("oakfield-school", kResolve), absl::StatusCode::kUnauthenticated,
                v1::END_USER_REQUIRED);
  ExpectRefused(SystemCall("west-sussex-data-team", kChangeAddress),
                absl::StatusCode::kUnauthenticated, v1::END_USER_REQUIRED);
}

TEST(CallerTest, AnEndUserThatIsNotOneToOneHundredTwentyEightPrintableCharactersIsRefused) {
  for (const std::string& bad :
       {std::string(""), std::string("nurse jones"), std::string(" nurse"), std::string("nurse\t"),
        std::string("nurse\n"), std::string(129, 'a'), std::string("nurse\x7f"),
        std::string("j\xc3\xa9r\xc3\xb4me"), std::string("a\0b", 3)}) {
    SCOPED_TRACE(absl::StrCat("end user of ", bad.size(), " bytes"));
    ExpectRefused(IdentifyCaller(Policy(), "health-visiting", kResolve, bad, kPurpose),
                  absl::StatusCode::kUnauthenticated, v1::END_USER_REQUIRED);
  }
}

TEST(CallerTest, AnEndUserOfOneToOneHundredTwentyEightPrintableCharactersIsAccepted) {
  for (const std::string& good : {std::string("a"), std::string(128, 'a'),
                                  std::string("CN=Jones,OU=Visiting;id:42~!#$%^&*()[]{}<>?/|\\")}) {
    const absl::StatusOr<Caller> caller =
        IdentifyCaller(Policy(), "health-visiting", kResolve, good, kPurpose);
    ASSERT_TRUE(caller.ok()) << caller.status();
    EXPECT_EQ(caller->end_user, good);
  }
}

TEST(CallerTest, ACallForAPersonWithoutAValidPurposeIsAnInvalidArgument) {
  ExpectRefused(IdentifyCaller(Policy(), "health-visiting", kResolve, kEndUser, std::nullopt),
                absl::StatusCode::kInvalidArgument, v1::PURPOSE_OF_USE_INVALID);
  // A PurposeOfUse name without its prefix, exactly as the enum spells it.
  for (const char* bad :
       {"", "direct_care", "Direct_Care", "UNSPECIFIED", "PURPOSE_OF_USE_DIRECT_CARE",
        "DIRECT CARE", " DIRECT_CARE", "DIRECT_CARE ", "CURIOSITY", "1", "PURPOSE_OF_USE_"}) {
    SCOPED_TRACE(bad);
    ExpectRefused(IdentifyCaller(Policy(), "health-visiting", kResolve, kEndUser, bad),
                  absl::StatusCode::kInvalidArgument, v1::PURPOSE_OF_USE_INVALID);
  }
}

TEST(CallerTest, EveryPurposeOfUseNameWithoutItsPrefixIsAccepted) {
  const google::protobuf::EnumDescriptor* purposes = v1::PurposeOfUse_descriptor();
  int accepted = 0;
  for (int i = 0; i < purposes->value_count(); ++i) {
    if (purposes->value(i)->number() == v1::PURPOSE_OF_USE_UNSPECIFIED) continue;
    const std::string name =
        purposes->value(i)->name().substr(std::string("PURPOSE_OF_USE_").size());
    const absl::StatusOr<Caller> caller =
        IdentifyCaller(Policy(), "west-sussex-data-team", kChangeAddress, kEndUser, name);
    ASSERT_TRUE(caller.ok()) << name << ": " << caller.status();
    EXPECT_EQ(caller->purpose, name);
    ++accepted;
  }
  EXPECT_EQ(accepted, 6);
}

TEST(CallerTest, AMissingEndUserIsReportedBeforeAMissingPurpose) {
  ExpectRefused(IdentifyCaller(Policy(), "health-visiting", kResolve, std::nullopt, "CURIOSITY"),
                absl::StatusCode::kUnauthenticated, v1::END_USER_REQUIRED);
}

TEST(CallerTest, ASystemCallNeedsNoEndUserOrPurpose) {
  for (const auto& [agency, method] :
       std::initializer_list<std::pair<const char*, absl::string_view>>{
           {"oakfield-school", kBatchResolve},
           {"oakfield-school", kLinkUpn},
           {"st-marys-maternity", kRegisterBirth},
           {"registrar", kRecordDeath},
           {"west-sussex-centres", kSubscribe},
           {"operator", kDescribeRegistry}}) {
    SCOPED_TRACE(absl::StrCat(agency, " ", method));
    const Caller caller = Admitted(SystemCall(agency, method));
    EXPECT_EQ(caller.end_user, "");
    EXPECT_EQ(caller.purpose, "");
    EXPECT_FALSE(caller.grant.for_person());
  }
}

TEST(CallerTest, ASystemCallThatNamesAPersonMustNameThemWell) {
  // An end user sent on a system's call is recorded, so it is held to the same form.
  ExpectRefused(IdentifyCaller(Policy(), "oakfield-school", kBatchResolve, "nurse jones", kPurpose),
                absl::StatusCode::kUnauthenticated, v1::END_USER_REQUIRED);
  const Caller caller =
      Admitted(IdentifyCaller(Policy(), "oakfield-school", kBatchResolve, kEndUser, "EDUCATION"));
  EXPECT_EQ(caller.end_user, kEndUser);
  EXPECT_EQ(caller.purpose, "EDUCATION");
}

// --- Which records a read reaches --------------------------------------------------------------

TEST(CallerTest, AChildrensCentreReachesOnlyChildrenOfItsLocalAuthorities) {
  const Caller caller = Admitted(ForPerson("west-sussex-centres", kResolve));
  EXPECT_TRUE(caller.Reaches(RecordIn("938")));
  EXPECT_TRUE(caller.Reaches(RecordIn("846")));
  EXPECT_FALSE(caller.Reaches(RecordIn("850")));
  EXPECT_FALSE(caller.Reaches(RecordIn("")));
  EXPECT_FALSE(caller.GrantsReaching(RecordIn("850")).allowed());
}

TEST(CallerTest, AChildrensCentreNeverReachesAChildWhoseParentsObjectToSharing) {
  const Caller caller = Admitted(ForPerson("west-sussex-centres", kResolve));
  EXPECT_FALSE(caller.Reaches(RecordIn("938", /*sharing_objection=*/true)));
  EXPECT_FALSE(caller.Reaches(RecordIn("850", /*sharing_objection=*/true)));
}

TEST(CallerTest, ADataTeamReachesChildrenOfItsLocalAuthoritiesObjectionOrNot) {
  const Caller caller = Admitted(ForPerson("west-sussex-data-team", kResolve));
  EXPECT_TRUE(caller.Reaches(RecordIn("938")));
  EXPECT_TRUE(caller.Reaches(RecordIn("938", /*sharing_objection=*/true)));
  EXPECT_FALSE(caller.Reaches(RecordIn("846")));
  EXPECT_FALSE(caller.Reaches(RecordIn("")));
}

TEST(CallerTest, HealthVisitingAndSchoolsReachAnyRecord) {
  for (const char* agency : {"health-visiting", "oakfield-school"}) {
    const Caller caller = Admitted(ForPerson(agency, kResolve));
    for (const char* area : {"938", "846", "850", ""}) {
      EXPECT_TRUE(caller.Reaches(RecordIn(area))) << agency << " " << area;
      EXPECT_TRUE(caller.Reaches(RecordIn(area, /*sharing_objection=*/true)))
          << agency << " " << area;
    }
  }
  const Caller census = Admitted(SystemCall("oakfield-school", kBatchResolve));
  EXPECT_TRUE(census.Reaches(RecordIn("850")));
}

TEST(CallerTest, AMaternitySystemReadsNoRecordAsAnswered) {
  // Its own records are those it notified, which a record as answered does not show.
  const Caller caller = Admitted(SystemCall("st-marys-maternity", kRecordDeath));
  EXPECT_FALSE(caller.Reaches(RecordIn("938")));
}

TEST(CallerTest, OnlyTheRolesThatReachARecordAreGrantedForIt) {
  const Caller caller = Admitted(ForPerson("visiting-and-centres", kResolve));
  ASSERT_EQ(caller.grant.grants.size(), 2u);

  const MethodGrant own_area = caller.GrantsReaching(RecordIn("938"));
  EXPECT_TRUE(own_area.GrantsRole(ROLE_HEALTH_VISITING));
  EXPECT_TRUE(own_area.GrantsRole(ROLE_CHILDRENS_CENTRE));

  const MethodGrant elsewhere = caller.GrantsReaching(RecordIn("850"));
  EXPECT_TRUE(elsewhere.GrantsRole(ROLE_HEALTH_VISITING));
  EXPECT_FALSE(elsewhere.GrantsRole(ROLE_CHILDRENS_CENTRE));

  const MethodGrant objection = caller.GrantsReaching(RecordIn("938", /*sharing_objection=*/true));
  EXPECT_TRUE(objection.GrantsRole(ROLE_HEALTH_VISITING));
  EXPECT_FALSE(objection.GrantsRole(ROLE_CHILDRENS_CENTRE));
}

// --- Which feeds ------------------------------------------------------------------------------

TEST(CallerTest, AChildrensCentreReadsTheFeedsOfItsLocalAuthoritiesOnly) {
  const Caller caller = Admitted(SystemCall("west-sussex-centres", kSubscribe));
  EXPECT_TRUE(caller.ReadsArea("938"));
  EXPECT_TRUE(caller.ReadsArea("846"));
  EXPECT_FALSE(caller.ReadsArea("850"));
  EXPECT_FALSE(caller.ReadsArea(""));
  EXPECT_FALSE(caller.ReadsArea("93"));
}

// --- The scope of a caller's changes -----------------------------------------------------------

TEST(CallerTest, ANationalRolesChangesReachEveryRecord) {
  for (const auto& [agency, method] :
       std::initializer_list<std::pair<const char*, absl::string_view>>{
           {"registrar", kRecordDeath},
           {"health-visiting", kLinkNhsNumber},
           {"oakfield-school", kLinkUpn},
           {"maternity-and-registrar", kRecordDeath}}) {
    SCOPED_TRACE(agency);
    const absl::StatusOr<Caller> caller =
        IdentifyCaller(Policy(), agency, method, kEndUser, kPurpose);
    ASSERT_TRUE(caller.ok()) << caller.status();
    const registry::Actor actor = caller->Actor();
    EXPECT_EQ(actor.agency_id, agency);
    EXPECT_TRUE(actor.scope.everywhere);
    EXPECT_TRUE(actor.scope.Reaches(StoredIn("850")));
    EXPECT_TRUE(actor.scope.Reaches(StoredIn("", {"RYJ02"})));
  }
}

TEST(CallerTest, ADataTeamsChangesReachItsLocalAuthoritiesOnly) {
  const Caller caller = Admitted(ForPerson("west-sussex-data-team", kChangeAddress));
  const registry::Actor actor = caller.Actor();
  EXPECT_EQ(actor.agency_id, "west-sussex-data-team");
  EXPECT_FALSE(actor.scope.everywhere);
  EXPECT_THAT(actor.scope.local_authorities, UnorderedElementsAre("938"));
  EXPECT_THAT(actor.scope.notifying_systems, IsEmpty());
  EXPECT_TRUE(actor.scope.Reaches(StoredIn("938")));
  EXPECT_TRUE(actor.scope.Reaches(StoredIn("938", {"RXH01"})));
  EXPECT_FALSE(actor.scope.Reaches(StoredIn("846")));
  EXPECT_FALSE(actor.scope.Reaches(StoredIn("850", {"RXH01"})));
}

TEST(CallerTest, AMaternitySystemsChangesReachTheChildrenItRegistered) {
  const Caller caller = Admitted(SystemCall("st-marys-maternity", kRecordDeath));
  const registry::Actor actor = caller.Actor();
  EXPECT_EQ(actor.agency_id, "st-marys-maternity");
  EXPECT_FALSE(actor.scope.everywhere);
  EXPECT_THAT(actor.scope.notifying_systems, UnorderedElementsAre("RXH01"));
  EXPECT_THAT(actor.scope.local_authorities, IsEmpty());
  EXPECT_TRUE(actor.scope.Reaches(StoredIn("938", {"RXH01"})));
  EXPECT_FALSE(actor.scope.Reaches(StoredIn("938", {"RYJ02", "RXH01"})))
      << "registered by another system, only notified again by this one";
  EXPECT_FALSE(actor.scope.Reaches(StoredIn("938", {"RYJ02"})));
  EXPECT_FALSE(actor.scope.Reaches(StoredIn("938")));
  EXPECT_FALSE(actor.scope.Reaches(StoredIn("938", {""})));

  const registry::Actor births = Admitted(SystemCall("st-marys-maternity", kRegisterBirth)).Actor();
  EXPECT_FALSE(births.scope.everywhere);
  EXPECT_THAT(births.scope.notifying_systems, UnorderedElementsAre("RXH01"));
}

TEST(CallerTest, ARecordScopeReachesWhatItNamesAndNothingElse) {
  const registry::RecordScope nothing;
  EXPECT_FALSE(nothing.Reaches(StoredIn("938", {"RXH01"})));
  EXPECT_FALSE(nothing.Reaches(StoredIn("")));
  EXPECT_TRUE(registry::RecordScope::Everywhere().Reaches(StoredIn("")));
  EXPECT_TRUE(registry::Actor{}.scope.everywhere) << "the registry's own callers";
}

// --- The policy in force -----------------------------------------------------------------------

constexpr char kOneAgency[] = R"(trust_domain: "registry.test"
agency { id: "oakfield-school" role: ROLE_SCHOOL }
)";
constexpr char kTwoAgencies[] = R"(trust_domain: "registry.test"
agency { id: "oakfield-school" role: ROLE_SCHOOL }
agency { id: "west-sussex-centres" role: ROLE_CHILDRENS_CENTRE local_authority: "938" }
)";
// Breaks a rule: a children's centre without a local authority, on line 3.
constexpr char kBroken[] = R"(trust_domain: "registry.test"
agency { id: "oakfield-school" role: ROLE_SCHOOL }
agency { id: "west-sussex-centres" role: ROLE_CHILDRENS_CENTRE }
)";

// Replaces the file at `path` whole, as an operator's editor or deployment would.
void Rewrite(const std::string& path, absl::string_view text) {
  const std::string staged = path + ".new";
  {
    std::ofstream file(staged, std::ios::trunc);
    file << text;
    ASSERT_TRUE(file.good());
  }
  ASSERT_EQ(std::rename(staged.c_str(), path.c_str()), 0);
}

TEST(PolicySourceTest, OpenReadsThePolicyFromItsFile) {
  cir::testing::TempDir dir;
  const std::string path = dir.Sub("access.textproto");
  Rewrite(path, kOneAgency);
  absl::StatusOr<std::unique_ptr<PolicySource>> source = PolicySource::Open(path);
  ASSERT_TRUE(source.ok()) << source.status();
  std::shared_ptr<const AccessPolicy> policy = (*source)->Current();
  ASSERT_NE(policy, nullptr);
  EXPECT_EQ(policy->agency_count(), 1u);
  EXPECT_NE(policy->FindAgency("oakfield-school"), nullptr);
}

TEST(PolicySourceTest, OpenOfAMissingOrBrokenFileFails) {
  cir::testing::TempDir dir;
  EXPECT_EQ(PolicySource::Open(dir.Sub("missing.textproto")).status().code(),
            absl::StatusCode::kNotFound);
  const std::string path = dir.Sub("access.textproto");
  Rewrite(path, kBroken);
  const absl::Status broken = PolicySource::Open(path).status();
  EXPECT_EQ(broken.code(), absl::StatusCode::kInvalidArgument);
  EXPECT_THAT(std::string(broken.message()), StartsWith(absl::StrCat(path, ":3: ")));
}

TEST(PolicySourceTest, AnUnchangedFileIsNotReadAgain) {
  cir::testing::TempDir dir;
  const std::string path = dir.Sub("access.textproto");
  Rewrite(path, kOneAgency);
  absl::StatusOr<std::unique_ptr<PolicySource>> source = PolicySource::Open(path);
  ASSERT_TRUE(source.ok()) << source.status();
  std::shared_ptr<const AccessPolicy> before = (*source)->Current();
  EXPECT_TRUE((*source)->ReloadIfChanged().ok());
  EXPECT_EQ((*source)->Current(), before);
}

TEST(PolicySourceTest, ReloadIfChangedPicksUpANewAgency) {
  cir::testing::TempDir dir;
  const std::string path = dir.Sub("access.textproto");
  Rewrite(path, kOneAgency);
  absl::StatusOr<std::unique_ptr<PolicySource>> source = PolicySource::Open(path);
  ASSERT_TRUE(source.ok()) << source.status();
  EXPECT_EQ((*source)->Current()->FindAgency("west-sussex-centres"), nullptr);

  Rewrite(path, kTwoAgencies);
  EXPECT_TRUE((*source)->ReloadIfChanged().ok());
  const Agency* centres = (*source)->Current()->FindAgency("west-sussex-centres");
  ASSERT_NE(centres, nullptr);
  EXPECT_THAT(centres->local_authorities, UnorderedElementsAre("938"));
  EXPECT_NE((*source)->Current()->AgencyOfUri("spiffe://registry.test/agency/west-sussex-centres"),
            nullptr);
}

TEST(PolicySourceTest, ARewriteThatBreaksARuleIsRefusedAndTheOldPolicyKept) {
  cir::testing::TempDir dir;
  const std::string path = dir.Sub("access.textproto");
  Rewrite(path, kOneAgency);
  absl::StatusOr<std::unique_ptr<PolicySource>> source = PolicySource::Open(path);
  ASSERT_TRUE(source.ok()) << source.status();
  std::shared_ptr<const AccessPolicy> before = (*source)->Current();

  Rewrite(path, kBroken);
  const absl::Status refusal = (*source)->ReloadIfChanged();
  EXPECT_EQ(refusal.code(), absl::StatusCode::kInvalidArgument);
  EXPECT_THAT(std::string(refusal.message()), StartsWith(absl::StrCat(path, ":3: ")));
  EXPECT_EQ((*source)->Current(), before);
  EXPECT_NE((*source)->Current()->FindAgency("oakfield-school"), nullptr);
  EXPECT_EQ((*source)->Current()->FindAgency("west-sussex-centres"), nullptr);

  // Nothing changed since: not read again, the old policy stays.
  EXPECT_TRUE((*source)->ReloadIfChanged().ok());
  EXPECT_EQ((*source)->Current(), before);

  // Once fixed, the file is read again.
  Rewrite(path, kTwoAgencies);
  EXPECT_TRUE((*source)->ReloadIfChanged().ok());
  EXPECT_NE((*source)->Current()->FindAgency("west-sussex-centres"), nullptr);
}

TEST(PolicySourceTest, AFileThatDisappearsKeepsTheOldPolicy) {
  cir::testing::TempDir dir;
  const std::string path = dir.Sub("access.textproto");
  Rewrite(path, kOneAgency);
  absl::StatusOr<std::unique_ptr<PolicySource>> source = PolicySource::Open(path);
  ASSERT_TRUE(source.ok()) << source.status();
  std::shared_ptr<const AccessPolicy> before = (*source)->Current();
  ASSERT_EQ(std::remove(path.c_str()), 0);
  EXPECT_FALSE((*source)->ReloadIfChanged().ok());
  EXPECT_FALSE((*source)->Reload().ok());
  EXPECT_EQ((*source)->Current(), before);
}

TEST(PolicySourceTest, ACallsPolicyTakenBeforeAReloadStaysValidAfterIt) {
  cir::testing::TempDir dir;
  const std::string path = dir.Sub("access.textproto");
  Rewrite(path, kTwoAgencies);
  absl::StatusOr<std::unique_ptr<PolicySource>> source = PolicySource::Open(path);
  ASSERT_TRUE(source.ok()) << source.status();
  const absl::StatusOr<Caller> caller = IdentifyCaller((*source)->Current(), "west-sussex-centres",
                                                       kSubscribe, std::nullopt, std::nullopt);
  ASSERT_TRUE(caller.ok()) << caller.status();

  Rewrite(path, kOneAgency);  // the centres' agency is removed
  ASSERT_TRUE((*source)->Reload().ok());
  EXPECT_EQ((*source)->Current()->FindAgency("west-sussex-centres"), nullptr);
  EXPECT_NE((*source)->Current(), caller->policy);

  // The call goes on under the policy it started with.
  ASSERT_NE(caller->agency, nullptr);
  EXPECT_EQ(caller->agency->id, "west-sussex-centres");
  EXPECT_TRUE(caller->ReadsArea("938"));
  EXPECT_EQ(caller->policy->FindAgency("west-sussex-centres"), caller->agency);
  // A new call by the removed agency is not identified.
  ExpectRefused(IdentifyCaller((*source)->Current(), "west-sussex-centres", kSubscribe,
                               std::nullopt, std::nullopt),
                absl::StatusCode::kUnauthenticated, v1::CALLER_NOT_IDENTIFIED);
}

TEST(PolicySourceTest, AFixedPolicyNeverChanges) {
  std::shared_ptr<const AccessPolicy> policy = Policy();
  PolicySource source(policy);
  EXPECT_TRUE(source.Reload().ok());
  EXPECT_TRUE(source.ReloadIfChanged().ok());
  EXPECT_EQ(source.Current(), policy);
}

}  // namespace
}  // namespace cir::access
