// The access configuration: what parses, which certificate URIs name an agency, and every rule's
// refusal naming the file and the line to fix.

#include "access/access_policy.h"

#include <fstream>
#include <initializer_list>
#include <memory>
#include <string>

#include "absl/status/status.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "tests/testing/temp_dir.h"

namespace cir::access {
namespace {

using ::testing::HasSubstr;
using ::testing::StartsWith;
using ::testing::UnorderedElementsAre;

constexpr char kSource[] = "/etc/cir/access.textproto";

// Lines of a configuration, joined so that the first is line 1.
std::string Lines(std::initializer_list<const char*> lines) { return absl::StrJoin(lines, "\n"); }

// "<source>:<line>: ", how a refusal names where to fix.
std::string At(int line) { return absl::StrCat(kSource, ":", line, ": "); }

absl::Status RefusalOf(const std::string& text) {
  absl::StatusOr<std::shared_ptr<const AccessPolicy>> policy = AccessPolicy::Parse(text, kSource);
  if (policy.ok()) return absl::OkStatus();
  return policy.status();
}

// One agency of each role, and one with two roles.
const std::string& EveryRole() {
  static const std::string* text = new std::string(R"(trust_domain: "registry.test"
agency {
  id: "st-marys-maternity"
  name: "St Mary's maternity system"
  role: ROLE_MATERNITY
  notifying_system: "rxh01"
  notifying_system: "RYJ02"
}
agency {
  id: "health-visiting"
  role: ROLE_HEALTH_VISITING
}
agency {
  id: "oakfield-school"
  role: ROLE_SCHOOL
}
agency {
  id: "west-sussex-centres"
  role: ROLE_CHILDRENS_CENTRE
  local_authority: "938"
}
agency {
  id: "west-sussex-data-team"
  role: ROLE_LA_DATA_TEAM
  local_authority: "938"
  local_authority: "846"
}
agency {
  id: "registrar"
  role: ROLE_REGISTRAR
}
agency {
  id: "auditor"
  role: ROLE_AUDITOR
}
agency {
  id: "operator"
  role: ROLE_OPERATOR
}
agency {
  id: "county-services-7"
  role: ROLE_CHILDRENS_CENTRE
  role: ROLE_LA_DATA_TEAM
  local_authority: "846"
}
)");
  return *text;
}

std::shared_ptr<const AccessPolicy> EveryRolePolicy() {
  absl::StatusOr<std::shared_ptr<const AccessPolicy>> policy =
      AccessPolicy::Parse(EveryRole(), kSource);
  EXPECT_TRUE(policy.ok()) << policy.status();
  return policy.ok() ? *policy : nullptr;
}

// --- A valid configuration ---------------------------------------------------------------------

TEST(AccessPolicyTest, AValidConfigurationWithEveryRoleParses) {
  std::shared_ptr<const AccessPolicy> policy = EveryRolePolicy();
  ASSERT_NE(policy, nullptr);
  EXPECT_EQ(policy->trust_domain(), "registry.test");
  EXPECT_EQ(policy->agency_count(), 9u);

  const Agency* maternity = policy->FindAgency("st-marys-maternity");
  ASSERT_NE(maternity, nullptr);
  EXPECT_EQ(maternity->id, "st-marys-maternity");
  EXPECT_EQ(maternity->name, "St Mary's maternity system");
  EXPECT_THAT(maternity->roles, UnorderedElementsAre(ROLE_MATERNITY));
  EXPECT_THAT(maternity->notifying_systems, UnorderedElementsAre("RXH01", "RYJ02"))
      << "ODS codes are kept in upper case";
  EXPECT_TRUE(maternity->local_authorities.empty());

  const Agency* data_team = policy->FindAgency("west-sussex-data-team");
  ASSERT_NE(data_team, nullptr);
  EXPECT_THAT(data_team->roles, UnorderedElementsAre(ROLE_LA_DATA_TEAM));
  EXPECT_THAT(data_team->local_authorities, UnorderedElementsAre("938", "846"));
  EXPECT_TRUE(data_team->notifying_systems.empty());

  const Agency* centres = policy->FindAgency("west-sussex-centres");
  ASSERT_NE(centres, nullptr);
  EXPECT_THAT(centres->local_authorities, UnorderedElementsAre("938"));

  const Agency* both = policy->FindAgency("county-services-7");
  ASSERT_NE(both, nullptr);
  EXPECT_THAT(both->roles, UnorderedElementsAre(ROLE_CHILDRENS_CENTRE, ROLE_LA_DATA_TEAM));
  EXPECT_TRUE(both->HasRole(ROLE_LA_DATA_TEAM));
  EXPECT_FALSE(both->HasRole(ROLE_SCHOOL));

  for (const auto& [id, role] : std::initializer_list<std::pair<const char*, Role>>{
           {"health-visiting", ROLE_HEALTH_VISITING},
           {"oakfield-school", ROLE_SCHOOL},
           {"registrar", ROLE_REGISTRAR},
           {"auditor", ROLE_AUDITOR},
           {"operator", ROLE_OPERATOR}}) {
    const Agency* agency = policy->FindAgency(id);
    ASSERT_NE(agency, nullptr) << id;
    EXPECT_THAT(agency->roles, UnorderedElementsAre(role)) << id;
    EXPECT_TRUE(agency->local_authorities.empty()) << id;
    EXPECT_TRUE(agency->notifying_systems.empty()) << id;
  }
}

TEST(AccessPolicyTest, AConfigurationWithoutAgenciesParsesAndKnowsNoOne) {
  absl::StatusOr<std::shared_ptr<const AccessPolicy>> policy =
      AccessPolicy::Parse(R"(trust_domain: "registry.test")", kSource);
  ASSERT_TRUE(policy.ok()) << policy.status();
  EXPECT_EQ((*policy)->agency_count(), 0u);
  EXPECT_EQ((*policy)->FindAgency("oakfield-school"), nullptr);
}

TEST(AccessPolicyTest, EveryAgencyIsFoundByItsIdAndByItsCertificateUri) {
  std::shared_ptr<const AccessPolicy> policy = EveryRolePolicy();
  ASSERT_NE(policy, nullptr);
  for (const char* id :
       {"st-marys-maternity", "health-visiting", "oakfield-school", "west-sussex-centres",
        "west-sussex-data-team", "registrar", "auditor", "operator", "county-services-7"}) {
    const Agency* by_id = policy->FindAgency(id);
    ASSERT_NE(by_id, nullptr) << id;
    EXPECT_EQ(by_id->id, id);
    EXPECT_EQ(policy->AgencyOfUri(absl::StrCat("spiffe://registry.test/agency/", id)), by_id) << id;
  }
}

TEST(AccessPolicyTest, AnUnknownIdIsFoundNeitherByIdNorByUri) {
  std::shared_ptr<const AccessPolicy> policy = EveryRolePolicy();
  ASSERT_NE(policy, nullptr);
  EXPECT_EQ(policy->FindAgency("no-such-agency"), nullptr);
  EXPECT_EQ(policy->FindAgency(""), nullptr);
  EXPECT_EQ(policy->FindAgency("Oakfield-School"), nullptr) << "ids are matched exactly";
  EXPECT_EQ(policy->AgencyOfUri("spiffe://registry.test/agency/no-such-agency"), nullptr);
}

// --- URIs that name no agency ------------------------------------------------------------------

TEST(AccessPolicyTest, AUriOfAnotherTrustDomainNamesNoAgency) {
  std::shared_ptr<const AccessPolicy> policy = EveryRolePolicy();
  ASSERT_NE(policy, nullptr);
  EXPECT_EQ(policy->AgencyOfUri("spiffe://registry.other/agency/oakfield-school"), nullptr);
  EXPECT_EQ(policy->AgencyOfUri("spiffe://evil.registry.test/agency/oakfield-school"), nullptr);
  EXPECT_EQ(policy->AgencyOfUri("spiffe://registry/agency/oakfield-school"), nullptr);
}

TEST(AccessPolicyTest, AUriWhoseTrustDomainOnlyBeginsWithOursNamesNoAgency) {
  std::shared_ptr<const AccessPolicy> policy = EveryRolePolicy();
  ASSERT_NE(policy, nullptr);
  EXPECT_EQ(policy->AgencyOfUri("spiffe://registry.test.evil/agency/oakfield-school"), nullptr);
  EXPECT_EQ(policy->AgencyOfUri("spiffe://registry.testx/agency/oakfield-school"), nullptr);
  EXPECT_EQ(policy->AgencyOfUri("spiffe://registry.test:443/agency/oakfield-school"), nullptr);
  EXPECT_EQ(policy->AgencyOfUri("spiffe://user@registry.test/agency/oakfield-school"), nullptr);
}

TEST(AccessPolicyTest, AUriWithAnythingAfterTheIdNamesNoAgency) {
  std::shared_ptr<const AccessPolicy> policy = EveryRolePolicy();
  ASSERT_NE(policy, nullptr);
  EXPECT_EQ(policy->AgencyOfUri("spiffe://registry.test/agency/oakfield-school/extra"), nullptr);
  EXPECT_EQ(policy->AgencyOfUri("spiffe://registry.test/agency/oakfield-school/"), nullptr);
  EXPECT_EQ(policy->AgencyOfUri("spiffe://registry.test/agency/oakfield-school?x=1"), nullptr);
  EXPECT_EQ(policy->AgencyOfUri("spiffe://registry.test/agency/oakfield-school#x"), nullptr);
  EXPECT_EQ(policy->AgencyOfUri("spiffe://registry.test/agency/oakfield-school "), nullptr);
}

TEST(AccessPolicyTest, AUriWithoutAnIdNamesNoAgency) {
  std::shared_ptr<const AccessPolicy> policy = EveryRolePolicy();
  ASSERT_NE(policy, nullptr);
  EXPECT_EQ(policy->AgencyOfUri("spiffe://registry.test/agency/"), nullptr);
  EXPECT_EQ(policy->AgencyOfUri("spiffe://registry.test/agency"), nullptr);
  EXPECT_EQ(policy->AgencyOfUri("spiffe://registry.test/"), nullptr);
  EXPECT_EQ(policy->AgencyOfUri("spiffe://registry.test"), nullptr);
  EXPECT_EQ(policy->AgencyOfUri(""), nullptr);
}

TEST(AccessPolicyTest, AUriOfAnotherShapeNamesNoAgency) {
  std::shared_ptr<const AccessPolicy> policy = EveryRolePolicy();
  ASSERT_NE(policy, nullptr);
  EXPECT_EQ(policy->AgencyOfUri("SPIFFE://registry.test/agency/oakfield-school"), nullptr);
  EXPECT_EQ(policy->AgencyOfUri("spiffe://REGISTRY.TEST/agency/oakfield-school"), nullptr);
  EXPECT_EQ(policy->AgencyOfUri("spiffe://registry.test/AGENCY/oakfield-school"), nullptr);
  EXPECT_EQ(policy->AgencyOfUri("spiffe://registry.test/agency/OAKFIELD-SCHOOL"), nullptr);
  EXPECT_EQ(policy->AgencyOfUri("https://registry.test/agency/oakfield-school"), nullptr);
  EXPECT_EQ(policy->AgencyOfUri(" spiffe://registry.test/agency/oakfield-school"), nullptr);
  EXPECT_EQ(policy->AgencyOfUri("spiffe://registry.test//agency/oakfield-school"), nullptr);
  EXPECT_EQ(policy->AgencyOfUri("spiffe://registry.test/agencies/oakfield-school"), nullptr);
  EXPECT_EQ(policy->AgencyOfUri("spiffe://registry.test/x/agency/oakfield-school"), nullptr);
  EXPECT_EQ(policy->AgencyOfUri("oakfield-school"), nullptr);
}

// --- Every rule, refused with the line to fix --------------------------------------------------

TEST(AccessPolicyTest, ADuplicateAgencyIsRefusedNamingBothLines) {
  const absl::Status refusal = RefusalOf(Lines({
      R"(trust_domain: "registry.test")",  // 1
      "agency {",                          // 2
      R"(  id: "oakfield-school")",        // 3
      "  role: ROLE_SCHOOL",               // 4
      "}",                                 // 5
      "agency {",                          // 6
      R"(  id: "health-visiting")",        // 7
      "  role: ROLE_HEALTH_VISITING }",    // 8
      "agency {",                          // 9
      R"(  id: "oakfield-school")",        // 10
      "  role: ROLE_SCHOOL",               // 11
      "}",                                 // 12
  }));
  EXPECT_EQ(refusal.code(), absl::StatusCode::kInvalidArgument);
  EXPECT_THAT(std::string(refusal.message()), StartsWith(At(9)));
  EXPECT_THAT(std::string(refusal.message()), HasSubstr(absl::StrCat("first at ", kSource, ":2")));
  EXPECT_THAT(std::string(refusal.message()), HasSubstr("\"oakfield-school\""));
}

TEST(AccessPolicyTest, ABadLocalAuthorityIsRefusedNamingItsLine) {
  for (const char* bad : {"93", "9380", "038", "abc", "", "E10000032"}) {
    SCOPED_TRACE(bad);
    const std::string text = Lines({
                                 R"(trust_domain: "registry.test")",  // 1
                                 "agency {",                          // 2
                                 R"(  id: "west-sussex-centres")",    // 3
                                 "  role: ROLE_CHILDRENS_CENTRE",     // 4
                                 R"(  local_authority: "938")",       // 5
                             }) +
                             absl::StrCat("\n  local_authority: \"", bad, "\"\n}\n");  // 6, 7
    const absl::Status refusal = RefusalOf(text);
    EXPECT_EQ(refusal.code(), absl::StatusCode::kInvalidArgument);
    EXPECT_THAT(std::string(refusal.message()), StartsWith(At(6)));
    EXPECT_THAT(std::string(refusal.message()), HasSubstr("local_authority"));
  }
}

TEST(AccessPolicyTest, AChildrensCentreWithoutALocalAuthorityIsRefusedNamingItsIdLine) {
  const absl::Status refusal = RefusalOf(Lines({
      R"(trust_domain: "registry.test")",  // 1
      "",                                  // 2
      "agency {",                          // 3
      R"(  id: "west-sussex-centres")",    // 4
      "  role: ROLE_CHILDRENS_CENTRE",     // 5
      "}",                                 // 6
  }));
  EXPECT_EQ(refusal.code(), absl::StatusCode::kInvalidArgument);
  EXPECT_THAT(std::string(refusal.message()), StartsWith(At(4)));
  EXPECT_THAT(std::string(refusal.message()), HasSubstr("local_authority"));
}

TEST(AccessPolicyTest, ALocalAuthorityDataTeamWithoutALocalAuthorityIsRefusedNamingItsIdLine) {
  const absl::Status refusal = RefusalOf(Lines({
      R"(trust_domain: "registry.test")",  // 1
      "agency {",                          // 2
      "  role: ROLE_LA_DATA_TEAM",         // 3
      R"(  id: "west-sussex-data-team")",  // 4
      "}",                                 // 5
  }));
  EXPECT_EQ(refusal.code(), absl::StatusCode::kInvalidArgument);
  EXPECT_THAT(std::string(refusal.message()), StartsWith(At(4)));
  EXPECT_THAT(std::string(refusal.message()), HasSubstr("local_authority"));
}

TEST(AccessPolicyTest, AMaternitySystemWithoutANotifyingSystemIsRefusedNamingItsIdLine) {
  const absl::Status refusal = RefusalOf(Lines({
      R"(trust_domain: "registry.test")",  // 1
      "agency {",                          // 2
      R"(  id: "st-marys-maternity")",     // 3
      "  role: ROLE_MATERNITY",            // 4
      "}",                                 // 5
  }));
  EXPECT_EQ(refusal.code(), absl::StatusCode::kInvalidArgument);
  EXPECT_THAT(std::string(refusal.message()), StartsWith(At(3)));
  EXPECT_THAT(std::string(refusal.message()), HasSubstr("notifying_system"));
}

TEST(AccessPolicyTest, ALocalAuthorityOnASchoolIsRefusedNamingItsLine) {
  const absl::Status refusal = RefusalOf(Lines({
      R"(trust_domain: "registry.test")",  // 1
      "agency {",                          // 2
      R"(  id: "oakfield-school")",        // 3
      "  role: ROLE_SCHOOL",               // 4
      R"(  local_authority: "938")",       // 5
      "}",                                 // 6
  }));
  EXPECT_EQ(refusal.code(), absl::StatusCode::kInvalidArgument);
  EXPECT_THAT(std::string(refusal.message()), StartsWith(At(5)));
  EXPECT_THAT(std::string(refusal.message()), HasSubstr("local_authority"));
}

TEST(AccessPolicyTest, ALocalAuthorityOnAMaternitySystemIsRefusedNamingItsLine) {
  const absl::Status refusal = RefusalOf(Lines({
      R"(trust_domain: "registry.test")",  // 1
      "agency {",                          // 2
      R"(  id: "st-marys-maternity")",     // 3
      "  role: ROLE_MATERNITY",            // 4
      R"(  notifying_system: "RXH01")",    // 5
      R"(  local_authority: "938")",       // 6
      "}",                                 // 7
  }));
  EXPECT_EQ(refusal.code(), absl::StatusCode::kInvalidArgument);
  EXPECT_THAT(std::string(refusal.message()), StartsWith(At(6)));
  EXPECT_THAT(std::string(refusal.message()), HasSubstr("local_authority"));
}

TEST(AccessPolicyTest, ANotifyingSystemOnAnAgencyThatIsNotMaternityIsRefusedNamingItsLine) {
  for (const char* role : {"ROLE_HEALTH_VISITING", "ROLE_SCHOOL", "ROLE_REGISTRAR"}) {
    SCOPED_TRACE(role);
    const std::string text = Lines({
                                 R"(trust_domain: "registry.test")",  // 1
                                 "agency {",                          // 2
                                 R"(  id: "some-agency")",            // 3
                             }) +
                             absl::StrCat("\n  role: ", role, "\n") +  // 4
                             Lines({
                                 R"(  notifying_system: "RXH01")",  // 5
                                 "}",                               // 6
                             });
    const absl::Status refusal = RefusalOf(text);
    EXPECT_EQ(refusal.code(), absl::StatusCode::kInvalidArgument);
    EXPECT_THAT(std::string(refusal.message()), StartsWith(At(5)));
    EXPECT_THAT(std::string(refusal.message()), HasSubstr("notifying_system"));
  }
}

TEST(AccessPolicyTest, ABadNotifyingSystemIsRefusedNamingItsLine) {
  for (const char* bad : {"RX", "RXH01-2", "RXH 01", "", "ABCDEFGHIJK"}) {
    SCOPED_TRACE(bad);
    const std::string text = Lines({
                                 R"(trust_domain: "registry.test")",  // 1
                                 "agency {",                          // 2
                                 R"(  id: "st-marys-maternity")",     // 3
                                 "  role: ROLE_MATERNITY",            // 4
                             }) +
                             absl::StrCat("\n  notifying_system: \"", bad, "\"\n}\n");  // 5
    const absl::Status refusal = RefusalOf(text);
    EXPECT_EQ(refusal.code(), absl::StatusCode::kInvalidArgument);
    EXPECT_THAT(std::string(refusal.message()), StartsWith(At(5)));
    EXPECT_THAT(std::string(refusal.message()), HasSubstr("notifying_system"));
  }
}

TEST(AccessPolicyTest, RoleUnspecifiedIsRefusedNamingItsLine) {
  const absl::Status refusal = RefusalOf(Lines({
      R"(trust_domain: "registry.test")",  // 1
      "agency {",                          // 2
      R"(  id: "oakfield-school")",        // 3
      "  role: ROLE_SCHOOL",               // 4
      "  role: ROLE_UNSPECIFIED",          // 5
      "}",                                 // 6
  }));
  EXPECT_EQ(refusal.code(), absl::StatusCode::kInvalidArgument);
  EXPECT_THAT(std::string(refusal.message()), StartsWith(At(5)));
  EXPECT_THAT(std::string(refusal.message()), HasSubstr("ROLE_UNSPECIFIED"));
}

TEST(AccessPolicyTest, ARoleGivenTwiceIsRefusedNamingTheSecondLine) {
  const absl::Status refusal = RefusalOf(Lines({
      R"(trust_domain: "registry.test")",  // 1
      "agency {",                          // 2
      R"(  id: "oakfield-school")",        // 3
      "  role: ROLE_SCHOOL",               // 4
      "  role: ROLE_HEALTH_VISITING",      // 5
      "  role: ROLE_SCHOOL",               // 6
      "}",                                 // 7
  }));
  EXPECT_EQ(refusal.code(), absl::StatusCode::kInvalidArgument);
  EXPECT_THAT(std::string(refusal.message()), StartsWith(At(6)));
  EXPECT_THAT(std::string(refusal.message()), HasSubstr("ROLE_SCHOOL"));
}

// The parser records one place per occurrence of a field, and a list is one: a value of a list
// is named by the line where its list begins, never by the file alone. (Found by fuzzing:
// tests/fuzz/corpus/access_config/role-twice-in-list.)
TEST(AccessPolicyTest, AValueOfAListIsRefusedNamingTheListsLine) {
  const absl::Status role = RefusalOf(Lines({
      R"(trust_domain: "registry.test")",      // 1
      "agency {",                              // 2
      R"(  id: "oakfield-school")",            // 3
      "  role: [ROLE_SCHOOL, ROLE_SCHOOL]",    // 4
      "}",                                     // 5
  }));
  EXPECT_EQ(role.code(), absl::StatusCode::kInvalidArgument);
  EXPECT_THAT(std::string(role.message()), StartsWith(At(4)));
  EXPECT_THAT(std::string(role.message()), HasSubstr("ROLE_SCHOOL"));

  const absl::Status area = RefusalOf(Lines({
      R"(trust_domain: "registry.test")",      // 1
      "agency {",                              // 2
      R"(  id: "centres")",                    // 3
      "  role: ROLE_CHILDRENS_CENTRE",         // 4
      R"(  local_authority: "938")",           // 5
      R"(  local_authority: ["201",)",         // 6
      R"(                    "0938"])",        // 7
      "}",                                     // 8
  }));
  EXPECT_EQ(area.code(), absl::StatusCode::kInvalidArgument);
  EXPECT_THAT(std::string(area.message()), StartsWith(At(6)));
  EXPECT_THAT(std::string(area.message()), HasSubstr("local_authority"));

  const absl::Status agency = RefusalOf(Lines({
      R"(trust_domain: "registry.test")",                  // 1
      R"(agency: [{ id: "a" role: ROLE_SCHOOL },)",        // 2
      R"(         { id: "a" role: ROLE_SCHOOL }])",        // 3
  }));
  EXPECT_EQ(agency.code(), absl::StatusCode::kInvalidArgument);
  EXPECT_THAT(std::string(agency.message()), StartsWith(At(2)));
  EXPECT_THAT(std::string(agency.message()), HasSubstr("configured twice"));
}

TEST(AccessPolicyTest, AnAgencyWithoutARoleIsRefusedNamingItsIdLine) {
  const absl::Status refusal = RefusalOf(Lines({
      R"(trust_domain: "registry.test")",  // 1
      "agency {",                          // 2
      R"(  name: "Oakfield School")",      // 3
      R"(  id: "oakfield-school")",        // 4
      "}",                                 // 5
  }));
  EXPECT_EQ(refusal.code(), absl::StatusCode::kInvalidArgument);
  EXPECT_THAT(std::string(refusal.message()), StartsWith(At(4)));
  EXPECT_THAT(std::string(refusal.message()), HasSubstr("role"));
}

TEST(AccessPolicyTest, ABadAgencyIdIsRefusedNamingItsLine) {
  for (const std::string& bad :
       {std::string("Oakfield-School"), std::string("oakfield_school"), std::string("oak/field"),
        std::string("oak field"), std::string("oakfield.school"), std::string(""),
        std::string(65, 'a')}) {
    SCOPED_TRACE(bad);
    const std::string text = Lines({
                                 R"(trust_domain: "registry.test")",  // 1
                                 "agency {",                          // 2
                                 "  role: ROLE_SCHOOL",               // 3
                             }) +
                             absl::StrCat("\n  id: \"", bad, "\"\n}\n");  // 4
    const absl::Status refusal = RefusalOf(text);
    EXPECT_EQ(refusal.code(), absl::StatusCode::kInvalidArgument);
    EXPECT_THAT(std::string(refusal.message()), StartsWith(At(4)));
    EXPECT_THAT(std::string(refusal.message()), HasSubstr("agency id"));
  }
}

TEST(AccessPolicyTest, AnAgencyIdOfSixtyFourCharactersIsAccepted) {
  const std::string id(64, 'a');
  absl::StatusOr<std::shared_ptr<const AccessPolicy>> policy =
      AccessPolicy::Parse(absl::StrCat("trust_domain: \"registry.test\"\nagency { id: \"", id,
                                       "\" role: ROLE_SCHOOL }\n"),
                          kSource);
  ASSERT_TRUE(policy.ok()) << policy.status();
  EXPECT_NE((*policy)->FindAgency(id), nullptr);
}

TEST(AccessPolicyTest, AnAgencyWithoutAnIdIsRefusedNamingTheAgencysLine) {
  const absl::Status refusal = RefusalOf(Lines({
      R"(trust_domain: "registry.test")",  // 1
      "",                                  // 2
      "agency {",                          // 3
      "  role: ROLE_SCHOOL",               // 4
      "}",                                 // 5
  }));
  EXPECT_EQ(refusal.code(), absl::StatusCode::kInvalidArgument);
  EXPECT_THAT(std::string(refusal.message()), HasSubstr("agency id"));
  // The file's rules name the line to fix; the id is missing, so the agency's own line.
  EXPECT_THAT(std::string(refusal.message()), StartsWith(At(3)));
}

TEST(AccessPolicyTest, AMissingTrustDomainIsRefusedNamingTheSource) {
  const absl::Status refusal = RefusalOf(Lines({
      "agency {",                    // 1
      R"(  id: "oakfield-school")",  // 2
      "  role: ROLE_SCHOOL",         // 3
      "}",                           // 4
  }));
  EXPECT_EQ(refusal.code(), absl::StatusCode::kInvalidArgument);
  EXPECT_THAT(std::string(refusal.message()), StartsWith(kSource));
  EXPECT_THAT(std::string(refusal.message()), HasSubstr("trust_domain"));
}

TEST(AccessPolicyTest, ABadTrustDomainIsRefusedNamingItsLine) {
  for (const char* bad :
       {"Registry.Test", "registry.test.", ".registry.test", "registry..test",
        "spiffe://registry.test", "registry.test/agency", "registry test", "registry_test", ""}) {
    SCOPED_TRACE(bad);
    const std::string text =
        absl::StrCat("# the registry's agencies\n", "trust_domain: \"", bad, "\"\n");  // 2
    const absl::Status refusal = RefusalOf(text);
    EXPECT_EQ(refusal.code(), absl::StatusCode::kInvalidArgument);
    EXPECT_THAT(std::string(refusal.message()), StartsWith(At(2)));
    EXPECT_THAT(std::string(refusal.message()), HasSubstr("trust_domain"));
  }
}

TEST(AccessPolicyTest, ATextSyntaxErrorNamesItsLineAndColumn) {
  const absl::Status refusal = RefusalOf(Lines({
      R"(trust_domain: "registry.test")",  // 1
      "agency {",                          // 2
      R"(  id: "oakfield-school")",        // 3
      "  role ROLE_SCHOOL",                // 4: the ':' is missing before column 8
      "}",                                 // 5
  }));
  EXPECT_EQ(refusal.code(), absl::StatusCode::kInvalidArgument);
  EXPECT_THAT(std::string(refusal.message()), StartsWith(absl::StrCat(kSource, ":4:8: ")));
}

TEST(AccessPolicyTest, AnUnknownFieldIsRefusedNamingItsLineAndColumn) {
  const absl::Status refusal = RefusalOf(Lines({
      R"(trust_domain: "registry.test")",  // 1
      "agency {",                          // 2
      R"(  id: "oakfield-school")",        // 3
      "  role: ROLE_SCHOOL",               // 4
      R"(  area: "938")",                  // 5: the parser stops at the ':' after the name
      "}",                                 // 6
  }));
  EXPECT_EQ(refusal.code(), absl::StatusCode::kInvalidArgument);
  EXPECT_THAT(std::string(refusal.message()), StartsWith(absl::StrCat(kSource, ":5:7: ")));
  EXPECT_THAT(std::string(refusal.message()), HasSubstr("\"area\""));
}

TEST(AccessPolicyTest, AnUnknownRoleIsRefusedNamingItsLine) {
  // The parser reports an unknown enum value where the next token starts: here, the same line.
  const absl::Status refusal = RefusalOf(Lines({
      R"(trust_domain: "registry.test")",  // 1
      "agency {",                          // 2
      R"(  id: "oakfield-school")",        // 3
      "  role: ROLE_HEADTEACHER }",        // 4
  }));
  EXPECT_EQ(refusal.code(), absl::StatusCode::kInvalidArgument);
  EXPECT_THAT(std::string(refusal.message()), StartsWith(absl::StrCat(kSource, ":4:")));
  EXPECT_THAT(std::string(refusal.message()), HasSubstr("ROLE_HEADTEACHER"));
}

// --- Load --------------------------------------------------------------------------------------

TEST(AccessPolicyTest, LoadReadsAFile) {
  cir::testing::TempDir dir;
  const std::string path = dir.Sub("access.textproto");
  std::ofstream(path) << EveryRole();
  absl::StatusOr<std::shared_ptr<const AccessPolicy>> policy = AccessPolicy::Load(path);
  ASSERT_TRUE(policy.ok()) << policy.status();
  EXPECT_EQ((*policy)->agency_count(), 9u);
  EXPECT_NE((*policy)->AgencyOfUri("spiffe://registry.test/agency/registrar"), nullptr);
}

TEST(AccessPolicyTest, LoadOfAMissingFileIsAClearError) {
  cir::testing::TempDir dir;
  const std::string path = dir.Sub("no-such-file.textproto");
  absl::StatusOr<std::shared_ptr<const AccessPolicy>> policy = AccessPolicy::Load(path);
  ASSERT_FALSE(policy.ok());
  EXPECT_EQ(policy.status().code(), absl::StatusCode::kNotFound);
  EXPECT_THAT(std::string(policy.status().message()), HasSubstr(path));
  EXPECT_THAT(std::string(policy.status().message()), HasSubstr("access configuration"));
}

TEST(AccessPolicyTest, LoadNamesTheFileAndLineOfAFault) {
  cir::testing::TempDir dir;
  const std::string path = dir.Sub("access.textproto");
  std::ofstream(path) << "trust_domain: \"registry.test\"\n"
                      << "agency { id: \"oakfield-school\" role: ROLE_UNSPECIFIED }\n";
  absl::StatusOr<std::shared_ptr<const AccessPolicy>> policy = AccessPolicy::Load(path);
  ASSERT_FALSE(policy.ok());
  EXPECT_EQ(policy.status().code(), absl::StatusCode::kInvalidArgument);
  EXPECT_THAT(std::string(policy.status().message()), StartsWith(absl::StrCat(path, ":2: ")));
}

}  // namespace
}  // namespace cir::access

namespace cir::access {
namespace {

TEST(AccessPolicyTest, ANotifyingSystemGivenToTwoAgenciesIsRefused) {
  absl::StatusOr<std::shared_ptr<const AccessPolicy>> policy = AccessPolicy::Parse(
      "trust_domain: \"registry.test\"\n"
      "agency { id: \"st-marys\" role: ROLE_MATERNITY notifying_system: \"RXH01\" }\n"
      "agency { id: \"city-general\" role: ROLE_MATERNITY notifying_system: \"rxh01\" }\n",
      "/etc/cir/access.textproto");
  ASSERT_FALSE(policy.ok());
  EXPECT_EQ(policy.status().code(), absl::StatusCode::kInvalidArgument);
  EXPECT_THAT(std::string(policy.status().message()),
              ::testing::StartsWith("/etc/cir/access.textproto:3: "));
  EXPECT_THAT(std::string(policy.status().message()), ::testing::HasSubstr("st-marys"));
}

}  // namespace
}  // namespace cir::access
