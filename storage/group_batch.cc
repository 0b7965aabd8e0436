#include "storage/group_batch.h"

#include <utility>

#include "absl/strings/str_cat.h"
#include "rocksdb/comparator.h"
#include "storage/rocksdb_status.h"

namespace cir::storage {

GroupBatch::GroupBatch(std::function<bool()> fail_rollback)
    : batch_(rocksdb::BytewiseComparator(), /*reserved_bytes=*/0, /*overwrite_key=*/true),
      fail_rollback_(std::move(fail_rollback)) {}

void GroupBatch::BeginUnit() { unit_start_ = BeginPart(); }

void GroupBatch::KeepUnit() { batch_.PopSavePoint().PermitUncheckedError(); }

absl::Status GroupBatch::DiscardUnit() { return DiscardSince(unit_start_, "unit"); }

GroupBatch::PartStart GroupBatch::BeginPart() {
  PartStart start{batch_.GetWriteBatch()->Count(), batch_.GetWriteBatch()->GetDataSize()};
  batch_.SetSavePoint();
  return start;
}

void GroupBatch::KeepPart() { batch_.PopSavePoint().PermitUncheckedError(); }

absl::Status GroupBatch::DiscardPart(PartStart start) { return DiscardSince(start, "part"); }

absl::Status GroupBatch::DiscardSince(PartStart start, absl::string_view what) {
  const rocksdb::WriteBatch* written = batch_.GetWriteBatch();
  if (written->Count() == start.count && written->GetDataSize() == start.bytes) {
    // Nothing staged: dropping the save point leaves the batch (and its index) as it was.
    return FromRocks(batch_.PopSavePoint(), absl::StrCat("dropping a ", what, "'s save point"));
  }
  ++rollbacks_;
  if (fail_rollback_ && fail_rollback_()) {
    return absl::InternalError(
        absl::StrCat("rolling back a failed ", what, "'s writes: failed (injected by a test)"));
  }
  return FromRocks(batch_.RollbackToSavePoint(),
                   absl::StrCat("rolling back a failed ", what, "'s writes"));
}

}  // namespace cir::storage
