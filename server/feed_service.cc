#include "server/feed_service.h"

#include <utility>

#include "absl/strings/str_cat.h"
#include "access/record_fields.h"
#include "errors/refusal.h"
#include "registry/birth_validation.h"
#include "server/grpc_status.h"
#include "server/log.h"

namespace cir::server {
namespace {

std::string MethodPath(absl::string_view method) {
  return absl::StrCat("/", v1::ChildrenFeed::service_full_name(), "/", method);
}

// A checked feed request of `caller`'s, refused if it names an area not the caller's.
absl::StatusOr<feed::FeedRequest> Admitted(const access::Caller& caller,
                                           absl::StatusOr<feed::FeedRequest> request) {
  if (!request.ok()) return request;
  for (const std::string& area : request->areas) {
    absl::Status allowed = CallGate::CheckArea(caller, area);
    if (!allowed.ok()) return allowed;
  }
  return request;
}

}  // namespace

grpc::ServerWriteReactor<v1::SubscribeResponse>* FeedService::Subscribe(
    grpc::CallbackServerContext* context, const v1::SubscribeRequest* request) {
  absl::StatusOr<access::Caller> caller = gate_.Admit(*context, MethodPath("Subscribe"));
  if (!caller.ok()) return streams_.Open(context, caller.status(), {});
  return streams_.Open(
      context, Admitted(*caller, feed::ValidateSubscribe(*request, registry::TodayInEngland())),
      caller->grant);
}

grpc::ServerUnaryReactor* FeedService::ListEvents(grpc::CallbackServerContext* context,
                                                  const v1::ListEventsRequest* request,
                                                  v1::ListEventsResponse* response) {
  grpc::ServerUnaryReactor* reactor = context->DefaultReactor();
  absl::StatusOr<v1::ListEventsResponse> result = [&]() -> absl::StatusOr<v1::ListEventsResponse> {
    absl::StatusOr<access::Caller> caller = gate_.Admit(*context, MethodPath("ListEvents"));
    if (!caller.ok()) return caller.status();
    absl::StatusOr<feed::FeedRequest> valid =
        Admitted(*caller, feed::ValidateListEvents(*request, registry::TodayInEngland()));
    if (!valid.ok()) return valid.status();
    absl::StatusOr<v1::ListEventsResponse> page = reader_.List(*valid);
    if (page.ok()) {
      for (v1::FeedEvent& event : *page->mutable_events()) {
        if (event.has_child()) access::TrimCentreChild(caller->grant, *event.mutable_child());
      }
    }
    return page;
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
