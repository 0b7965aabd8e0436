#ifndef CIR_SERVER_FEED_SERVICE_H_
#define CIR_SERVER_FEED_SERVICE_H_

#include "cir/v1/registry.grpc.pb.h"
#include "feed/feed_reader.h"
#include "server/feed_streams.h"

namespace cir::server {

// The ChildrenFeed gRPC service: Subscribe streams are served by FeedStreams; ListEvents is read
// on the calling gRPC thread, as Resolve is.
class FeedService final : public v1::ChildrenFeed::CallbackService {
 public:
  FeedService(feed::FeedReader& reader, FeedStreams& streams)
      : reader_(reader), streams_(streams) {}

  grpc::ServerWriteReactor<v1::SubscribeResponse>* Subscribe(
      grpc::CallbackServerContext* context, const v1::SubscribeRequest* request) override;
  grpc::ServerUnaryReactor* ListEvents(grpc::CallbackServerContext* context,
                                       const v1::ListEventsRequest* request,
                                       v1::ListEventsResponse* response) override;

 private:
  feed::FeedReader& reader_;
  FeedStreams& streams_;
};

}  // namespace cir::server

#endif  // CIR_SERVER_FEED_SERVICE_H_
