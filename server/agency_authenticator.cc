#include "server/agency_authenticator.h"

#include <string>
#include <utility>

#include "absl/strings/match.h"
#include "absl/strings/string_view.h"
#include "access/method_rules.h"
#include "grpc/grpc_security_constants.h"
#include "server/call_gate.h"

namespace cir::server {
namespace {

absl::string_view View(const grpc::string_ref& ref) { return {ref.data(), ref.size()}; }

}  // namespace

AgencyAuthenticator::AgencyAuthenticator(std::shared_ptr<access::PolicySource> policy)
    : policy_(std::move(policy)) {}

grpc::Status AgencyAuthenticator::Process(const InputMetadata& auth_metadata,
                                          grpc::AuthContext* context, OutputMetadata*,
                                          OutputMetadata*) {
  // Each URI SAN of the verified peer certificate is one value of this property.
  const std::vector<grpc::string_ref> uris =
      context->FindPropertyValues(GRPC_PEER_URI_PROPERTY_NAME);
  if (uris.size() != 1) {
    return grpc::Status(grpc::StatusCode::UNAUTHENTICATED,
                        "the client certificate must name its agency by exactly one URI subject "
                        "alternative name, spiffe://TRUST-DOMAIN/agency/ID");
  }
  const std::shared_ptr<const access::AccessPolicy> policy = policy_->Current();
  const access::Agency* agency = policy->AgencyOfUri(View(uris.front()));
  if (agency == nullptr) {
    return grpc::Status(grpc::StatusCode::UNAUTHENTICATED,
                        "the client certificate names no agency this registry knows; ask the "
                        "registry's operators to configure the agency");
  }
  context->AddProperty(kAgencyProperty, agency->id);

  auto path = auth_metadata.find(":path");
  const absl::string_view method = path == auth_metadata.end() ? "" : View(path->second);
  if (!absl::StartsWith(method, "/cir.v1.") && !access::GrantFor(*agency, method).allowed()) {
    return grpc::Status(grpc::StatusCode::PERMISSION_DENIED,
                        "none of this agency's roles may call this method");
  }
  return grpc::Status::OK;
}

}  // namespace cir::server
