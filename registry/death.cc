#include "registry/death.h"

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

absl::StatusOr<ValidDeath> ValidateDeath(const v1::RecordDeathRequest& request,
                                         absl::CivilDay today) {
  ValidDeath death;
  CIR_RETURN_IF_ERROR(ValidateRequestId(request.request_id()));
  CIR_ASSIGN_OR_RETURN(death.child_id, ChildIdField(request.child_id()));
  if (request.notice() == v1::DEATH_NOTICE_UNSPECIFIED) {
    return errors::InvalidField(
        "notice", "required; DEATH_NOTICE_INFORMAL, DEATH_NOTICE_FORMAL or DEATH_NOTICE_RETRACTION",
        v1::FIELD_REQUIRED);
  }
  if (!v1::DeathNotice_IsValid(request.notice())) {
    return errors::InvalidField("notice", "not a known death notice");
  }
  death.notice = request.notice();
  if (death.notice != v1::DEATH_NOTICE_RETRACTION) {
    if (!request.has_date_of_death()) {
      return errors::InvalidField("date_of_death", "required for a death", v1::FIELD_REQUIRED);
    }
    CIR_ASSIGN_OR_RETURN(death.date_of_death,
                         ValidateCalendarDate(request.date_of_death(), "date_of_death", today));
  }
  CIR_ASSIGN_OR_RETURN(death.recorded_by, ValidateRecordedBy(request.recorded_by()));
  return death;
}

namespace {

absl::CivilDay DayOf(const storage::StoredDate& date) {
  return absl::CivilDay(date.year(), date.month(), date.day());
}

// True if the record already says what `death` would record.
bool AlreadyRecorded(const StoredChild& child, const ValidDeath& death) {
  if (child.status() != v1::RECORD_STATUS_DECEASED) return false;
  if (death.notice == v1::DEATH_NOTICE_INFORMAL) return true;  // informal adds nothing
  return child.death_kind() == v1::DEATH_KIND_FORMAL &&
         DayOf(child.date_of_death()) == death.date_of_death;
}

}  // namespace

absl::Status RecordDeathInTxn(const ValidDeath& death, const RecordScope& scope,
                              storage::WriteTxn& txn, v1::RecordDeathResponse& response) {
  CIR_ASSIGN_OR_RETURN(StoredChild child, ChildToChange(txn, death.child_id, scope));
  const absl::CivilDay today = DayInEngland(txn.CommitTime());
  storage::EventKind kind;
  v1::FeedEventKind feed_kind;
  absl::CivilDay effective = today;
  if (death.notice == v1::DEATH_NOTICE_RETRACTION) {
    if (child.status() != v1::RECORD_STATUS_DECEASED) {
      return errors::Refusal(absl::StatusCode::kFailedPrecondition, v1::CHILD_NOT_DECEASED,
                             "notice: no death is recorded for this child, so there is none to "
                             "retract",
                             {{"field", "notice"}});
    }
    child.set_status(v1::RECORD_STATUS_ACTIVE);
    child.clear_death_kind();
    child.clear_date_of_death();
    kind = storage::EVENT_KIND_DEATH_RETRACTED;
    feed_kind = v1::FEED_EVENT_KIND_DEATH_RETRACTED;
  } else {
    if (death.date_of_death < DayOf(child.date_of_birth())) {
      return errors::InvalidField("date_of_death", "is before the child's date of birth");
    }
    if (AlreadyRecorded(child, death)) {
      ToChildRecord(child, response.mutable_record());
      response.set_changed(false);
      return absl::OkStatus();
    }
    child.set_status(v1::RECORD_STATUS_DECEASED);
    child.set_death_kind(death.notice == v1::DEATH_NOTICE_FORMAL ? v1::DEATH_KIND_FORMAL
                                                                 : v1::DEATH_KIND_INFORMAL);
    *child.mutable_date_of_death() = ToStoredDate(death.date_of_death);
    kind = storage::EVENT_KIND_DEATH_RECORDED;
    feed_kind = v1::FEED_EVENT_KIND_DIED;
    effective = death.date_of_death;
  }
  child.set_version(child.version() + 1);
  std::vector<storage::StoredFeedEvent> feed;
  feed.push_back(FeedEventAbout(feed_kind, child, child.local_authority(), effective));
  NoteFeedAreas(child, feed);
  CIR_RETURN_IF_ERROR(txn.PutChild(child));
  CIR_RETURN_IF_ERROR(
      AppendChangeEvent(txn, kind, child, {.made_by = death.recorded_by, .feed = std::move(feed)}));
  ToChildRecord(child, response.mutable_record());
  response.set_changed(true);
  return absl::OkStatus();
}

}  // namespace cir::registry
