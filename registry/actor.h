#ifndef CIR_REGISTRY_ACTOR_H_
#define CIR_REGISTRY_ACTOR_H_

#include <string>

#include "registry/record_scope.h"

namespace cir::registry {

// Who makes a change, as the registry's rules need to know it: the agency (whose request ids are
// its own: another agency's request with the same id is another request) and the records the
// change may reach. The default, no agency and every record, is the registry's own callers: its
// tests and tools, never a call from outside.
struct Actor {
  std::string agency_id;
  RecordScope scope = RecordScope::Everywhere();
};

}  // namespace cir::registry

#endif  // CIR_REGISTRY_ACTOR_H_
