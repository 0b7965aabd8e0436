#include "registry/change_support.h"

#include <algorithm>
#include <optional>

#include "identifiers/child_id.h"
#include "registry/status_macros.h"
#include "storage/centre_view.h"

namespace cir::registry {

using storage::StoredChild;
using storage::StoredFeedEvent;

absl::Status InternalFault(absl::string_view message) {
  return errors::Refusal(absl::StatusCode::kInternal, v1::INTERNAL_ERROR, message);
}

absl::StatusOr<StoredChild> ExistingChild(storage::WriteTxn& txn, const std::string& child_id) {
  CIR_ASSIGN_OR_RETURN(std::optional<StoredChild> child, txn.GetChild(child_id));
  if (!child.has_value()) {
    return InternalFault("the identifier index names a child that is not stored");
  }
  return *std::move(child);
}

absl::StatusOr<StoredChild> NamedChild(storage::WriteTxn& txn, const std::string& child_id,
                                       const RecordScope& scope, absl::string_view field) {
  CIR_ASSIGN_OR_RETURN(std::optional<StoredChild> child, txn.GetChild(child_id));
  // A child outside the caller's reach is refused with the very refusal of one that does not
  // exist: the caller must not learn that it does.
  if (!child.has_value() || !scope.Reaches(*child)) {
    return errors::Refusal(
        absl::StatusCode::kNotFound, v1::CHILD_NOT_FOUND,
        absl::StrCat(field, ": no child has this identifier; check it was copied whole"),
        {{"field", field}});
  }
  return *std::move(child);
}

absl::StatusOr<StoredChild> ChildToChange(storage::WriteTxn& txn, const std::string& child_id,
                                          const RecordScope& scope, absl::string_view field) {
  CIR_ASSIGN_OR_RETURN(StoredChild child, NamedChild(txn, child_id, scope, field));
  if (child.status() == v1::RECORD_STATUS_MERGED) {
    return errors::Refusal(
        absl::StatusCode::kFailedPrecondition, v1::CHILD_MERGED,
        absl::StrCat(field,
                     ": this record was merged into another and is retired; resolve the "
                     "identifier to reach the surviving record, and make the change there"),
        {{"field", field}});
  }
  return child;
}

storage::StoredDate ToStoredDate(absl::CivilDay day) {
  storage::StoredDate date;
  date.set_year(static_cast<int32_t>(day.year()));
  date.set_month(day.month());
  date.set_day(day.day());
  return date;
}

StoredFeedEvent FeedEventAbout(v1::FeedEventKind kind, const StoredChild& child,
                               absl::string_view local_authority, absl::CivilDay effective) {
  StoredFeedEvent event;
  event.set_local_authority(std::string(local_authority));
  event.set_kind(kind);
  event.set_child_id(child.child_id());
  event.set_child_version(child.version());
  *event.mutable_effective_date() = ToStoredDate(effective);
  *event.mutable_child() = storage::CentreViewOf(child);
  return event;
}

void NoteFeedAreas(StoredChild& child, absl::Span<const StoredFeedEvent> feed) {
  for (const StoredFeedEvent& event : feed) {
    if (event.child_id() != child.child_id()) continue;
    const auto& areas = child.feed_areas();
    if (std::find(areas.begin(), areas.end(), event.local_authority()) == areas.end()) {
      child.add_feed_areas(event.local_authority());
    }
  }
}

std::vector<StoredFeedEvent> RestrictionNotices(const StoredChild& child, bool objection,
                                                bool sensitive, int64_t version,
                                                absl::CivilDay day) {
  v1::FeedEventKind kind;
  if (objection && !child.sharing_objection()) {
    kind = v1::FEED_EVENT_KIND_SHARING_WITHDRAWN;
  } else if (sensitive && !objection && !child.sensitive()) {
    kind = v1::FEED_EVENT_KIND_RESTRICTED;
  } else {
    return {};
  }
  std::vector<StoredFeedEvent> notices;
  for (const std::string& area : child.feed_areas()) {
    StoredFeedEvent notice = FeedEventAbout(kind, child, area, day);
    notice.clear_child();
    notice.set_child_version(version);
    notices.push_back(std::move(notice));
  }
  return notices;
}

std::vector<std::string> FeedAreasOfEither(const StoredChild& a, const StoredChild& b) {
  std::vector<std::string> areas;
  for (const StoredChild* child : {&a, &b}) {
    for (const std::string& area : child->feed_areas()) {
      if (std::find(areas.begin(), areas.end(), area) == areas.end()) areas.push_back(area);
    }
  }
  return areas;
}

absl::Status AppendChangeEvent(storage::WriteTxn& txn, storage::EventKind kind,
                               const StoredChild& child, ChangeEventDetails details) {
  storage::StoredEvent event;
  event.set_kind(kind);
  event.set_child_id(child.child_id());
  event.set_local_authority(child.local_authority());
  event.set_child_version(child.version());
  event.set_other_child_id(details.other_child_id);
  event.set_made_by(details.made_by);
  for (StoredFeedEvent& entry : details.feed) entry.set_made_by(details.made_by);
  return txn.AppendEvent(std::move(event), std::move(details.feed));
}

absl::StatusOr<std::string> ChildIdField(absl::string_view input, absl::string_view field) {
  return RequiredIdentifier(input, field, "the child's registry identifier",
                            identifiers::ParseChildId);
}

}  // namespace cir::registry
