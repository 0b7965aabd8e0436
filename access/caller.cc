#include "access/caller.h"

#include <utility>

#include "absl/strings/ascii.h"
#include "absl/strings/str_cat.h"
#include "errors/refusal.h"

namespace cir::access {
namespace {

constexpr size_t kMaxEndUserLength = 128;

bool IsEndUser(absl::string_view user) {
  if (user.empty() || user.size() > kMaxEndUserLength) return false;
  for (char c : user) {
    if (!absl::ascii_isgraph(static_cast<unsigned char>(c))) return false;
  }
  return true;
}

bool IsPurposeOfUse(absl::string_view purpose) {
  v1::PurposeOfUse value;
  return v1::PurposeOfUse_Parse(absl::StrCat("PURPOSE_OF_USE_", purpose), &value) &&
         value != v1::PURPOSE_OF_USE_UNSPECIFIED;
}

// Whether one role's grant reaches `record`, held by `agency`.
bool GrantReaches(const RoleGrant& grant, const Agency& agency, const v1::ChildRecord& record) {
  if (!grant.own_records_only) return true;
  switch (grant.role) {
    case ROLE_CHILDRENS_CENTRE:
      return agency.local_authorities.contains(record.local_authority()) &&
             !record.sharing_objection();
    case ROLE_LA_DATA_TEAM:
      return agency.local_authorities.contains(record.local_authority());
    default:
      // A maternity system's own records are those it notified, which a record as answered
      // does not show: its changes are scoped inside the registry (Actor), and it reads nothing.
      return false;
  }
}

}  // namespace

MethodGrant Caller::GrantsReaching(const v1::ChildRecord& record) const {
  MethodGrant reaching;
  for (const RoleGrant& role_grant : grant.grants) {
    if (GrantReaches(role_grant, *agency, record)) reaching.grants.push_back(role_grant);
  }
  return reaching;
}

bool Caller::ReadsArea(absl::string_view local_authority) const {
  for (const RoleGrant& role_grant : grant.grants) {
    if (!role_grant.own_records_only || agency->local_authorities.contains(local_authority)) {
      return true;
    }
  }
  return false;
}

registry::Actor Caller::Actor() const {
  registry::Actor actor{.agency_id = agency->id, .scope = {}};
  for (const RoleGrant& role_grant : grant.grants) {
    if (!role_grant.own_records_only) {
      actor.scope = registry::RecordScope::Everywhere();
      return actor;
    }
    if (role_grant.role == ROLE_MATERNITY) {
      actor.scope.notifying_systems = agency->notifying_systems;
    } else {
      actor.scope.local_authorities = agency->local_authorities;
    }
  }
  return actor;
}

absl::StatusOr<Caller> IdentifyCaller(std::shared_ptr<const AccessPolicy> policy,
                                      absl::string_view agency_id, absl::string_view method,
                                      std::optional<absl::string_view> end_user,
                                      std::optional<absl::string_view> purpose) {
  const Agency* agency = policy->FindAgency(agency_id);
  if (agency == nullptr) {
    return errors::Refusal(absl::StatusCode::kUnauthenticated, v1::CALLER_NOT_IDENTIFIED,
                           "the client certificate names no agency this registry knows; ask the "
                           "registry's operators to configure the agency");
  }
  Caller caller;
  caller.grant = GrantFor(*agency, method);
  if (!caller.grant.allowed()) {
    return errors::Refusal(absl::StatusCode::kPermissionDenied, v1::METHOD_NOT_PERMITTED,
                           absl::StrCat(method,
                                        ": none of this agency's roles may call this "
                                        "method"),
                           {{"method", method}});
  }
  // A call for a person must name them and why; any call may, and what it sends must be
  // well-formed (it goes into the audit log).
  const bool for_person = caller.grant.for_person();
  if ((for_person || end_user.has_value()) && (!end_user.has_value() || !IsEndUser(*end_user))) {
    return errors::Refusal(
        absl::StatusCode::kUnauthenticated, v1::END_USER_REQUIRED,
        absl::StrCat("this call is made for a person: send their identity in the metadata \"",
                     kEndUserHeader, "\" (1-128 printable characters, no spaces)"));
  }
  if ((for_person || purpose.has_value()) && (!purpose.has_value() || !IsPurposeOfUse(*purpose))) {
    return errors::Refusal(
        absl::StatusCode::kInvalidArgument, v1::PURPOSE_OF_USE_INVALID,
        absl::StrCat("this call is made for a person: send why in the metadata \"",
                     kPurposeOfUseHeader,
                     "\", one of DIRECT_CARE, SAFEGUARDING, EARLY_HELP, EDUCATION, "
                     "RECORD_MAINTENANCE, AUDIT"));
  }
  if (end_user.has_value()) caller.end_user = std::string(*end_user);
  if (purpose.has_value()) caller.purpose = std::string(*purpose);
  caller.policy = std::move(policy);
  caller.agency = agency;
  caller.method = std::string(method);
  return caller;
}

}  // namespace cir::access
