#ifndef CIR_SERVER_FEED_SERVICE_H_
#define CIR_SERVER_FEED_SERVICE_H_

#include "cir/v1/registry.grpc.pb.h"
#include "feed/feed_reader.h"
#include "server/call_auditor.h"
#include "server/call_gate.h"
#include "server/feed_streams.h"

namespace cir::server {

// The ChildrenFeed gRPC service: each call is admitted by the CallGate and may name only the
// caller's own local authorities; Subscribe streams are served by FeedStreams; ListEvents is read
// on the calling gRPC thread, as Resolve is. Each event's child is trimmed to what the caller's
// role sees.
class FeedService final : public v1::ChildrenFeed::CallbackService {
 public:
  FeedService(feed::FeedReader& reader, FeedStreams& streams, const CallGate& gate,
              CallAuditor& auditor)
      : reader_(reader), streams_(streams), gate_(gate), auditor_(auditor) {}

  grpc::ServerWriteReactor<v1::SubscribeResponse>* Subscribe(
      grpc::CallbackServerContext* context, const v1::SubscribeRequest* request) override;
  grpc::ServerUnaryReactor* ListEvents(grpc::CallbackServerContext* context,
                                       const v1::ListEventsRequest* request,
                                       v1::ListEventsResponse* response) override;

 private:
  feed::FeedReader& reader_;
  FeedStreams& streams_;
  const CallGate& gate_;
  CallAuditor& auditor_;
};

}  // namespace cir::server

#endif  // CIR_SERVER_FEED_SERVICE_H_
