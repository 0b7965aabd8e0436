#include "server/call_gate.h"

#include <optional>
#include <utility>

#include "absl/strings/str_cat.h"
#include "errors/refusal.h"
#include "grpc/grpc_security_constants.h"
#include "server/agency_authenticator.h"

namespace cir::server {
namespace {

// The value of metadata `key`, if the call sent it exactly once.
std::optional<absl::string_view> MetadataValue(const grpc::CallbackServerContext& context,
                                               absl::string_view key) {
  const auto& metadata = context.client_metadata();
  auto [first, last] = metadata.equal_range(grpc::string_ref(key.data(), key.size()));
  if (first == last || std::next(first) != last) return std::nullopt;
  return absl::string_view(first->second.data(), first->second.size());
}

}  // namespace

std::string MethodPath(absl::string_view service, absl::string_view method) {
  return absl::StrCat("/", service, "/", method);
}

CallGate::CallGate(std::shared_ptr<access::PolicySource> policy) : policy_(std::move(policy)) {}

CallGate::CallGate(std::shared_ptr<access::PolicySource> policy, std::string plaintext_agency_id)
    : policy_(std::move(policy)), plaintext_agency_id_(std::move(plaintext_agency_id)) {}

absl::StatusOr<access::Caller> CallGate::Admit(const grpc::CallbackServerContext& context,
                                               absl::string_view method) const {
  std::shared_ptr<const access::AccessPolicy> policy = policy_->Current();
  std::string agency_id = plaintext_agency_id_;
  if (agency_id.empty()) {
    std::shared_ptr<const grpc::AuthContext> auth = context.auth_context();
    const access::Agency* agency = auth == nullptr ? nullptr : AgencyOfPeer(*auth, *policy);
    if (agency == nullptr) {
      return errors::Refusal(absl::StatusCode::kUnauthenticated, v1::CALLER_NOT_IDENTIFIED,
                             "the call's client certificate names no agency of this registry");
    }
    agency_id = agency->id;
  }
  return access::IdentifyCaller(std::move(policy), agency_id, method,
                                MetadataValue(context, access::kEndUserHeader),
                                MetadataValue(context, access::kPurposeOfUseHeader));
}

std::string CallGate::AgencyIdOf(const grpc::CallbackServerContext& context) const {
  if (!plaintext_agency_id_.empty()) return plaintext_agency_id_;
  std::shared_ptr<const grpc::AuthContext> auth = context.auth_context();
  if (auth == nullptr) return "";
  const access::Agency* agency = AgencyOfPeer(*auth, *policy_->Current());
  return agency == nullptr ? "" : agency->id;
}

void CallGate::NoteUnidentified(const grpc::CallbackServerContext& context,
                                v1::AuditEntry& entry) const {
  if (!entry.agency_id().empty()) return;
  std::shared_ptr<const grpc::AuthContext> auth = context.auth_context();
  if (auth == nullptr) return;
  for (const grpc::string_ref& uri : auth->FindPropertyValues(GRPC_PEER_URI_PROPERTY_NAME)) {
    entry.add_presented_uris(std::string(uri.data(), uri.size()));
  }
}

absl::Status CallGate::CheckArea(const access::Caller& caller, absl::string_view local_authority) {
  if (caller.ReadsArea(local_authority)) return absl::OkStatus();
  return errors::Refusal(
      absl::StatusCode::kPermissionDenied, v1::AREA_NOT_PERMITTED,
      absl::StrCat("local_authorities: this agency may read the feeds of its own local "
                   "authorities only, and ",
                   local_authority, " is not one of them"),
      {{"local_authority", local_authority}});
}

}  // namespace cir::server
