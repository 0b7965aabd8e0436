#include "registry/record_scope.h"

namespace cir::registry {

bool RecordScope::Reaches(const storage::StoredChild& child) const {
  if (everywhere) return true;
  if (local_authorities.contains(child.local_authority())) return true;
  // Only the notification that registered the child counts: a later notification of the same
  // birth, which anyone knowing the child's NHS number and date of birth can send, gives no reach.
  return !child.notifications().empty() &&
         notifying_systems.contains(child.notifications(0).notifying_system());
}

}  // namespace cir::registry
