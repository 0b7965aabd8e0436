#ifndef CIR_REGISTRY_RECORD_SCOPE_H_
#define CIR_REGISTRY_RECORD_SCOPE_H_

#include <string>

#include "absl/container/flat_hash_set.h"
#include "storage/stored_records.pb.h"

namespace cir::registry {

// The records one caller's change may reach. A record outside it is answered exactly as if it did
// not exist (NOT_FOUND, CHILD_NOT_FOUND), so that a caller learns nothing of a child outside its
// areas, not even that it exists. Checked inside the change's unit of work, against the record as
// it is when the change runs, so a child that moves away in the meantime is out of reach.
struct RecordScope {
  // Every record: a national role (a registrar), or the registry's own tests.
  static RecordScope Everywhere() { return RecordScope{.everywhere = true}; }

  bool everywhere = false;
  // Records whose local authority is one of these (a local authority data team's areas).
  absl::flat_hash_set<std::string> local_authorities;
  // Records registered by a notification from one of these systems (what a maternity system
  // registered; ODS codes, upper case). A later notification of the same birth gives no reach.
  absl::flat_hash_set<std::string> notifying_systems;

  bool Reaches(const storage::StoredChild& child) const;
};

}  // namespace cir::registry

#endif  // CIR_REGISTRY_RECORD_SCOPE_H_
