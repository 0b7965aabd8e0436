#include "registry/upn_rules.h"

#include <algorithm>

#include "errors/refusal.h"
#include "identifiers/upn.h"

namespace cir::registry {
namespace {

using Outcome = v1::LinkUpnResponse::Outcome;

absl::Status Refused(v1::ErrorReason reason, absl::string_view message) {
  return errors::Refusal(absl::StatusCode::kFailedPrecondition, reason, message,
                         {{"field", "upn"}});
}

}  // namespace

absl::StatusOr<Outcome> DecideUpnLink(const storage::StoredChild& child, const std::string& upn,
                                      bool replace_current) {
  if (child.upn() == upn) return v1::LinkUpnResponse::OUTCOME_UNCHANGED;
  if (child.upn().empty()) return v1::LinkUpnResponse::OUTCOME_LINKED;
  if (!replace_current) {
    return Refused(v1::CHILD_HAS_ANOTHER_UPN,
                   "upn: the child already has a different UPN; set replace_current to replace a "
                   "temporary UPN, or to keep a second permanent UPN as a former UPN");
  }
  const bool current_is_temporary = identifiers::IsTemporaryUpn(child.upn());
  const bool upn_is_temporary = identifiers::IsTemporaryUpn(upn);
  const bool would_keep_as_former = !current_is_temporary && !upn_is_temporary;
  const bool is_former = std::find(child.former_upns().begin(), child.former_upns().end(), upn) !=
                         child.former_upns().end();
  if (is_former) {
    if (would_keep_as_former) return v1::LinkUpnResponse::OUTCOME_UNCHANGED;
    return Refused(v1::FORMER_IDENTIFIER_NOT_REUSABLE,
                   "upn: is a former UPN of this child and cannot become current again");
  }
  if (current_is_temporary) return v1::LinkUpnResponse::OUTCOME_REPLACED_TEMPORARY;
  if (upn_is_temporary) {
    return Refused(v1::PERMANENT_UPN_NOT_REPLACED_BY_TEMPORARY,
                   "upn: the child has a permanent UPN, which a temporary UPN never replaces");
  }
  return v1::LinkUpnResponse::OUTCOME_KEPT_AS_FORMER;
}

}  // namespace cir::registry
