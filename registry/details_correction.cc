#include "registry/details_correction.h"

#include <utility>
#include <vector>

#include "absl/strings/str_cat.h"
#include "errors/refusal.h"
#include "registry/birth_validation.h"
#include "registry/change_support.h"
#include "registry/field_validation.h"
#include "registry/record_mapping.h"
#include "registry/status_macros.h"

namespace cir::registry {

using storage::StoredChild;

namespace {

// A name correction, if the request carries one.
absl::StatusOr<std::optional<std::string>> NameCorrection(bool present, const std::string& name,
                                                          absl::string_view field) {
  if (!present) return std::nullopt;
  CIR_ASSIGN_OR_RETURN(std::string normalized, NormalizeName(name, field));
  return normalized;
}

// Sets `stored` to `corrected` if given and different; says whether it changed.
template <typename T, typename Set>
bool Apply(const std::optional<T>& corrected, const T& stored, Set set) {
  if (!corrected.has_value() || *corrected == stored) return false;
  set(*corrected);
  return true;
}

}  // namespace

absl::StatusOr<ValidCorrection> ValidateCorrection(const v1::CorrectDetailsRequest& request,
                                                   absl::CivilDay today) {
  ValidCorrection correction;
  CIR_RETURN_IF_ERROR(ValidateRequestId(request.request_id()));
  CIR_ASSIGN_OR_RETURN(correction.child_id, ChildIdField(request.child_id()));
  if (request.expected_version() <= 0) {
    return errors::InvalidField(
        "expected_version",
        "required; the version of the record the correction was prepared from (its version)",
        v1::FIELD_REQUIRED);
  }
  correction.expected_version = request.expected_version();
  CIR_ASSIGN_OR_RETURN(correction.given_name, NameCorrection(request.has_given_name(),
                                                             request.given_name(), "given_name"));
  CIR_ASSIGN_OR_RETURN(
      correction.family_name,
      NameCorrection(request.has_family_name(), request.family_name(), "family_name"));
  CIR_ASSIGN_OR_RETURN(correction.mother_given_name,
                       NameCorrection(request.has_mother_given_name(), request.mother_given_name(),
                                      "mother_given_name"));
  CIR_ASSIGN_OR_RETURN(correction.mother_family_name,
                       NameCorrection(request.has_mother_family_name(),
                                      request.mother_family_name(), "mother_family_name"));
  if (request.has_date_of_birth()) {
    CIR_ASSIGN_OR_RETURN(correction.date_of_birth,
                         ValidateCalendarDate(request.date_of_birth(), "date_of_birth", today));
  }
  if (request.sex() != v1::SEX_UNSPECIFIED) {
    if (!v1::Sex_IsValid(request.sex())) {
      return errors::InvalidField("sex", "not a known value");
    }
    correction.sex = request.sex();
  }
  if (request.birth_order() != 0) {
    CIR_ASSIGN_OR_RETURN(correction.birth_order, ValidateBirthOrderField(request.birth_order()));
  }
  if (!correction.given_name && !correction.family_name && !correction.mother_given_name &&
      !correction.mother_family_name && !correction.date_of_birth && !correction.sex &&
      !correction.birth_order) {
    return errors::Refusal(
        absl::StatusCode::kInvalidArgument, v1::FIELD_REQUIRED,
        "no correction given; set at least one of given_name, family_name, date_of_birth, sex, "
        "birth_order, mother_given_name, mother_family_name");
  }
  CIR_ASSIGN_OR_RETURN(correction.recorded_by, ValidateRecordedBy(request.recorded_by()));
  return correction;
}

absl::Status CorrectDetailsInTxn(const ValidCorrection& correction, const RecordScope& scope,
                                 storage::WriteTxn& txn, v1::CorrectDetailsResponse& response) {
  CIR_ASSIGN_OR_RETURN(StoredChild child, ChildToChange(txn, correction.child_id, scope));
  if (child.version() != correction.expected_version) {
    return errors::Refusal(
        absl::StatusCode::kFailedPrecondition, v1::RECORD_VERSION_STALE,
        absl::StrCat("expected_version: the record is at version ", child.version(),
                     ", changed since the version the correction was prepared from; read it "
                     "again and reapply the correction"),
        {{"field", "expected_version"}});
  }
  if (correction.date_of_birth.has_value() && child.status() == v1::RECORD_STATUS_DECEASED) {
    const storage::StoredDate& death = child.date_of_death();
    if (absl::CivilDay(death.year(), death.month(), death.day()) < *correction.date_of_birth) {
      return errors::InvalidField("date_of_birth", "is after the child's recorded date of death");
    }
  }
  bool changed = false;
  changed |= Apply(correction.given_name, child.given_name(),
                   [&](const std::string& v) { child.set_given_name(v); });
  changed |= Apply(correction.family_name, child.family_name(),
                   [&](const std::string& v) { child.set_family_name(v); });
  changed |= Apply(correction.mother_given_name, child.mother_given_name(),
                   [&](const std::string& v) { child.set_mother_given_name(v); });
  changed |= Apply(correction.mother_family_name, child.mother_family_name(),
                   [&](const std::string& v) { child.set_mother_family_name(v); });
  const storage::StoredDate& born = child.date_of_birth();
  changed |= Apply(correction.date_of_birth, absl::CivilDay(born.year(), born.month(), born.day()),
                   [&](absl::CivilDay v) { *child.mutable_date_of_birth() = ToStoredDate(v); });
  changed |= Apply(correction.sex, static_cast<v1::Sex>(child.sex()),
                   [&](v1::Sex v) { child.set_sex(v); });
  changed |=
      Apply(correction.birth_order, BirthOrderOf(child), [&](int v) { child.set_birth_order(v); });
  if (!changed) {
    ToChildRecord(child, response.mutable_record());
    response.set_changed(false);
    return absl::OkStatus();
  }
  child.set_version(child.version() + 1);
  std::vector<storage::StoredFeedEvent> feed;
  feed.push_back(FeedEventAbout(v1::FEED_EVENT_KIND_DETAILS_CORRECTED, child,
                                child.local_authority(), DayInEngland(txn.CommitTime())));
  NoteFeedAreas(child, feed);
  CIR_RETURN_IF_ERROR(txn.PutChild(child));
  CIR_RETURN_IF_ERROR(
      AppendChangeEvent(txn, storage::EVENT_KIND_DETAILS_CORRECTED, child,
                        {.made_by = correction.recorded_by, .feed = std::move(feed)}));
  ToChildRecord(child, response.mutable_record());
  response.set_changed(true);
  return absl::OkStatus();
}

}  // namespace cir::registry
