#include "server/registry_service.h"

#include "absl/strings/string_view.h"
#include <utility>

#include "absl/status/status.h"
#include "absl/strings/str_cat.h"
#include "server/grpc_status.h"
#include "server/log.h"

namespace cir::server {
namespace {

// Finishes `reactor` with `result`: the response on success, the mapped status otherwise. Failed
// calls are logged with their method and code; messages never carry a child's details.
template <typename Response>
void Finish(grpc::ServerUnaryReactor* reactor, Response* response, absl::string_view method,
            absl::StatusOr<Response> result) {
  if (result.ok()) {
    *response = *std::move(result);
    reactor->Finish(grpc::Status::OK);
    return;
  }
  LogLine(absl::StrCat(method, " failed: ", absl::StatusCodeToString(result.status().code()), ": ",
                       result.status().message()));
  reactor->Finish(ToGrpcStatus(result.status()));
}

template <typename Response>
auto FinishLater(grpc::ServerUnaryReactor* reactor, Response* response, absl::string_view method) {
  return [reactor, response, method](absl::StatusOr<Response> result) {
    Finish(reactor, response, method, std::move(result));
  };
}

}  // namespace

grpc::ServerUnaryReactor* RegistryService::RegisterBirth(grpc::CallbackServerContext* context,
                                                         const v1::RegisterBirthRequest* request,
                                                         v1::RegisterBirthResponse* response) {
  grpc::ServerUnaryReactor* reactor = context->DefaultReactor();
  registry_.RegisterBirth(*request, FinishLater(reactor, response, "RegisterBirth"));
  return reactor;
}

grpc::ServerUnaryReactor* RegistryService::LinkUpn(grpc::CallbackServerContext* context,
                                                   const v1::LinkUpnRequest* request,
                                                   v1::LinkUpnResponse* response) {
  grpc::ServerUnaryReactor* reactor = context->DefaultReactor();
  registry_.LinkUpn(*request, FinishLater(reactor, response, "LinkUpn"));
  return reactor;
}

grpc::ServerUnaryReactor* RegistryService::LinkNhsNumber(grpc::CallbackServerContext* context,
                                                         const v1::LinkNhsNumberRequest* request,
                                                         v1::LinkNhsNumberResponse* response) {
  grpc::ServerUnaryReactor* reactor = context->DefaultReactor();
  registry_.LinkNhsNumber(*request, FinishLater(reactor, response, "LinkNhsNumber"));
  return reactor;
}

grpc::ServerUnaryReactor* RegistryService::Resolve(grpc::CallbackServerContext* context,
                                                   const v1::ResolveRequest* request,
                                                   v1::ResolveResponse* response) {
  grpc::ServerUnaryReactor* reactor = context->DefaultReactor();
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

}  // namespace cir::server
