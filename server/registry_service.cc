#include "server/registry_service.h"

#include <atomic>
#include <cstdint>
#include <type_traits>
#include <utility>
#include <vector>

#include "absl/status/status.h"
#include "absl/strings/ascii.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/string_view.h"
#include "absl/time/time.h"
#include "access/record_fields.h"
#include "cir/v1/registry.pb.h"
#include "errors/refusal.h"
#include "google/protobuf/descriptor.h"
#include "server/call_auditor.h"
#include "server/grpc_status.h"
#include "server/log.h"
#include "server/request_limits.h"

namespace cir::server {
namespace {

// Finishes `reactor` with `result`: the response on success, the mapped status otherwise. A failed
// call is logged with its method, code and reason only: messages may quote what the caller sent,
// and no log line may carry a child's details.
//
// Each call is counted on `calls_finished` (a release) before it is finished: see
// RegistryService::AfterShutdown.
template <typename Response>
void Finish(grpc::ServerUnaryReactor* reactor, Response* response, absl::string_view method,
            std::atomic<uint64_t>* calls_finished, absl::StatusOr<Response> result) {
  grpc::Status status = grpc::Status::OK;
  if (result.ok()) {
    *response = *std::move(result);
  } else {
    LogCallFailed(method, result.status());
    status = ToGrpcStatus(result.status());
  }
  calls_finished->fetch_add(1, std::memory_order_release);
  reactor->Finish(std::move(status));
}

template <typename Response>
auto FinishLater(grpc::ServerUnaryReactor* reactor, Response* response, absl::string_view method,
                 std::atomic<uint64_t>* calls_finished) {
  return [reactor, response, method, calls_finished](absl::StatusOr<Response> result) {
    Finish(reactor, response, method, calls_finished, std::move(result));
  };
}

// What the store needs to know of a read's audit unit: when the call has gone.
storage::SubmitOptions ReadAuditUnit(grpc::CallbackServerContext* context) {
  storage::SubmitOptions submit;
  submit.deadline = absl::FromChrono(context->deadline());
  submit.is_cancelled = [context] { return context->IsCancelled(); };
  submit.approximate_bytes = kQueuedUnitOverheadBytes;
  return submit;
}

// What the store needs to know of a write's call: its deadline, whether the caller has gone, and
// roughly what the request holds while queued.
storage::SubmitOptions WriteCall(grpc::CallbackServerContext* context,
                                 const google::protobuf::Message& request) {
  storage::SubmitOptions submit;
  submit.deadline = absl::FromChrono(context->deadline());
  // The context outlives the unit: the call is finished only from the unit's reply.
  submit.is_cancelled = [context] { return context->IsCancelled(); };
  submit.approximate_bytes = request.ByteSizeLong() + kQueuedUnitOverheadBytes;
  return submit;
}

std::string MethodPath(absl::string_view method) {
  return server::MethodPath(v1::ChildRegistry::service_full_name(), method);
}

// Least data: every ChildRecord a response carries (at its top level) trimmed to what the
// caller's grants for the call see.
void TrimRecords(const access::MethodGrant& grant, google::protobuf::Message& response) {
  const google::protobuf::Descriptor* descriptor = response.GetDescriptor();
  const google::protobuf::Reflection* reflection = response.GetReflection();
  for (int i = 0; i < descriptor->field_count(); ++i) {
    const google::protobuf::FieldDescriptor* field = descriptor->field(i);
    if (field->message_type() != v1::ChildRecord::descriptor()) continue;
    if (field->is_repeated()) {
      for (int j = 0; j < reflection->FieldSize(response, field); ++j) {
        access::TrimChildRecord(grant,
                                *static_cast<v1::ChildRecord*>(
                                    reflection->MutableRepeatedMessage(&response, field, j)));
      }
    } else if (reflection->HasField(response, field)) {
      access::TrimChildRecord(
          grant, *static_cast<v1::ChildRecord*>(reflection->MutableMessage(&response, field)));
    }
  }
}

// Whether a change refused with `outcome`, having run, was written with its group (and so its
// audit entry with it): every refusal of the change's own is, but not a group the store could
// not commit (WRITE_OUTCOME_UNKNOWN: if it was written after all, the call has two entries, the
// safe side), discarded (ABORTED) or could not audit.
bool StoreWroteTheGroup(const absl::Status& outcome) {
  const v1::ErrorReason reason = errors::ReasonOf(outcome);
  return reason != v1::WRITE_OUTCOME_UNKNOWN && reason != v1::AUDIT_UNAVAILABLE &&
         outcome.code() != absl::StatusCode::kAborted;
}

// Whether the caller may record `notice`: a maternity system informal deaths only; a registrar
// every kind.
absl::Status CheckDeathNotice(const access::Caller& caller, v1::DeathNotice notice) {
  if (caller.grant.GrantsRole(access::ROLE_REGISTRAR)) return absl::OkStatus();
  if (notice == v1::DEATH_NOTICE_FORMAL || notice == v1::DEATH_NOTICE_RETRACTION) {
    return errors::Refusal(absl::StatusCode::kPermissionDenied, v1::DEATH_NOTICE_NOT_PERMITTED,
                           "notice: a maternity system records informal deaths; a formal death "
                           "and the retraction of a death come from the registrar",
                           {{"field", "notice"}});
  }
  return absl::OkStatus();
}

// Whether the calling agency may name `notifying_system` on a birth. An empty code is left to
// the registry's validation, which says what to send.
absl::Status CheckNotifyingSystem(const access::Caller& caller,
                                  absl::string_view notifying_system) {
  const std::string code = absl::AsciiStrToUpper(absl::StripAsciiWhitespace(notifying_system));
  if (code.empty() || caller.agency->notifying_systems.contains(code)) return absl::OkStatus();
  return errors::Refusal(absl::StatusCode::kPermissionDenied, v1::NOTIFYING_SYSTEM_NOT_PERMITTED,
                         "notifying_system: this agency may not send notifications as this "
                         "system; use one of the codes the registry's operators configured for it",
                         {{"field", "notifying_system"}});
}

}  // namespace

RegistryService::RegistryService(registry::Registry& registry, registry::LifeEvents& life_events,
                                 const CallGate& gate, CallAuditor& auditor,
                                 v1::DescribeRegistryResponse description)
    : registry_(registry),
      life_events_(life_events),
      gate_(gate),
      auditor_(auditor),
      description_(std::move(description)) {
  constructed_.store(true, std::memory_order_release);
}

void RegistryService::AfterShutdown() const { calls_finished_.load(std::memory_order_acquire); }

grpc::ServerUnaryReactor* RegistryService::Enter(grpc::CallbackServerContext* context) {
  constructed_.load(std::memory_order_acquire);
  return context->DefaultReactor();
}

template <typename Response>
void RegistryService::Answer(grpc::ServerUnaryReactor* reactor,
                             grpc::CallbackServerContext* context, Response* response,
                             absl::string_view method, v1::AuditEntry entry,
                             absl::StatusOr<Response> result) {
  // The entry first, durable; then the answer. A refusal goes out whatever became of its entry
  // (it carries nothing of anyone); data only with its entry made durable.
  auditor_.Record(
      std::move(entry),
      [this, reactor, response, method, result = std::move(result)](absl::Status audited) mutable {
        if (result.ok() && !audited.ok()) result = std::move(audited);
        Finish(reactor, response, method, &calls_finished_, std::move(result));
      },
      ReadAuditUnit(context));
}

template <typename Response>
void RegistryService::Refuse(grpc::ServerUnaryReactor* reactor,
                             grpc::CallbackServerContext* context, Response* response,
                             absl::string_view method, const access::Caller* caller,
                             absl::Status refusal) {
  // The entry first: the refusal is moved into the answer after.
  v1::AuditEntry entry =
      CallAuditor::EntryFor(caller, gate_.AgencyIdOf(*context), MethodPath(method), refusal);
  if (caller == nullptr) gate_.NoteUnidentified(*context, entry);
  Answer<Response>(reactor, context, response, method, std::move(entry), std::move(refusal));
}

template <typename Response>
absl::StatusOr<access::Caller> RegistryService::Admit(grpc::ServerUnaryReactor* reactor,
                                                      grpc::CallbackServerContext* context,
                                                      Response* response,
                                                      absl::string_view method) {
  absl::StatusOr<access::Caller> caller = gate_.Admit(*context, MethodPath(method));
  if (!caller.ok()) Refuse(reactor, context, response, method, nullptr, caller.status());
  return caller;
}

template <typename Response>
absl::AnyInvocable<void(absl::StatusOr<Response>)> RegistryService::ChangeReply(
    grpc::ServerUnaryReactor* reactor, grpc::CallbackServerContext* context, Response* response,
    absl::string_view method, const access::Caller& caller,
    std::shared_ptr<std::atomic<bool>> audited) {
  return [this, reactor, context, response, method, caller,
          audited = std::move(audited)](absl::StatusOr<Response> result) mutable {
    if (!audited->load(std::memory_order_acquire) ||
        (!result.ok() && !StoreWroteTheGroup(result.status()))) {
      // The store never ran the change (bad input, a full queue), or ran it but did not write
      // its group, entry included: the entry is made here.
      Refuse(reactor, context, response, method, &caller, result.status());
      return;
    }
    if (result.ok()) TrimRecords(caller.grant, *result);
    if constexpr (std::is_same_v<Response, v1::RegisterBirthsResponse>) {
      if (result.ok()) {
        for (v1::RegisterBirthsResult& item : *result->mutable_results()) {
          if (item.has_registered()) {
            access::TrimChildRecord(caller.grant, *item.mutable_registered()->mutable_record());
          }
        }
      }
    }
    Finish(reactor, response, method, &calls_finished_, std::move(result));
  };
}

grpc::ServerUnaryReactor* RegistryService::RegisterBirth(grpc::CallbackServerContext* context,
                                                         const v1::RegisterBirthRequest* request,
                                                         v1::RegisterBirthResponse* response) {
  grpc::ServerUnaryReactor* reactor = Enter(context);
  absl::StatusOr<access::Caller> caller = Admit(reactor, context, response, "RegisterBirth");
  if (!caller.ok()) return reactor;
  absl::Status allowed = CheckRequestSize(*request, kMaxRegisterBirthBytes, "RegisterBirth");
  if (allowed.ok()) allowed = CheckNotifyingSystem(*caller, request->notifying_system());
  if (!allowed.ok()) {
    Refuse(reactor, context, response, "RegisterBirth", &*caller, std::move(allowed));
    return reactor;
  }
  auto audited = std::make_shared<std::atomic<bool>>(false);
  registry::Actor actor = CallAuditor::ActorFor(*caller, audited);
  registry_.RegisterBirth(
      *request, ChangeReply(reactor, context, response, "RegisterBirth", *caller, audited),
      WriteCall(context, *request), actor);
  return reactor;
}

grpc::ServerUnaryReactor* RegistryService::RegisterBirths(grpc::CallbackServerContext* context,
                                                          const v1::RegisterBirthsRequest* request,
                                                          v1::RegisterBirthsResponse* response) {
  grpc::ServerUnaryReactor* reactor = Enter(context);
  absl::StatusOr<access::Caller> caller = Admit(reactor, context, response, "RegisterBirths");
  if (!caller.ok()) return reactor;
  if (absl::Status size = CheckRequestSize(*request, kMaxRegisterBirthsBytes, "RegisterBirths");
      !size.ok()) {
    Refuse(reactor, context, response, "RegisterBirths", &*caller, std::move(size));
    return reactor;
  }
  // A birth naming a notifying system the agency may not use is refused alone (a call of too
  // many births is refused whole by the registry, before any is looked at).
  std::vector<absl::Status> refused;
  if (request->births_size() <= registry::RegistryOptions().max_bulk_births) {
    refused.reserve(request->births_size());
    for (const v1::RegisterBirthRequest& birth : request->births()) {
      refused.push_back(CheckNotifyingSystem(*caller, birth.notifying_system()));
    }
  }
  auto audited = std::make_shared<std::atomic<bool>>(false);
  registry_.RegisterBirths(
      *request, ChangeReply(reactor, context, response, "RegisterBirths", *caller, audited),
      WriteCall(context, *request), CallAuditor::ActorFor(*caller, audited), std::move(refused));
  return reactor;
}

grpc::ServerUnaryReactor* RegistryService::LinkUpn(grpc::CallbackServerContext* context,
                                                   const v1::LinkUpnRequest* request,
                                                   v1::LinkUpnResponse* response) {
  grpc::ServerUnaryReactor* reactor = Enter(context);
  absl::StatusOr<access::Caller> caller = Admit(reactor, context, response, "LinkUpn");
  if (!caller.ok()) return reactor;
  if (absl::Status size = CheckRequestSize(*request, kMaxSingleIdentifierRequestBytes, "LinkUpn");
      !size.ok()) {
    Refuse(reactor, context, response, "LinkUpn", &*caller, std::move(size));
    return reactor;
  }
  auto audited = std::make_shared<std::atomic<bool>>(false);
  registry_.LinkUpn(*request, ChangeReply(reactor, context, response, "LinkUpn", *caller, audited),
                    WriteCall(context, *request), CallAuditor::ActorFor(*caller, audited));
  return reactor;
}

grpc::ServerUnaryReactor* RegistryService::LinkNhsNumber(grpc::CallbackServerContext* context,
                                                         const v1::LinkNhsNumberRequest* request,
                                                         v1::LinkNhsNumberResponse* response) {
  grpc::ServerUnaryReactor* reactor = Enter(context);
  absl::StatusOr<access::Caller> caller = Admit(reactor, context, response, "LinkNhsNumber");
  if (!caller.ok()) return reactor;
  if (absl::Status size =
          CheckRequestSize(*request, kMaxSingleIdentifierRequestBytes, "LinkNhsNumber");
      !size.ok()) {
    Refuse(reactor, context, response, "LinkNhsNumber", &*caller, std::move(size));
    return reactor;
  }
  auto audited = std::make_shared<std::atomic<bool>>(false);
  registry_.LinkNhsNumber(
      *request, ChangeReply(reactor, context, response, "LinkNhsNumber", *caller, audited),
      WriteCall(context, *request), CallAuditor::ActorFor(*caller, audited));
  return reactor;
}

grpc::ServerUnaryReactor* RegistryService::Resolve(grpc::CallbackServerContext* context,
                                                   const v1::ResolveRequest* request,
                                                   v1::ResolveResponse* response) {
  grpc::ServerUnaryReactor* reactor = Enter(context);
  absl::StatusOr<access::Caller> caller = Admit(reactor, context, response, "Resolve");
  if (!caller.ok()) return reactor;
  if (absl::Status size = CheckRequestSize(*request, kMaxSingleIdentifierRequestBytes, "Resolve");
      !size.ok()) {
    Refuse(reactor, context, response, "Resolve", &*caller, std::move(size));
    return reactor;
  }
  absl::StatusOr<v1::ResolveResponse> result = registry_.Resolve(*request);
  v1::AuditEntry entry;
  if (result.ok()) {
    // A record outside the caller's reach is answered as an identifier that names no child; its
    // entry names the child as withheld, for the child's access report.
    access::MethodGrant reaching = caller->GrantsReaching(result->record());
    const std::string child_id = result->record().child_id();
    if (!reaching.allowed()) {
      result = registry::NoChildHasIdentifier(result->matched_kind());
      entry = CallAuditor::EntryFor(&*caller, "", MethodPath("Resolve"), result.status());
      entry.add_withheld_child_ids(child_id);
    } else {
      entry = CallAuditor::EntryFor(&*caller, "", MethodPath("Resolve"), absl::OkStatus());
      CallAuditor::NoteRecord(reaching, result->record(), entry);
      access::TrimChildRecord(reaching, *result->mutable_record());
    }
  } else {
    entry = CallAuditor::EntryFor(&*caller, "", MethodPath("Resolve"), result.status());
  }
  Answer(reactor, context, response, "Resolve", std::move(entry), std::move(result));
  return reactor;
}

grpc::ServerUnaryReactor* RegistryService::BatchResolve(grpc::CallbackServerContext* context,
                                                        const v1::BatchResolveRequest* request,
                                                        v1::BatchResolveResponse* response) {
  grpc::ServerUnaryReactor* reactor = Enter(context);
  absl::StatusOr<access::Caller> caller = Admit(reactor, context, response, "BatchResolve");
  if (!caller.ok()) return reactor;
  if (absl::Status size = CheckRequestSize(*request, kMaxBatchResolveBytes, "BatchResolve");
      !size.ok()) {
    Refuse(reactor, context, response, "BatchResolve", &*caller, std::move(size));
    return reactor;
  }
  // A batch its caller has given up on (while it waited for a thread, or during its lookups)
  // stops: nothing more is read, trimmed or sent, and its entry says so.
  registry::ReadCall call{absl::FromChrono(context->deadline()),
                          [context] { return context->IsCancelled(); }};
  absl::StatusOr<v1::BatchResolveResponse> result = registry_.BatchResolve(*request, call);
  if (result.ok()) {
    if (absl::Status gone = registry::ReadAbandoned(call); !gone.ok()) result = std::move(gone);
  }
  v1::AuditEntry entry =
      CallAuditor::EntryFor(&*caller, "", MethodPath("BatchResolve"), result.status());
  if (result.ok()) {
    for (v1::BatchResolveResult& item : *result->mutable_results()) {
      if (item.outcome() != v1::BatchResolveResult::OUTCOME_FOUND) continue;
      access::MethodGrant reaching = caller->GrantsReaching(item.record());
      if (!reaching.allowed()) {
        // Exactly as the registry answers an identifier that names no child; the entry names the
        // child as withheld, for the child's access report.
        entry.add_withheld_child_ids(item.record().child_id());
        item.Clear();
        item.set_outcome(v1::BatchResolveResult::OUTCOME_NOT_FOUND);
      } else {
        CallAuditor::NoteRecord(reaching, item.record(), entry);
        access::TrimChildRecord(reaching, *item.mutable_record());
      }
    }
  }
  Answer(reactor, context, response, "BatchResolve", std::move(entry), std::move(result));
  return reactor;
}

grpc::ServerUnaryReactor* RegistryService::DescribeRegistry(
    grpc::CallbackServerContext* context, const v1::DescribeRegistryRequest* request,
    v1::DescribeRegistryResponse* response) {
  grpc::ServerUnaryReactor* reactor = Enter(context);
  absl::StatusOr<access::Caller> caller = Admit(reactor, context, response, "DescribeRegistry");
  if (!caller.ok()) return reactor;
  if (absl::Status size =
          CheckRequestSize(*request, kMaxSingleIdentifierRequestBytes, "DescribeRegistry");
      !size.ok()) {
    Refuse(reactor, context, response, "DescribeRegistry", &*caller, std::move(size));
    return reactor;
  }
  Answer<v1::DescribeRegistryResponse>(
      reactor, context, response, "DescribeRegistry",
      CallAuditor::EntryFor(&*caller, "", MethodPath("DescribeRegistry"), absl::OkStatus()),
      description_);
  return reactor;
}

template <typename Request, typename Response>
grpc::ServerUnaryReactor* RegistryService::LifeEvent(
    grpc::CallbackServerContext* context, const Request& request, Response* response,
    absl::string_view method,
    void (registry::LifeEvents::*apply)(const Request&, registry::Registry::Reply<Response>,
                                        storage::SubmitOptions, const registry::Actor&)) {
  grpc::ServerUnaryReactor* reactor = Enter(context);
  absl::StatusOr<access::Caller> caller = Admit(reactor, context, response, method);
  if (!caller.ok()) return reactor;
  absl::Status allowed = CheckRequestSize(request, kMaxLifeEventBytes, method);
  if constexpr (std::is_same_v<Request, v1::RecordDeathRequest>) {
    if (allowed.ok()) allowed = CheckDeathNotice(*caller, request.notice());
  }
  if (!allowed.ok()) {
    Refuse(reactor, context, response, method, &*caller, std::move(allowed));
    return reactor;
  }
  auto audited = std::make_shared<std::atomic<bool>>(false);
  (life_events_.*apply)(request, ChangeReply(reactor, context, response, method, *caller, audited),
                        WriteCall(context, request), CallAuditor::ActorFor(*caller, audited));
  return reactor;
}

grpc::ServerUnaryReactor* RegistryService::RecordDeath(grpc::CallbackServerContext* context,
                                                       const v1::RecordDeathRequest* request,
                                                       v1::RecordDeathResponse* response) {
  return LifeEvent(context, *request, response, "RecordDeath", &registry::LifeEvents::RecordDeath);
}

grpc::ServerUnaryReactor* RegistryService::ChangeAddress(grpc::CallbackServerContext* context,
                                                         const v1::ChangeAddressRequest* request,
                                                         v1::ChangeAddressResponse* response) {
  return LifeEvent(context, *request, response, "ChangeAddress",
                   &registry::LifeEvents::ChangeAddress);
}

grpc::ServerUnaryReactor* RegistryService::CorrectDetails(grpc::CallbackServerContext* context,
                                                          const v1::CorrectDetailsRequest* request,
                                                          v1::CorrectDetailsResponse* response) {
  return LifeEvent(context, *request, response, "CorrectDetails",
                   &registry::LifeEvents::CorrectDetails);
}

grpc::ServerUnaryReactor* RegistryService::SupersedeNhsNumber(
    grpc::CallbackServerContext* context, const v1::SupersedeNhsNumberRequest* request,
    v1::SupersedeNhsNumberResponse* response) {
  return LifeEvent(context, *request, response, "SupersedeNhsNumber",
                   &registry::LifeEvents::SupersedeNhsNumber);
}

grpc::ServerUnaryReactor* RegistryService::MergeRecords(grpc::CallbackServerContext* context,
                                                        const v1::MergeRecordsRequest* request,
                                                        v1::MergeRecordsResponse* response) {
  return LifeEvent(context, *request, response, "MergeRecords",
                   &registry::LifeEvents::MergeRecords);
}

grpc::ServerUnaryReactor* RegistryService::UndoMerge(grpc::CallbackServerContext* context,
                                                     const v1::UndoMergeRequest* request,
                                                     v1::UndoMergeResponse* response) {
  return LifeEvent(context, *request, response, "UndoMerge", &registry::LifeEvents::UndoMerge);
}

grpc::ServerUnaryReactor* RegistryService::RestrictSharing(
    grpc::CallbackServerContext* context, const v1::RestrictSharingRequest* request,
    v1::RestrictSharingResponse* response) {
  return LifeEvent(context, *request, response, "RestrictSharing",
                   &registry::LifeEvents::RestrictSharing);
}

}  // namespace cir::server
