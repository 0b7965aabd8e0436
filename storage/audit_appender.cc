#include "storage/audit_appender.h"

#include <utility>

namespace cir::storage {
namespace {

// The store's subtrees as the frontier reads them.
class StoredSubtrees final : public audit::SubtreeHashes {
 public:
  explicit StoredSubtrees(const AuditAppender::StoredNode& stored) : stored_(stored) {}
  absl::StatusOr<audit::Hash> Perfect(int level, uint64_t index) const override {
    return stored_(AuditNode{level, index});
  }

 private:
  const AuditAppender::StoredNode& stored_;
};

}  // namespace

absl::Status AuditAppender::Restore(uint64_t size, const StoredNode& stored) {
  absl::StatusOr<audit::TreeFrontier> frontier =
      audit::TreeFrontier::Restore(StoredSubtrees(stored), size);
  if (!frontier.ok()) return frontier.status();
  committed_ = *frontier;
  staged_ = *std::move(frontier);
  return absl::OkStatus();
}

absl::StatusOr<AuditAppender::Appended> AuditAppender::Append(absl::string_view entry_bytes) {
  const uint64_t index = staged_.size();
  absl::StatusOr<std::vector<audit::CompletedSubtree>> completed =
      staged_.Append(audit::LeafHash(entry_bytes));
  if (!completed.ok()) return completed.status();
  return Appended{index, *std::move(completed)};
}

}  // namespace cir::storage
