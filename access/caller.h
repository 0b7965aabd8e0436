#ifndef CIR_ACCESS_CALLER_H_
#define CIR_ACCESS_CALLER_H_

#include <memory>
#include <optional>
#include <string>

#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"
#include "access/access_policy.h"
#include "access/method_rules.h"
#include "cir/v1/registry.pb.h"
#include "registry/actor.h"

namespace cir::access {

// The metadata keys a call made for a person carries (proto/cir/v1/registry.proto).
inline constexpr absl::string_view kEndUserHeader = "x-cir-end-user";
inline constexpr absl::string_view kPurposeOfUseHeader = "x-cir-purpose-of-use";

// Who is calling, decided at the start of every call from its authenticated agency, the method
// and its metadata: what it may do there, and for whom.
struct Caller {
  std::shared_ptr<const AccessPolicy> policy;  // keeps `agency` alive
  const Agency* agency = nullptr;
  std::string method;
  MethodGrant grant;
  std::string end_user;  // empty for a system's own call
  std::string purpose;   // a PurposeOfUse name without its prefix, or empty

  // The grants under which `record` (as the registry holds it, untrimmed) is within reach: a
  // role that reaches any record; a local authority data team's or children's centre's for a
  // child of one of the agency's local authorities, except that a children's centre never
  // reaches a child whose parents object to sharing. Empty: the record is answered NOT_FOUND.
  MethodGrant GrantsReaching(const v1::ChildRecord& record) const;
  bool Reaches(const v1::ChildRecord& record) const { return GrantsReaching(record).allowed(); }
  // Whether `local_authority`'s feed is one the caller may read.
  bool ReadsArea(absl::string_view local_authority) const;
  // Who makes the call's changes, for the registry: its agency and the records it may reach.
  registry::Actor Actor() const;
};

// Decides the caller of a call to `method` by the agency `agency_id` (from its certificate, or the
// one a plaintext test server acts as) with metadata values `end_user` and `purpose` (absent when
// not sent). Refusals: an agency the policy does not know (UNAUTHENTICATED,
// CALLER_NOT_IDENTIFIED); a method none of its roles may call (PERMISSION_DENIED,
// METHOD_NOT_PERMITTED); a call for a person without a well-formed end user (UNAUTHENTICATED,
// END_USER_REQUIRED) or purpose of use (INVALID_ARGUMENT, PURPOSE_OF_USE_INVALID). Any other
// call may name a person and a purpose too; what it sends must then be well-formed.
absl::StatusOr<Caller> IdentifyCaller(std::shared_ptr<const AccessPolicy> policy,
                                      absl::string_view agency_id, absl::string_view method,
                                      std::optional<absl::string_view> end_user,
                                      std::optional<absl::string_view> purpose);

}  // namespace cir::access

#endif  // CIR_ACCESS_CALLER_H_
