#ifndef CIR_STORAGE_AREA_SEQUENCER_H_
#define CIR_STORAGE_AREA_SEQUENCER_H_

#include <cstdint>
#include <map>
#include <mutex>
#include <optional>
#include <string>
#include <utility>
#include <vector>

#include "absl/base/thread_annotations.h"
#include "absl/strings/string_view.h"
#include "absl/types/span.h"
#include "storage/child_store.h"

namespace cir::storage {

// Gives each local authority's feed its gap-free sequence numbers.
//
// The writer thread stages a group: Next assigns an area's next number (its committed head, or
// the last number given in this group, plus one); a unit that fails gives back what it took
// (BeginUnit / DiscardUnit), and so does a refused part of a unit (BeginPart / DiscardPart); once
// the group's batch is durable, CommitGroup makes the group's numbers the committed heads, and
// DiscardGroup forgets them if the write failed. Readers on any thread ask for committed heads
// (Heads), which never run ahead of what a read of the store can see.
class AreaSequencer {
 public:
  // The committed heads, as read from the store at open or after recovering from a failed write.
  // Writer thread, with no group staged. Returns the heads that differ from those before.
  std::vector<AreaHead> Reset(std::map<std::string, uint64_t, std::less<>> committed_heads);

  // Writer thread.
  void BeginUnit();
  uint64_t Next(absl::string_view local_authority);
  void DiscardUnit();
  // Where a part of the unit begins (WriteTxn::RunPart), and giving back what the part took.
  size_t BeginPart() const { return unit_undo_.size(); }
  void DiscardPart(size_t start);
  // The heads that moved in the group, now committed.
  std::vector<AreaHead> CommitGroup();
  void DiscardGroup();

  // Any thread: each area's committed head, in input order (0 for an area without events).
  std::vector<uint64_t> Heads(absl::Span<const std::string> local_authorities) const;

 private:
  uint64_t CommittedHead(absl::string_view local_authority) const;

  mutable std::mutex mu_;
  std::map<std::string, uint64_t, std::less<>> committed_ ABSL_GUARDED_BY(mu_);

  // Writer thread only: the last number given to each area in the staged group, and what the
  // current unit changed (the area and its group head before, if it had one).
  std::map<std::string, uint64_t, std::less<>> group_;
  std::vector<std::pair<std::string, std::optional<uint64_t>>> unit_undo_;
};

}  // namespace cir::storage

#endif  // CIR_STORAGE_AREA_SEQUENCER_H_
