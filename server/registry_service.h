#ifndef CIR_SERVER_REGISTRY_SERVICE_H_
#define CIR_SERVER_REGISTRY_SERVICE_H_

#include <atomic>
#include <cstdint>
#include <utility>

#include "absl/strings/string_view.h"
#include "cir/v1/registry.grpc.pb.h"
#include "registry/life_events.h"
#include "registry/registry.h"
#include "server/call_auditor.h"
#include "server/call_gate.h"

namespace cir::server {

// The ChildRegistry gRPC service: admits each call through the CallGate (who calls, may it call
// this method), unpacks it, hands it to the Registry with the caller's reach, and finishes it
// with the Registry's answer trimmed to the fields the caller's role sees (a record outside its
// reach answered as no record at all). Writes finish from the store's writer thread once durable,
// so no gRPC thread waits on a disk sync.
class RegistryService final : public v1::ChildRegistry::CallbackService {
 public:
  // `description` is what DescribeRegistry answers: fixed for the server's life.
  RegistryService(registry::Registry& registry, registry::LifeEvents& life_events,
                  const CallGate& gate, CallAuditor& auditor,
                  v1::DescribeRegistryResponse description);

  // To be called once the gRPC server has shut down: orders everything the calls did before they
  // finished before whatever the caller does next (destroying the registry and the store). gRPC's
  // shutdown already waits for the calls; this makes the ordering visible in our code, to
  // ThreadSanitizer, which cannot see the synchronisation inside Debian's gRPC.
  void AfterShutdown() const;

  grpc::ServerUnaryReactor* RegisterBirth(grpc::CallbackServerContext* context,
                                          const v1::RegisterBirthRequest* request,
                                          v1::RegisterBirthResponse* response) override;
  grpc::ServerUnaryReactor* Resolve(grpc::CallbackServerContext* context,
                                    const v1::ResolveRequest* request,
                                    v1::ResolveResponse* response) override;
  grpc::ServerUnaryReactor* RegisterBirths(grpc::CallbackServerContext* context,
                                           const v1::RegisterBirthsRequest* request,
                                           v1::RegisterBirthsResponse* response) override;
  grpc::ServerUnaryReactor* LinkUpn(grpc::CallbackServerContext* context,
                                    const v1::LinkUpnRequest* request,
                                    v1::LinkUpnResponse* response) override;
  grpc::ServerUnaryReactor* LinkNhsNumber(grpc::CallbackServerContext* context,
                                          const v1::LinkNhsNumberRequest* request,
                                          v1::LinkNhsNumberResponse* response) override;
  grpc::ServerUnaryReactor* BatchResolve(grpc::CallbackServerContext* context,
                                         const v1::BatchResolveRequest* request,
                                         v1::BatchResolveResponse* response) override;
  grpc::ServerUnaryReactor* DescribeRegistry(grpc::CallbackServerContext* context,
                                             const v1::DescribeRegistryRequest* request,
                                             v1::DescribeRegistryResponse* response) override;

  grpc::ServerUnaryReactor* RecordDeath(grpc::CallbackServerContext* context,
                                        const v1::RecordDeathRequest* request,
                                        v1::RecordDeathResponse* response) override;
  grpc::ServerUnaryReactor* ChangeAddress(grpc::CallbackServerContext* context,
                                          const v1::ChangeAddressRequest* request,
                                          v1::ChangeAddressResponse* response) override;
  grpc::ServerUnaryReactor* CorrectDetails(grpc::CallbackServerContext* context,
                                           const v1::CorrectDetailsRequest* request,
                                           v1::CorrectDetailsResponse* response) override;
  grpc::ServerUnaryReactor* SupersedeNhsNumber(grpc::CallbackServerContext* context,
                                               const v1::SupersedeNhsNumberRequest* request,
                                               v1::SupersedeNhsNumberResponse* response) override;
  grpc::ServerUnaryReactor* MergeRecords(grpc::CallbackServerContext* context,
                                         const v1::MergeRecordsRequest* request,
                                         v1::MergeRecordsResponse* response) override;
  grpc::ServerUnaryReactor* UndoMerge(grpc::CallbackServerContext* context,
                                      const v1::UndoMergeRequest* request,
                                      v1::UndoMergeResponse* response) override;
  grpc::ServerUnaryReactor* RestrictSharing(grpc::CallbackServerContext* context,
                                            const v1::RestrictSharingRequest* request,
                                            v1::RestrictSharingResponse* response) override;

 private:
  // A life event's call: size checked, then handed to `apply` on life_events_.
  template <typename Request, typename Response>
  grpc::ServerUnaryReactor* LifeEvent(
      grpc::CallbackServerContext* context, const Request& request, Response* response,
      absl::string_view method,
      void (registry::LifeEvents::*apply)(const Request&, registry::Registry::Reply<Response>,
                                          storage::SubmitOptions, const registry::Actor&));
  // Finishes the call with `result` once `entry` is durable in the audit log; data only then
  // (AUDIT_UNAVAILABLE if the entry could not be made durable), a refusal whatever happened.
  template <typename Response>
  void Answer(grpc::ServerUnaryReactor* reactor, grpc::CallbackServerContext* context,
              Response* response, absl::string_view method, v1::AuditEntry entry,
              absl::StatusOr<Response> result);
  // Finishes the call with `refusal`, audited (by `caller`, or the agency of its certificate).
  template <typename Response>
  void Refuse(grpc::ServerUnaryReactor* reactor, grpc::CallbackServerContext* context,
              Response* response, absl::string_view method, const access::Caller* caller,
              absl::Status refusal);
  // The reply of a change: trimmed to the caller's fields, or, if the store never ran the change
  // (so made no entry), audited here first.
  template <typename Response>
  absl::AnyInvocable<void(absl::StatusOr<Response>)> ChangeReply(
      grpc::ServerUnaryReactor* reactor, grpc::CallbackServerContext* context, Response* response,
      absl::string_view method, const access::Caller& caller,
      std::shared_ptr<std::atomic<bool>> audited);
  // Each call's gate (server/call_gate.h), before anything else of the call runs: the caller, or
  // the call finished with the refusal.
  template <typename Response>
  absl::StatusOr<access::Caller> Admit(grpc::ServerUnaryReactor* reactor,
                                       grpc::CallbackServerContext* context, Response* response,
                                       absl::string_view method);

  // Each call's first step: its reactor (gRPC's default one). Also orders the construction of this
  // service (and so of the registry and store before it) before the call, for the same reason as
  // AfterShutdown.
  grpc::ServerUnaryReactor* Enter(grpc::CallbackServerContext* context);

  registry::Registry& registry_;
  registry::LifeEvents& life_events_;
  const CallGate& gate_;
  CallAuditor& auditor_;
  const v1::DescribeRegistryResponse description_;
  std::atomic<bool> constructed_{false};     // released at the end of construction
  std::atomic<uint64_t> calls_finished_{0};  // released by each call as it finishes
};

}  // namespace cir::server

#endif  // CIR_SERVER_REGISTRY_SERVICE_H_
