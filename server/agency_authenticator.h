#ifndef CIR_SERVER_AGENCY_AUTHENTICATOR_H_
#define CIR_SERVER_AGENCY_AUTHENTICATOR_H_

#include <memory>

#include "access/policy_source.h"
#include "grpcpp/security/auth_metadata_processor.h"

namespace cir::server {

// Runs on every call over mutual TLS, before any handler: finds the agency the caller's verified
// client certificate names and records it in the call's AuthContext (kAgencyProperty) for the
// CallGate. Refuses the call (UNAUTHENTICATED) when the certificate has no URI subject alternative
// name or more than one, or one that is not spiffe://<trust domain>/agency/<id> for a configured
// agency. Calls to services other than the registry's own (health, reflection) are also checked
// against their method rules here (PERMISSION_DENIED), since no gate of ours runs for them; the
// registry's own methods are checked by the CallGate, which can give the refusal its reason.
//
// gRPC verifies the certificate chain, its dates and the CRLs before this runs; this checks who.
// Non-blocking: it runs on the thread that received the call, without a thread hop.
class AgencyAuthenticator final : public grpc::AuthMetadataProcessor {
 public:
  explicit AgencyAuthenticator(std::shared_ptr<access::PolicySource> policy);

  bool IsBlocking() const override { return false; }
  grpc::Status Process(const InputMetadata& auth_metadata, grpc::AuthContext* context,
                       OutputMetadata* consumed_auth_metadata,
                       OutputMetadata* response_metadata) override;

 private:
  std::shared_ptr<access::PolicySource> policy_;
};

}  // namespace cir::server

#endif  // CIR_SERVER_AGENCY_AUTHENTICATOR_H_
