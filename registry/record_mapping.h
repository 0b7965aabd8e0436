#ifndef CIR_REGISTRY_RECORD_MAPPING_H_
#define CIR_REGISTRY_RECORD_MAPPING_H_

#include "cir/v1/registry.pb.h"
#include "storage/stored_records.pb.h"

namespace cir::registry {

void ToDate(const storage::StoredDate& stored, v1::Date* date);

// The child's birth order: 1 for a child stored before birth order was recorded (such children
// were notified as singletons).
int BirthOrderOf(const storage::StoredChild& stored);

// The public view of a stored child (proto/cir/v1/registry.proto's ChildRecord), whole.
void ToChildRecord(const storage::StoredChild& stored, v1::ChildRecord* record);

// Only the identifying fields: the identifiers, current and former, the status and the version.
void ToChildIdentifiers(const storage::StoredChild& stored, v1::ChildRecord* record);

// Narrows a record made whole (or to its identifiers) to what `view` asks for: RECORD_VIEW_FULL
// and RECORD_VIEW_UNSPECIFIED keep it as it is; RECORD_VIEW_IDENTIFIERS keeps the fields
// ToChildIdentifiers sets; RECORD_VIEW_CHILD_ID keeps child_id and child_id_display.
void NarrowToView(v1::RecordView view, v1::ChildRecord& record);

}  // namespace cir::registry

#endif  // CIR_REGISTRY_RECORD_MAPPING_H_
