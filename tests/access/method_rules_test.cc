// The roles each method allows: deny by default, and the table of registry.proto's "Who may call
// what" for every method of the registry's and the feed's services.

#include "access/method_rules.h"

#include <map>
#include <set>
#include <string>
#include <vector>

#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "access/access_policy.h"
#include "cir/v1/registry.pb.h"
#include "gmock/gmock.h"
#include "google/protobuf/descriptor.h"
#include "gtest/gtest.h"

namespace cir::access {
namespace {

using google::protobuf::DescriptorPool;
using google::protobuf::MethodDescriptor;
using google::protobuf::ServiceDescriptor;

constexpr Role kEveryRole[] = {ROLE_MATERNITY,        ROLE_HEALTH_VISITING, ROLE_SCHOOL,
                               ROLE_CHILDRENS_CENTRE, ROLE_LA_DATA_TEAM,    ROLE_REGISTRAR,
                               ROLE_AUDITOR,          ROLE_OPERATOR};

// The services whose every method the table must cover.
constexpr const char* kRegistryServices[] = {"cir.v1.ChildRegistry", "cir.v1.ChildrenFeed",
                                             "cir.v1.AuditLog", "cir.v1.RegistryAdmin"};

// How a role may call a method, as the proto documents it.
struct Expected {
  bool for_person;
  bool own_records_only;
};
constexpr Expected kForPersonAnyRecord{true, false};
constexpr Expected kForPersonOwnRecords{true, true};
constexpr Expected kSystemAnyRecord{false, false};
constexpr Expected kSystemOwnRecords{false, true};

using RoleTable = std::map<Role, Expected>;

// registry.proto, "Who may call what", method by method. Calls made for a person: every call of
// health visiting/GP and local authority data teams that touches a child, and a children's
// centre's or school's single lookups (Resolve). "*": the caller's own local authorities only;
// a maternity system's informal deaths: children it notified.
const std::map<std::string, RoleTable>& DocumentedTable() {
  static const auto* table = new std::map<std::string, RoleTable>{
      {"/cir.v1.ChildRegistry/RegisterBirth", {{ROLE_MATERNITY, kSystemOwnRecords}}},
      {"/cir.v1.ChildRegistry/RegisterBirths", {{ROLE_MATERNITY, kSystemOwnRecords}}},
      {"/cir.v1.ChildRegistry/RecordDeath",
       {{ROLE_MATERNITY, kSystemOwnRecords}, {ROLE_REGISTRAR, kSystemAnyRecord}}},
      {"/cir.v1.ChildRegistry/Resolve",
       {{ROLE_HEALTH_VISITING, kForPersonAnyRecord},
        {ROLE_SCHOOL, kForPersonAnyRecord},
        {ROLE_CHILDRENS_CENTRE, kForPersonOwnRecords},
        {ROLE_LA_DATA_TEAM, kForPersonOwnRecords}}},
      {"/cir.v1.ChildRegistry/BatchResolve", {{ROLE_SCHOOL, kSystemAnyRecord}}},
      {"/cir.v1.ChildRegistry/LinkUpn", {{ROLE_SCHOOL, kSystemAnyRecord}}},
      {"/cir.v1.ChildRegistry/LinkNhsNumber", {{ROLE_HEALTH_VISITING, kForPersonAnyRecord}}},
      {"/cir.v1.ChildRegistry/ChangeAddress", {{ROLE_LA_DATA_TEAM, kForPersonOwnRecords}}},
      {"/cir.v1.ChildRegistry/CorrectDetails", {{ROLE_LA_DATA_TEAM, kForPersonOwnRecords}}},
      {"/cir.v1.ChildRegistry/SupersedeNhsNumber", {{ROLE_LA_DATA_TEAM, kForPersonOwnRecords}}},
      {"/cir.v1.ChildRegistry/MergeRecords", {{ROLE_LA_DATA_TEAM, kForPersonOwnRecords}}},
      {"/cir.v1.ChildRegistry/UndoMerge", {{ROLE_LA_DATA_TEAM, kForPersonOwnRecords}}},
      {"/cir.v1.ChildRegistry/RestrictSharing", {{ROLE_LA_DATA_TEAM, kForPersonOwnRecords}}},
      {"/cir.v1.ChildRegistry/DescribeRegistry",
       {{ROLE_MATERNITY, kSystemAnyRecord},
        {ROLE_HEALTH_VISITING, kSystemAnyRecord},
        {ROLE_SCHOOL, kSystemAnyRecord},
        {ROLE_CHILDRENS_CENTRE, kSystemAnyRecord},
        {ROLE_LA_DATA_TEAM, kSystemAnyRecord},
        {ROLE_REGISTRAR, kSystemAnyRecord},
        {ROLE_AUDITOR, kSystemAnyRecord},
        {ROLE_OPERATOR, kSystemAnyRecord}}},
      {"/cir.v1.ChildrenFeed/Subscribe", {{ROLE_CHILDRENS_CENTRE, kSystemOwnRecords}}},
      {"/cir.v1.ChildrenFeed/ListEvents", {{ROLE_CHILDRENS_CENTRE, kSystemOwnRecords}}},
      {"/cir.v1.AuditLog/ReadEntries", {{ROLE_AUDITOR, kForPersonAnyRecord}}},
      {"/cir.v1.AuditLog/ListCheckpoints", {{ROLE_AUDITOR, kForPersonAnyRecord}}},
      {"/cir.v1.AuditLog/ProveConsistency", {{ROLE_AUDITOR, kForPersonAnyRecord}}},
      {"/cir.v1.AuditLog/GetAccessReport", {{ROLE_AUDITOR, kForPersonAnyRecord}}},
      {"/cir.v1.RegistryAdmin/BackUp", {{ROLE_OPERATOR, kSystemAnyRecord}}},
  };
  return *table;
}

// An agency holding exactly `roles`.
Agency AgencyWith(std::initializer_list<Role> roles) {
  Agency agency;
  agency.id = "some-agency";
  agency.roles.insert(roles.begin(), roles.end());
  return agency;
}

// "/cir.v1.ChildRegistry/Resolve", the gRPC path of a method.
std::string PathOf(const MethodDescriptor& method) {
  return absl::StrCat("/", method.service()->full_name(), "/", method.name());
}

// Every method of the registry's and the feed's services, as the proto defines them.
std::vector<std::string> ProtoMethods() {
  // Touch the generated file so that its descriptors are in the generated pool.
  (void)v1::ChildRecord::descriptor();
  std::vector<std::string> paths;
  for (const char* name : kRegistryServices) {
    const ServiceDescriptor* service = DescriptorPool::generated_pool()->FindServiceByName(name);
    EXPECT_NE(service, nullptr) << name;
    if (service == nullptr) continue;
    for (int i = 0; i < service->method_count(); ++i) paths.push_back(PathOf(*service->method(i)));
  }
  return paths;
}

const MethodRule* RuleFor(absl::string_view path) {
  for (const MethodRule& rule : AllMethodRules()) {
    if (rule.method == path) return &rule;
  }
  return nullptr;
}

TEST(MethodRulesTest, TheProtoDefinesTheServicesTheTableCovers) {
  const std::vector<std::string> methods = ProtoMethods();
  EXPECT_GE(methods.size(), DocumentedTable().size());
  EXPECT_THAT(methods, ::testing::Contains("/cir.v1.ChildRegistry/Resolve"));
  EXPECT_THAT(methods, ::testing::Contains("/cir.v1.ChildrenFeed/Subscribe"));
}

// --- Deny by default ---------------------------------------------------------------------------

TEST(MethodRulesTest, AnUnknownMethodGrantsNothingEvenToAnAgencyWithEveryRole) {
  const Agency agency =
      AgencyWith({ROLE_MATERNITY, ROLE_HEALTH_VISITING, ROLE_SCHOOL, ROLE_CHILDRENS_CENTRE,
                  ROLE_LA_DATA_TEAM, ROLE_REGISTRAR, ROLE_AUDITOR, ROLE_OPERATOR});
  for (const char* method :
       {"/cir.v1.ChildRegistry/DeleteEverything", "/cir.v1.ChildRegistry/resolve",
        "/cir.v1.childregistry/Resolve", "cir.v1.ChildRegistry/Resolve",
        "/cir.v1.ChildRegistry/Resolve/", "/cir.v1.ChildRegistry/Resolve ",
        "/cir.v2.ChildRegistry/Resolve", "/ChildRegistry/Resolve", "/cir.v1.ChildRegistry/",
        "/cir.v1.ChildRegistry", "Resolve", "", "/"}) {
    const MethodGrant grant = GrantFor(agency, method);
    EXPECT_FALSE(grant.allowed()) << method;
    EXPECT_TRUE(grant.grants.empty()) << method;
    EXPECT_FALSE(grant.for_person()) << method;
  }
}

TEST(MethodRulesTest, AnAgencyWithoutRolesMayCallNothing) {
  const Agency agency = AgencyWith({});
  for (const MethodRule& rule : AllMethodRules()) {
    EXPECT_FALSE(GrantFor(agency, rule.method).allowed()) << rule.method;
  }
  EXPECT_FALSE(GrantFor(AgencyWith({ROLE_UNSPECIFIED}), "/cir.v1.ChildRegistry/Resolve").allowed());
}

TEST(MethodRulesTest, ARoleNotListedForAMethodMayNotCallIt) {
  EXPECT_FALSE(GrantFor(AgencyWith({ROLE_MATERNITY}), "/cir.v1.ChildRegistry/Resolve").allowed());
  EXPECT_FALSE(
      GrantFor(AgencyWith({ROLE_SCHOOL}), "/cir.v1.ChildRegistry/ChangeAddress").allowed());
  EXPECT_FALSE(
      GrantFor(AgencyWith({ROLE_LA_DATA_TEAM}), "/cir.v1.ChildrenFeed/Subscribe").allowed());
  EXPECT_FALSE(
      GrantFor(AgencyWith({ROLE_REGISTRAR}), "/cir.v1.ChildRegistry/RegisterBirth").allowed());
}

// --- The documented table ----------------------------------------------------------------------

TEST(MethodRulesTest, EveryMethodOfTheRegistrysServicesHasARule) {
  for (const std::string& method : ProtoMethods()) {
    EXPECT_NE(RuleFor(method), nullptr)
        << method << " is in the proto but has no rule in access/method_rules.cc";
    EXPECT_TRUE(DocumentedTable().contains(method))
        << method << " is in the proto but not in this test's copy of \"Who may call what\"";
  }
}

TEST(MethodRulesTest, EveryRuleForTheRegistryAndTheFeedNamesAMethodOfTheProto) {
  const std::vector<std::string> methods = ProtoMethods();
  const std::set<std::string> known(methods.begin(), methods.end());
  for (const MethodRule& rule : AllMethodRules()) {
    for (const char* service : kRegistryServices) {
      if (absl::StartsWith(rule.method, absl::StrCat("/", service, "/"))) {
        EXPECT_TRUE(known.contains(std::string(rule.method)))
            << rule.method << " has a rule but is no method of the proto";
      }
    }
  }
}

TEST(MethodRulesTest, EachMethodHasOneRuleAndEachRoleOneGrantInIt) {
  std::set<std::string> seen;
  for (const MethodRule& rule : AllMethodRules()) {
    EXPECT_TRUE(seen.insert(std::string(rule.method)).second) << rule.method << " listed twice";
    EXPECT_FALSE(rule.grants.empty()) << rule.method;
    std::set<Role> roles;
    for (const RoleGrant& grant : rule.grants) {
      EXPECT_NE(grant.role, ROLE_UNSPECIFIED) << rule.method;
      EXPECT_TRUE(roles.insert(grant.role).second)
          << rule.method << ": " << Role_Name(grant.role) << " listed twice";
    }
  }
}

TEST(MethodRulesTest, TheTableMatchesWhoMayCallWhatRoleByRoleForEveryMethod) {
  for (const std::string& method : ProtoMethods()) {
    auto documented = DocumentedTable().find(method);
    if (documented == DocumentedTable().end()) continue;  // reported above
    for (Role role : kEveryRole) {
      SCOPED_TRACE(absl::StrCat(method, " by ", Role_Name(role)));
      const MethodGrant grant = GrantFor(AgencyWith({role}), method);
      auto expected = documented->second.find(role);
      if (expected == documented->second.end()) {
        EXPECT_FALSE(grant.allowed()) << "a role the proto does not list may call it";
        continue;
      }
      ASSERT_TRUE(grant.allowed()) << "a role the proto lists may not call it";
      ASSERT_EQ(grant.grants.size(), 1u);
      EXPECT_EQ(grant.grants[0].role, role);
      EXPECT_TRUE(grant.GrantsRole(role));
      EXPECT_EQ(grant.grants[0].for_person, expected->second.for_person) << "for a person";
      EXPECT_EQ(grant.for_person(), expected->second.for_person) << "for a person";
      EXPECT_EQ(grant.grants[0].own_records_only, expected->second.own_records_only)
          << "own records only";
    }
  }
}

TEST(MethodRulesTest, OperatorsAndAuditorsMayCallNoRegistryMethodButDescribeRegistry) {
  for (const std::string& method : ProtoMethods()) {
    // The methods about children: the audit log's are the auditors', the backups the operators'.
    if (!absl::StartsWith(method, "/cir.v1.ChildRegistry/") &&
        !absl::StartsWith(method, "/cir.v1.ChildrenFeed/")) {
      continue;
    }
    const bool describe = method == "/cir.v1.ChildRegistry/DescribeRegistry";
    EXPECT_EQ(GrantFor(AgencyWith({ROLE_OPERATOR}), method).allowed(), describe) << method;
    EXPECT_EQ(GrantFor(AgencyWith({ROLE_AUDITOR}), method).allowed(), describe) << method;
    EXPECT_EQ(GrantFor(AgencyWith({ROLE_OPERATOR, ROLE_AUDITOR}), method).allowed(), describe)
        << method;
  }
}

TEST(MethodRulesTest, OnlyLocalAuthorityRolesAndMaternityAreHeldToTheirOwnRecords) {
  for (const MethodRule& rule : AllMethodRules()) {
    for (const RoleGrant& grant : rule.grants) {
      if (!grant.own_records_only) continue;
      EXPECT_TRUE(grant.role == ROLE_CHILDRENS_CENTRE || grant.role == ROLE_LA_DATA_TEAM ||
                  grant.role == ROLE_MATERNITY)
          << rule.method << ": " << Role_Name(grant.role);
    }
  }
}

// --- Calls for a person ------------------------------------------------------------------------

TEST(MethodRulesTest, ASchoolsSingleLookupIsForAPersonAndItsCensusIsNot) {
  const Agency school = AgencyWith({ROLE_SCHOOL});
  EXPECT_TRUE(GrantFor(school, "/cir.v1.ChildRegistry/Resolve").for_person());
  EXPECT_FALSE(GrantFor(school, "/cir.v1.ChildRegistry/BatchResolve").for_person());
  EXPECT_FALSE(GrantFor(school, "/cir.v1.ChildRegistry/LinkUpn").for_person());
}

TEST(MethodRulesTest, AChildrensCentresLookupIsForAPersonAndItsFeedIsNot) {
  const Agency centre = AgencyWith({ROLE_CHILDRENS_CENTRE});
  EXPECT_TRUE(GrantFor(centre, "/cir.v1.ChildRegistry/Resolve").for_person());
  EXPECT_FALSE(GrantFor(centre, "/cir.v1.ChildrenFeed/Subscribe").for_person());
  EXPECT_FALSE(GrantFor(centre, "/cir.v1.ChildrenFeed/ListEvents").for_person());
}

TEST(MethodRulesTest, EveryCallOfHealthVisitingAndDataTeamsOnAChildIsForAPerson) {
  for (const std::string& method : ProtoMethods()) {
    if (method == "/cir.v1.ChildRegistry/DescribeRegistry") continue;  // reads no child
    for (Role role : {ROLE_HEALTH_VISITING, ROLE_LA_DATA_TEAM}) {
      const MethodGrant grant = GrantFor(AgencyWith({role}), method);
      if (grant.allowed()) {
        EXPECT_TRUE(grant.for_person()) << method << " " << Role_Name(role);
      }
    }
  }
}

TEST(MethodRulesTest, SystemsOwnCallsAreNotForAPerson) {
  EXPECT_FALSE(
      GrantFor(AgencyWith({ROLE_MATERNITY}), "/cir.v1.ChildRegistry/RegisterBirth").for_person());
  EXPECT_FALSE(
      GrantFor(AgencyWith({ROLE_MATERNITY}), "/cir.v1.ChildRegistry/RecordDeath").for_person());
  EXPECT_FALSE(
      GrantFor(AgencyWith({ROLE_REGISTRAR}), "/cir.v1.ChildRegistry/RecordDeath").for_person());
  for (Role role : kEveryRole) {
    EXPECT_FALSE(
        GrantFor(AgencyWith({role}), "/cir.v1.ChildRegistry/DescribeRegistry").for_person())
        << Role_Name(role);
  }
}

// --- Agencies with several roles ---------------------------------------------------------------

TEST(MethodRulesTest, AnAgencyWithSeveralRolesGetsTheGrantOfEachRoleThatMayCall) {
  const Agency agency = AgencyWith({ROLE_HEALTH_VISITING, ROLE_CHILDRENS_CENTRE, ROLE_MATERNITY});
  const MethodGrant resolve = GrantFor(agency, "/cir.v1.ChildRegistry/Resolve");
  ASSERT_TRUE(resolve.allowed());
  EXPECT_EQ(resolve.grants.size(), 2u);
  EXPECT_TRUE(resolve.GrantsRole(ROLE_HEALTH_VISITING));
  EXPECT_TRUE(resolve.GrantsRole(ROLE_CHILDRENS_CENTRE));
  EXPECT_FALSE(resolve.GrantsRole(ROLE_MATERNITY)) << "a maternity system may not resolve";
  EXPECT_TRUE(resolve.for_person());

  const MethodGrant feed = GrantFor(agency, "/cir.v1.ChildrenFeed/Subscribe");
  ASSERT_EQ(feed.grants.size(), 1u);
  EXPECT_EQ(feed.grants[0].role, ROLE_CHILDRENS_CENTRE);

  const MethodGrant birth = GrantFor(agency, "/cir.v1.ChildRegistry/RegisterBirth");
  ASSERT_EQ(birth.grants.size(), 1u);
  EXPECT_EQ(birth.grants[0].role, ROLE_MATERNITY);
}

TEST(MethodRulesTest, AGrantIsForAPersonWhenAnyOfItsRolesCallsForOne) {
  const Agency agency = AgencyWith({ROLE_SCHOOL, ROLE_REGISTRAR});
  // A school's Resolve is for a person; nothing the registrar does is: the call needs one.
  const MethodGrant resolve = GrantFor(agency, "/cir.v1.ChildRegistry/Resolve");
  EXPECT_TRUE(resolve.for_person());
  MethodGrant mixed{.grants = {{ROLE_REGISTRAR, false, false}, {ROLE_SCHOOL, true, false}}};
  EXPECT_TRUE(mixed.for_person());
  MethodGrant systems{.grants = {{ROLE_REGISTRAR, false, false}, {ROLE_SCHOOL, false, false}}};
  EXPECT_FALSE(systems.for_person());
  EXPECT_FALSE(MethodGrant{}.for_person());
  EXPECT_FALSE(MethodGrant{}.GrantsRole(ROLE_SCHOOL));
}

// --- Services other than the registry's --------------------------------------------------------

TEST(MethodRulesTest, EveryRoleMayCheckHealthAndOnlyOperatorsMayWatchItOrReflect) {
  for (Role role : kEveryRole) {
    EXPECT_TRUE(GrantFor(AgencyWith({role}), "/grpc.health.v1.Health/Check").allowed())
        << Role_Name(role);
    const bool operator_role = role == ROLE_OPERATOR;
    EXPECT_EQ(GrantFor(AgencyWith({role}), "/grpc.health.v1.Health/Watch").allowed(), operator_role)
        << Role_Name(role);
    EXPECT_EQ(GrantFor(AgencyWith({role}),
                       "/grpc.reflection.v1alpha.ServerReflection/ServerReflectionInfo")
                  .allowed(),
              operator_role)
        << Role_Name(role);
  }
}

}  // namespace
}  // namespace cir::access
