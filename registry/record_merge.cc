#include "registry/record_merge.h"

#include <algorithm>
#include <optional>
#include <utility>
#include <vector>

#include "errors/refusal.h"
#include "identifiers/upn.h"
#include "registry/birth_validation.h"
#include "registry/change_support.h"
#include "registry/field_validation.h"
#include "registry/record_mapping.h"
#include "registry/status_macros.h"
#include "storage/key_codec.h"

namespace cir::registry {

using storage::IndexEntry;
using storage::IndexKind;
using storage::StoredChild;
using storage::StoredFeedEvent;
using storage::StoredIndexKey;
using storage::StoredMergeUndo;
using storage::StoredNotification;

namespace {

template <typename Container>
bool Contains(const Container& values, const std::string& value) {
  return std::find(values.begin(), values.end(), value) != values.end();
}

// Removes every element of `values` equal to one of `removed`.
void RemoveAll(google::protobuf::RepeatedPtrField<std::string>& values,
               const google::protobuf::RepeatedPtrField<std::string>& removed) {
  values.erase(std::remove_if(values.begin(), values.end(),
                              [&](const std::string& v) { return Contains(removed, v); }),
               values.end());
}

// The notifications recorded on `child`, with the one that created a child registered before
// notifications were recorded (indexed under the system "-").
std::vector<StoredNotification> NotificationsOf(const StoredChild& child) {
  std::vector<StoredNotification> notifications(child.notifications().begin(),
                                                child.notifications().end());
  if (notifications.empty() && !child.notification_id().empty()) {
    StoredNotification creator;
    creator.set_notifying_system(std::string(storage::kNotifyingSystemBeforeSystems));
    creator.set_notification_id(child.notification_id());
    creator.set_recorded_at_unix_micros(child.registered_at_unix_micros());
    notifications.push_back(std::move(creator));
  }
  return notifications;
}

std::string NotificationIndexValueOf(const StoredNotification& notification) {
  return storage::NotificationIndexValue(notification.notifying_system().empty()
                                             ? storage::kNotifyingSystemBeforeSystems
                                             : absl::string_view(notification.notifying_system()),
                                         notification.notification_id());
}

// Every identifier index key that can name `child`: its NHS numbers, UPNs and notifications,
// current and former.
std::vector<StoredIndexKey> IndexKeysOf(const StoredChild& child) {
  std::vector<StoredIndexKey> keys;
  auto add = [&](IndexKind kind, const std::string& value) {
    if (value.empty()) return;
    StoredIndexKey key;
    key.set_kind(static_cast<int>(kind));
    key.set_value(value);
    keys.push_back(std::move(key));
  };
  add(IndexKind::kNhsNumber, child.nhs_number());
  for (const std::string& nhs : child.former_nhs_numbers()) add(IndexKind::kNhsNumber, nhs);
  add(IndexKind::kUpn, child.upn());
  for (const std::string& upn : child.former_upns()) add(IndexKind::kUpn, upn);
  for (const StoredNotification& notification : NotificationsOf(child)) {
    add(IndexKind::kNotification, NotificationIndexValueOf(notification));
  }
  return keys;
}

// Points every entry of `keys` that names `from` at `to`, keeping its fingerprint. Returns the
// keys it moved.
absl::StatusOr<std::vector<StoredIndexKey>> RepointIndex(storage::WriteTxn& txn,
                                                         const std::vector<StoredIndexKey>& keys,
                                                         const std::string& from,
                                                         const std::string& to) {
  std::vector<StoredIndexKey> moved;
  for (const StoredIndexKey& key : keys) {
    const auto kind = static_cast<IndexKind>(key.kind());
    CIR_ASSIGN_OR_RETURN(std::optional<IndexEntry> entry, txn.Lookup(kind, key.value()));
    if (!entry.has_value() || entry->child_id != from) continue;
    CIR_RETURN_IF_ERROR(txn.PutIndex(kind, key.value(), IndexEntry{to, entry->fingerprint}));
    moved.push_back(key);
  }
  return moved;
}

// Gives `survivor` the NHS numbers of `retired`, noting them in `undo`.
void TakeNhsNumbers(const StoredChild& retired, StoredChild& survivor, StoredMergeUndo& undo) {
  auto take = [&](const std::string& nhs, bool may_become_current) {
    if (nhs.empty() || nhs == survivor.nhs_number() ||
        Contains(survivor.former_nhs_numbers(), nhs)) {
      return;
    }
    if (may_become_current && survivor.nhs_number().empty()) {
      survivor.set_nhs_number(nhs);
    } else {
      survivor.add_former_nhs_numbers(nhs);
    }
    undo.add_added_nhs_numbers(nhs);
  };
  take(retired.nhs_number(), true);
  for (const std::string& nhs : retired.former_nhs_numbers()) take(nhs, false);
}

// Gives `survivor` the UPNs of `retired`, noting them in `undo`: a permanent UPN replaces a
// temporary current one (which becomes former); otherwise the survivor's current UPN stays.
void TakeUpns(const StoredChild& retired, StoredChild& survivor, StoredMergeUndo& undo) {
  auto take = [&](const std::string& upn, bool may_become_current) {
    if (upn.empty() || upn == survivor.upn() || Contains(survivor.former_upns(), upn)) return;
    if (may_become_current && survivor.upn().empty()) {
      survivor.set_upn(upn);
    } else if (may_become_current && identifiers::IsTemporaryUpn(survivor.upn()) &&
               !identifiers::IsTemporaryUpn(upn)) {
      survivor.add_former_upns(survivor.upn());
      survivor.set_upn(upn);
    } else {
      survivor.add_former_upns(upn);
    }
    undo.add_added_upns(upn);
  };
  take(retired.upn(), true);
  for (const std::string& upn : retired.former_upns()) take(upn, false);
}

absl::Status RefuseUnlessMergeable(const StoredChild& survivor, const StoredChild& retired,
                                   const ValidMerge& merge) {
  if (!merge.override_not_same_child && (Contains(survivor.not_same_child(), retired.child_id()) ||
                                         Contains(retired.not_same_child(), survivor.child_id()))) {
    return errors::Refusal(
        absl::StatusCode::kFailedPrecondition, v1::MARKED_NOT_SAME_CHILD,
        "retired_child_id: a merge of these two records was undone, which marked them as not the "
        "same child; check again, and set override_not_same_child to merge them",
        {{"field", "override_not_same_child"}});
  }
  if ((survivor.status() == v1::RECORD_STATUS_DECEASED) !=
      (retired.status() == v1::RECORD_STATUS_DECEASED)) {
    return errors::Refusal(
        absl::StatusCode::kFailedPrecondition, v1::DECEASED_AND_LIVING_NOT_MERGED,
        "retired_child_id: one record is deceased and the other living; retract the death "
        "recorded in error, or record it on the other record, first",
        {{"field", "retired_child_id"}});
  }
  if (!survivor.nhs_number().empty() && !retired.nhs_number().empty() &&
      survivor.nhs_number() != retired.nhs_number() && !merge.retired_nhs_number_superseded) {
    return errors::Refusal(
        absl::StatusCode::kFailedPrecondition, v1::NHS_NUMBERS_DIFFER,
        "retired_child_id: the two records have different NHS numbers; merge them only once NHS "
        "England has superseded the retired record's number, and say so with "
        "retired_nhs_number_superseded",
        {{"field", "retired_nhs_number_superseded"}});
  }
  return absl::OkStatus();
}

// Feed events of `kind` about `child` (with `other`) for every area that carried either.
std::vector<StoredFeedEvent> TellBothAreas(v1::FeedEventKind kind, const StoredChild& child,
                                           const StoredChild& other, absl::CivilDay today) {
  std::vector<StoredFeedEvent> feed;
  for (const std::string& area : FeedAreasOfEither(child, other)) {
    StoredFeedEvent event = FeedEventAbout(kind, child, area, today);
    event.set_other_child_id(other.child_id());
    feed.push_back(std::move(event));
  }
  return feed;
}

}  // namespace

absl::StatusOr<ValidMerge> ValidateMerge(const v1::MergeRecordsRequest& request) {
  ValidMerge merge;
  CIR_RETURN_IF_ERROR(ValidateRequestId(request.request_id()));
  CIR_ASSIGN_OR_RETURN(merge.survivor_id,
                       ChildIdField(request.surviving_child_id(), "surviving_child_id"));
  CIR_ASSIGN_OR_RETURN(merge.retired_id,
                       ChildIdField(request.retired_child_id(), "retired_child_id"));
  if (merge.survivor_id == merge.retired_id) {
    return errors::Refusal(absl::StatusCode::kInvalidArgument, v1::MERGE_INTO_ITSELF,
                           "retired_child_id: is the surviving child; a merge joins two records",
                           {{"field", "retired_child_id"}});
  }
  merge.retired_nhs_number_superseded = request.retired_nhs_number_superseded();
  merge.override_not_same_child = request.override_not_same_child();
  CIR_ASSIGN_OR_RETURN(merge.recorded_by, ValidateRecordedBy(request.recorded_by()));
  return merge;
}

absl::Status MergeRecordsInTxn(const ValidMerge& merge, const RecordScope& scope,
                               storage::WriteTxn& txn, v1::MergeRecordsResponse& response) {
  CIR_ASSIGN_OR_RETURN(StoredChild survivor,
                       ChildToChange(txn, merge.survivor_id, scope, "surviving_child_id"));
  CIR_ASSIGN_OR_RETURN(StoredChild retired,
                       NamedChild(txn, merge.retired_id, scope, "retired_child_id"));
  if (retired.status() == v1::RECORD_STATUS_MERGED) {
    if (retired.merged_into() == survivor.child_id()) {
      ToChildRecord(survivor, response.mutable_record());  // merged already: nothing to do
      response.set_changed(false);
      return absl::OkStatus();
    }
    return ChildToChange(txn, merge.retired_id, scope, "retired_child_id").status();
  }
  CIR_RETURN_IF_ERROR(RefuseUnlessMergeable(survivor, retired, merge));
  const absl::CivilDay today = DayInEngland(txn.CommitTime());
  const bool objection = survivor.sharing_objection() || retired.sharing_objection();
  const bool sensitive = survivor.sensitive() || retired.sensitive();
  // Areas holding either record with fewer restrictions than the merged one are told first.
  std::vector<StoredFeedEvent> feed =
      RestrictionNotices(survivor, objection, sensitive, survivor.version() + 1, today);
  for (StoredFeedEvent& event :
       RestrictionNotices(retired, objection, sensitive, retired.version() + 1, today)) {
    feed.push_back(std::move(event));
  }

  StoredMergeUndo undo;
  undo.set_survivor_child_id(survivor.child_id());
  undo.set_retired_status_before(retired.status());
  undo.set_survivor_nhs_number_before(survivor.nhs_number());
  undo.set_survivor_upn_before(survivor.upn());
  // Every identifier that named the retired child now names the survivor.
  CIR_ASSIGN_OR_RETURN(
      std::vector<StoredIndexKey> moved,
      RepointIndex(txn, IndexKeysOf(retired), retired.child_id(), survivor.child_id()));
  for (StoredIndexKey& key : moved) *undo.add_moved_index_keys() = std::move(key);
  CIR_RETURN_IF_ERROR(txn.PutIndex(IndexKind::kRetiredChildId, retired.child_id(),
                                   IndexEntry{survivor.child_id(), ""}));
  // Records merged into the retired one before now resolve to the survivor in one hop.
  for (const std::string& earlier_id : retired.merged_from()) {
    CIR_ASSIGN_OR_RETURN(StoredChild earlier, ExistingChild(txn, earlier_id));
    earlier.set_merged_into(survivor.child_id());
    CIR_RETURN_IF_ERROR(txn.PutChild(earlier));
    CIR_RETURN_IF_ERROR(
        txn.PutIndex(IndexKind::kRetiredChildId, earlier_id, IndexEntry{survivor.child_id(), ""}));
    undo.add_repointed_children(earlier_id);
    survivor.add_merged_from(earlier_id);
  }
  TakeNhsNumbers(retired, survivor, undo);
  TakeUpns(retired, survivor, undo);
  for (StoredNotification& notification : NotificationsOf(retired)) {
    *undo.add_added_notifications() = notification;
    *survivor.add_notifications() = std::move(notification);
  }
  survivor.add_merged_from(retired.child_id());
  survivor.set_sharing_objection(objection);
  survivor.set_sensitive(sensitive);
  survivor.set_version(survivor.version() + 1);

  for (StoredFeedEvent& event :
       TellBothAreas(v1::FEED_EVENT_KIND_MERGED, survivor, retired, today)) {
    if (!Contains(survivor.feed_areas(), event.local_authority())) {
      survivor.add_feed_areas(event.local_authority());
    }
    feed.push_back(std::move(event));
  }
  retired.set_status(v1::RECORD_STATUS_MERGED);
  retired.set_merged_into(survivor.child_id());
  *retired.mutable_merge_undo() = std::move(undo);
  retired.set_version(retired.version() + 1);
  CIR_RETURN_IF_ERROR(txn.PutChild(survivor));
  CIR_RETURN_IF_ERROR(txn.PutChild(retired));
  CIR_RETURN_IF_ERROR(AppendChangeEvent(txn, storage::EVENT_KIND_RECORDS_MERGED, survivor,
                                        {.made_by = merge.recorded_by,
                                         .other_child_id = retired.child_id(),
                                         .feed = std::move(feed)}));
  ToChildRecord(survivor, response.mutable_record());
  response.set_changed(true);
  return absl::OkStatus();
}

absl::StatusOr<ValidUnmerge> ValidateUnmerge(const v1::UndoMergeRequest& request) {
  ValidUnmerge unmerge;
  CIR_RETURN_IF_ERROR(ValidateRequestId(request.request_id()));
  CIR_ASSIGN_OR_RETURN(unmerge.retired_id,
                       ChildIdField(request.retired_child_id(), "retired_child_id"));
  CIR_ASSIGN_OR_RETURN(unmerge.recorded_by, ValidateRecordedBy(request.recorded_by()));
  return unmerge;
}

absl::Status UndoMergeInTxn(const ValidUnmerge& unmerge, const RecordScope& scope,
                            storage::WriteTxn& txn, v1::UndoMergeResponse& response) {
  CIR_ASSIGN_OR_RETURN(StoredChild retired,
                       NamedChild(txn, unmerge.retired_id, scope, "retired_child_id"));
  if (retired.status() != v1::RECORD_STATUS_MERGED || !retired.has_merge_undo()) {
    return errors::Refusal(absl::StatusCode::kFailedPrecondition, v1::CHILD_NOT_MERGED,
                           "retired_child_id: this record is not merged into another, so there "
                           "is no merge to undo",
                           {{"field", "retired_child_id"}});
  }
  const StoredMergeUndo undo = retired.merge_undo();
  CIR_ASSIGN_OR_RETURN(StoredChild survivor, ExistingChild(txn, undo.survivor_child_id()));
  if (!scope.Reaches(survivor)) {
    // Undoing changes the survivor too: a survivor now outside the caller's reach (moved to
    // another area) makes the retired record as unreachable as if it did not exist.
    return NamedChild(txn, "", RecordScope{}, "retired_child_id").status();
  }
  if (survivor.status() == v1::RECORD_STATUS_MERGED) {
    return errors::Refusal(
        absl::StatusCode::kFailedPrecondition, v1::SURVIVOR_MERGED_SINCE,
        "retired_child_id: the record it was merged into has itself been merged into another "
        "since; undo that merge first",
        {{"field", "retired_child_id"}});
  }
  std::vector<StoredIndexKey> moved(undo.moved_index_keys().begin(), undo.moved_index_keys().end());
  CIR_RETURN_IF_ERROR(RepointIndex(txn, moved, survivor.child_id(), retired.child_id()).status());
  CIR_RETURN_IF_ERROR(txn.DeleteIndex(IndexKind::kRetiredChildId, retired.child_id()));
  for (const std::string& earlier_id : undo.repointed_children()) {
    CIR_ASSIGN_OR_RETURN(StoredChild earlier, ExistingChild(txn, earlier_id));
    earlier.set_merged_into(retired.child_id());
    CIR_RETURN_IF_ERROR(txn.PutChild(earlier));
    CIR_RETURN_IF_ERROR(
        txn.PutIndex(IndexKind::kRetiredChildId, earlier_id, IndexEntry{retired.child_id(), ""}));
  }

  // The survivor loses what the merge gave it and keeps every change made since.
  RemoveAll(*survivor.mutable_former_nhs_numbers(), undo.added_nhs_numbers());
  if (Contains(undo.added_nhs_numbers(), survivor.nhs_number())) {
    survivor.set_nhs_number(undo.survivor_nhs_number_before());
  }
  RemoveAll(*survivor.mutable_former_upns(), undo.added_upns());
  if (Contains(undo.added_upns(), survivor.upn())) {
    const std::string& before = undo.survivor_upn_before();
    survivor.set_upn(before);
    google::protobuf::RepeatedPtrField<std::string> restored;
    restored.Add()->assign(before);
    RemoveAll(*survivor.mutable_former_upns(), restored);
  }
  if (survivor.upn().empty() && !survivor.former_upns().empty()) {
    // A UPN the survivor was given after the merge, kept as former then because the retired
    // child's was current, is now the first it holds: current, a permanent one before a temporary.
    auto* former = survivor.mutable_former_upns();
    auto first = std::find_if(former->begin(), former->end(), [](const std::string& upn) {
      return !identifiers::IsTemporaryUpn(upn);
    });
    if (first == former->end()) first = former->begin();
    survivor.set_upn(*first);
    former->erase(first);
  }
  auto* notifications = survivor.mutable_notifications();
  notifications->erase(
      std::remove_if(notifications->begin(), notifications->end(),
                     [&](const StoredNotification& n) {
                       return std::any_of(
                           undo.added_notifications().begin(), undo.added_notifications().end(),
                           [&](const StoredNotification& added) {
                             return added.notifying_system() == n.notifying_system() &&
                                    added.notification_id() == n.notification_id();
                           });
                     }),
      notifications->end());
  google::protobuf::RepeatedPtrField<std::string> no_longer_merged(
      undo.repointed_children().begin(), undo.repointed_children().end());
  no_longer_merged.Add()->assign(retired.child_id());
  RemoveAll(*survivor.mutable_merged_from(), no_longer_merged);
  survivor.add_not_same_child(retired.child_id());
  survivor.set_version(survivor.version() + 1);

  retired.set_status(undo.retired_status_before());
  retired.clear_merged_into();
  retired.clear_merge_undo();
  retired.add_not_same_child(survivor.child_id());
  retired.set_version(retired.version() + 1);
  std::vector<StoredFeedEvent> feed = TellBothAreas(v1::FEED_EVENT_KIND_UNMERGED, retired, survivor,
                                                    DayInEngland(txn.CommitTime()));
  // An area that only ever held the survivor learns that the two are apart, not who the restored
  // child is.
  for (StoredFeedEvent& event : feed) {
    if (std::find(retired.feed_areas().begin(), retired.feed_areas().end(),
                  event.local_authority()) == retired.feed_areas().end()) {
      event.clear_child();
    }
  }
  NoteFeedAreas(retired, feed);
  CIR_RETURN_IF_ERROR(txn.PutChild(survivor));
  CIR_RETURN_IF_ERROR(txn.PutChild(retired));
  CIR_RETURN_IF_ERROR(AppendChangeEvent(txn, storage::EVENT_KIND_MERGE_UNDONE, retired,
                                        {.made_by = unmerge.recorded_by,
                                         .other_child_id = survivor.child_id(),
                                         .feed = std::move(feed)}));
  ToChildRecord(retired, response.mutable_record());
  ToChildRecord(survivor, response.mutable_survivor());
  response.set_changed(true);
  return absl::OkStatus();
}

}  // namespace cir::registry
