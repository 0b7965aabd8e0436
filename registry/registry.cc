#include "registry/registry.h"

#include <memory>
#include <optional>
#include <string>
#include <utility>
#include <vector>

#include "absl/status/status.h"
#include "absl/strings/str_cat.h"
#include "errors/refusal.h"
#include "identifiers/child_id.h"
#include "identifiers/identifier.h"
#include "identifiers/nhs_number.h"
#include "identifiers/upn.h"
#include "registry/birth_identity.h"
#include "registry/birth_validation.h"
#include "registry/change_support.h"
#include "registry/notification_fingerprint.h"
#include "registry/record_mapping.h"
#include "registry/status_macros.h"
#include "registry/upn_rules.h"
#include "storage/key_codec.h"

namespace cir::registry {
namespace {

using identifiers::Identifier;
using identifiers::IdentifierKind;
using storage::IndexEntry;
using storage::IndexKind;
using storage::StoredChild;
using storage::StoredEvent;
using storage::WriteTxn;

// Draws child identifiers until one has never been issued. With about 3.6e13 possible values a
// second draw is already rare; the bound only turns a broken random source into an error.
constexpr int kMaxIdentifierDraws = 64;

int64_t UnixMicros(absl::Time t) { return absl::ToUnixMicros(t); }

// An identifier that no child holds, none held before being merged away, and none reserved
// (issued before a restore from backup: storage/store_backups.h).
absl::StatusOr<std::string> NewChildId(WriteTxn& txn, const std::function<std::string()>& draw) {
  for (int attempt = 0; attempt < kMaxIdentifierDraws; ++attempt) {
    std::string id = draw ? draw() : identifiers::GenerateChildId();
    CIR_ASSIGN_OR_RETURN(std::optional<StoredChild> taken, txn.GetChild(id));
    if (taken.has_value()) continue;
    CIR_ASSIGN_OR_RETURN(std::optional<storage::IndexEntry> retired,
                         txn.Lookup(storage::IndexKind::kRetiredChildId, id));
    if (retired.has_value()) continue;
    CIR_ASSIGN_OR_RETURN(std::optional<storage::IndexEntry> reserved,
                         txn.Lookup(storage::IndexKind::kReservedChildId, id));
    if (!reserved.has_value()) return id;
  }
  return InternalFault("could not draw an unused child identifier");
}

storage::StoredNotification NotificationOf(const ValidBirth& birth, absl::Time now) {
  storage::StoredNotification notification;
  notification.set_notifying_system(birth.notifying_system);
  notification.set_notification_id(birth.notification_id);
  notification.set_recorded_at_unix_micros(UnixMicros(now));
  return notification;
}

StoredChild NewStoredChild(const ValidBirth& birth, std::string child_id, absl::Time now) {
  StoredChild child;
  child.set_child_id(std::move(child_id));
  child.set_nhs_number(birth.nhs_number);
  child.mutable_date_of_birth()->set_year(static_cast<int32_t>(birth.date_of_birth.year()));
  child.mutable_date_of_birth()->set_month(birth.date_of_birth.month());
  child.mutable_date_of_birth()->set_day(birth.date_of_birth.day());
  child.set_sex(birth.sex);
  child.set_birth_order(birth.birth_order);
  child.set_given_name(birth.given_name);
  child.set_family_name(birth.family_name);
  child.set_postcode(birth.postcode);
  child.set_local_authority(birth.local_authority);
  child.set_mother_nhs_number(birth.mother_nhs_number);
  child.set_mother_given_name(birth.mother_given_name);
  child.set_mother_family_name(birth.mother_family_name);
  for (const std::string& line : birth.address_lines) child.add_address_lines(line);
  child.set_status(v1::RECORD_STATUS_ACTIVE);
  child.set_registered_at_unix_micros(UnixMicros(now));
  child.set_version(1);
  child.set_notification_id(birth.notification_id);
  *child.add_notifications() = NotificationOf(birth, now);
  return child;
}

// True if `birth` is the notification that created `child`, as recorded on it. (A child
// registered before notifying systems were recorded is answered through its legacy index entry
// instead: see LegacyRetry.)
bool CreatedBy(const StoredChild& child, const ValidBirth& birth) {
  if (child.notifications_size() == 0) return false;
  const storage::StoredNotification& first = child.notifications(0);
  return first.notification_id() == birth.notification_id &&
         first.notifying_system() == birth.notifying_system;
}

// Appends `birth` to the notifications recorded on `child`, keeping the one that created the child
// first: a child registered before notifications were recorded gets its creating notification
// (its id, its system unknown) recorded before the new one.
void RecordNotification(const ValidBirth& birth, absl::Time now, StoredChild& child) {
  if (child.notifications_size() == 0 && !child.notification_id().empty()) {
    storage::StoredNotification* creator = child.add_notifications();
    creator->set_notifying_system(std::string(storage::kNotifyingSystemBeforeSystems));
    creator->set_notification_id(child.notification_id());
    creator->set_recorded_at_unix_micros(child.registered_at_unix_micros());
  }
  *child.add_notifications() = NotificationOf(birth, now);
}

// A retry of a notification registered before notifications were scoped to their notifying
// system: the schema migration keyed those under the system "-", with the digest of that time.
// The child it names if `birth` repeats it exactly; nothing if not (another system may well use
// the same id for a birth of its own).
absl::StatusOr<std::optional<StoredChild>> LegacyRetry(const ValidBirth& birth, WriteTxn& txn) {
  CIR_ASSIGN_OR_RETURN(
      std::optional<IndexEntry> legacy,
      txn.Lookup(IndexKind::kNotification,
                 storage::NotificationIndexValue(storage::kNotifyingSystemBeforeSystems,
                                                 birth.notification_id)));
  if (!legacy.has_value() || legacy->fingerprint != LegacyNotificationFingerprint(birth)) {
    return std::nullopt;
  }
  CIR_ASSIGN_OR_RETURN(StoredChild child, ExistingChild(txn, legacy->child_id));
  return child;
}

// Whether the agency whose notifications `scope` reaches registered `child` (its first
// notification): only it is given the whole record when it notifies the birth again.
bool RegisteredBy(const StoredChild& child, const RecordScope& scope) {
  return scope.Reaches(child);
}

// The answer to a notification that names a child registered before (created = false): the whole
// record only for the agency that registered the child; anyone else gets its identifiers
// alone, so that RegisterBirth cannot be used to read a record by guessing an NHS number and a
// date of birth.
void AnswerExistingChild(const StoredChild& child, bool whole_record,
                         v1::RegisterBirthResponse& response) {
  v1::ChildRecord& record = *response.mutable_record();
  ToChildRecord(child, &record);
  if (whole_record) return;
  v1::ChildRecord identifiers;
  identifiers.set_child_id(record.child_id());
  identifiers.set_child_id_display(record.child_id_display());
  identifiers.set_nhs_number(record.nhs_number());
  record = std::move(identifiers);
}

// The unit of work of RegisterBirth; fills `response` when it succeeds.
absl::Status RegisterInTxn(const ValidBirth& birth, const std::string& fingerprint,
                           const RecordScope& scope, absl::Time now,
                           const std::function<std::string()>& draw_child_id, WriteTxn& txn,
                           v1::RegisterBirthResponse& response) {
  const std::string notification =
      storage::NotificationIndexValue(birth.notifying_system, birth.notification_id);
  CIR_ASSIGN_OR_RETURN(std::optional<IndexEntry> by_notification,
                       txn.Lookup(IndexKind::kNotification, notification));
  if (by_notification.has_value()) {
    if (by_notification->fingerprint != fingerprint) {
      return errors::Refusal(
          absl::StatusCode::kAlreadyExists, v1::NOTIFICATION_REUSED_WITH_OTHER_DETAILS,
          "notification_id: this notifying system already sent a notification with this id and "
          "different details; a retry must repeat the original details exactly, and a new "
          "notification needs a new notification_id",
          {{"field", "notification_id"}});
    }
    // A retry: answer as the first call did, writing nothing.
    CIR_ASSIGN_OR_RETURN(StoredChild child, ExistingChild(txn, by_notification->child_id));
    response.set_created(CreatedBy(child, birth));
    if (response.created()) {
      ToChildRecord(child, response.mutable_record());
    } else {
      AnswerExistingChild(child, RegisteredBy(child, scope), response);
    }
    return absl::OkStatus();
  }
  CIR_ASSIGN_OR_RETURN(std::optional<StoredChild> legacy_child, LegacyRetry(birth, txn));
  if (legacy_child.has_value()) {
    // A retry of the notification that registered the child: answer as the first call did.
    response.set_created(legacy_child->notification_id() == birth.notification_id);
    if (response.created()) {
      ToChildRecord(*legacy_child, response.mutable_record());
    } else {
      AnswerExistingChild(*legacy_child, RegisteredBy(*legacy_child, scope), response);
    }
    return absl::OkStatus();
  }

  if (!birth.nhs_number.empty()) {
    CIR_ASSIGN_OR_RETURN(std::optional<IndexEntry> by_nhs,
                         txn.Lookup(IndexKind::kNhsNumber, birth.nhs_number));
    if (by_nhs.has_value()) {
      CIR_ASSIGN_OR_RETURN(StoredChild child, ExistingChild(txn, by_nhs->child_id));
      if (!IsSameBirth(child, birth)) {
        // A mistyped NHS number that passes the check digit, or one twin's number on the other
        // twin's notification: refuse rather than hand back (and link to) someone else's child.
        return errors::Refusal(
            absl::StatusCode::kAlreadyExists, v1::NHS_NUMBER_HELD_BY_ANOTHER_CHILD,
            "nhs_number: already belongs to a child registered with another date of birth, sex, "
            "birth order, mother or given name; check the NHS number, or notify the birth "
            "without it",
            {{"field", "nhs_number"}});
      }
      // The same birth notified again (another notification id, or another system): the child
      // already exists. Record the notification on the child, so that a merge can carry it, and
      // in the index, so that its own retries find the same child.
      const bool registered_by_caller = RegisteredBy(child, scope);
      RecordNotification(birth, now, child);
      child.set_version(child.version() + 1);
      CIR_RETURN_IF_ERROR(txn.PutChild(child));
      CIR_RETURN_IF_ERROR(txn.PutIndex(IndexKind::kNotification, notification,
                                       IndexEntry{child.child_id(), fingerprint}));
      CIR_RETURN_IF_ERROR(AppendChangeEvent(txn, storage::EVENT_KIND_BIRTH_NOTIFIED_AGAIN, child,
                                            {.made_by = birth.notifying_system}));
      AnswerExistingChild(child, registered_by_caller, response);
      response.set_created(false);
      return absl::OkStatus();
    }
  }

  CIR_ASSIGN_OR_RETURN(std::string child_id, NewChildId(txn, draw_child_id));
  StoredChild child = NewStoredChild(birth, std::move(child_id), now);
  // The child's area is told of the birth, in the same write.
  std::vector<storage::StoredFeedEvent> feed;
  feed.push_back(FeedEventAbout(v1::FEED_EVENT_KIND_BIRTH_REGISTERED, child,
                                child.local_authority(), birth.date_of_birth));
  NoteFeedAreas(child, feed);
  CIR_RETURN_IF_ERROR(txn.PutChild(child));
  if (!child.nhs_number().empty()) {
    CIR_RETURN_IF_ERROR(
        txn.PutIndex(IndexKind::kNhsNumber, child.nhs_number(), IndexEntry{child.child_id(), ""}));
  }
  CIR_RETURN_IF_ERROR(txn.PutIndex(IndexKind::kNotification, notification,
                                   IndexEntry{child.child_id(), fingerprint}));
  CIR_RETURN_IF_ERROR(AppendChangeEvent(
      txn, storage::EVENT_KIND_BIRTH_REGISTERED, child,
      {.made_by = birth.notifying_system, .feed = std::move(feed)}));
  ToChildRecord(child, response.mutable_record());
  response.set_created(true);
  return absl::OkStatus();
}

// One birth of a RegisterBirths call: valid, with its fingerprint, or refused before the unit.
struct PendingBirth {
  std::optional<ValidBirth> birth;
  std::string fingerprint;
  absl::Status refusal;
};

// Whether `outcome`, a refusal of one birth, is the birth's own (its details, its notification
// id, its NHS number), which leaves the other births of its call to go on; anything else (the
// store failing to read or stage, a part that could not be undone) fails the whole unit.
bool IsTheBirthsOwnRefusal(const absl::Status& outcome) {
  switch (outcome.code()) {
    case absl::StatusCode::kInvalidArgument:
    case absl::StatusCode::kAlreadyExists:
    case absl::StatusCode::kFailedPrecondition:
    case absl::StatusCode::kPermissionDenied:
    case absl::StatusCode::kNotFound:
    case absl::StatusCode::kOutOfRange:
      return true;
    default:
      return false;
  }
}

// A birth's refusal as its result carries it: the code, reason, message and metadata
// RegisterBirth's status would carry.
v1::BirthRefusal ToBirthRefusal(const absl::Status& refusal) {
  v1::BirthRefusal result;
  result.set_code(static_cast<int32_t>(refusal.code()));
  result.set_message(std::string(refusal.message()));
  if (std::optional<google::rpc::ErrorInfo> info = errors::ErrorInfoOf(refusal); info.has_value()) {
    v1::ErrorReason reason = v1::ERROR_REASON_UNSPECIFIED;
    if (v1::ErrorReason_Parse(info->reason(), &reason)) result.set_reason(reason);
    result.mutable_metadata()->insert(info->metadata().begin(), info->metadata().end());
  }
  return result;
}

// The unit of work of RegisterBirths: each birth in turn as a part of the unit (RegisterInTxn),
// so that a refused birth's writes, if it staged any, go and the others' stay.
absl::Status RegisterEachInTxn(const std::vector<PendingBirth>& births, v1::RecordView view,
                               const RecordScope& scope,
                               const std::function<std::string()>& draw_child_id, WriteTxn& txn,
                               v1::RegisterBirthsResponse& response) {
  response.Clear();
  response.mutable_results()->Reserve(static_cast<int>(births.size()));
  int registered = 0;
  for (const PendingBirth& pending : births) {
    v1::RegisterBirthsResult* result = response.add_results();
    absl::Status outcome = pending.refusal;
    if (outcome.ok()) {
      v1::RegisterBirthResponse answer;
      outcome = txn.RunPart([&] {
        return RegisterInTxn(*pending.birth, pending.fingerprint, scope, txn.CommitTime(),
                             draw_child_id, txn, answer);
      });
      if (outcome.ok()) {
        NarrowToView(view, *answer.mutable_record());
        *result->mutable_registered() = std::move(answer);
        ++registered;
        continue;
      }
      if (!IsTheBirthsOwnRefusal(outcome)) return outcome;
    }
    *result->mutable_refused() = ToBirthRefusal(outcome);
  }
  response.set_registered_count(registered);
  response.set_refused_count(static_cast<int32_t>(births.size()) - registered);
  return absl::OkStatus();
}

// Refuses an identifier that resolves to another child (ALREADY_EXISTS, `held_by_another`, without
// saying which child). Returns whether it already resolves to this child.
absl::StatusOr<bool> CheckNotHeldByAnother(WriteTxn& txn, IndexKind kind, const std::string& value,
                                           const std::string& child_id, absl::string_view field,
                                           v1::ErrorReason held_by_another) {
  CIR_ASSIGN_OR_RETURN(std::optional<IndexEntry> holder, txn.Lookup(kind, value));
  if (!holder.has_value()) return false;
  if (holder->child_id != child_id) {
    return errors::Refusal(
        absl::StatusCode::kAlreadyExists, held_by_another,
        absl::StrCat(field, ": already belongs to another child; check the value, and if the two "
                            "records are the same child ask the local authority data team to "
                            "merge them"),
        {{"field", field}});
  }
  return true;
}

storage::EventKind UpnEventKind(v1::LinkUpnResponse::Outcome outcome) {
  switch (outcome) {
    case v1::LinkUpnResponse::OUTCOME_REPLACED_TEMPORARY:
      return storage::EVENT_KIND_UPN_REPLACED;
    case v1::LinkUpnResponse::OUTCOME_KEPT_AS_FORMER:
      return storage::EVENT_KIND_UPN_KEPT_AS_FORMER;
    default:
      return storage::EVENT_KIND_UPN_LINKED;
  }
}

absl::Status LinkUpnInTxn(const std::string& child_id, const std::string& upn, bool replace,
                          WriteTxn& txn, v1::LinkUpnResponse& response) {
  CIR_ASSIGN_OR_RETURN(StoredChild child, ChildToChange(txn, child_id, RecordScope::Everywhere()));
  if (child.upn() != upn) {
    CIR_RETURN_IF_ERROR(CheckNotHeldByAnother(txn, IndexKind::kUpn, upn, child_id, "upn",
                                              v1::UPN_HELD_BY_ANOTHER_CHILD)
                            .status());
  }
  CIR_ASSIGN_OR_RETURN(v1::LinkUpnResponse::Outcome outcome, DecideUpnLink(child, upn, replace));
  switch (outcome) {
    case v1::LinkUpnResponse::OUTCOME_LINKED:
      child.set_upn(upn);
      break;
    case v1::LinkUpnResponse::OUTCOME_REPLACED_TEMPORARY:
      child.add_former_upns(child.upn());
      child.set_upn(upn);
      break;
    case v1::LinkUpnResponse::OUTCOME_KEPT_AS_FORMER:
      child.add_former_upns(upn);
      break;
    default:  // OUTCOME_UNCHANGED
      ToChildRecord(child, response.mutable_record());
      response.set_changed(false);
      response.set_outcome(v1::LinkUpnResponse::OUTCOME_UNCHANGED);
      return absl::OkStatus();
  }
  child.set_version(child.version() + 1);
  CIR_RETURN_IF_ERROR(txn.PutChild(child));
  CIR_RETURN_IF_ERROR(txn.PutIndex(IndexKind::kUpn, upn, IndexEntry{child_id, ""}));
  CIR_RETURN_IF_ERROR(AppendChangeEvent(txn, UpnEventKind(outcome), child));
  ToChildRecord(child, response.mutable_record());
  response.set_changed(true);
  response.set_outcome(outcome);
  return absl::OkStatus();
}

absl::Status LinkNhsInTxn(const std::string& child_id, const std::string& nhs,
                          WriteTxn& txn, v1::LinkNhsNumberResponse& response) {
  CIR_ASSIGN_OR_RETURN(StoredChild child, ChildToChange(txn, child_id, RecordScope::Everywhere()));
  if (child.nhs_number() == nhs) {
    ToChildRecord(child, response.mutable_record());
    response.set_changed(false);
    return absl::OkStatus();
  }
  CIR_ASSIGN_OR_RETURN(bool held_by_this_child,
                       CheckNotHeldByAnother(txn, IndexKind::kNhsNumber, nhs, child_id,
                                             "nhs_number", v1::NHS_NUMBER_HELD_BY_ANOTHER_CHILD));
  if (held_by_this_child) {
    return errors::Refusal(
        absl::StatusCode::kFailedPrecondition, v1::FORMER_IDENTIFIER_NOT_REUSABLE,
        "nhs_number: is a former NHS number of this child and cannot become current again",
        {{"field", "nhs_number"}});
  }
  if (!child.nhs_number().empty()) {
    return errors::Refusal(
        absl::StatusCode::kFailedPrecondition, v1::CHILD_HAS_ANOTHER_NHS_NUMBER,
        "nhs_number: the child already has a different NHS number; an NHS number is added only "
        "to a child registered without one",
        {{"field", "nhs_number"}});
  }
  if (child.mother_nhs_number() == nhs) {
    return errors::InvalidField(
        "nhs_number", "is the NHS number recorded for the child's mother; check which is which",
        v1::NHS_NUMBER_IS_MOTHERS);
  }
  child.set_nhs_number(nhs);
  child.set_version(child.version() + 1);
  CIR_RETURN_IF_ERROR(txn.PutChild(child));
  CIR_RETURN_IF_ERROR(txn.PutIndex(IndexKind::kNhsNumber, nhs, IndexEntry{child_id, ""}));
  CIR_RETURN_IF_ERROR(
      AppendChangeEvent(txn, storage::EVENT_KIND_NHS_NUMBER_LINKED, child));
  ToChildRecord(child, response.mutable_record());
  response.set_changed(true);
  return absl::OkStatus();
}

absl::StatusOr<IdentifierKind> ToIdentifierKind(v1::IdentifierKind kind) {
  switch (kind) {
    case v1::IDENTIFIER_KIND_CHILD_ID:
      return IdentifierKind::kChildId;
    case v1::IDENTIFIER_KIND_NHS_NUMBER:
      return IdentifierKind::kNhsNumber;
    case v1::IDENTIFIER_KIND_UPN:
      return IdentifierKind::kUpn;
    default:
      return errors::InvalidField("kind", "not a known identifier kind");
  }
}

v1::IdentifierKind ToApiKind(IdentifierKind kind) {
  switch (kind) {
    case IdentifierKind::kChildId:
      return v1::IDENTIFIER_KIND_CHILD_ID;
    case IdentifierKind::kNhsNumber:
      return v1::IDENTIFIER_KIND_NHS_NUMBER;
    case IdentifierKind::kUpn:
      return v1::IDENTIFIER_KIND_UPN;
  }
  return v1::IDENTIFIER_KIND_UNSPECIFIED;
}

IndexKind ToIndexKind(IdentifierKind kind) {
  return kind == IdentifierKind::kNhsNumber ? IndexKind::kNhsNumber : IndexKind::kUpn;
}

// True if `identifier` is one the child has had but no longer has as current.
bool IsFormer(const StoredChild& child, const Identifier& identifier) {
  switch (identifier.kind) {
    case IdentifierKind::kChildId:
      return false;
    case IdentifierKind::kNhsNumber:
      return child.nhs_number() != identifier.value;
    case IdentifierKind::kUpn:
      return child.upn() != identifier.value;
  }
  return false;
}

absl::Status IdentifierNotFound(const Identifier& identifier) {
  return errors::Refusal(
      absl::StatusCode::kNotFound, v1::IDENTIFIER_NOT_FOUND,
      absl::StrCat("identifier: no child has this ",
                   identifiers::IdentifierKindName(identifier.kind)),
      {{"field", "identifier"}});
}

}  // namespace

absl::Status NoChildHasIdentifier(v1::IdentifierKind kind) {
  absl::StatusOr<IdentifierKind> internal = ToIdentifierKind(kind);
  return IdentifierNotFound(Identifier{internal.ok() ? *internal : IdentifierKind::kChildId, ""});
}

Registry::Registry(storage::ChildStore& store, RegistryOptions options)
    : store_(store), options_(std::move(options)) {
  if (!options_.today) options_.today = TodayInEngland;
}

void Registry::RegisterBirth(const v1::RegisterBirthRequest& request,
                             Reply<v1::RegisterBirthResponse> reply, storage::SubmitOptions submit,
                             const Actor& actor) {
  absl::StatusOr<ValidBirth> birth =
      ValidateBirth(request, options_.today(), options_.allow_test_nhs_numbers);
  if (!birth.ok()) {
    reply(birth.status());
    return;
  }
  std::string fingerprint = NotificationFingerprint(*birth);
  SubmitChange<v1::RegisterBirthResponse>(
      store_,
      [birth = *std::move(birth), fingerprint = std::move(fingerprint), scope = actor.scope,
       draw = options_.draw_child_id](WriteTxn& txn, v1::RegisterBirthResponse& response) {
        return RegisterInTxn(birth, fingerprint, scope, txn.CommitTime(), draw, txn, response);
      },
      std::move(reply), std::move(submit), actor);
}

void Registry::RegisterBirths(const v1::RegisterBirthsRequest& request,
                              Reply<v1::RegisterBirthsResponse> reply,
                              storage::SubmitOptions submit, const Actor& actor,
                              std::vector<absl::Status> refused) {
  const int count = request.births_size();
  if (count == 0) {
    reply(errors::InvalidField("births", "give at least one birth", v1::FIELD_REQUIRED));
    return;
  }
  if (count > options_.max_bulk_births) {
    reply(errors::Refusal(absl::StatusCode::kInvalidArgument, v1::BATCH_TOO_LARGE,
                          absl::StrCat("births: at most ", options_.max_bulk_births,
                                       " per call, got ", count, "; split them into several calls"),
                          {{"field", "births"}}));
    return;
  }
  if (!v1::RecordView_IsValid(request.view())) {
    reply(errors::InvalidField("view", "not a known record view"));
    return;
  }
  if (!refused.empty() && refused.size() != static_cast<size_t>(count)) {
    reply(InternalFault("RegisterBirths was given refusals for another number of births"));
    return;
  }
  // Each birth checked here, off the writer; only those that pass go to the unit of work.
  std::vector<PendingBirth> births(count);
  for (int i = 0; i < count; ++i) {
    if (!refused.empty() && !refused[i].ok()) {
      births[i].refusal = std::move(refused[i]);
      continue;
    }
    absl::StatusOr<ValidBirth> birth =
        ValidateBirth(request.births(i), options_.today(), options_.allow_test_nhs_numbers);
    if (!birth.ok()) {
      births[i].refusal = birth.status();
      continue;
    }
    births[i].fingerprint = NotificationFingerprint(*birth);
    births[i].birth = *std::move(birth);
  }
  SubmitChange<v1::RegisterBirthsResponse>(
      store_,
      [births = std::move(births), view = request.view(), scope = actor.scope,
       draw = options_.draw_child_id](WriteTxn& txn, v1::RegisterBirthsResponse& response) {
        return RegisterEachInTxn(births, view, scope, draw, txn, response);
      },
      std::move(reply), std::move(submit), actor);
}

void Registry::LinkUpn(const v1::LinkUpnRequest& request, Reply<v1::LinkUpnResponse> reply,
                       storage::SubmitOptions submit, const Actor& actor) {
  absl::StatusOr<std::string> child_id = ChildIdField(request.child_id());
  if (!child_id.ok()) {
    reply(child_id.status());
    return;
  }
  absl::StatusOr<std::string> upn =
      RequiredIdentifier(request.upn(), "upn", "a UPN", identifiers::ParseUpn);
  if (!upn.ok()) {
    reply(upn.status());
    return;
  }
  SubmitChange<v1::LinkUpnResponse>(
      store_,
      [child_id = *std::move(child_id), upn = *std::move(upn), replace = request.replace_current()](
          WriteTxn& txn, v1::LinkUpnResponse& response) {
        return LinkUpnInTxn(child_id, upn, replace, txn, response);
      },
      std::move(reply), std::move(submit), actor);
}

void Registry::LinkNhsNumber(const v1::LinkNhsNumberRequest& request,
                             Reply<v1::LinkNhsNumberResponse> reply, storage::SubmitOptions submit,
                             const Actor& actor) {
  absl::StatusOr<std::string> child_id = ChildIdField(request.child_id());
  if (!child_id.ok()) {
    reply(child_id.status());
    return;
  }
  if (request.nhs_number().empty()) {
    reply(errors::InvalidField("nhs_number", "required; an NHS number", v1::FIELD_REQUIRED));
    return;
  }
  absl::StatusOr<std::string> nhs = ValidateNhsNumberField(request.nhs_number(), "nhs_number",
                                                           options_.allow_test_nhs_numbers);
  if (!nhs.ok()) {
    reply(nhs.status());
    return;
  }
  SubmitChange<v1::LinkNhsNumberResponse>(
      store_,
      [child_id = *std::move(child_id), nhs = *std::move(nhs)](
          WriteTxn& txn, v1::LinkNhsNumberResponse& response) {
        return LinkNhsInTxn(child_id, nhs, txn, response);
      },
      std::move(reply), std::move(submit), actor);
}

absl::StatusOr<v1::ResolveResponse> Registry::Resolve(const v1::ResolveRequest& request) {
  if (request.identifier().empty()) {
    return errors::InvalidField(
        "identifier", "required; a child identifier, NHS number or UPN", v1::FIELD_REQUIRED);
  }
  absl::StatusOr<Identifier> identifier;
  if (request.kind() == v1::IDENTIFIER_KIND_UNSPECIFIED) {
    identifier = identifiers::ParseAnyIdentifier(request.identifier());
  } else {
    CIR_ASSIGN_OR_RETURN(IdentifierKind kind, ToIdentifierKind(request.kind()));
    identifier = identifiers::ParseIdentifier(request.identifier(), kind);
  }
  if (!identifier.ok()) {
    return FieldError("identifier", identifier.status());
  }
  std::string child_id = identifier->value;
  if (identifier->kind != IdentifierKind::kChildId) {
    CIR_ASSIGN_OR_RETURN(std::optional<IndexEntry> entry,
                         store_.Lookup(ToIndexKind(identifier->kind), identifier->value));
    if (!entry.has_value()) return IdentifierNotFound(*identifier);
    child_id = entry->child_id;
  }
  CIR_ASSIGN_OR_RETURN(std::optional<StoredChild> child, store_.GetChild(child_id));
  if (!child.has_value()) {
    if (identifier->kind == IdentifierKind::kChildId) return IdentifierNotFound(*identifier);
    return InternalFault("the identifier index names a child that is not stored");
  }
  v1::ResolveResponse response;
  if (child->status() == v1::RECORD_STATUS_MERGED) {
    // A retired identifier: the survivor it was merged into (chains are kept one hop long).
    response.set_redirected_from_child_id(child->child_id());
    CIR_ASSIGN_OR_RETURN(child, store_.GetChild(child->merged_into()));
    if (!child.has_value()) {
      return InternalFault("a retired record names a survivor that is not stored");
    }
  }
  ToChildRecord(*child, response.mutable_record());
  response.set_matched_kind(ToApiKind(identifier->kind));
  response.set_matched_former(IsFormer(*child, *identifier));
  return response;
}

namespace {

// Replaces each retired record (merged into another) among `children` by its survivor, read in
// one batch. Retired records are rare: most batches read nothing more.
absl::Status FollowMerges(storage::ChildStore& store,
                          std::vector<absl::StatusOr<std::optional<StoredChild>>>& children) {
  std::vector<std::string> survivor_ids;
  std::vector<size_t> retired_at;
  for (size_t k = 0; k < children.size(); ++k) {
    if (!children[k].ok()) return children[k].status();
    if (children[k]->has_value() && (*children[k])->status() == v1::RECORD_STATUS_MERGED) {
      survivor_ids.push_back((*children[k])->merged_into());
      retired_at.push_back(k);
    }
  }
  if (survivor_ids.empty()) return absl::OkStatus();
  std::vector<absl::StatusOr<std::optional<StoredChild>>> survivors =
      store.GetChildren(survivor_ids);
  for (size_t i = 0; i < survivors.size(); ++i) {
    if (!survivors[i].ok()) return survivors[i].status();
    if (!survivors[i]->has_value()) {
      return InternalFault("a retired record names a survivor that is not stored");
    }
    children[retired_at[i]] = std::move(survivors[i]);
  }
  return absl::OkStatus();
}

// Every result of `response` not yet given an outcome: its identifier was valid but names no child.
void MarkTheRestNotFound(v1::BatchResolveResponse& response) {
  for (v1::BatchResolveResult& result : *response.mutable_results()) {
    if (result.outcome() == v1::BatchResolveResult::OUTCOME_UNSPECIFIED) {
      result.set_outcome(v1::BatchResolveResult::OUTCOME_NOT_FOUND);
    }
  }
}

}  // namespace

absl::Status ReadAbandoned(const ReadCall& call) {
  if (absl::Now() >= call.deadline) {
    return errors::Refusal(absl::StatusCode::kDeadlineExceeded, v1::CALL_ABANDONED,
                           "the call's deadline passed before its lookups were done; nothing "
                           "was sent");
  }
  if (call.is_cancelled && call.is_cancelled()) {
    return errors::Refusal(absl::StatusCode::kCancelled, v1::CALL_ABANDONED,
                           "the call was cancelled before its lookups were done; nothing was sent");
  }
  return absl::OkStatus();
}

absl::StatusOr<v1::BatchResolveResponse> Registry::BatchResolve(
    const v1::BatchResolveRequest& request, const ReadCall& call) {
  const int count = request.identifiers_size();
  if (count == 0) {
    return errors::InvalidField("identifiers", "give at least one identifier", v1::FIELD_REQUIRED);
  }
  if (count > options_.max_batch_identifiers) {
    return errors::Refusal(
        absl::StatusCode::kInvalidArgument, v1::BATCH_TOO_LARGE,
        absl::StrCat("identifiers: at most ", options_.max_batch_identifiers, " per call, got ",
                     count, "; split the list into several calls"),
        {{"field", "identifiers"}});
  }
  if (!v1::RecordView_IsValid(request.view())) {
    return errors::InvalidField("view", "not a known record view");
  }
  const v1::RecordView view = request.view();
  v1::BatchResolveResponse response;
  std::vector<std::optional<Identifier>> parsed(count);
  std::vector<storage::IndexKey> index_keys;
  std::vector<int> index_key_owner;
  for (int i = 0; i < count; ++i) {
    v1::BatchResolveResult* result = response.add_results();
    absl::StatusOr<Identifier> identifier = identifiers::ParseAnyIdentifier(request.identifiers(i));
    if (!identifier.ok()) {
      result->set_outcome(v1::BatchResolveResult::OUTCOME_INVALID);
      result->set_error(std::string(identifier.status().message()));
      continue;
    }
    if (identifier->kind != IdentifierKind::kChildId) {
      index_keys.push_back({ToIndexKind(identifier->kind), identifier->value});
      index_key_owner.push_back(i);
    }
    parsed[i] = *std::move(identifier);
  }

  // Which child each input names: child identifiers directly, the others through the index.
  std::vector<std::string> child_ids;
  std::vector<int> child_id_owner;
  for (int i = 0; i < count; ++i) {
    if (parsed[i].has_value() && parsed[i]->kind == IdentifierKind::kChildId) {
      child_ids.push_back(parsed[i]->value);
      child_id_owner.push_back(i);
    }
  }
  CIR_RETURN_IF_ERROR(ReadAbandoned(call));
  std::vector<absl::StatusOr<std::optional<IndexEntry>>> entries = store_.LookupMany(index_keys);
  for (size_t k = 0; k < entries.size(); ++k) {
    if (!entries[k].ok()) return entries[k].status();
    if (!entries[k]->has_value()) continue;
    if (view == v1::RECORD_VIEW_CHILD_ID) {
      // The index entry already names the child: no need to read its record. Without the record,
      // neither its status nor whether the identifier is a former one is known, and the view
      // carries neither (see RECORD_VIEW_CHILD_ID in the proto).
      v1::BatchResolveResult* result = response.mutable_results(index_key_owner[k]);
      result->set_outcome(v1::BatchResolveResult::OUTCOME_FOUND);
      result->mutable_record()->set_child_id(std::move((*entries[k])->child_id));
      result->set_matched_kind(ToApiKind(parsed[index_key_owner[k]]->kind));
      continue;
    }
    child_ids.push_back((*entries[k])->child_id);
    child_id_owner.push_back(index_key_owner[k]);
  }

  if (view == v1::RECORD_VIEW_CHILD_ID) {
    // A child identifier given as input needs only to be known (its record is not read), or, if
    // retired by a merge, the index names its survivor.
    std::vector<storage::IndexKey> retired_keys;
    retired_keys.reserve(child_ids.size());
    for (const std::string& id : child_ids) {
      retired_keys.push_back({IndexKind::kRetiredChildId, id});
    }
    std::vector<absl::StatusOr<std::optional<IndexEntry>>> survivors =
        store_.LookupMany(retired_keys);
    std::vector<absl::StatusOr<bool>> stored = store_.ChildrenExist(child_ids);
    for (size_t k = 0; k < stored.size(); ++k) {
      if (!stored[k].ok()) return stored[k].status();
      if (!survivors[k].ok()) return survivors[k].status();
      if (!*stored[k]) continue;
      v1::BatchResolveResult* result = response.mutable_results(child_id_owner[k]);
      result->set_outcome(v1::BatchResolveResult::OUTCOME_FOUND);
      result->set_matched_kind(v1::IDENTIFIER_KIND_CHILD_ID);
      result->mutable_record()->set_child_id(survivors[k]->has_value()
                                                 ? std::move((*survivors[k])->child_id)
                                                 : child_ids[k]);
    }
    MarkTheRestNotFound(response);
    return response;
  }
  CIR_RETURN_IF_ERROR(ReadAbandoned(call));
  std::vector<absl::StatusOr<std::optional<StoredChild>>> children =
      store_.GetChildren(child_ids);
  CIR_RETURN_IF_ERROR(FollowMerges(store_, children));
  for (size_t k = 0; k < children.size(); ++k) {
    if (!children[k].ok()) return children[k].status();
    const int i = child_id_owner[k];
    if (!children[k]->has_value()) {
      if (parsed[i]->kind != IdentifierKind::kChildId) {
        return InternalFault("the identifier index names a child that is not stored");
      }
      continue;
    }
    v1::BatchResolveResult* result = response.mutable_results(i);
    result->set_outcome(v1::BatchResolveResult::OUTCOME_FOUND);
    result->set_matched_kind(ToApiKind(parsed[i]->kind));
    switch (view) {
      case v1::RECORD_VIEW_FULL:
        ToChildRecord(**children[k], result->mutable_record());
        break;
      default:
        ToChildIdentifiers(**children[k], result->mutable_record());
        break;
    }
    result->set_matched_former(IsFormer(**children[k], *parsed[i]));
  }
  MarkTheRestNotFound(response);
  return response;
}

}  // namespace cir::registry
