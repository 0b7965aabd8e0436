#ifndef CIR_STORAGE_AUDIT_APPENDER_H_
#define CIR_STORAGE_AUDIT_APPENDER_H_

#include <cstdint>
#include <functional>
#include <vector>

#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"
#include "audit/merkle_tree.h"

namespace cir::storage {

// A complete subtree of the audit log's Merkle tree: the 2^level leaves from index * 2^level.
struct AuditNode {
  int level = 0;
  uint64_t index = 0;
  bool operator==(const AuditNode&) const = default;
};

// The audit log's tree as the store's writer extends it, leaf by leaf (audit::TreeFrontier: the
// right edge, from which each new leaf's completed subtrees and the root follow without reading
// the disk), in three states:
// - staged: with the leaves of the write group being built; given back (DiscardGroup) when its
//   batch is not written;
// - written: every leaf of the batches written to the database (WroteGroup);
// - committed: every leaf known durable, the tree that checkpoints sign and readers are served.
//   A group written with a sync is committed at once; one written without (nothing but audit
//   entries: see RocksDbChildStore) when a later sync of the write-ahead log covers it.
//
// Used by the writer thread only, except Commit and Committed, which any thread may call (under
// the store's own lock).
class AuditAppender {
 public:
  // What one leaf stages: its index, and every subtree it completes with its hash, the leaf
  // itself (level 0) first.
  struct Appended {
    uint64_t index = 0;
    std::vector<audit::CompletedSubtree> completed;
  };

  // The tree of `size` leaves, its right edge read through `stored` (the stored hash of a
  // complete subtree): what the store finds at open and after it reopens.
  using StoredNode = std::function<absl::StatusOr<audit::Hash>(const AuditNode&)>;
  absl::Status Restore(uint64_t size, const StoredNode& stored);

  // OUT_OF_RANGE once the tree holds 2^64 - 1 leaves.
  absl::StatusOr<Appended> Append(absl::string_view entry_bytes);
  void WroteGroup() { written_ = staged_; }
  void DiscardGroup() { staged_ = written_; }
  // The tree of every leaf written so far: what a sync made from now on makes durable.
  const audit::TreeFrontier& Written() const { return written_; }
  // Commits `durable` (a tree Written() returned once its leaves were synced), unless a larger
  // tree is committed already: syncs may be reported out of order, and the tree never shrinks.
  void Commit(const audit::TreeFrontier& durable) {
    if (durable.size() > committed_.size()) committed_ = durable;
  }

  // The committed tree: its size, and its root (RFC 6962: the empty tree's for 0).
  struct Head {
    uint64_t size = 0;
    audit::Hash root{};
  };
  Head Committed() const { return Head{committed_.size(), committed_.Root()}; }

 private:
  audit::TreeFrontier committed_;
  audit::TreeFrontier written_;
  audit::TreeFrontier staged_;
};

}  // namespace cir::storage

#endif  // CIR_STORAGE_AUDIT_APPENDER_H_
