#include "storage/group_batch.h"

#include <utility>

#include "rocksdb/comparator.h"
#include "storage/rocksdb_status.h"

namespace cir::storage {

GroupBatch::GroupBatch(std::function<bool()> fail_rollback)
    : batch_(rocksdb::BytewiseComparator(), /*reserved_bytes=*/0, /*overwrite_key=*/true),
      fail_rollback_(std::move(fail_rollback)) {}

void GroupBatch::BeginUnit() {
  count_at_unit_start_ = batch_.GetWriteBatch()->Count();
  bytes_at_unit_start_ = batch_.GetWriteBatch()->GetDataSize();
  batch_.SetSavePoint();
}

void GroupBatch::KeepUnit() { batch_.PopSavePoint().PermitUncheckedError(); }

absl::Status GroupBatch::DiscardUnit() {
  const rocksdb::WriteBatch* written = batch_.GetWriteBatch();
  if (written->Count() == count_at_unit_start_ && written->GetDataSize() == bytes_at_unit_start_) {
    // Nothing staged: dropping the save point leaves the batch (and its index) as it was.
    return FromRocks(batch_.PopSavePoint(), "dropping a unit's save point");
  }
  ++rollbacks_;
  if (fail_rollback_ && fail_rollback_()) {
    return absl::InternalError("rolling back a failed unit's writes: failed (injected by a test)");
  }
  return FromRocks(batch_.RollbackToSavePoint(), "rolling back a failed unit's writes");
}

}  // namespace cir::storage
