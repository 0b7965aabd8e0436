#include "server/feed_service.h"

#include <utility>

#include "absl/strings/str_cat.h"
#include "access/record_fields.h"
#include "errors/refusal.h"
#include "registry/birth_validation.h"
#include "server/grpc_status.h"
#include "server/log.h"
#include "server/request_limits.h"

namespace cir::server {
namespace {

std::string MethodPath(absl::string_view method) {
  return server::MethodPath(v1::ChildrenFeed::service_full_name(), method);
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
  const std::string method = MethodPath("Subscribe");
  absl::StatusOr<access::Caller> caller = gate_.Admit(*context, method);
  absl::StatusOr<feed::FeedRequest> valid = [&]() -> absl::StatusOr<feed::FeedRequest> {
    if (!caller.ok()) return caller.status();
    if (absl::Status size = CheckRequestSize(*request, kMaxFeedRequestBytes, "Subscribe");
        !size.ok()) {
      return size;
    }
    return Admitted(*caller, feed::ValidateSubscribe(*request, registry::TodayInEngland()));
  }();
  v1::AuditEntry opened = CallAuditor::EntryFor(caller.ok() ? &*caller : nullptr,
                                                gate_.AgencyIdOf(*context), method, valid.status());
  if (!caller.ok()) gate_.NoteUnidentified(*context, opened);
  if (valid.ok()) {
    for (const std::string& area : valid->areas) opened.add_local_authorities(area);
  }
  // The opening (or its refusal) is audited without holding the stream up: it sends nothing of
  // anyone; each message with events waits for its own entry (FeedStreams).
  auditor_.Record(
      opened, [](absl::Status) {}, storage::SubmitOptions{});
  if (!caller.ok()) return streams_.Open(context, caller.status(), {}, {});
  v1::AuditEntry per_message = CallAuditor::EntryFor(&*caller, "", method, absl::OkStatus());
  *per_message.mutable_local_authorities() = opened.local_authorities();
  return streams_.Open(context, std::move(valid), caller->grant, std::move(per_message));
}

grpc::ServerUnaryReactor* FeedService::ListEvents(grpc::CallbackServerContext* context,
                                                  const v1::ListEventsRequest* request,
                                                  v1::ListEventsResponse* response) {
  grpc::ServerUnaryReactor* reactor = context->DefaultReactor();
  const std::string method = MethodPath("ListEvents");
  absl::StatusOr<access::Caller> caller = gate_.Admit(*context, method);
  absl::StatusOr<v1::ListEventsResponse> result = [&]() -> absl::StatusOr<v1::ListEventsResponse> {
    if (!caller.ok()) return caller.status();
    if (absl::Status size = CheckRequestSize(*request, kMaxFeedRequestBytes, "ListEvents");
        !size.ok()) {
      return size;
    }
    absl::StatusOr<feed::FeedRequest> valid =
        Admitted(*caller, feed::ValidateListEvents(*request, registry::TodayInEngland()));
    if (!valid.ok()) return valid.status();
    absl::StatusOr<v1::ListEventsResponse> page = reader_.List(*valid);
    if (page.ok()) {
      for (v1::FeedEvent& event : *page->mutable_events()) {
        access::TrimFeedEvent(caller->grant, event);
      }
    }
    return page;
  }();
  v1::AuditEntry entry = CallAuditor::EntryFor(caller.ok() ? &*caller : nullptr,
                                               gate_.AgencyIdOf(*context), method, result.status());
  if (!caller.ok()) gate_.NoteUnidentified(*context, entry);
  if (!request->local_authority().empty()) entry.add_local_authorities(request->local_authority());
  if (result.ok()) {
    for (const v1::FeedEvent& event : result->events()) CallAuditor::NoteFeedEvent(event, entry);
  }
  storage::SubmitOptions submit;
  submit.deadline = absl::FromChrono(context->deadline());
  submit.is_cancelled = [context] { return context->IsCancelled(); };
  // Data only once its entry is durable; a refusal whatever became of its entry.
  auditor_.Record(
      std::move(entry),
      [reactor, response, result = std::move(result)](absl::Status audited) mutable {
        if (result.ok() && !audited.ok()) result = std::move(audited);
        if (!result.ok()) {
          LogCallFailed("ListEvents", result.status());
          reactor->Finish(ToGrpcStatus(result.status()));
          return;
        }
        *response = *std::move(result);
        reactor->Finish(grpc::Status::OK);
      },
      std::move(submit));
  return reactor;
}

}  // namespace cir::server
