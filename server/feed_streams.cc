#include "server/feed_streams.h"

#include <pthread.h>

#include <algorithm>
#include <atomic>
#include <deque>
#include <thread>
#include <utility>

#include "absl/strings/str_cat.h"
#include "absl/time/clock.h"
#include "access/record_fields.h"
#include "errors/refusal.h"
#include "registry/birth_validation.h"
#include "server/grpc_status.h"
#include "server/log.h"

namespace cir::server {

class SubscribeStream;

// One Subscribe stream's state, shared by its reactor and the tasks that serve it.
//
// Tasks for one stream never run at once (Schedule serialises them: `queued`, `running` and
// `again` under `mu`), so the fields marked "tasks" need no lock. The reactor is valid until a
// task finishes it (`finished`): gRPC calls OnDone only after Finish, and no task touches it after.
struct StreamState {
  SubscribeStream* reactor = nullptr;
  std::string peer;

  // Set once at opening.
  absl::StatusOr<feed::FeedRequest> request;
  access::MethodGrant grant;  // what the subscriber's roles see of each event's child
  v1::AuditEntry audit;       // the subscriber, its purpose and areas: each message's entry
  // Set (release) by the audit of a message that could not be made durable; the message is not
  // sent, and the stream ends.
  std::atomic<bool> audit_failed{false};

  // Tasks only.
  bool started = false;
  bool finished = false;
  std::vector<storage::AreaPosition> positions;
  std::deque<v1::FeedEvent> pending;
  v1::SubscribeResponse in_flight;  // the message being written
  // The wakes (commits in the stream's areas) seen when the stream last read to the head: until
  // the next wake there is nothing new to read.
  uint64_t read_to_head_at_wake = 0;
  bool at_head = false;

  // Any thread.
  std::atomic<bool> write_in_flight{false};
  std::atomic<bool> cancelled{false};
  std::atomic<bool> stopping{false};
  std::atomic<int64_t> last_write_micros{0};
  // For Lag(), set by tasks: whether the stream has its positions, the sum of their sequences
  // (events read), and the events read and not yet sent.
  std::atomic<bool> positioned{false};
  std::atomic<uint64_t> read_total{0};
  std::atomic<uint64_t> unsent{0};
  // Set, with release, once the task that finished the stream has returned from Finish.
  std::atomic<bool> finish_returned{false};
  // Writes being started (StartWriteOf) that have not returned from StartWrite yet.
  std::atomic<int> writes_starting{0};
  std::atomic<uint64_t> wakes{0};  // commits in the stream's areas so far
  // When a read put off by min_send_interval is due (microseconds since the epoch); 0: none.
  std::atomic<int64_t> deferred_until{0};

  std::mutex mu;
  bool queued ABSL_GUARDED_BY(mu) = false;
  bool running ABSL_GUARDED_BY(mu) = false;
  bool again ABSL_GUARDED_BY(mu) = false;
};

// Released by each stream's opening once its reactor is built, acquired first thing in each of the
// reactor's callbacks, which gRPC runs on its own threads: gRPC orders the two itself, with
// synchronisation that ThreadSanitizer cannot see in Debian's uninstrumented gRPC; this makes the
// order visible (as RegistryService does for its calls). A counter at namespace scope, since a
// flag inside the reactor would itself be written at construction on the opening thread.
std::atomic<uint64_t> streams_opened{0};

class SubscribeStream final : public grpc::ServerWriteReactor<v1::SubscribeResponse> {
 public:
  SubscribeStream(FeedStreams& streams, std::shared_ptr<StreamState> state)
      : streams_(streams), state_(std::move(state)) {}

  void OnWriteDone(bool ok) override {
    Entered();
    if (!ok) state_->cancelled = true;  // the subscriber has gone
    state_->write_in_flight = false;
    streams_.Schedule(state_);
  }
  void OnCancel() override {
    Entered();
    state_->cancelled = true;
    streams_.Schedule(state_);
  }
  void OnDone() override {
    Entered();
    // gRPC runs OnDone once the operation Finish started completes, which may be before the task
    // that called Finish, or one that started the last write, has returned from it: wait for
    // those (a moment), so that the reactor is not destroyed under them.
    while (!state_->finish_returned.load(std::memory_order_acquire) ||
           state_->writes_starting.load(std::memory_order_acquire) != 0) {
      std::this_thread::yield();
    }
    streams_.Forget(state_);
    delete this;
  }

 private:
  static void Entered() { streams_opened.load(std::memory_order_acquire); }

 private:
  FeedStreams& streams_;
  const std::shared_ptr<StreamState> state_;
};

namespace {

// Starts the write of `s.in_flight`. gRPC may complete it, and the stream may then be finished and
// ended (OnDone deletes the reactor) on other threads, before StartWrite has returned on this one:
// OnDone waits until every write started has returned, as it waits for Finish.
void StartWriteOf(StreamState& s) {
  s.writes_starting.fetch_add(1, std::memory_order_relaxed);
  s.reactor->StartWrite(&s.in_flight);
  s.writes_starting.fetch_sub(1, std::memory_order_release);
}

int64_t NowMicros() { return absl::ToUnixMicros(absl::Now()); }

// What FeedStreams::Lag reads of a stream, noted by its task after each read and each message.
void NoteProgress(StreamState& s) {
  uint64_t read = 0;
  for (const storage::AreaPosition& position : s.positions) read += position.after_sequence;
  s.read_total = read;
  s.unsent = s.pending.size();
}

absl::Status Stopping() {
  return errors::Refusal(absl::StatusCode::kUnavailable, v1::SERVER_STOPPING,
                         "the server is stopping; resume from the cursor of the last event "
                         "processed, on this server once it is back or on another");
}

}  // namespace

FeedStreams::FeedStreams(feed::FeedReader& reader, FeedStreamsOptions options, CallAuditor* auditor)
    : reader_(reader), auditor_(auditor), options_(options), pool_(options.threads, "cir-feed") {
  ticker_ = std::thread([this] { Tick(); });
}

FeedStreams::~FeedStreams() {
  {
    std::lock_guard<std::mutex> lock(mu_);
    destroying_ = true;
  }
  tick_cv_.notify_all();
  ticker_.join();
}

grpc::ServerWriteReactor<v1::SubscribeResponse>* FeedStreams::Open(
    grpc::CallbackServerContext* context, absl::StatusOr<feed::FeedRequest> request,
    access::MethodGrant grant, v1::AuditEntry audit) {
  auto state = std::make_shared<StreamState>();
  state->request = std::move(request);
  state->grant = std::move(grant);
  state->audit = std::move(audit);
  state->last_write_micros = NowMicros();
  auto* reactor = new SubscribeStream(*this, state);
  state->reactor = reactor;
  streams_opened.fetch_add(1, std::memory_order_release);
  {
    std::lock_guard<std::mutex> lock(mu_);
    if (stopping_) state->stopping = true;
    streams_.push_back(state);
    if (state->request.ok()) {
      for (const std::string& area : state->request->areas) by_area_[area].push_back(state);
    }
  }
  Schedule(state);
  return reactor;
}

void FeedStreams::OnCommit(absl::Span<const storage::AreaHead> heads) {
  std::vector<std::shared_ptr<StreamState>> woken;
  {
    std::lock_guard<std::mutex> lock(mu_);
    for (const storage::AreaHead& head : heads) {
      auto it = by_area_.find(head.local_authority);
      if (it == by_area_.end()) continue;
      woken.insert(woken.end(), it->second.begin(), it->second.end());
    }
  }
  for (const std::shared_ptr<StreamState>& stream : woken) stream->wakes.fetch_add(1);
  ScheduleMany(woken);
}

void FeedStreams::FinishAll() {
  std::vector<std::shared_ptr<StreamState>> all;
  {
    std::lock_guard<std::mutex> lock(mu_);
    stopping_ = true;
    all = streams_;
  }
  for (const std::shared_ptr<StreamState>& stream : all) {
    stream->stopping = true;
    Schedule(stream);
  }
}

FeedStreams::Statistics FeedStreams::Lag() {
  std::vector<std::shared_ptr<StreamState>> streams;
  {
    std::lock_guard<std::mutex> lock(mu_);
    streams = streams_;
  }
  Statistics statistics;
  statistics.subscribers = streams.size();
  for (const std::shared_ptr<StreamState>& stream : streams) {
    if (!stream->request.ok() || !stream->positioned.load()) continue;
    uint64_t heads = 0;
    const v1::FeedHeartbeat now = reader_.Heartbeat(stream->request->areas);
    for (const v1::FeedHead& head : now.heads()) heads += head.head_sequence();
    const uint64_t read = stream->read_total.load();
    const uint64_t lag = (heads > read ? heads - read : 0) + stream->unsent.load();
    statistics.lag_events_total += lag;
    statistics.lag_events_max = std::max(statistics.lag_events_max, lag);
  }
  return statistics;
}

void FeedStreams::AwaitNoStreams() {
  std::unique_lock<std::mutex> lock(mu_);
  no_streams_cv_.wait(lock, [this] { return streams_.empty(); });
}

bool FeedStreams::Claim(const std::shared_ptr<StreamState>& stream) {
  std::lock_guard<std::mutex> lock(stream->mu);
  if (stream->running) {
    stream->again = true;
    return false;
  }
  if (stream->queued) return false;
  stream->queued = true;
  return true;
}

void FeedStreams::Run(const std::shared_ptr<StreamState>& stream) {
  {
    std::lock_guard<std::mutex> lock(stream->mu);
    stream->queued = false;
    stream->running = true;
  }
  for (;;) {
    Pump(stream);
    std::lock_guard<std::mutex> lock(stream->mu);
    if (!stream->again) {
      stream->running = false;
      return;
    }
    stream->again = false;
  }
}

void FeedStreams::Schedule(const std::shared_ptr<StreamState>& stream) {
  if (Claim(stream)) pool_.Post([this, stream] { Run(stream); });
}

void FeedStreams::ScheduleMany(const std::vector<std::shared_ptr<StreamState>>& streams) {
  std::vector<std::vector<std::shared_ptr<StreamState>>> shares(
      static_cast<size_t>(std::max(1, options_.threads)));
  size_t claimed = 0;
  for (const std::shared_ptr<StreamState>& stream : streams) {
    if (Claim(stream)) shares[claimed++ % shares.size()].push_back(stream);
  }
  for (std::vector<std::shared_ptr<StreamState>>& share : shares) {
    if (share.empty()) continue;
    pool_.Post([this, share = std::move(share)] {
      for (const std::shared_ptr<StreamState>& stream : share) Run(stream);
    });
  }
}

void FeedStreams::Forget(const std::shared_ptr<StreamState>& stream) {
  std::lock_guard<std::mutex> lock(mu_);
  auto drop = [&](std::vector<std::shared_ptr<StreamState>>& from) {
    from.erase(std::remove(from.begin(), from.end(), stream), from.end());
  };
  drop(streams_);
  if (streams_.empty()) no_streams_cv_.notify_all();
  if (stream->request.ok()) {
    for (const std::string& area : stream->request->areas) {
      auto it = by_area_.find(area);
      if (it == by_area_.end()) continue;
      drop(it->second);
      if (it->second.empty()) by_area_.erase(it);
    }
  }
}

void FeedStreams::Pump(const std::shared_ptr<StreamState>& stream) {
  StreamState& s = *stream;
  if (s.finished || s.write_in_flight) return;
  auto finish = [&](const absl::Status& status) {
    if (!status.ok() && status.code() != absl::StatusCode::kCancelled &&
        errors::ReasonOf(status) != v1::SERVER_STOPPING) {
      LogLine(absl::StrCat("Subscribe ended: ", absl::StatusCodeToString(status.code()), " ",
                           v1::ErrorReason_Name(errors::ReasonOf(status))));
    }
    s.finished = true;
    // A write this stream started may still be returning from StartWrite on another thread (gRPC
    // can complete it, and this task run, first): wait for it, so that what StartWrite did to the
    // call is ordered, visibly, before Finish reads it.
    while (s.writes_starting.load(std::memory_order_acquire) != 0) std::this_thread::yield();
    s.reactor->Finish(ToGrpcStatus(status));
    s.finish_returned.store(true, std::memory_order_release);
  };
  if (s.cancelled) return finish(absl::CancelledError("the subscriber cancelled the stream"));
  if (s.audit_failed.load(std::memory_order_acquire)) {
    return finish(AuditUnavailable(absl::UnavailableError("the audit log did not take it")));
  }
  if (s.stopping) return finish(Stopping());
  if (!s.request.ok()) return finish(s.request.status());
  if (!s.started) {
    absl::StatusOr<std::vector<storage::AreaPosition>> positions = reader_.Start(*s.request);
    if (!positions.ok()) return finish(positions.status());
    s.positions = *std::move(positions);
    s.started = true;
    NoteProgress(s);
    s.positioned = true;
  }
  // A stream that read to the head reads again only once a commit in its areas woke it, and not
  // before min_send_interval has passed since its last message (the ticker wakes it then).
  const uint64_t wakes = s.wakes.load();
  const bool new_commits = !(s.at_head && wakes == s.read_to_head_at_wake);
  const int64_t interval = absl::ToInt64Microseconds(options_.min_send_interval);
  if (s.pending.empty() && new_commits && s.at_head &&
      NowMicros() - s.last_write_micros < interval) {
    s.deferred_until = s.last_write_micros + interval;
    return;
  }
  if (s.pending.empty() && new_commits) {
    s.deferred_until = 0;
    absl::StatusOr<feed::FeedReader::Batch> batch =
        reader_.ReadNext(s.positions, options_.events_per_read);
    if (!batch.ok()) return finish(batch.status());
    s.at_head = batch->at_head;
    s.read_to_head_at_wake = wakes;
    for (v1::FeedEvent& event : batch->events) {
      access::TrimFeedEvent(s.grant, event);
      s.pending.push_back(std::move(event));
    }
    NoteProgress(s);
  }
  const int64_t now = NowMicros();
  s.in_flight.Clear();
  if (!s.pending.empty()) {
    // Every event waiting goes in one message (those that came while the last write was in
    // flight, or a page of a backlog).
    while (!s.pending.empty() &&
           static_cast<size_t>(s.in_flight.events_size()) < options_.events_per_read) {
      *s.in_flight.add_events() = std::move(s.pending.front());
      s.pending.pop_front();
    }
    NoteProgress(s);
  } else if (now - s.last_write_micros >= absl::ToInt64Microseconds(options_.heartbeat_interval)) {
    *s.in_flight.mutable_heartbeat() = reader_.Heartbeat(s.request->areas);
  } else {
    return;  // idle until new events commit or the heartbeat is due
  }
  s.last_write_micros = now;
  s.write_in_flight = true;
  if (s.in_flight.events_size() == 0 || auditor_ == nullptr) {
    StartWriteOf(s);
    return;
  }
  // Events go out only once their audit entry is durable: which children, which fields, to whom.
  v1::AuditEntry entry = s.audit;
  for (const v1::FeedEvent& event : s.in_flight.events()) CallAuditor::NoteFeedEvent(event, entry);
  if (entry.child_ids().empty()) {
    StartWriteOf(s);
    return;
  }
  // The write starts from the audit's reply: no task touches the stream meanwhile
  // (write_in_flight), and the store's queue orders this thread's work before that reply.
  auditor_->Record(
      std::move(entry),
      [this, stream](absl::Status audited) {
        if (audited.ok()) {
          StartWriteOf(*stream);
          return;
        }
        stream->audit_failed.store(true, std::memory_order_release);
        stream->write_in_flight = false;
        Schedule(stream);
      },
      storage::SubmitOptions{});
}

void FeedStreams::Tick() {
  pthread_setname_np(pthread_self(), "cir-feed-tick");
  absl::Duration period = std::min(absl::Seconds(1), options_.heartbeat_interval / 2);
  if (options_.min_send_interval > absl::ZeroDuration()) {
    period = std::min(period, options_.min_send_interval / 4);
  }
  for (;;) {
    std::vector<std::shared_ptr<StreamState>> due;
    {
      std::unique_lock<std::mutex> lock(mu_);
      tick_cv_.wait_for(lock, absl::ToChronoNanoseconds(period), [this] { return destroying_; });
      if (destroying_) return;
      const int64_t now = NowMicros();
      const int64_t interval = absl::ToInt64Microseconds(options_.heartbeat_interval);
      for (const std::shared_ptr<StreamState>& stream : streams_) {
        const int64_t deferred = stream->deferred_until;
        if (now - stream->last_write_micros >= interval || (deferred != 0 && now >= deferred)) {
          due.push_back(stream);
        }
      }
    }
    ScheduleMany(due);
  }
}

}  // namespace cir::server
