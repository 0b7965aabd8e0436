#ifndef CIR_REGISTRY_CHANGE_SUPPORT_H_
#define CIR_REGISTRY_CHANGE_SUPPORT_H_

// What every change to the registry does the same way: find the child it names, record its event
// (in the log and in the feeds it concerns), and hand the unit of work to the store.

#include <memory>
#include <string>
#include <utility>
#include <vector>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/string_view.h"
#include "absl/time/civil_time.h"
#include "cir/v1/registry.pb.h"
#include "errors/refusal.h"
#include "registry/actor.h"
#include "registry/birth_validation.h"
#include "registry/record_scope.h"
#include "registry/registry.h"
#include "storage/child_store.h"

namespace cir::registry {

// A fault inside the registry: INTERNAL, reason INTERNAL_ERROR. `message` names no child.
absl::Status InternalFault(absl::string_view message);

// The child an index entry names, which must be stored (INTERNAL otherwise).
absl::StatusOr<storage::StoredChild> ExistingChild(storage::WriteTxn& txn,
                                                   const std::string& child_id);

// The child a request names in `field`, whatever its status: NOT_FOUND (CHILD_NOT_FOUND) if none
// has that identifier, or if the child is outside `scope` (answered exactly alike).
absl::StatusOr<storage::StoredChild> NamedChild(storage::WriteTxn& txn, const std::string& child_id,
                                                const RecordScope& scope, absl::string_view field);

// The child a change names in `field`: NOT_FOUND (CHILD_NOT_FOUND) if none has that identifier
// or it is outside `scope`;
// FAILED_PRECONDITION (CHILD_MERGED) if its record is retired, merged into another.
absl::StatusOr<storage::StoredChild> ChildToChange(storage::WriteTxn& txn,
                                                   const std::string& child_id,
                                                   const RecordScope& scope,
                                                   absl::string_view field = "child_id");

storage::StoredDate ToStoredDate(absl::CivilDay day);

// A feed event of `kind` about `child` for `local_authority`'s feed, carrying what a centre
// receives of the child as it is now, effective on `effective`.
storage::StoredFeedEvent FeedEventAbout(v1::FeedEventKind kind, const storage::StoredChild& child,
                                        absl::string_view local_authority,
                                        absl::CivilDay effective);

// Adds the area of each of `feed` that is about `child` to child.feed_areas, once: called before
// the child is put, so that a later merge or withdrawal reaches every area that was told of it.
void NoteFeedAreas(storage::StoredChild& child, absl::Span<const storage::StoredFeedEvent> feed);

// Notices telling every area whose feed carried `child` to delete what it may no longer hold,
// now that the record's restrictions go from `child`'s flags to `objection` and `sensitive`:
// everything once the objection applies (sharing withdrawn), the address once the record is
// sensitive without one (restricted). No details; each carries `version`, the record's version
// after the change. None if no restriction was gained.
std::vector<storage::StoredFeedEvent> RestrictionNotices(const storage::StoredChild& child,
                                                         bool objection, bool sensitive,
                                                         int64_t version, absl::CivilDay day);

// Every area whose feed carried `a` or `b`, each once, in first-carried order (a's first).
std::vector<std::string> FeedAreasOfEither(const storage::StoredChild& a,
                                           const storage::StoredChild& b);

// What an event records besides its kind and child.
struct ChangeEventDetails {
  std::string made_by;                         // who made the change
  std::string other_child_id;                  // the other child of a merge or an undone one
  std::vector<storage::StoredFeedEvent> feed;  // the feed events it causes
};

// Appends the event of a change to `child` (put with its new version) with its feed events, each
// stamped with details.made_by. The store stamps times and sequence numbers.
absl::Status AppendChangeEvent(storage::WriteTxn& txn, storage::EventKind kind,
                               const storage::StoredChild& child, ChangeEventDetails details = {});

// A required identifier field: FIELD_REQUIRED if empty, FIELD_INVALID if `parse` refuses it.
template <typename Parse>
absl::StatusOr<std::string> RequiredIdentifier(absl::string_view input, absl::string_view field,
                                               absl::string_view what, Parse parse) {
  if (input.empty()) {
    return errors::InvalidField(field, absl::StrCat("required; ", what), v1::FIELD_REQUIRED);
  }
  absl::StatusOr<std::string> value = parse(input);
  if (!value.ok()) return FieldError(field, value.status());
  return value;
}

// A child identifier sent in `field`, canonical.
absl::StatusOr<std::string> ChildIdField(absl::string_view input,
                                         absl::string_view field = "child_id");

// Hands `work` (absl::Status(WriteTxn&, Response&)) to the store, and `reply` the response it
// filled once the change is durable, or the refusal.
template <typename Response, typename Work>
void SubmitChange(storage::ChildStore& store, Work work, Registry::Reply<Response> reply,
                  storage::SubmitOptions submit, const Actor& actor = {}) {
  auto response = std::make_shared<Response>();
  if (actor.audit) {
    // Runs on the writer thread once the unit's group has run; the unit filled `response` if it
    // succeeded.
    submit.audit_entry = [audit = actor.audit, response](const absl::Status& outcome) {
      return audit(outcome, outcome.ok() ? response.get() : nullptr);
    };
  }
  store.Submit([work = std::move(work),
                response](storage::WriteTxn& txn) mutable { return work(txn, *response); },
               [response, reply = std::move(reply)](absl::Status status) mutable {
                 if (!status.ok()) {
                   reply(std::move(status));
                 } else {
                   reply(std::move(*response));
                 }
               },
               std::move(submit));
}

}  // namespace cir::registry

#endif  // CIR_REGISTRY_CHANGE_SUPPORT_H_
