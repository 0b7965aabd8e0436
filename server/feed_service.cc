#include "server/feed_service.h"

#include "absl/strings/str_cat.h"
#include "errors/refusal.h"
#include "registry/birth_validation.h"
#include "server/grpc_status.h"
#include "server/log.h"

namespace cir::server {

grpc::ServerWriteReactor<v1::SubscribeResponse>* FeedService::Subscribe(
    grpc::CallbackServerContext* context, const v1::SubscribeRequest* request) {
  return streams_.Open(context, request);
}

grpc::ServerUnaryReactor* FeedService::ListEvents(grpc::CallbackServerContext* context,
                                                  const v1::ListEventsRequest* request,
                                                  v1::ListEventsResponse* response) {
  grpc::ServerUnaryReactor* reactor = context->DefaultReactor();
  absl::StatusOr<v1::ListEventsResponse> result = [&]() -> absl::StatusOr<v1::ListEventsResponse> {
    absl::StatusOr<feed::FeedRequest> valid =
        feed::ValidateListEvents(*request, registry::TodayInEngland());
    if (!valid.ok()) return valid.status();
    return reader_.List(*valid);
  }();
  if (!result.ok()) {
    LogLine(absl::StrCat("ListEvents failed: ", absl::StatusCodeToString(result.status().code()),
                         " ", v1::ErrorReason_Name(errors::ReasonOf(result.status()))));
    reactor->Finish(ToGrpcStatus(result.status()));
    return reactor;
  }
  *response = *std::move(result);
  reactor->Finish(grpc::Status::OK);
  return reactor;
}

}  // namespace cir::server
