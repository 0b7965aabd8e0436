#ifndef CIR_STORAGE_CHILD_STORE_H_
#define CIR_STORAGE_CHILD_STORE_H_

#include <cstdint>
#include <optional>
#include <string>
#include "absl/strings/string_view.h"
#include <vector>

#include "absl/functional/any_invocable.h"
#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/types/span.h"
#include "storage/index_entry.h"
#include "storage/stored_records.pb.h"

namespace cir::storage {

// The writes of one unit of work, staged by the registry logic and committed by the store
// atomically with every other unit in the same group. Reads through a WriteTxn see the committed
// state plus every write staged before them in the same group, so a unit's checks (is this NHS
// number taken?) hold at the moment its writes commit. Used only on the store's writer thread,
// inside the work function it was handed to.
class WriteTxn {
 public:
  virtual ~WriteTxn() = default;

  virtual absl::StatusOr<std::optional<StoredChild>> GetChild(absl::string_view child_id) = 0;
  virtual absl::StatusOr<std::optional<IndexEntry>> Lookup(IndexKind kind,
                                                           absl::string_view value) = 0;

  virtual absl::Status PutChild(const StoredChild& child) = 0;
  virtual absl::Status PutIndex(IndexKind kind, absl::string_view value,
                                const IndexEntry& entry) = 0;
  // Appends `event` to the ordered event log; the store assigns its sequence number.
  virtual absl::Status AppendEvent(StoredEvent event) = 0;
};

// A unit of work: reads and stages writes through the transaction. Returning an error discards
// every write the unit staged, and nothing else in its group.
using WriteWork = absl::AnyInvocable<absl::Status(WriteTxn&)>;
// Called once per unit: OK only after the unit's writes are durable (synced to the write-ahead
// log); otherwise the unit's own error, or the commit's.
using WriteDone = absl::AnyInvocable<void(absl::Status)>;

struct IndexKey {
  IndexKind kind;
  std::string value;
};

// What the registry needs of a store: children by identifier, an identifier index whose entries are
// claimed atomically, an ordered event log, and atomic, durable, serialised units of work.
//
// Thread safety: every method may be called from any thread without external locking. Reads never
// wait for writes. Units of work run one at a time in submission order, so a unit's checks and its
// writes can never interleave with another unit's.
class ChildStore {
 public:
  virtual ~ChildStore() = default;

  virtual absl::StatusOr<std::optional<StoredChild>> GetChild(absl::string_view child_id) = 0;
  virtual absl::StatusOr<std::optional<IndexEntry>> Lookup(IndexKind kind,
                                                           absl::string_view value) = 0;

  // Batched forms of the two reads above: one result per input, in input order.
  virtual std::vector<absl::StatusOr<std::optional<StoredChild>>> GetChildren(
      absl::Span<const std::string> child_ids) = 0;
  virtual std::vector<absl::StatusOr<std::optional<IndexEntry>>> LookupMany(
      absl::Span<const IndexKey> keys) = 0;

  // Up to `limit` events with sequence > `after_sequence`, in sequence order.
  virtual absl::StatusOr<std::vector<StoredEvent>> ReadEvents(uint64_t after_sequence,
                                                              size_t limit) = 0;

  // Queues `work` for the writer and returns at once; `done` runs later on the writer thread.
  // Never blocks the caller on disk.
  virtual void Submit(WriteWork work, WriteDone done) = 0;
};

}  // namespace cir::storage

#endif  // CIR_STORAGE_CHILD_STORE_H_
