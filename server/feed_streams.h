#ifndef CIR_SERVER_FEED_STREAMS_H_
#define CIR_SERVER_FEED_STREAMS_H_

#include <cstddef>
#include <memory>
#include <mutex>
#include <string>
#include <thread>
#include <unordered_map>
#include <vector>

#include "absl/base/thread_annotations.h"
#include "absl/time/time.h"
#include "absl/types/span.h"
#include "access/method_rules.h"
#include "cir/v1/registry.grpc.pb.h"
#include "feed/feed_reader.h"
#include "server/call_auditor.h"
#include "server/fixed_thread_pool.h"
#include "storage/child_store.h"

namespace cir::server {

struct FeedStreamsOptions {
  // Threads that read the store and write to every stream. Default: 2.
  int threads = 2;
  // A stream with nothing to send sends a heartbeat this often (the contract promises at least
  // every 15 seconds). Default: 10 seconds.
  absl::Duration heartbeat_interval = absl::Seconds(10);
  // About how many events one read of a stream's areas takes, and the most one message carries:
  // what a stream holds in memory besides the message being written. Default: 64.
  size_t events_per_read = 64;
  // Events that commit within this interval of a stream's last message wait for the interval's end
  // and go together in one message: a busy area costs a stream one message per interval rather
  // than one per event, and an event after a quiet spell still goes at once. Zero sends each
  // read at once. Default: 250 ms (at the full register rate with 500 subscribers, 100 ms kept 57%
  // of the register rate and 250 ms 69%, with delivery p99 at 0.11 and 0.26 s: BENCHMARKS.md).
  absl::Duration min_send_interval = absl::Milliseconds(250);
};

struct StreamState;

// Serves ChildrenFeed.Subscribe streams with a fixed number of threads, whatever their number.
//
// Each stream holds one message in flight at most: it reads its next events from the store only
// once the last write has completed, which gRPC's flow control holds back until the subscriber
// reads. A slow subscriber thus holds up only itself, and the server buffers a bounded amount
// per stream. A stream with nothing to send waits, taking no thread, until the store says new
// events of its areas have committed (OnCommit, the store's feed watcher), or its heartbeat is
// due (a ticker thread looks every second).
//
// Thread safety: every method may be called from any thread.
class FeedStreams {
 public:
  // Each message carrying events is sent once its audit entry, naming the children, the fields
  // and the subscriber (`audit` of Open), is durable through `auditor` (none: not audited).
  FeedStreams(feed::FeedReader& reader, FeedStreamsOptions options = {},
              CallAuditor* auditor = nullptr);
  // Every stream must have ended before (the gRPC server has shut down).
  ~FeedStreams();
  FeedStreams(const FeedStreams&) = delete;
  FeedStreams& operator=(const FeedStreams&) = delete;

  // Opens a stream (what ChildrenFeed::CallbackService::Subscribe returns) for `request`, checked
  // and admitted by the service, or ends it at once with its refusal. Each event's child is
  // trimmed to what `grant` sees; each message with events is audited as `audit` (the
  // subscriber, its purpose, its areas) with the children and fields it carries.
  grpc::ServerWriteReactor<v1::SubscribeResponse>* Open(grpc::CallbackServerContext* context,
                                                        absl::StatusOr<feed::FeedRequest> request,
                                                        access::MethodGrant grant,
                                                        v1::AuditEntry audit);

  // The store's feed watcher: wakes the streams of the areas whose heads moved.
  void OnCommit(absl::Span<const storage::AreaHead> heads);

  // Ends every stream with UNAVAILABLE (SERVER_STOPPING) once its write in flight completes, and
  // every stream opened after. Called when the server stops, so that gRPC's shutdown does not
  // wait for streams that never end by themselves.
  void FinishAll();

  // Waits until every stream has ended (its OnDone has run), however long that takes: gRPC's
  // shutdown, which cancels them, may return before their reactors are done, and they read the
  // store until then, so the server waits for this before closing the store.
  void AwaitNoStreams();

  // The streams open now, and how far behind their areas' heads they are (events committed and
  // not yet sent): in all, and the furthest behind. For operators' metrics.
  struct Statistics {
    size_t subscribers = 0;
    uint64_t lag_events_total = 0;
    uint64_t lag_events_max = 0;
  };
  Statistics Lag();

  // For the streams' own use.
  void Schedule(const std::shared_ptr<StreamState>& stream);
  // Schedules many streams at once, in a task or two rather than one each: a commit wakes every
  // stream of the areas it wrote, and the wake runs before the commit's replies.
  void ScheduleMany(const std::vector<std::shared_ptr<StreamState>>& streams);
  void Forget(const std::shared_ptr<StreamState>& stream);

 private:
  void Pump(const std::shared_ptr<StreamState>& stream);
  // Claims `stream` for a task: false if a task is queued or running for it already (which then
  // runs again).
  bool Claim(const std::shared_ptr<StreamState>& stream);
  // Pumps a claimed stream until no wake came during its run, then releases it.
  void Run(const std::shared_ptr<StreamState>& stream);
  void Tick();

  feed::FeedReader& reader_;
  CallAuditor* const auditor_;
  const FeedStreamsOptions options_;

  std::mutex mu_;
  std::unordered_map<std::string, std::vector<std::shared_ptr<StreamState>>> by_area_
      ABSL_GUARDED_BY(mu_);
  std::vector<std::shared_ptr<StreamState>> streams_ ABSL_GUARDED_BY(mu_);
  bool stopping_ ABSL_GUARDED_BY(mu_) = false;
  bool destroying_ ABSL_GUARDED_BY(mu_) = false;
  std::condition_variable tick_cv_;
  std::condition_variable no_streams_cv_;  // notified when the last stream is forgotten

  FixedThreadPool pool_;
  std::thread ticker_;  // last: started once every other member is initialised
};

}  // namespace cir::server

#endif  // CIR_SERVER_FEED_STREAMS_H_
