#ifndef CIR_STORAGE_GROUP_BATCH_H_
#define CIR_STORAGE_GROUP_BATCH_H_

#include <cstddef>
#include <cstdint>
#include <functional>

#include "absl/status/status.h"
#include "absl/strings/string_view.h"
#include "rocksdb/utilities/write_batch_with_index.h"

namespace cir::storage {

// The staged writes of one write group: every unit's writes in one WriteBatchWithIndex (so a unit
// reads the writes of the units before it), each unit's between save points so that a failing
// unit's writes can be discarded while the others' stay.
//
// Rolling back to a save point truncates the batch and rebuilds its whole index, so a unit that
// failed without staging anything is discarded by dropping its save point instead: a group of a
// thousand units that mostly refuse (an NHS number already held) must not rebuild the index a
// thousand times.
//
// Thread safety: none; used by the store's writer thread alone.
class GroupBatch {
 public:
  // `fail_rollback`, for tests only: when it returns true, a rollback is reported as failed
  // without being made, as if RocksDB's RollbackToSavePoint had failed and left the unit's writes
  // in the batch. Default (empty): never.
  explicit GroupBatch(std::function<bool()> fail_rollback = nullptr);

  rocksdb::WriteBatchWithIndex& batch() { return batch_; }

  // Marks where the next unit's writes begin.
  void BeginUnit();
  // Keeps the writes the unit staged since BeginUnit.
  void KeepUnit();
  // Discards the writes the unit staged since BeginUnit. An error means they could not be
  // discarded: the batch then holds a failed unit's writes and must never be committed.
  absl::Status DiscardUnit();

  // Where a part of the unit (WriteTxn::RunPart) begins: taken by BeginPart, given back to
  // DiscardPart.
  struct PartStart {
    uint32_t count = 0;
    size_t bytes = 0;
  };
  // Marks where a part of the current unit begins (a save point inside the unit's).
  PartStart BeginPart();
  // Keeps the writes the part staged.
  void KeepPart();
  // Discards the writes the part staged since `start`, as DiscardUnit does for a unit.
  absl::Status DiscardPart(PartStart start);

  // Writes (puts) in the batch, and the rollbacks made so far (each rebuilt the index).
  uint32_t staged_writes() { return batch_.GetWriteBatch()->Count(); }
  int rollbacks() const { return rollbacks_; }

 private:
  rocksdb::WriteBatchWithIndex batch_;
  std::function<bool()> fail_rollback_;
  // Discards the writes since the newest save point, which was set at `start`.
  absl::Status DiscardSince(PartStart start, absl::string_view what);

  PartStart unit_start_;
  int rollbacks_ = 0;
};

}  // namespace cir::storage

#endif  // CIR_STORAGE_GROUP_BATCH_H_
