#include "registry/sharing_restriction.h"

#include <utility>
#include <vector>

#include "errors/refusal.h"
#include "registry/birth_validation.h"
#include "registry/change_support.h"
#include "registry/field_validation.h"
#include "registry/record_mapping.h"
#include "registry/status_macros.h"

namespace cir::registry {

using storage::StoredChild;
using storage::StoredFeedEvent;

namespace {

absl::Status ValidateChange(v1::RestrictionChange change, absl::string_view field) {
  if (!v1::RestrictionChange_IsValid(change)) {
    return errors::InvalidField(field, "not a known restriction change");
  }
  return absl::OkStatus();
}

// The flag as the change leaves it.
bool Changed(bool flag, v1::RestrictionChange change) {
  switch (change) {
    case v1::RESTRICTION_CHANGE_SET:
      return true;
    case v1::RESTRICTION_CHANGE_LIFT:
      return false;
    default:
      return flag;
  }
}

}  // namespace

absl::StatusOr<ValidRestriction> ValidateRestriction(const v1::RestrictSharingRequest& request) {
  ValidRestriction restriction;
  CIR_RETURN_IF_ERROR(ValidateRequestId(request.request_id()));
  CIR_ASSIGN_OR_RETURN(restriction.child_id, ChildIdField(request.child_id()));
  CIR_RETURN_IF_ERROR(ValidateChange(request.objection(), "objection"));
  CIR_RETURN_IF_ERROR(ValidateChange(request.sensitive(), "sensitive"));
  if (request.objection() == v1::RESTRICTION_CHANGE_UNSPECIFIED &&
      request.sensitive() == v1::RESTRICTION_CHANGE_UNSPECIFIED) {
    return errors::InvalidField(
        "objection",
        "no change given; set objection or sensitive to RESTRICTION_CHANGE_SET or "
        "RESTRICTION_CHANGE_LIFT",
        v1::FIELD_REQUIRED);
  }
  restriction.objection = request.objection();
  restriction.sensitive = request.sensitive();
  CIR_ASSIGN_OR_RETURN(restriction.recorded_by, ValidateRecordedBy(request.recorded_by()));
  return restriction;
}

absl::Status RestrictSharingInTxn(const ValidRestriction& restriction, const RecordScope& scope,
                                  storage::WriteTxn& txn, v1::RestrictSharingResponse& response) {
  CIR_ASSIGN_OR_RETURN(StoredChild child, ChildToChange(txn, restriction.child_id, scope));
  const bool objection = Changed(child.sharing_objection(), restriction.objection);
  const bool sensitive = Changed(child.sensitive(), restriction.sensitive);
  if (objection == child.sharing_objection() && sensitive == child.sensitive()) {
    ToChildRecord(child, response.mutable_record());
    response.set_changed(false);
    return absl::OkStatus();
  }
  const absl::CivilDay today = DayInEngland(txn.CommitTime());
  // Areas that hold what the record may no longer give are told first.
  std::vector<StoredFeedEvent> feed =
      RestrictionNotices(child, objection, sensitive, child.version() + 1, today);
  const bool objection_lifted = !objection && child.sharing_objection();
  const bool sensitive_lifted = !sensitive && child.sensitive();
  child.set_sharing_objection(objection);
  child.set_sensitive(sensitive);
  child.set_version(child.version() + 1);
  if (objection_lifted) {
    feed.push_back(
        FeedEventAbout(v1::FEED_EVENT_KIND_SHARING_RESUMED, child, child.local_authority(), today));
  } else if (sensitive_lifted && !objection) {
    feed.push_back(FeedEventAbout(v1::FEED_EVENT_KIND_RESTRICTION_LIFTED, child,
                                  child.local_authority(), today));
  }
  NoteFeedAreas(child, feed);
  CIR_RETURN_IF_ERROR(txn.PutChild(child));
  CIR_RETURN_IF_ERROR(
      AppendChangeEvent(txn, storage::EVENT_KIND_SHARING_RESTRICTED, child,
                        {.made_by = restriction.recorded_by, .feed = std::move(feed)}));
  ToChildRecord(child, response.mutable_record());
  response.set_changed(true);
  return absl::OkStatus();
}

}  // namespace cir::registry
