#include "server/registry_service.h"

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
template <typename Response>
void Finish(grpc::ServerUnaryReactor* reactor, Response* response, absl::string_view method,
            absl::StatusOr<Response> result) {
  if (result.ok()) {
    *response = *std::move(result);
    reactor->Finish(grpc::Status::OK);
    return;
  }
  LogLine(absl::StrCat(method, " failed: ", absl::StatusCodeToString(result.status().code()), " ",
                       v1::ErrorReason_Name(errors::ReasonOf(result.status()))));
  reactor->Finish(ToGrpcStatus(result.status()));
}

template <typename Response>
auto FinishLater(grpc::ServerUnaryReactor* reactor, Response* response, absl::string_view method) {
  return [reactor, response, method](absl::StatusOr<Response> result) {
    Finish(reactor, response, method, std::move(result));
  };
}

// Finishes the call with a refusal, if `request` is larger than its method takes; true if it did.
template <typename Response>
bool RefuseIfTooLarge(grpc::ServerUnaryReactor* reactor, Response* response,
                      absl::string_view method, const google::protobuf::Message& request,
                      size_t limit) {
  absl::Status size = CheckRequestSize(request, limit, method);
  if (size.ok()) return false;
  Finish<Response>(reactor, response, method, size);
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

grpc::ServerUnaryReactor* RegistryService::RegisterBirth(grpc::CallbackServerContext* context,
                                                         const v1::RegisterBirthRequest* request,
                                                         v1::RegisterBirthResponse* response) {
  grpc::ServerUnaryReactor* reactor = context->DefaultReactor();
  if (RefuseIfTooLarge(reactor, response, "RegisterBirth", *request, kMaxRegisterBirthBytes)) {
    return reactor;
  }
  registry_.RegisterBirth(*request, FinishLater(reactor, response, "RegisterBirth"),
                          WriteCall(context, *request));
  return reactor;
}

grpc::ServerUnaryReactor* RegistryService::LinkUpn(grpc::CallbackServerContext* context,
                                                   const v1::LinkUpnRequest* request,
                                                   v1::LinkUpnResponse* response) {
  grpc::ServerUnaryReactor* reactor = context->DefaultReactor();
  if (RefuseIfTooLarge(reactor, response, "LinkUpn", *request,
                       kMaxSingleIdentifierRequestBytes)) {
    return reactor;
  }
  registry_.LinkUpn(*request, FinishLater(reactor, response, "LinkUpn"),
                    WriteCall(context, *request));
  return reactor;
}

grpc::ServerUnaryReactor* RegistryService::LinkNhsNumber(grpc::CallbackServerContext* context,
                                                         const v1::LinkNhsNumberRequest* request,
                                                         v1::LinkNhsNumberResponse* response) {
  grpc::ServerUnaryReactor* reactor = context->DefaultReactor();
  if (RefuseIfTooLarge(reactor, response, "LinkNhsNumber", *request,
                       kMaxSingleIdentifierRequestBytes)) {
    return reactor;
  }
  registry_.LinkNhsNumber(*request, FinishLater(reactor, response, "LinkNhsNumber"),
                          WriteCall(context, *request));
  return reactor;
}

grpc::ServerUnaryReactor* RegistryService::Resolve(grpc::CallbackServerContext* context,
                                                   const v1::ResolveRequest* request,
                                                   v1::ResolveResponse* response) {
  grpc::ServerUnaryReactor* reactor = context->DefaultReactor();
  if (RefuseIfTooLarge(reactor, response, "Resolve", *request, kMaxSingleIdentifierRequestBytes)) {
    return reactor;
  }
  Finish(reactor, response, "Resolve", registry_.Resolve(*request));
  return reactor;
}

grpc::ServerUnaryReactor* RegistryService::BatchResolve(grpc::CallbackServerContext* context,
                                                        const v1::BatchResolveRequest* request,
                                                        v1::BatchResolveResponse* response) {
  grpc::ServerUnaryReactor* reactor = context->DefaultReactor();
  Finish(reactor, response, "BatchResolve", registry_.BatchResolve(*request));
  return reactor;
}

grpc::ServerUnaryReactor* RegistryService::DescribeRegistry(
    grpc::CallbackServerContext* context, const v1::DescribeRegistryRequest* request,
    v1::DescribeRegistryResponse* response) {
  grpc::ServerUnaryReactor* reactor = context->DefaultReactor();
  *response = description_;
  reactor->Finish(grpc::Status::OK);
  return reactor;
}

}  // namespace cir::server
