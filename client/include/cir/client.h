#ifndef CIR_CLIENT_CLIENT_H_
#define CIR_CLIENT_CLIENT_H_

// The Child Identifier Registry's C++ client library: what agency systems link against.
//
//   absl::StatusOr<std::shared_ptr<grpc::ChannelCredentials>> tls = cir::MutualTlsFromFiles(
//       {.ca_file = "registry-ca.pem", .certificate_file = "agency.pem", .key_file =
//       "agency.key"});
//   cir::Client registry({.target = "registry.example:443", .credentials = *tls,
//                         .end_user = "smartcard-5551234", .purpose_of_use = "DIRECT_CARE"});
//   absl::StatusOr<cir::v1::ResolveResponse> child = registry.Resolve("943 476 5919");
//
// Errors come back as absl::Status with the gRPC code the registry sent (INVALID_ARGUMENT with a
// message naming the field, NOT_FOUND, ALREADY_EXISTS, FAILED_PRECONDITION, UNAVAILABLE, ...) and
// its machine-readable reason, read with cir::ErrorReasonOf:
//
//   if (cir::ErrorReasonOf(child.status()) == cir::v1::NHS_NUMBER_HELD_BY_ANOTHER_CHILD) ...
//
// Thread safety: a Client is safe to use from many threads at once; share one per process and
// target. Calls made with the *Async methods complete on gRPC's own threads.

#include <map>
#include <memory>
#include <optional>
#include <string>

#include "absl/functional/any_invocable.h"
#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"
#include "absl/time/time.h"
#include "cir/v1/registry.pb.h"

namespace grpc {
class ChannelCredentials;
}  // namespace grpc

namespace cir {

// Why the registry refused a call: the reason of the google.rpc.ErrorInfo in its status details.
// ERROR_REASON_UNSPECIFIED when the status carries none (the registry was not reached, the deadline
// passed on the way) or a reason newer than this library (ErrorReasonNameOf still names it).
v1::ErrorReason ErrorReasonOf(const absl::Status& status);
// The reason's name as the registry sent it, e.g. "UPN_HELD_BY_ANOTHER_CHILD"; "" if none.
std::string ErrorReasonNameOf(const absl::Status& status);
// The facts the registry gave with the reason (never a child's details), e.g. {"field":
// "mother_nhs_number"} for a field refused; empty if none.
std::map<std::string, std::string> ErrorMetadataOf(const absl::Status& status);

// The files of an agency's mutual TLS (PEM).
struct MutualTlsFiles {
  std::string ca_file;           // the CA bundle that issued the registry's certificate
  std::string certificate_file;  // the agency's certificate (chain), naming it by its URI SAN
  std::string key_file;          // its private key
};
// Channel credentials for the registry over mutual TLS, read from `files`; NOT_FOUND naming the
// file that cannot be read.
absl::StatusOr<std::shared_ptr<grpc::ChannelCredentials>> MutualTlsFromFiles(
    const MutualTlsFiles& files);

struct ClientOptions {
  // The registry's address, host:port. Required.
  std::string target;
  // Channel credentials: MutualTlsFromFiles. Default: plaintext, which only a registry started
  // for tests on the same machine answers.
  std::shared_ptr<grpc::ChannelCredentials> credentials;
  // Deadline of a call made without its own. Default: 10 seconds.
  absl::Duration default_timeout = absl::Seconds(10);
  // Attempts per read (Resolve, BatchResolve, DescribeRegistry, the health check), first
  // included, when the registry answers UNAVAILABLE (it was not reached, or is restarting);
  // retried with exponential backoff by the channel, and throttled while most calls fail. Writes
  // are never retried by the library: their first answer comes back as it is, so that
  // WRITE_OUTCOME_UNKNOWN is seen. Retrying a write with the same ids is always safe (RegisterBirth
  // is idempotent by notifying system and notification id, links by their own effect). 1 turns
  // retries off. Default: 4 (1-5).
  int max_attempts = 4;
  // Whether a call made while the registry cannot be reached waits for it (until the call's
  // deadline) rather than failing at once with UNAVAILABLE: for a batch job that should ride out
  // a restart of the registry. CallOptions::wait_for_ready may set it per call. Default: false.
  bool wait_for_ready = false;
  // Keepalive: an idle connection is pinged every keepalive_time (calls in flight or not), and
  // closed if no answer comes within keepalive_timeout, so that a connection a firewall or NAT
  // dropped silently is found before a call waits on it, and a feed subscriber learns that its
  // stream is gone (and resubscribes from its cursor). The registry accepts pings every 10
  // seconds or more, so a shorter keepalive_time is taken as 10 seconds; zero turns keepalive
  // off. Defaults: 30 seconds, 10 seconds.
  absl::Duration keepalive_time = absl::Seconds(30);
  absl::Duration keepalive_timeout = absl::Seconds(10);
  // The person the calls are made for, and why: sent with every call as the metadata
  // "x-cir-end-user" and "x-cir-purpose-of-use" (a cir.v1.PurposeOfUse name without its prefix,
  // e.g. "DIRECT_CARE"). Required by the roles that act for a person (health visiting, local
  // authority data teams, auditors, a school's or children's centre's single lookups); CallOptions
  // may set them per call. Default: none.
  std::string end_user;
  std::string purpose_of_use;
};

// Per-call settings.
struct CallOptions {
  // The call's deadline counted from now; zero uses ClientOptions::default_timeout.
  absl::Duration timeout = absl::ZeroDuration();
  // The person and purpose for this call, if not ClientOptions'.
  std::string end_user;
  std::string purpose_of_use;
  // ClientOptions::wait_for_ready for this call, if set.
  std::optional<bool> wait_for_ready;
};

// A Subscribe stream (Client::Subscribe). One reader at a time; Cancel may be called from any
// thread. Destroying an unfinished subscription cancels it.
class FeedSubscription {
 public:
  ~FeedSubscription();
  FeedSubscription(const FeedSubscription&) = delete;
  FeedSubscription& operator=(const FeedSubscription&) = delete;

  // Blocks for the next event or heartbeat; false once the stream has ended.
  bool Next(v1::SubscribeResponse* message);
  // Once Next has returned false: why the stream ended (OUT_OF_RANGE for a cursor the registry
  // can no longer serve, UNAVAILABLE when the server stops: resubscribe from the last cursor).
  absl::Status Finish();
  // Ends the stream from the subscriber's side: Next returns false, Finish says CANCELLED.
  void Cancel();

 private:
  friend class Client;
  class Stream;
  explicit FeedSubscription(std::unique_ptr<Stream> stream);
  std::unique_ptr<Stream> stream_;
  bool finished_ = false;
};

// A Subscribe stream read by callbacks (Client::SubscribeAsync), without a thread of its own:
// for a process following many streams. Destroying it cancels the stream and waits until its
// last callback has returned.
class FeedStream {
 public:
  using MessageCallback = absl::AnyInvocable<void(const v1::SubscribeResponse&)>;
  using DoneCallback = absl::AnyInvocable<void(absl::Status)>;

  ~FeedStream();
  FeedStream(const FeedStream&) = delete;
  FeedStream& operator=(const FeedStream&) = delete;

  // Ends the stream from the subscriber's side; on_done then hears CANCELLED.
  void Cancel();

 private:
  friend class Client;
  class Reactor;
  explicit FeedStream(Reactor* reactor) : reactor_(reactor) {}
  Reactor* reactor_;
};

class Client {
 public:
  // The callbacks of the *Async methods: any callable, move-only ones included; never empty.
  template <typename T>
  using Callback = absl::AnyInvocable<void(absl::StatusOr<T>)>;
  using HealthCallback = absl::AnyInvocable<void(absl::Status)>;

  explicit Client(ClientOptions options);
  ~Client();
  Client(const Client&) = delete;
  Client& operator=(const Client&) = delete;

  // Blocking calls, one per RPC of cir.v1.ChildRegistry (see proto/cir/v1/registry.proto).
  absl::StatusOr<v1::RegisterBirthResponse> RegisterBirth(const v1::RegisterBirthRequest& request,
                                                          CallOptions call = {});
  // Up to 10,000 births (4 MiB) in one call, each with its own result; never retried by the
  // library: a call answered UNAVAILABLE may be sent again as it was (every birth is idempotent
  // by its notification id).
  absl::StatusOr<v1::RegisterBirthsResponse> RegisterBirths(
      const v1::RegisterBirthsRequest& request, CallOptions call = {});
  absl::StatusOr<v1::ResolveResponse> Resolve(const v1::ResolveRequest& request,
                                              CallOptions call = {});
  // Resolves any one identifier, its kind detected from its shape.
  absl::StatusOr<v1::ResolveResponse> Resolve(absl::string_view identifier, CallOptions call = {});
  absl::StatusOr<v1::LinkUpnResponse> LinkUpn(const v1::LinkUpnRequest& request,
                                              CallOptions call = {});
  absl::StatusOr<v1::LinkNhsNumberResponse> LinkNhsNumber(const v1::LinkNhsNumberRequest& request,
                                                          CallOptions call = {});
  absl::StatusOr<v1::BatchResolveResponse> BatchResolve(const v1::BatchResolveRequest& request,
                                                        CallOptions call = {});
  // Whether the registry is a test environment, and its limits.
  absl::StatusOr<v1::DescribeRegistryResponse> DescribeRegistry(
      const v1::DescribeRegistryRequest& request = {}, CallOptions call = {});
  // Life events (see "Life events" in the proto): each idempotent by its request_id, so a call
  // answered UNAVAILABLE may be retried with the same request as it is.
  absl::StatusOr<v1::RecordDeathResponse> RecordDeath(const v1::RecordDeathRequest& request,
                                                      CallOptions call = {});
  absl::StatusOr<v1::ChangeAddressResponse> ChangeAddress(const v1::ChangeAddressRequest& request,
                                                          CallOptions call = {});
  absl::StatusOr<v1::CorrectDetailsResponse> CorrectDetails(
      const v1::CorrectDetailsRequest& request, CallOptions call = {});
  absl::StatusOr<v1::SupersedeNhsNumberResponse> SupersedeNhsNumber(
      const v1::SupersedeNhsNumberRequest& request, CallOptions call = {});
  absl::StatusOr<v1::MergeRecordsResponse> MergeRecords(const v1::MergeRecordsRequest& request,
                                                        CallOptions call = {});
  absl::StatusOr<v1::UndoMergeResponse> UndoMerge(const v1::UndoMergeRequest& request,
                                                  CallOptions call = {});
  absl::StatusOr<v1::RestrictSharingResponse> RestrictSharing(
      const v1::RestrictSharingRequest& request, CallOptions call = {});

  // The feed (cir.v1.ChildrenFeed): one page of an area's events.
  absl::StatusOr<v1::ListEventsResponse> ListEvents(const v1::ListEventsRequest& request,
                                                    CallOptions call = {});
  // Opens a stream of the requested areas' events: read it with Next until it ends, then Finish
  // says why. Store each event's cursor once processed, and resubscribe from it. `call`: the
  // stream has no deadline unless call.timeout sets one; wait_for_ready (a stream opened while
  // the registry cannot be reached waits for it) and the person as for any call.
  std::unique_ptr<FeedSubscription> Subscribe(const v1::SubscribeRequest& request,
                                              CallOptions call = {});
  // The same stream read by callbacks on gRPC's threads: `on_message` for each event or heartbeat,
  // one at a time and in order, then `on_done` once with why the stream ended. A callback must not
  // destroy the FeedStream.
  std::unique_ptr<FeedStream> SubscribeAsync(const v1::SubscribeRequest& request,
                                             FeedStream::MessageCallback on_message,
                                             FeedStream::DoneCallback on_done,
                                             CallOptions call = {});

  // The audit log (cir.v1.AuditLog), for auditors acting for a person (ClientOptions::end_user
  // and purpose_of_use, e.g. "AUDIT"): a page of entries, a page of signed checkpoints, the proof
  // that one size of the log's tree extends another, and who accessed one child. What they hold
  // is the registry's word until checked against its signed checkpoints (`cir audit verify`).
  absl::StatusOr<v1::ReadAuditEntriesResponse> ReadAuditEntries(
      const v1::ReadAuditEntriesRequest& request, CallOptions call = {});
  absl::StatusOr<v1::ListCheckpointsResponse> ListAuditCheckpoints(
      const v1::ListCheckpointsRequest& request, CallOptions call = {});
  absl::StatusOr<v1::ProveConsistencyResponse> ProveAuditConsistency(
      const v1::ProveConsistencyRequest& request, CallOptions call = {});
  absl::StatusOr<v1::GetAccessReportResponse> GetAccessReport(
      const v1::GetAccessReportRequest& request, CallOptions call = {});

  // The registry's operation (cir.v1.RegistryAdmin), for operators: a backup of the store into
  // the server's backup folder, made while it serves and verified. It may take minutes: give the
  // call a timeout to match (CallOptions::timeout).
  absl::StatusOr<v1::BackUpResponse> BackUp(CallOptions call = {});

  // The server's standard health check (grpc.health.v1.Health/Check for the whole server):
  // OK when serving. It waits for CheckHealthAsync: do not call it from a callback of this
  // library, which runs on one of gRPC's threads.
  absl::Status CheckHealth(CallOptions call = {});

  // Non-blocking forms for callers with many calls in flight: `done` runs once, on a gRPC thread.
  void RegisterBirthAsync(const v1::RegisterBirthRequest& request,
                          Callback<v1::RegisterBirthResponse> done, CallOptions call = {});
  void RegisterBirthsAsync(const v1::RegisterBirthsRequest& request,
                           Callback<v1::RegisterBirthsResponse> done, CallOptions call = {});
  void ResolveAsync(const v1::ResolveRequest& request, Callback<v1::ResolveResponse> done,
                    CallOptions call = {});
  void LinkUpnAsync(const v1::LinkUpnRequest& request, Callback<v1::LinkUpnResponse> done,
                    CallOptions call = {});
  void LinkNhsNumberAsync(const v1::LinkNhsNumberRequest& request,
                          Callback<v1::LinkNhsNumberResponse> done, CallOptions call = {});
  void BatchResolveAsync(const v1::BatchResolveRequest& request,
                         Callback<v1::BatchResolveResponse> done, CallOptions call = {});
  void CheckHealthAsync(HealthCallback done, CallOptions call = {});

 private:
  class Channel;
  std::unique_ptr<Channel> channel_;
};

}  // namespace cir

#endif  // CIR_CLIENT_CLIENT_H_
