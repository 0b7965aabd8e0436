#ifndef CIR_SERVER_CALL_GATE_H_
#define CIR_SERVER_CALL_GATE_H_

#include <memory>
#include <string>

#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"
#include "access/caller.h"
#include "access/policy_source.h"
#include "grpcpp/server_context.h"

namespace cir::server {

// The first step of every call to the registry's own services: who is calling, and may it call
// this method? Decided from the agency the call's verified client certificate names
// (or, on a plaintext test server, the one agency it acts as), the access policy in force, and
// the call's metadata (the end user and purpose of use). Nothing of a call runs before its gate
// lets it through.
// The gRPC path of `method` of `service` ("/cir.v1.ChildRegistry/Resolve"), as the access rules
// name it.
std::string MethodPath(absl::string_view service, absl::string_view method);

class CallGate {
 public:
  // Over mutual TLS: the agency comes from the call's certificate.
  explicit CallGate(std::shared_ptr<access::PolicySource> policy);
  // A plaintext test server (loopback only): every call is made by `agency_id`.
  CallGate(std::shared_ptr<access::PolicySource> policy, std::string plaintext_agency_id);

  // The caller of `context`'s call to `method` ("/cir.v1.ChildRegistry/Resolve"), or the
  // refusal (access/caller.h, IdentifyCaller).
  absl::StatusOr<access::Caller> Admit(const grpc::CallbackServerContext& context,
                                       absl::string_view method) const;

  // The agency the call's certificate names (or the plaintext agency), "" if none: for the audit
  // entry of a call refused before its caller was decided.
  std::string AgencyIdOf(const grpc::CallbackServerContext& context) const;

  // For the audit entry of a call refused before its caller was decided: when its certificate
  // names no agency, the URI subject alternative names it presented (entry.presented_uris).
  void NoteUnidentified(const grpc::CallbackServerContext& context, v1::AuditEntry& entry) const;

  // Whether `local_authority`'s feed is open to `caller`: PERMISSION_DENIED, AREA_NOT_PERMITTED
  // if not (an area is public knowledge; a record is not, and is NOT_FOUND instead).
  static absl::Status CheckArea(const access::Caller& caller, absl::string_view local_authority);

 private:
  std::shared_ptr<access::PolicySource> policy_;
  std::string plaintext_agency_id_;  // empty over TLS
};

}  // namespace cir::server

#endif  // CIR_SERVER_CALL_GATE_H_
