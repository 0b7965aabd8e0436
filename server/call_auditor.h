#ifndef CIR_SERVER_CALL_AUDITOR_H_
#define CIR_SERVER_CALL_AUDITOR_H_

#include <atomic>
#include <functional>
#include <memory>
#include <string>
#include <vector>

#include "absl/functional/any_invocable.h"
#include "absl/status/status.h"
#include "absl/strings/string_view.h"
#include "access/caller.h"
#include "cir/v1/registry.pb.h"
#include "registry/actor.h"
#include "storage/child_store.h"

namespace cir::server {

// Every call's audit entry (cir.v1.AuditEntry), appended to the store's audit log before the
// call's answer leaves the registry:
// - a change's, by the store's writer in the change's own write (registry::Actor::audit, made by
//   ActorFor), whatever the change's outcome;
// - a read's, and a refusal's made before any change was queued, by a unit of its own (Record)
//   whose durability the answer waits for. A read whose entry cannot be made durable is answered
//   UNAVAILABLE, AUDIT_UNAVAILABLE, and its data never sent: no entry, no data.
// Group commit makes this a sync per group of calls, not per call.
//
// Thread safety: every method may be called from any thread at once.
class CallAuditor {
 public:
  explicit CallAuditor(storage::ChildStore& store) : store_(store) {}

  // The entry of a call to `method` with `outcome`: by `caller`, or (when the call was refused
  // before its caller was known) by the agency `agency_id` its certificate names, if any.
  static v1::AuditEntry EntryFor(const access::Caller* caller, absl::string_view agency_id,
                                 absl::string_view method, const absl::Status& outcome);
  // Sets `entry`'s outcome: the gRPC code of `outcome` and its reason, if it has one.
  static void SetOutcome(const absl::Status& outcome, v1::AuditEntry& entry);
  // Adds each of `fields` to `entry`'s fields returned, once.
  static void NoteFields(std::vector<std::string> fields, v1::AuditEntry& entry);
  // Adds to `entry` the child of a feed event and the fields it carries of the child.
  static void NoteFeedEvent(const v1::FeedEvent& event, v1::AuditEntry& entry);
  // Adds to `entry` the child `record` is and the fields the caller's `grant` is given of it.
  static void NoteRecord(const access::MethodGrant& grant, const v1::ChildRecord& record,
                         v1::AuditEntry& entry);

  // Appends `entry` in a unit of its own, then calls `then` with OK once it is durable, or with
  // the refusal (UNAVAILABLE, AUDIT_UNAVAILABLE) if it could not be made so. `submit` says when
  // the call has gone: if it has when the unit's turn comes, the entry is written saying so
  // (CALL_ABANDONED, no fields returned, unless it records a refusal already) and `then` hears
  // CALL_ABANDONED.
  void Record(v1::AuditEntry entry, absl::AnyInvocable<void(absl::Status)> then,
              storage::SubmitOptions submit);

  // The registry::Actor of `caller`'s change to `method`, whose audit entry notes every record
  // in the response; `audited` is set (release) when the store has made the entry, so that the
  // caller knows whether a refusal it gets still needs one (the store may still not write the
  // group: see RegistryService::ChangeReply).
  static registry::Actor ActorFor(const access::Caller& caller,
                                  std::shared_ptr<std::atomic<bool>> audited);

 private:
  storage::ChildStore& store_;
};

// The refusal of a read whose audit entry could not be made durable.
absl::Status AuditUnavailable(const absl::Status& why);

}  // namespace cir::server

#endif  // CIR_SERVER_CALL_AUDITOR_H_
