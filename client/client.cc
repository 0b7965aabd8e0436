#include "cir/client.h"

#include <algorithm>
#include <atomic>
#include <chrono>
#include <condition_variable>
#include <fstream>
#include <map>
#include <mutex>
#include <optional>
#include <sstream>
#include <string>
#include <utility>

#include "absl/strings/cord.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "cir/v1/registry.grpc.pb.h"
#include "client/wire/wire_messages.pb.h"
#include "grpcpp/channel.h"
#include "grpcpp/client_context.h"
#include "grpcpp/create_channel.h"
#include "grpcpp/generic/generic_stub.h"
#include "grpcpp/security/credentials.h"
#include "grpcpp/support/byte_buffer.h"
#include "grpcpp/support/channel_arguments.h"

namespace cir {
namespace {

namespace wire = client::wire;

// Replies of BatchResolve with 10,000 full records are a few MiB.
constexpr int kMaxReceiveBytes = 64 << 20;

// The payload URL under which a status carries the registry's google.rpc.ErrorInfo (the type URL
// of the Any that held it), as the registry's own layers carry it.
constexpr absl::string_view kErrorInfoTypeUrl = "type.googleapis.com/google.rpc.ErrorInfo";

// The registry's grpc::Status as absl::Status: the code, the message and, when the status details
// (google.rpc.Status) hold a google.rpc.ErrorInfo, that ErrorInfo's bytes as the status's payload.
absl::Status FromGrpc(const grpc::Status& status) {
  if (status.ok()) return absl::OkStatus();
  absl::Status out(static_cast<absl::StatusCode>(status.error_code()), status.error_message());
  wire::RichStatus details;
  if (status.error_details().empty() || !details.ParseFromString(status.error_details())) return out;
  for (const wire::AnyDetail& detail : details.details()) {
    wire::ErrorInfo info;
    if (detail.type_url() == kErrorInfoTypeUrl && info.ParseFromString(detail.value())) {
      out.SetPayload(kErrorInfoTypeUrl, absl::Cord(detail.value()));
      break;
    }
  }
  return out;
}

// The ErrorInfo a status carries, if any.
std::optional<wire::ErrorInfo> ErrorInfoOf(const absl::Status& status) {
  auto payload = status.GetPayload(kErrorInfoTypeUrl);  // absl::optional in this Abseil
  if (!payload.has_value()) return std::nullopt;
  wire::ErrorInfo info;
  if (!info.ParseFromString(std::string(*payload))) return std::nullopt;
  return info;
}

// Retries of UNAVAILABLE for reads, done by the channel (gRPC's retry policy in the service
// config), throttled when most calls fail; none for max_attempts 1. Writes are never retried here:
// a write answered UNAVAILABLE with reason WRITE_OUTCOME_UNKNOWN may have taken effect, and a
// retry hidden in the channel would answer with the next attempt's refusal ("nothing was
// written") instead. The caller sees the first answer and retries with the same ids.
std::string RetryServiceConfig(int max_attempts) {
  if (max_attempts <= 1) return R"({"methodConfig": []})";
  return absl::StrFormat(R"({"methodConfig": [{
      "name": [{"service": "cir.v1.ChildRegistry", "method": "Resolve"},
               {"service": "cir.v1.ChildRegistry", "method": "BatchResolve"},
               {"service": "cir.v1.ChildRegistry", "method": "DescribeRegistry"},
               {"service": "cir.v1.ChildrenFeed", "method": "ListEvents"},
               {"service": "grpc.health.v1.Health"}],
      "retryPolicy": {"maxAttempts": %d, "initialBackoff": "0.1s", "maxBackoff": "2s",
                      "backoffMultiplier": 2, "retryableStatusCodes": ["UNAVAILABLE"]}}],
    "retryThrottling": {"maxTokens": 10, "tokenRatio": 0.1}})",
                         std::min(max_attempts, 5));
}

// One call in flight for the asynchronous forms: owns what gRPC needs until the call completes.
//
// The call is set up on the caller's thread and its callback runs on one of gRPC's; gRPC orders
// the two with synchronisation of its own, which ThreadSanitizer cannot see in Debian's
// uninstrumented gRPC. Started() just before the call starts and Finished() first thing in the
// callback make the hand-off of what our code wrote (the request, the caller's state the callback
// reads) visible. gRPC's own inline code, compiled into this file, still reads the context and
// serialises the request after Started(); that part is gRPC's ordering of its own work, covered
// by the entries for gRPC's client call code in tests/sanitizers/tsan.supp.
// `done` is the caller's callback, kept here so that it may be move-only (gRPC's own callback,
// a std::function, must be copyable and so holds only the pointer to this).
template <typename Request, typename Response, typename Done>
struct PendingCall {
  void Started() { started.store(true, std::memory_order_release); }
  void Finished() { started.load(std::memory_order_acquire); }

  grpc::ClientContext context;
  Request request;
  Response response;
  Done done;
  std::atomic<bool> started{false};
};

// The standard health check's method, called through a generic stub with the library's own
// reading of its messages (client/wire/wire_messages.proto).
constexpr char kHealthCheckMethod[] = "/grpc.health.v1.Health/Check";
using HealthStub = grpc::TemplatedGenericStub<wire::HealthCheckRequest, wire::HealthCheckResponse>;

}  // namespace

v1::ErrorReason ErrorReasonOf(const absl::Status& status) {
  std::optional<wire::ErrorInfo> info = ErrorInfoOf(status);
  v1::ErrorReason reason = v1::ERROR_REASON_UNSPECIFIED;
  if (info.has_value()) v1::ErrorReason_Parse(info->reason(), &reason);
  return reason;
}

std::map<std::string, std::string> ErrorMetadataOf(const absl::Status& status) {
  std::optional<wire::ErrorInfo> info = ErrorInfoOf(status);
  if (!info.has_value()) return {};
  return std::map<std::string, std::string>(info->metadata().begin(), info->metadata().end());
}

absl::StatusOr<std::shared_ptr<grpc::ChannelCredentials>> MutualTlsFromFiles(
    const MutualTlsFiles& files) {
  auto read = [](const std::string& path, absl::string_view what) -> absl::StatusOr<std::string> {
    std::ifstream file(path, std::ios::binary);
    if (!file) return absl::NotFoundError(absl::StrCat(what, " ", path, ": cannot be read"));
    std::stringstream text;
    text << file.rdbuf();
    return text.str();
  };
  grpc::SslCredentialsOptions options;
  absl::StatusOr<std::string> ca = read(files.ca_file, "CA bundle");
  if (!ca.ok()) return ca.status();
  absl::StatusOr<std::string> certificate = read(files.certificate_file, "certificate");
  if (!certificate.ok()) return certificate.status();
  absl::StatusOr<std::string> key = read(files.key_file, "private key");
  if (!key.ok()) return key.status();
  options.pem_root_certs = *std::move(ca);
  options.pem_cert_chain = *std::move(certificate);
  options.pem_private_key = *std::move(key);
  return grpc::SslCredentials(options);
}

std::string ErrorReasonNameOf(const absl::Status& status) {
  std::optional<wire::ErrorInfo> info = ErrorInfoOf(status);
  return info.has_value() ? info->reason() : std::string();
}

class Client::Channel {
 public:
  explicit Channel(const ClientOptions& options)
      : default_timeout_(options.default_timeout),
        wait_for_ready_(options.wait_for_ready),
        end_user_(options.end_user),
        purpose_of_use_(options.purpose_of_use) {
    grpc::ChannelArguments args;
    args.SetServiceConfigJSON(RetryServiceConfig(options.max_attempts));
    args.SetMaxReceiveMessageSize(kMaxReceiveBytes);
    // Each Client gets connections of its own rather than sharing them with other Clients of the
    // process, so that several Clients spread load over several connections.
    args.SetInt(GRPC_ARG_USE_LOCAL_SUBCHANNEL_POOL, 1);
    // Keepalive: see ClientOptions::keepalive_time. Never more often than the registry accepts.
    if (options.keepalive_time > absl::ZeroDuration()) {
      const absl::Duration every = std::max(options.keepalive_time, absl::Seconds(10));
      args.SetInt(GRPC_ARG_KEEPALIVE_TIME_MS, static_cast<int>(absl::ToInt64Milliseconds(every)));
      args.SetInt(GRPC_ARG_KEEPALIVE_TIMEOUT_MS,
                  static_cast<int>(absl::ToInt64Milliseconds(options.keepalive_timeout)));
      args.SetInt(GRPC_ARG_KEEPALIVE_PERMIT_WITHOUT_CALLS, 1);
      args.SetInt(GRPC_ARG_HTTP2_MAX_PINGS_WITHOUT_DATA, 0);
    }
    std::shared_ptr<grpc::ChannelCredentials> credentials =
        options.credentials != nullptr ? options.credentials : grpc::InsecureChannelCredentials();
    channel_ = grpc::CreateCustomChannel(options.target, credentials, args);
    registry_ = v1::ChildRegistry::NewStub(channel_);
    feed_ = v1::ChildrenFeed::NewStub(channel_);
    audit_ = v1::AuditLog::NewStub(channel_);
    admin_ = v1::RegistryAdmin::NewStub(channel_);
    health_ = std::make_unique<HealthStub>(channel_);
  }

  // Sets the call's deadline and the person it is made for.
  void SetDeadline(grpc::ClientContext& context, const CallOptions& call) const {
    absl::Duration timeout = call.timeout > absl::ZeroDuration() ? call.timeout : default_timeout_;
    context.set_deadline(std::chrono::system_clock::now() + absl::ToChronoMilliseconds(timeout));
    context.set_wait_for_ready(call.wait_for_ready.value_or(wait_for_ready_));
    AddPerson(context, call);
  }

  // A feed stream's settings: no deadline unless the call sets one (a stream runs for as long
  // as it is read), whether it waits for the registry, and the person.
  void PrepareStream(grpc::ClientContext& context, const CallOptions& call) const {
    if (call.timeout > absl::ZeroDuration()) {
      context.set_deadline(std::chrono::system_clock::now() +
                           absl::ToChronoMilliseconds(call.timeout));
    }
    context.set_wait_for_ready(call.wait_for_ready.value_or(wait_for_ready_));
    AddPerson(context, call);
  }

  // Names the person the call is made for, and why, in its metadata (when there is one).
  void AddPerson(grpc::ClientContext& context, const CallOptions& call) const {
    const std::string& end_user = call.end_user.empty() ? end_user_ : call.end_user;
    const std::string& purpose =
        call.purpose_of_use.empty() ? purpose_of_use_ : call.purpose_of_use;
    if (!end_user.empty()) context.AddMetadata("x-cir-end-user", end_user);
    if (!purpose.empty()) context.AddMetadata("x-cir-purpose-of-use", purpose);
  }

  // A blocking call: `invoke(stub, context, request, response)` makes it.
  template <typename Request, typename Response, typename Invoke>
  absl::StatusOr<Response> Call(Invoke invoke, const Request& request, const CallOptions& call) {
    return CallOn<Request, Response>(*registry_, invoke, request, call);
  }
  template <typename Request, typename Response, typename Stub, typename Invoke>
  absl::StatusOr<Response> CallOn(Stub& stub, Invoke invoke, const Request& request,
                                  const CallOptions& call) {
    grpc::ClientContext context;
    SetDeadline(context, call);
    Response response;
    grpc::Status status = invoke(stub, &context, request, &response);
    if (!status.ok()) return FromGrpc(status);
    return response;
  }

  // A call on the stub's callback interface: `start(async_stub, context, request, response,
  // on_done)` starts it; `done` gets the outcome.
  template <typename Request, typename Response, typename Start>
  void CallAsync(Start start, const Request& request, Callback<Response> done,
                 const CallOptions& call) {
    auto* pending = new PendingCall<Request, Response, Callback<Response>>();
    pending->request = request;
    pending->done = std::move(done);
    SetDeadline(pending->context, call);
    std::function<void(grpc::Status)> on_done = [pending](grpc::Status status) {
      pending->Finished();
      // The call's context (and its hold on the channel) goes before the caller hears, so that a
      // caller may destroy its Client as soon as its callback has run.
      Response response = std::move(pending->response);
      Callback<Response> done = std::move(pending->done);
      delete pending;
      if (status.ok()) {
        done(std::move(response));
      } else {
        done(FromGrpc(status));
      }
    };
    pending->Started();
    start(*registry_->async(), &pending->context, &pending->request, &pending->response,
          std::move(on_done));
  }

  HealthStub& health() { return *health_; }
  v1::ChildrenFeed::Stub& feed() { return *feed_; }
  v1::AuditLog::Stub& audit() { return *audit_; }
  v1::RegistryAdmin::Stub& admin() { return *admin_; }

 private:
  absl::Duration default_timeout_;
  bool wait_for_ready_;
  std::string end_user_;
  std::string purpose_of_use_;
  std::shared_ptr<grpc::Channel> channel_;
  std::unique_ptr<v1::ChildRegistry::Stub> registry_;
  std::unique_ptr<HealthStub> health_;
  std::unique_ptr<v1::ChildrenFeed::Stub> feed_;
  std::unique_ptr<v1::AuditLog::Stub> audit_;
  std::unique_ptr<v1::RegistryAdmin::Stub> admin_;
};

Client::Client(ClientOptions options) : channel_(std::make_unique<Channel>(options)) {}
Client::~Client() = default;

// The blocking and asynchronous forms of one RPC, by name.
#define CIR_CLIENT_UNARY(Method)                                                              \
  absl::StatusOr<v1::Method##Response> Client::Method(const v1::Method##Request& request,     \
                                                      CallOptions call) {                     \
    return channel_->Call<v1::Method##Request, v1::Method##Response>(                         \
        [](auto& stub, auto* context, const auto& req, auto* response) {                     \
          return stub.Method(context, req, response);                                         \
        },                                                                                    \
        request, call);                                                                       \
  }
#define CIR_CLIENT_ASYNC(Method)                                                              \
  void Client::Method##Async(const v1::Method##Request& request,                              \
                             Callback<v1::Method##Response> done, CallOptions call) {         \
    channel_->CallAsync<v1::Method##Request, v1::Method##Response>(                           \
        [](auto& stub, auto* context, auto* req, auto* response, auto on_done) {             \
          stub.Method(context, req, response, std::move(on_done));                            \
        },                                                                                    \
        request, std::move(done), call);                                                      \
  }

CIR_CLIENT_UNARY(RegisterBirth)
CIR_CLIENT_UNARY(RegisterBirths)
CIR_CLIENT_UNARY(Resolve)
CIR_CLIENT_UNARY(LinkUpn)
CIR_CLIENT_UNARY(LinkNhsNumber)
CIR_CLIENT_UNARY(BatchResolve)
CIR_CLIENT_UNARY(DescribeRegistry)
CIR_CLIENT_UNARY(RecordDeath)
CIR_CLIENT_UNARY(ChangeAddress)
CIR_CLIENT_UNARY(CorrectDetails)
CIR_CLIENT_UNARY(SupersedeNhsNumber)
CIR_CLIENT_UNARY(MergeRecords)
CIR_CLIENT_UNARY(UndoMerge)
CIR_CLIENT_UNARY(RestrictSharing)
CIR_CLIENT_ASYNC(RegisterBirth)
CIR_CLIENT_ASYNC(RegisterBirths)
CIR_CLIENT_ASYNC(Resolve)
CIR_CLIENT_ASYNC(LinkUpn)
CIR_CLIENT_ASYNC(LinkNhsNumber)
CIR_CLIENT_ASYNC(BatchResolve)

absl::StatusOr<v1::ListEventsResponse> Client::ListEvents(const v1::ListEventsRequest& request,
                                                         CallOptions call) {
  return channel_->CallOn<v1::ListEventsRequest, v1::ListEventsResponse>(
      channel_->feed(),
      [](auto& stub, auto* context, const auto& req, auto* response) {
        return stub.ListEvents(context, req, response);
      },
      request, call);
}

// A blocking call of the audit log: Client::Name makes cir.v1.AuditLog's Rpc.
#define CIR_CLIENT_AUDIT(Name, Rpc, Request, Response)                                      \
  absl::StatusOr<v1::Response> Client::Name(const v1::Request& request, CallOptions call) { \
    return channel_->CallOn<v1::Request, v1::Response>(                                     \
        channel_->audit(),                                                                  \
        [](auto& stub, auto* context, const auto& req, auto* response) {                    \
          return stub.Rpc(context, req, response);                                          \
        },                                                                                  \
        request, call);                                                                     \
  }

CIR_CLIENT_AUDIT(ReadAuditEntries, ReadEntries, ReadAuditEntriesRequest, ReadAuditEntriesResponse)
CIR_CLIENT_AUDIT(ListAuditCheckpoints, ListCheckpoints, ListCheckpointsRequest,
                 ListCheckpointsResponse)
CIR_CLIENT_AUDIT(ProveAuditConsistency, ProveConsistency, ProveConsistencyRequest,
                 ProveConsistencyResponse)
CIR_CLIENT_AUDIT(GetAccessReport, GetAccessReport, GetAccessReportRequest, GetAccessReportResponse)

absl::StatusOr<v1::BackUpResponse> Client::BackUp(CallOptions call) {
  return channel_->CallOn<v1::BackUpRequest, v1::BackUpResponse>(
      channel_->admin(),
      [](auto& stub, auto* context, const auto& req, auto* response) {
        return stub.BackUp(context, req, response);
      },
      v1::BackUpRequest(), call);
}

// A Subscribe stream read with gRPC's blocking reader.
class FeedSubscription::Stream {
 public:
  Stream(v1::ChildrenFeed::Stub& stub, const v1::SubscribeRequest& request,
         const std::function<void(grpc::ClientContext&)>& prepare) {
    prepare(context_);
    reader_ = stub.Subscribe(&context_, request);
  }
  grpc::ClientContext context_;
  std::unique_ptr<grpc::ClientReader<v1::SubscribeResponse>> reader_;
};

FeedSubscription::FeedSubscription(std::unique_ptr<Stream> stream) : stream_(std::move(stream)) {}
FeedSubscription::~FeedSubscription() {
  if (!finished_) {
    Cancel();
    v1::SubscribeResponse ignored;
    while (stream_->reader_->Read(&ignored)) {
    }
    stream_->reader_->Finish().ok();
  }
}

bool FeedSubscription::Next(v1::SubscribeResponse* message) {
  return !finished_ && stream_->reader_->Read(message);
}

absl::Status FeedSubscription::Finish() {
  if (finished_) return absl::FailedPreconditionError("the subscription has already finished");
  finished_ = true;
  grpc::Status status = stream_->reader_->Finish();
  return status.ok() ? absl::OkStatus() : FromGrpc(status);
}

void FeedSubscription::Cancel() { stream_->context_.TryCancel(); }

std::unique_ptr<FeedSubscription> Client::Subscribe(const v1::SubscribeRequest& request,
                                                    CallOptions call) {
  return std::unique_ptr<FeedSubscription>(
      new FeedSubscription(std::make_unique<FeedSubscription::Stream>(
          channel_->feed(), request, [this, call = std::move(call)](grpc::ClientContext& context) {
            channel_->PrepareStream(context, call);
          })));
}

class FeedStream::Reactor final : public grpc::ClientReadReactor<v1::SubscribeResponse> {
 public:
  Reactor(v1::ChildrenFeed::Stub& stub, const v1::SubscribeRequest& request,
          FeedStream::MessageCallback on_message, FeedStream::DoneCallback on_done,
          const std::function<void(grpc::ClientContext&)>& prepare)
      : request_(request), on_message_(std::move(on_message)), on_done_(std::move(on_done)) {
    prepare(context_);
    stub.async()->Subscribe(&context_, &request_, this);
    StartRead(&message_);
    // What this thread wrote is ordered, visibly, before the callbacks gRPC runs on its threads
    // (as PendingCall does for unary calls).
    started_.store(true, std::memory_order_release);
    StartCall();
  }

  void OnReadDone(bool ok) override {
    started_.load(std::memory_order_acquire);
    if (!ok) return;  // the stream has ended: OnDone follows
    on_message_(message_);
    StartRead(&message_);
  }
  void OnDone(const grpc::Status& status) override {
    started_.load(std::memory_order_acquire);
    on_done_(status.ok() ? absl::OkStatus() : FromGrpc(status));
    std::lock_guard<std::mutex> lock(mu_);
    done_ = true;
    cv_.notify_all();
  }

  void Cancel() { context_.TryCancel(); }
  void AwaitDone() {
    std::unique_lock<std::mutex> lock(mu_);
    cv_.wait(lock, [this] { return done_; });
  }

 private:
  grpc::ClientContext context_;
  const v1::SubscribeRequest request_;
  v1::SubscribeResponse message_;
  FeedStream::MessageCallback on_message_;
  FeedStream::DoneCallback on_done_;
  std::atomic<bool> started_{false};
  std::mutex mu_;
  std::condition_variable cv_;
  bool done_ = false;
};

FeedStream::~FeedStream() {
  reactor_->Cancel();
  reactor_->AwaitDone();
  delete reactor_;
}

void FeedStream::Cancel() { reactor_->Cancel(); }

std::unique_ptr<FeedStream> Client::SubscribeAsync(const v1::SubscribeRequest& request,
                                                   FeedStream::MessageCallback on_message,
                                                   FeedStream::DoneCallback on_done,
                                                   CallOptions call) {
  return std::unique_ptr<FeedStream>(new FeedStream(
      new FeedStream::Reactor(channel_->feed(), request, std::move(on_message), std::move(on_done),
                              [this, call = std::move(call)](grpc::ClientContext& context) {
                                channel_->PrepareStream(context, call);
                              })));
}

absl::StatusOr<v1::ResolveResponse> Client::Resolve(absl::string_view identifier,
                                                    CallOptions call) {
  v1::ResolveRequest request;
  request.set_identifier(std::string(identifier));
  return Resolve(request, call);
}

// The blocking check waits for the asynchronous one.
absl::Status Client::CheckHealth(CallOptions call) {
  std::mutex mu;
  std::condition_variable answered;
  std::optional<absl::Status> outcome;
  CheckHealthAsync(
      [&](absl::Status status) {
        std::lock_guard<std::mutex> lock(mu);
        outcome = std::move(status);
        answered.notify_all();
      },
      std::move(call));
  std::unique_lock<std::mutex> lock(mu);
  answered.wait(lock, [&] { return outcome.has_value(); });
  return *std::move(outcome);
}

void Client::CheckHealthAsync(HealthCallback done, CallOptions call) {
  using Pending = PendingCall<wire::HealthCheckRequest, wire::HealthCheckResponse, HealthCallback>;
  auto* pending = new Pending();
  pending->done = std::move(done);
  channel_->SetDeadline(pending->context, call);
  std::function<void(grpc::Status)> on_done = [pending](grpc::Status status) {
    pending->Finished();
    const bool serving = pending->response.status() == wire::HealthCheckResponse::SERVING;
    HealthCallback done = std::move(pending->done);
    delete pending;  // before the caller hears: see CallAsync
    if (!status.ok()) {
      done(FromGrpc(status));
    } else if (!serving) {
      done(absl::UnavailableError("the registry is not serving"));
    } else {
      done(absl::OkStatus());
    }
  };
  pending->Started();
  channel_->health().UnaryCall(&pending->context, kHealthCheckMethod, grpc::StubOptions(),
                               &pending->request, &pending->response, std::move(on_done));
}

}  // namespace cir
