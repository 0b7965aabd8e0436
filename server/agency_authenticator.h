#ifndef CIR_SERVER_AGENCY_AUTHENTICATOR_H_
#define CIR_SERVER_AGENCY_AUTHENTICATOR_H_

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

// Runs on every call over mutual TLS, before any handler: checks that the caller's verified
// client certificate names an agency (AgencyOfPeer). For the registry's own services the
// CallGate decides (it finds the agency again, from the policy in force then, and gives its
// refusal a reason); for any other service this refuses the call (UNAUTHENTICATED) when the
// certificate has no URI subject alternative name or more than one, or one that is not
// spiffe://<trust domain>/agency/<id> for a configured agency. Calls to services other than the
// registry's own (health, reflection) are also checked against their method rules here
// (PERMISSION_DENIED), since no gate of ours runs for them; the registry's own methods are checked
// by the CallGate, which can give the refusal its reason.
//
// gRPC verifies the certificate chain, its dates and the CRLs before this runs; this checks who.
// Non-blocking: it runs on the thread that received the call, without a thread hop. A refusal is
// audited without waiting for its entry (it sends nothing of anyone).
class AgencyAuthenticator final : public grpc::AuthMetadataProcessor {
 public:
  explicit AgencyAuthenticator(std::shared_ptr<access::PolicySource> policy);

  // Called with the audit entry of each call refused here (set once, before serving).
  void set_refusal_recorder(std::function<void(v1::AuditEntry)> record) {
    record_refusal_ = std::move(record);
  }

  bool IsBlocking() const override { return false; }
  grpc::Status Process(const InputMetadata& auth_metadata, grpc::AuthContext* context,
                       OutputMetadata* consumed_auth_metadata,
                       OutputMetadata* response_metadata) override;

 private:
  std::shared_ptr<access::PolicySource> policy_;
  std::function<void(v1::AuditEntry)> record_refusal_;
};

}  // namespace cir::server

#endif  // CIR_SERVER_AGENCY_AUTHENTICATOR_H_
