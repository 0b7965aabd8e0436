#include "access/method_rules.h"

#include <algorithm>

namespace cir::access {
namespace {

constexpr bool kForPerson = true;
constexpr bool kSystem = false;
constexpr bool kOwnRecords = true;
constexpr bool kAnyRecord = false;

// A grant to every role, for a call that reads nobody's data.
std::vector<RoleGrant> EveryRoleAsASystem() {
  std::vector<RoleGrant> grants;
  for (Role role : {ROLE_MATERNITY, ROLE_HEALTH_VISITING, ROLE_SCHOOL, ROLE_CHILDRENS_CENTRE,
                    ROLE_LA_DATA_TEAM, ROLE_REGISTRAR, ROLE_AUDITOR, ROLE_OPERATOR}) {
    grants.push_back({role, kSystem, kAnyRecord});
  }
  return grants;
}

// The table of proto/cir/v1/registry.proto's "Who may call what", which it must match.
const std::vector<MethodRule>& Rules() {
  static const auto* rules = new std::vector<MethodRule>{
      {"/cir.v1.ChildRegistry/RegisterBirth", {{ROLE_MATERNITY, kSystem, kOwnRecords}}},
      {"/cir.v1.ChildRegistry/RegisterBirths", {{ROLE_MATERNITY, kSystem, kOwnRecords}}},
      {"/cir.v1.ChildRegistry/RecordDeath",
       {{ROLE_MATERNITY, kSystem, kOwnRecords}, {ROLE_REGISTRAR, kSystem, kAnyRecord}}},
      {"/cir.v1.ChildRegistry/Resolve",
       {{ROLE_HEALTH_VISITING, kForPerson, kAnyRecord},
        {ROLE_SCHOOL, kForPerson, kAnyRecord},
        {ROLE_CHILDRENS_CENTRE, kForPerson, kOwnRecords},
        {ROLE_LA_DATA_TEAM, kForPerson, kOwnRecords}}},
      {"/cir.v1.ChildRegistry/BatchResolve", {{ROLE_SCHOOL, kSystem, kAnyRecord}}},
      {"/cir.v1.ChildRegistry/LinkUpn", {{ROLE_SCHOOL, kSystem, kAnyRecord}}},
      {"/cir.v1.ChildRegistry/LinkNhsNumber", {{ROLE_HEALTH_VISITING, kForPerson, kAnyRecord}}},
      {"/cir.v1.ChildRegistry/ChangeAddress", {{ROLE_LA_DATA_TEAM, kForPerson, kOwnRecords}}},
      {"/cir.v1.ChildRegistry/CorrectDetails", {{ROLE_LA_DATA_TEAM, kForPerson, kOwnRecords}}},
      {"/cir.v1.ChildRegistry/SupersedeNhsNumber", {{ROLE_LA_DATA_TEAM, kForPerson, kOwnRecords}}},
      {"/cir.v1.ChildRegistry/MergeRecords", {{ROLE_LA_DATA_TEAM, kForPerson, kOwnRecords}}},
      {"/cir.v1.ChildRegistry/UndoMerge", {{ROLE_LA_DATA_TEAM, kForPerson, kOwnRecords}}},
      {"/cir.v1.ChildRegistry/RestrictSharing", {{ROLE_LA_DATA_TEAM, kForPerson, kOwnRecords}}},
      {"/cir.v1.ChildRegistry/DescribeRegistry", EveryRoleAsASystem()},
      {"/cir.v1.ChildrenFeed/Subscribe", {{ROLE_CHILDRENS_CENTRE, kSystem, kOwnRecords}}},
      {"/cir.v1.ChildrenFeed/ListEvents", {{ROLE_CHILDRENS_CENTRE, kSystem, kOwnRecords}}},
      {"/cir.v1.AuditLog/GetAccessReport", {{ROLE_AUDITOR, kForPerson, kAnyRecord}}},
      {"/cir.v1.AuditLog/ListCheckpoints", {{ROLE_AUDITOR, kForPerson, kAnyRecord}}},
      {"/cir.v1.AuditLog/ReadEntries", {{ROLE_AUDITOR, kForPerson, kAnyRecord}}},
      {"/cir.v1.AuditLog/ProveConsistency", {{ROLE_AUDITOR, kForPerson, kAnyRecord}}},
      {"/cir.v1.RegistryAdmin/BackUp", {{ROLE_OPERATOR, kSystem, kAnyRecord}}},
      // The health service: every agency's system may ask whether the registry serves.
      {"/grpc.health.v1.Health/Check", EveryRoleAsASystem()},
      {"/grpc.health.v1.Health/Watch", {{ROLE_OPERATOR, kSystem, kAnyRecord}}},
      // Reflection describes the services, no child's data: for the registry's operators.
      {"/grpc.reflection.v1alpha.ServerReflection/ServerReflectionInfo",
       {{ROLE_OPERATOR, kSystem, kAnyRecord}}},
  };
  return *rules;
}

}  // namespace

absl::Span<const MethodRule> AllMethodRules() { return Rules(); }

bool MethodGrant::for_person() const {
  return std::any_of(grants.begin(), grants.end(),
                     [](const RoleGrant& grant) { return grant.for_person; });
}

bool MethodGrant::GrantsRole(Role role) const {
  return std::any_of(grants.begin(), grants.end(),
                     [role](const RoleGrant& grant) { return grant.role == role; });
}

MethodGrant GrantFor(const Agency& agency, absl::string_view method) {
  MethodGrant grant;
  for (const MethodRule& rule : Rules()) {
    if (rule.method != method) continue;
    for (const RoleGrant& role_grant : rule.grants) {
      if (agency.HasRole(role_grant.role)) grant.grants.push_back(role_grant);
    }
    break;
  }
  return grant;
}

}  // namespace cir::access
