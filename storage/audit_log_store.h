#ifndef CIR_STORAGE_AUDIT_LOG_STORE_H_
#define CIR_STORAGE_AUDIT_LOG_STORE_H_

#include <cstdint>
#include <optional>
#include <vector>

#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"
#include "audit/merkle_tree.h"
#include "cir/v1/registry.pb.h"
#include "storage/audit_appender.h"

namespace cir::storage {

// What the audit log needs of a store, beside ChildStore: reading the log, its tree and its
// checkpoints. Entries are appended by the store's writer with each unit of work
// (SubmitOptions::audit_entry) and checkpoints through WriteTxn::PutAuditCheckpoint, so that both
// are ordered with, and as durable as, the writes they stand beside. A replicated store implements
// it too.
//
// Thread safety: every method may be called from any thread at once. Reads see committed state.
class AuditLogStore {
 public:
  virtual ~AuditLogStore() = default;

  // The committed tree: its size and root.
  virtual AuditAppender::Head AuditHead() = 0;
  // Entries from leaf `from_index`, each as the bytes its leaf hashes: up to `limit` of them, and
  // no more once `max_bytes` of entries are read (always at least one, if there is one).
  virtual absl::StatusOr<std::vector<v1::AuditRecord>> ReadAuditEntries(
      uint64_t from_index, size_t limit, size_t max_bytes = size_t{4} << 20) = 0;
  // The stored hash of a complete subtree; NOT_FOUND if the tree has no such subtree yet.
  virtual absl::StatusOr<audit::Hash> AuditSubtree(const AuditNode& node) = 0;
  // The indexes of the entries naming `child_id`, in log order.
  virtual absl::StatusOr<std::vector<uint64_t>> AuditEntriesNaming(absl::string_view child_id) = 0;
  // Up to `limit` checkpoints with tree size at or above `from_size`, in order of size.
  virtual absl::StatusOr<std::vector<v1::AuditCheckpoint>> ReadAuditCheckpoints(uint64_t from_size,
                                                                                size_t limit) = 0;
  // The checkpoint of the largest tree, if any has been signed.
  virtual absl::StatusOr<std::optional<v1::AuditCheckpoint>> LatestAuditCheckpoint() = 0;
};

// A store's audit log as the tree's roots and proofs read it (audit/merkle_tree.h): its stored
// perfect subtrees.
class AuditLogSubtrees final : public audit::SubtreeHashes {
 public:
  explicit AuditLogSubtrees(AuditLogStore& log) : log_(log) {}
  absl::StatusOr<audit::Hash> Perfect(int level, uint64_t index) const override {
    return log_.AuditSubtree(AuditNode{level, index});
  }

 private:
  AuditLogStore& log_;
};

}  // namespace cir::storage

#endif  // CIR_STORAGE_AUDIT_LOG_STORE_H_
