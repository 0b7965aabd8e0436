#ifndef CIR_ACCESS_METHOD_RULES_H_
#define CIR_ACCESS_METHOD_RULES_H_

#include <vector>

#include "absl/strings/string_view.h"
#include "absl/types/span.h"
#include "access/access_config.pb.h"
#include "access/access_policy.h"

namespace cir::access {

// One role's permission to call a method.
struct RoleGrant {
  Role role;
  // The role calls this method for a person, who must be named in the call's metadata with the
  // purpose of use (proto/cir/v1/registry.proto, "Who may call what").
  bool for_person;
  // The role reaches only records in the agency's local authorities (or, for a maternity
  // system, those it notified): anything else is NOT_FOUND.
  bool own_records_only;
};

// A method, by its gRPC path ("/cir.v1.ChildRegistry/Resolve"), and the roles that may call it.
struct MethodRule {
  absl::string_view method;
  std::vector<RoleGrant> grants;
};

// Every method any caller may call. Deny by default: a method not listed here may be called by no
// one, and a role not listed for a method may not call it.
absl::Span<const MethodRule> AllMethodRules();

// What `agency` may do when it calls `method`: the grants of its roles for that method, empty
// when none of its roles may call it.
struct MethodGrant {
  std::vector<RoleGrant> grants;

  bool allowed() const { return !grants.empty(); }
  // A person must be named when any granted role calls for one.
  bool for_person() const;
  bool GrantsRole(Role role) const;
};
MethodGrant GrantFor(const Agency& agency, absl::string_view method);

}  // namespace cir::access

#endif  // CIR_ACCESS_METHOD_RULES_H_
