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
// the disk). Staged per write group like AreaSequencer: committed with the group's batch, or
// given back when the batch is not written.
//
// Used by the writer thread only, except Committed(), which any thread may call (under the
// store's own lock).
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
  void CommitGroup() { committed_ = staged_; }
  void DiscardGroup() { staged_ = committed_; }

  // The committed tree: its size, and its root (RFC 6962: the empty tree's for 0).
  struct Head {
    uint64_t size = 0;
    audit::Hash root{};
  };
  Head Committed() const { return Head{committed_.size(), committed_.Root()}; }

 private:
  audit::TreeFrontier committed_;
  audit::TreeFrontier staged_;
};

}  // namespace cir::storage

#endif  // CIR_STORAGE_AUDIT_APPENDER_H_
