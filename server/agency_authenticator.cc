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

constexpr absl::string_view kHealthCheckMethod = "/grpc.health.v1.Health/Check";

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
    : policy_(std::move(policy)) {
  calls_.store(0, std::memory_order_release);
}

AgencyAuthenticator::~AgencyAuthenticator() { calls_.load(std::memory_order_acquire); }

grpc::Status AgencyAuthenticator::Process(const InputMetadata& auth_metadata,
                                          grpc::AuthContext* context, OutputMetadata*,
                                          OutputMetadata*) {
  calls_.load(std::memory_order_acquire);
  // Released on every way out, after the last use of this object.
  struct Released {
    std::atomic<uint64_t>& calls;
    ~Released() { calls.fetch_add(1, std::memory_order_release); }
  } released{calls_};
  const std::shared_ptr<const access::AccessPolicy> policy = policy_->Current();
  const access::Agency* agency = AgencyOfPeer(*context, *policy);
  auto path = auth_metadata.find(":path");
  const absl::string_view method = path == auth_metadata.end() ? "" : View(path->second);
  auto refuse = [&](grpc::StatusCode code, v1::ErrorReason reason, const char* message) {
    if (record_entry_) {
      v1::AuditEntry entry;
      if (agency != nullptr) entry.set_agency_id(agency->id);
      entry.set_method(std::string(method));
      entry.set_status_code(static_cast<int32_t>(code));
      entry.set_reason(v1::ErrorReason_Name(reason));
      if (agency == nullptr) {
        for (const grpc::string_ref& uri :
             context->FindPropertyValues(GRPC_PEER_URI_PROPERTY_NAME)) {
          entry.add_presented_uris(std::string(View(uri)));
        }
      }
      record_entry_(std::move(entry));
    }
    return grpc::Status(code, message);
  };
  // The registry's own services refuse an unidentified caller in their CallGate, which gives the
  // refusal its reason (a processor's refusal carries none) and audits it.
  if (agency == nullptr && absl::StartsWith(method, "/cir.v1.")) return grpc::Status::OK;
  if (agency == nullptr) {
    return refuse(grpc::StatusCode::UNAUTHENTICATED, v1::CALLER_NOT_IDENTIFIED,
                  "the client certificate must name a configured agency of this registry "
                  "by exactly one URI subject alternative name, "
                  "spiffe://TRUST-DOMAIN/agency/ID");
  }
  if (absl::StartsWith(method, "/cir.v1.")) return grpc::Status::OK;
  if (!access::GrantFor(*agency, method).allowed()) {
    return refuse(grpc::StatusCode::PERMISSION_DENIED, v1::METHOD_NOT_PERMITTED,
                  "none of this agency's roles may call this method");
  }
  if (record_entry_ && method != kHealthCheckMethod) {
    v1::AuditEntry entry;
    entry.set_agency_id(agency->id);
    entry.set_method(std::string(method));
    record_entry_(std::move(entry));
  }
  return grpc::Status::OK;
}

}  // namespace cir::server
