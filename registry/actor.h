#ifndef CIR_REGISTRY_ACTOR_H_
#define CIR_REGISTRY_ACTOR_H_

#include <functional>
#include <string>

#include "absl/status/status.h"
#include "cir/v1/registry.pb.h"
#include "google/protobuf/message.h"
#include "registry/record_scope.h"

namespace cir::registry {

// Who makes a change, as the registry's rules need to know it: the agency (whose request ids are
// its own: another agency's request with the same id is another request) and the records the
// change may reach. The default, no agency and every record, is the registry's own callers: its
// tests and tools, never a call from outside.
struct Actor {
  std::string agency_id;
  RecordScope scope = RecordScope::Everywhere();
  // Makes the change's audit entry (storage::SubmitOptions::audit_entry) from its outcome and,
  // when it succeeded, the response as the registry made it (before anything is trimmed from
  // it); appended in the change's own write. Empty: the change is not audited.
  std::function<v1::AuditEntry(const absl::Status& outcome,
                               const google::protobuf::Message* response)>
      audit;
};

}  // namespace cir::registry

#endif  // CIR_REGISTRY_ACTOR_H_
