#include "server/agency_authenticator.h"

#include <string>
#include <utility>
#include <vector>

#include "absl/strings/match.h"
#include "absl/strings/string_view.h"
#include "access/method_rules.h"
#include "grpc/grpc_security_constants.h"

namespace cir::server {
namespace {

absl::string_view View(const grpc::string_ref& ref) { return {ref.data(), ref.size()}; }

}  // namespace

const access::Agency* AgencyOfPeer(const grpc::AuthContext& context,
                                   const access::AccessPolicy& policy) {
  // Each URI SAN of the verified peer certificate is one value of this property.
  const std::vector<grpc::string_ref> uris =
      context.FindPropertyValues(GRPC_PEER_URI_PROPERTY_NAME);
  if (uris.size() != 1) return nullptr;
  return policy.AgencyOfUri(View(uris.front()));
}

AgencyAuthenticator::AgencyAuthenticator(std::shared_ptr<access::PolicySource> policy)
    : policy_(std::move(policy)) {}

grpc::Status AgencyAuthenticator::Process(const InputMetadata& auth_metadata,
                                          grpc::AuthContext* context, OutputMetadata*,
                                          OutputMetadata*) {
  const std::shared_ptr<const access::AccessPolicy> policy = policy_->Current();
  const access::Agency* agency = AgencyOfPeer(*context, *policy);
  if (agency == nullptr) {
    return grpc::Status(grpc::StatusCode::UNAUTHENTICATED,
                        "the client certificate must name a configured agency of this registry "
                        "by exactly one URI subject alternative name, "
                        "spiffe://TRUST-DOMAIN/agency/ID");
  }
  auto path = auth_metadata.find(":path");
  const absl::string_view method = path == auth_metadata.end() ? "" : View(path->second);
  if (!absl::StartsWith(method, "/cir.v1.") && !access::GrantFor(*agency, method).allowed()) {
    return grpc::Status(grpc::StatusCode::PERMISSION_DENIED,
                        "none of this agency's roles may call this method");
  }
  return grpc::Status::OK;
}

}  // namespace cir::server
