#ifndef CIR_SERVER_AGENCY_AUTHENTICATOR_H_
#define CIR_SERVER_AGENCY_AUTHENTICATOR_H_

#include <atomic>
#include <cstdint>
#include <functional>
#include <memory>

#include "access/access_policy.h"
#include "access/policy_source.h"
#include "cir/v1/registry.pb.h"
#include "grpcpp/security/auth_context.h"
#include "grpcpp/security/auth_metadata_processor.h"

namespace cir::server {

// The agency a verified peer certificate names: its one URI subject alternative name is
// spiffe://<trust domain>/agency/<id> for an agency of `policy`. nullptr if it has no URI SAN,
// several, or one naming no such agency.
const access::Agency* AgencyOfPeer(const grpc::AuthContext& context,
                                   const access::AccessPolicy& policy);

// Runs on every call over mutual TLS, before any handler: checks that the
// caller's verified client certificate names an agency (AgencyOfPeer). For the
// registry's own services the CallGate decides (it finds the agency again, from
// the policy in force then, and gives its refusal a reason); for any other
// service this refuses the call (UNAUTHENTICATED) when the certificate has no
// URI subject alternative name or more than one, or one that is not
// spiffe://<trust domain>/agency/<id> for a configured agency. Calls to
// services other than the registry's own (health, reflection) are also checked
// against their method rules here (PERMISSION_DENIED), since no gate of ours
// runs for them; the registry's own methods are checked by the CallGate, which
// can give the refusal its reason.
//
// gRPC verifies the certificate chain, its dates and the CRLs before this runs;
// this checks who. Non-blocking: it runs on the thread that received the call,
// without a thread hop. A refusal made here, and an allowed call to another
// service, are audited without waiting for the entry (they send nothing of
// anyone), except an allowed health check: it reads nothing, and is what load
// balancers and monitors call every few seconds.
class AgencyAuthenticator final : public grpc::AuthMetadataProcessor {
 public:
  explicit AgencyAuthenticator(std::shared_ptr<access::PolicySource> policy);
  // gRPC runs Process on its threads and destroys the processor on another: each Process acquires
  // on entry and releases on exit, and the destructor acquires, so that ThreadSanitizer sees every
  // call ordered before the destruction (gRPC's own hand-off it cannot see).
  ~AgencyAuthenticator() override;

  // Called with the audit entry of each call refused here, and of each allowed
  // call to a service other than the registry's own but the health check (set
  // once, before serving).
  void set_entry_recorder(std::function<void(v1::AuditEntry)> record) {
    record_entry_ = std::move(record);
  }

  bool IsBlocking() const override { return false; }
  grpc::Status Process(const InputMetadata& auth_metadata, grpc::AuthContext* context,
                       OutputMetadata* consumed_auth_metadata,
                       OutputMetadata* response_metadata) override;

 private:
  std::shared_ptr<access::PolicySource> policy_;
  std::function<void(v1::AuditEntry)> record_entry_;
  std::atomic<uint64_t> calls_;  // orders construction, calls and destruction (above)
};

}  // namespace cir::server

#endif  // CIR_SERVER_AGENCY_AUTHENTICATOR_H_
