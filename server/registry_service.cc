#include "server/registry_service.h"

#include <atomic>
#include <cstdint>
#include <utility>

#include "absl/status/status.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/string_view.h"
#include "absl/time/time.h"
#include "cir/v1/registry.pb.h"
#include "errors/refusal.h"
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
    LogLine(absl::StrCat(method, " failed: ", absl::StatusCodeToString(result.status().code()), " ",
                         v1::ErrorReason_Name(errors::ReasonOf(result.status()))));
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

// Finishes the call with a refusal, if `request` is larger than its method takes; true if it did.
template <typename Response>
bool RefuseIfTooLarge(grpc::ServerUnaryReactor* reactor, Response* response,
                      absl::string_view method, std::atomic<uint64_t>* calls_finished,
                      const google::protobuf::Message& request, size_t limit) {
  absl::Status size = CheckRequestSize(request, limit, method);
  if (size.ok()) return false;
  Finish<Response>(reactor, response, method, calls_finished, size);
  return true;
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

}  // namespace

RegistryService::RegistryService(registry::Registry& registry, registry::LifeEvents& life_events,
                                 v1::DescribeRegistryResponse description)
    : registry_(registry), life_events_(life_events), description_(std::move(description)) {
  constructed_.store(true, std::memory_order_release);
}

void RegistryService::AfterShutdown() const { calls_finished_.load(std::memory_order_acquire); }

grpc::ServerUnaryReactor* RegistryService::Enter(grpc::CallbackServerContext* context) {
  constructed_.load(std::memory_order_acquire);
  return context->DefaultReactor();
}

grpc::ServerUnaryReactor* RegistryService::RegisterBirth(grpc::CallbackServerContext* context,
                                                         const v1::RegisterBirthRequest* request,
                                                         v1::RegisterBirthResponse* response) {
  grpc::ServerUnaryReactor* reactor = Enter(context);
  if (RefuseIfTooLarge(reactor, response, "RegisterBirth", &calls_finished_, *request,
                       kMaxRegisterBirthBytes)) {
    return reactor;
  }
  registry_.RegisterBirth(*request,
                          FinishLater(reactor, response, "RegisterBirth", &calls_finished_),
                          WriteCall(context, *request));
  return reactor;
}

grpc::ServerUnaryReactor* RegistryService::LinkUpn(grpc::CallbackServerContext* context,
                                                   const v1::LinkUpnRequest* request,
                                                   v1::LinkUpnResponse* response) {
  grpc::ServerUnaryReactor* reactor = Enter(context);
  if (RefuseIfTooLarge(reactor, response, "LinkUpn", &calls_finished_, *request,
                       kMaxSingleIdentifierRequestBytes)) {
    return reactor;
  }
  registry_.LinkUpn(*request, FinishLater(reactor, response, "LinkUpn", &calls_finished_),
                    WriteCall(context, *request));
  return reactor;
}

grpc::ServerUnaryReactor* RegistryService::LinkNhsNumber(grpc::CallbackServerContext* context,
                                                         const v1::LinkNhsNumberRequest* request,
                                                         v1::LinkNhsNumberResponse* response) {
  grpc::ServerUnaryReactor* reactor = Enter(context);
  if (RefuseIfTooLarge(reactor, response, "LinkNhsNumber", &calls_finished_, *request,
                       kMaxSingleIdentifierRequestBytes)) {
    return reactor;
  }
  registry_.LinkNhsNumber(*request,
                          FinishLater(reactor, response, "LinkNhsNumber", &calls_finished_),
                          WriteCall(context, *request));
  return reactor;
}

grpc::ServerUnaryReactor* RegistryService::Resolve(grpc::CallbackServerContext* context,
                                                   const v1::ResolveRequest* request,
                                                   v1::ResolveResponse* response) {
  grpc::ServerUnaryReactor* reactor = Enter(context);
  if (RefuseIfTooLarge(reactor, response, "Resolve", &calls_finished_, *request,
                       kMaxSingleIdentifierRequestBytes)) {
    return reactor;
  }
  Finish(reactor, response, "Resolve", &calls_finished_, registry_.Resolve(*request));
  return reactor;
}

grpc::ServerUnaryReactor* RegistryService::BatchResolve(grpc::CallbackServerContext* context,
                                                        const v1::BatchResolveRequest* request,
                                                        v1::BatchResolveResponse* response) {
  grpc::ServerUnaryReactor* reactor = Enter(context);
  Finish(reactor, response, "BatchResolve", &calls_finished_, registry_.BatchResolve(*request));
  return reactor;
}

grpc::ServerUnaryReactor* RegistryService::DescribeRegistry(
    grpc::CallbackServerContext* context, const v1::DescribeRegistryRequest* request,
    v1::DescribeRegistryResponse* response) {
  grpc::ServerUnaryReactor* reactor = Enter(context);
  *response = description_;
  calls_finished_.fetch_add(1, std::memory_order_release);
  reactor->Finish(grpc::Status::OK);
  return reactor;
}

template <typename Request, typename Response>
grpc::ServerUnaryReactor* RegistryService::LifeEvent(
    grpc::CallbackServerContext* context, const Request& request, Response* response,
    absl::string_view method,
    void (registry::LifeEvents::*apply)(const Request&, registry::Registry::Reply<Response>,
                                        storage::SubmitOptions)) {
  grpc::ServerUnaryReactor* reactor = Enter(context);
  if (RefuseIfTooLarge(reactor, response, method, &calls_finished_, request,
                       kMaxLifeEventBytes)) {
    return reactor;
  }
  (life_events_.*apply)(request, FinishLater(reactor, response, method, &calls_finished_),
                        WriteCall(context, request));
  return reactor;
}

grpc::ServerUnaryReactor* RegistryService::RecordDeath(grpc::CallbackServerContext* context,
                                                       const v1::RecordDeathRequest* request,
                                                       v1::RecordDeathResponse* response) {
  return LifeEvent(context, *request, response, "RecordDeath",
                   &registry::LifeEvents::RecordDeath);
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
