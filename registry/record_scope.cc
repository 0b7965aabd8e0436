#include "registry/record_scope.h"

namespace cir::registry {

bool RecordScope::Reaches(const storage::StoredChild& child) const {
  if (everywhere) return true;
  if (local_authorities.contains(child.local_authority())) return true;
  for (const storage::StoredNotification& notification : child.notifications()) {
    if (notifying_systems.contains(notification.notifying_system())) return true;
  }
  return false;
}

}  // namespace cir::registry
