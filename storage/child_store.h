#ifndef CIR_STORAGE_CHILD_STORE_H_
#define CIR_STORAGE_CHILD_STORE_H_

#include <cstddef>
#include <cstdint>
#include <functional>
#include <optional>
#include <string>
#include <vector>

#include "absl/functional/any_invocable.h"
#include "absl/functional/function_ref.h"
#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"
#include "absl/time/time.h"
#include "absl/types/span.h"
#include "storage/audit_log_store.h"
#include "storage/index_entry.h"
#include "storage/store_backups.h"
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
  // Only for kRetiredChildId, when a merge is undone: identifiers of people are never removed.
  virtual absl::Status DeleteIndex(IndexKind kind, absl::string_view value) = 0;
  // Appends `event` to the ordered event log and each of `feed` to its local authority's feed. The
  // store assigns the event's sequence number and each feed event's area sequence (the area's
  // next, gap-free), stamps every time with CommitTime(), sets each feed event's
  // event_sequence and place_in_change (its index in `feed`), and lists the area sequences in the
  // event's area_sequences, replacing whatever they carried.
  virtual absl::Status AppendEvent(StoredEvent event, std::vector<StoredFeedEvent> feed) = 0;
  // An event no local authority's feed carries.
  absl::Status AppendEvent(StoredEvent event) { return AppendEvent(std::move(event), {}); }

  // A life event's request id: the first call's record, if there was one.
  virtual absl::StatusOr<std::optional<StoredRequest>> GetRequest(absl::string_view request_id) = 0;
  virtual absl::Status PutRequest(absl::string_view request_id, const StoredRequest& request) = 0;

  // Records a signed checkpoint of the audit log's tree (storage/audit_log_store.h).
  virtual absl::Status PutAuditCheckpoint(const v1::AuditCheckpoint& checkpoint) = 0;

  // Runs `part`, a part of this unit that may be refused on its own (one birth of many in a
  // bulk registration): if it returns an error, the writes it staged are discarded, with the
  // event sequence numbers and feed positions it took, and the unit goes on from where it stood
  // before the part. Returns the part's outcome. If the part's writes could not be discarded, it
  // returns INTERNAL (reason INTERNAL_ERROR) instead, and whatever the unit then returns, its
  // whole group is discarded and every unit of it hears ABORTED (but units whose caller had gone,
  // which hear CALL_ABANDONED). Parts may not be nested.
  virtual absl::Status RunPart(absl::FunctionRef<absl::Status()> part) = 0;

  // When the unit's group commits: taken by the writer once per group, just before the group's
  // first unit runs, and never earlier than the previous group's (also across restarts), so
  // event times follow sequence order. The same for every unit of one group.
  virtual absl::Time CommitTime() const = 0;
};

// A unit of work: reads and stages writes through the transaction. Returning an error discards
// every write the unit staged, and nothing else in its group.
using WriteWork = absl::AnyInvocable<absl::Status(WriteTxn&)>;

// Called exactly once per unit with its outcome:
// - OK: the unit's writes are durable (synced to the write-ahead log).
// - The unit's own error: it refused, and nothing of it was written.
// - UNAVAILABLE, reason WRITE_OUTCOME_UNKNOWN: its group's commit failed; the writes may or may not
//   have taken effect, and a retry with the same ids is safe.
// - UNAVAILABLE, reason WRITES_SUSPENDED, WRITE_QUEUE_FULL or SERVER_STOPPING; DEADLINE_EXCEEDED
//   or CANCELLED, reason CALL_ABANDONED: the unit never ran; nothing was written.
// - ABORTED, reason INTERNAL_ERROR: a unit's writes (or a refused part's: WriteTxn::RunPart) could
//   not be undone, so the whole group was discarded; nothing was written, and the unit may be
//   retried. The unit whose own refusal could not be undone hears that refusal.
// Which thread: a refusal made inside Submit itself (queue full, writes suspended, store closing)
// runs `done` on the caller's thread before Submit returns. Every other outcome is delivered off
// the writer thread, together with the rest of its group: on the store's reply runner (the
// server's runs them on a gRPC thread) or, without one, on the store's own reply thread. Never on
// the writer thread, so `done` may take its time without holding up later groups.
using WriteDone = absl::AnyInvocable<void(absl::Status)>;

// How a unit may be abandoned before it runs, and what it costs the queue.
struct SubmitOptions {
  // A unit whose deadline has passed when its turn comes is not run; its done gets
  // DEADLINE_EXCEEDED with reason CALL_ABANDONED. Default: none.
  absl::Time deadline = absl::InfiniteFuture();
  // Asked on the writer thread when the unit's turn comes; true means the caller has gone (the
  // call was cancelled) and the unit is not run: its done gets CANCELLED with reason
  // CALL_ABANDONED. Must be cheap and safe to call from any thread. Default (empty): never.
  std::function<bool()> is_cancelled;
  // Roughly the bytes the unit holds while queued (its request, its captures), counted against
  // the store's byte bound on queued units. Default: 0 (counted by number of units only).
  size_t approximate_bytes = 0;
  // The call's audit entry, made on the writer thread once the unit's outcome is known (it ran,
  // refused, or was abandoned: every call is audited), and appended to the audit log in the
  // group's batch after a refused unit's writes are discarded, so that the entry is kept whatever
  // the outcome. The store sets recorded_at_unix_micros, and indexes the entry under each of its
  // child_ids. `done` hearing OK means the entry is durable too. Must be cheap; called at most
  // once. Empty (default): the unit is not audited (the store's own work; the store's tests).
  absl::AnyInvocable<v1::AuditEntry(const absl::Status& outcome) &&> audit_entry;
};

struct IndexKey {
  IndexKind kind;
  std::string value;
};

// Where a reader of a local authority's feed stands: it has every event up to after_sequence.
struct AreaPosition {
  std::string local_authority;
  uint64_t after_sequence = 0;
};

// A local authority's feed head: the sequence number of its newest event (0 before the first).
struct AreaHead {
  std::string local_authority;
  uint64_t head = 0;
};

// Events of one local authority's feed, read after an AreaPosition.
struct AreaFeedPage {
  std::string local_authority;
  std::vector<StoredFeedEvent> events;  // in area sequence order, gap-free
  uint64_t head = 0;                    // the area's newest sequence when read
  uint64_t earliest = 1;                // the oldest sequence still kept (retention), or head + 1
};

// Told, after each write group that appended to any local authority's feed commits, of the
// areas whose head moved and their new heads.
using AreaFeedWatcher = std::function<void(absl::Span<const AreaHead>)>;

// How the store is doing, for operators' metrics (read when scraped: cheap, from memory and the
// database's own counters).
struct StoreStatistics {
  size_t queued_units = 0;                // units of work waiting for the writer
  size_t queued_bytes = 0;                // what they hold, as counted against the queue's bound
  bool accepting_writes = true;           // false while writes are suspended after a failed write
  uint64_t audit_entries = 0;             // the audit log's committed size
  uint64_t disk_bytes = 0;                // every file of the database (tables, logs, manifest)
  uint64_t pending_compaction_bytes = 0;  // RocksDB's estimate of the compaction still owed
  // The store's memory as its database accounts for it: the block cache's contents (with what
  // is charged to it under a memory bound: memtables, table readers, filters being built), and
  // the memtables and open tables' readers (with their index and filter blocks) held outside it.
  uint64_t block_cache_bytes = 0;
  uint64_t memtable_bytes = 0;
  uint64_t table_reader_bytes = 0;
};

// What the registry needs of a store: children by identifier, an identifier index whose entries are
// claimed atomically, an ordered event log, and atomic, durable, serialised units of work.
//
// Thread safety: every method may be called from any thread without external locking. Reads never
// wait for writes (only, for a moment, while the store reopens its database after a failed
// write). Units of work run one at a time in submission order, so a unit's checks and its
// writes can never interleave with another unit's.
//
// Failures: a failed commit (I/O error, disk full) answers its group's units WRITE_OUTCOME_UNKNOWN
// and suspends writes: until the store has recovered, by itself, once the fault clears, every
// write is refused at once with UNAVAILABLE (WRITES_SUSPENDED) and nothing is written. Reads go on.
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
  // Whether each child is stored, one result per input in input order, without reading its
  // record into a StoredChild: what a batch that answers with child identifiers alone needs.
  virtual std::vector<absl::StatusOr<bool>> ChildrenExist(
      absl::Span<const std::string> child_ids) = 0;

  // Up to `limit` events with sequence > `after_sequence`, in sequence order.
  virtual absl::StatusOr<std::vector<StoredEvent>> ReadEvents(uint64_t after_sequence,
                                                              size_t limit) = 0;

  // Reads each area's feed after its position, up to `limit` events per area, all from one
  // consistent view of the store (so that events of several areas can be put in commit order by
  // their event_sequence). One page per position, in input order.
  virtual absl::StatusOr<std::vector<AreaFeedPage>> ReadAreaFeeds(
      absl::Span<const AreaPosition> positions, size_t limit) = 0;
  // The area sequence after which `local_authority`'s feed holds only events recorded at or after
  // `since`: where a reader starting from a date begins.
  virtual absl::StatusOr<uint64_t> AreaSequenceBefore(absl::string_view local_authority,
                                                      absl::Time since) = 0;
  // The current head of each area's feed, in input order, from memory (no read of the disk).
  virtual std::vector<uint64_t> AreaHeads(absl::Span<const std::string> local_authorities) = 0;
  // Sets the one watcher told of new feed events (replacing any before; empty to stop). It is
  // called after the group commits and before the group's units hear their outcome, off the
  // writer thread, on the thread that delivers the group's replies; it must return promptly.
  // When this returns, no call to a watcher replaced is still running.
  virtual void WatchAreaFeeds(AreaFeedWatcher watcher) = 0;

  // Queues `work` for the writer and returns at once; never blocks the caller on disk. `done`
  // gets the outcome (see WriteDone for which thread runs it). When the queue is full, writes are
  // suspended or the store is closing, the unit is refused at once, inside this call, with
  // UNAVAILABLE (reason WRITE_QUEUE_FULL, WRITES_SUSPENDED or SERVER_STOPPING) and never runs.
  virtual void Submit(WriteWork work, WriteDone done, SubmitOptions options = {}) = 0;

  // OK while the store takes writes; otherwise the refusal that writes get now (UNAVAILABLE with
  // reason WRITES_SUSPENDED while recovering from a failed write, SERVER_STOPPING once closing).
  // A full queue is not reported here: it passes as the writer catches up.
  virtual absl::Status WriteAvailability() = 0;

  // The audit log kept beside the children, in the same store.
  virtual AuditLogStore& audit_log() = 0;
  // Backups of the store, made while it serves (storage/store_backups.h).
  virtual StoreBackups& backups() = 0;
  // How the store is doing now.
  virtual StoreStatistics Statistics() = 0;
};

}  // namespace cir::storage

#endif  // CIR_STORAGE_CHILD_STORE_H_
