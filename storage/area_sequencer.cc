#include "storage/area_sequencer.h"

namespace cir::storage {

std::vector<AreaHead> AreaSequencer::Reset(
    std::map<std::string, uint64_t, std::less<>> committed_heads) {
  group_.clear();
  unit_undo_.clear();
  std::vector<AreaHead> moved;
  std::lock_guard<std::mutex> lock(mu_);
  for (const auto& [area, head] : committed_heads) {
    auto before = committed_.find(area);
    if (before == committed_.end() || before->second != head) moved.push_back({area, head});
  }
  committed_ = std::move(committed_heads);
  return moved;
}

void AreaSequencer::BeginUnit() { unit_undo_.clear(); }

uint64_t AreaSequencer::Next(absl::string_view local_authority) {
  auto staged = group_.find(local_authority);
  if (staged != group_.end()) {
    unit_undo_.emplace_back(staged->first, staged->second);
    return ++staged->second;
  }
  const uint64_t next = CommittedHead(local_authority) + 1;
  group_.emplace(std::string(local_authority), next);
  unit_undo_.emplace_back(std::string(local_authority), std::nullopt);
  return next;
}

void AreaSequencer::DiscardUnit() { DiscardPart(0); }

void AreaSequencer::DiscardPart(size_t start) {
  // Undone newest first, so an area the unit took several numbers from ends at its first undo.
  for (size_t i = unit_undo_.size(); i > start; --i) {
    const auto& [area, before] = unit_undo_[i - 1];
    if (before.has_value()) {
      group_[area] = *before;
    } else {
      group_.erase(area);
    }
  }
  unit_undo_.resize(start);
}

std::vector<AreaHead> AreaSequencer::CommitGroup() {
  std::vector<AreaHead> moved;
  moved.reserve(group_.size());
  {
    std::lock_guard<std::mutex> lock(mu_);
    for (const auto& [area, head] : group_) {
      committed_[area] = head;
      moved.push_back(AreaHead{area, head});
    }
  }
  group_.clear();
  unit_undo_.clear();
  return moved;
}

void AreaSequencer::DiscardGroup() {
  group_.clear();
  unit_undo_.clear();
}

std::vector<uint64_t> AreaSequencer::Heads(absl::Span<const std::string> local_authorities) const {
  std::vector<uint64_t> heads;
  heads.reserve(local_authorities.size());
  std::lock_guard<std::mutex> lock(mu_);
  for (const std::string& area : local_authorities) {
    auto it = committed_.find(area);
    heads.push_back(it == committed_.end() ? 0 : it->second);
  }
  return heads;
}

uint64_t AreaSequencer::CommittedHead(absl::string_view local_authority) const {
  std::lock_guard<std::mutex> lock(mu_);
  auto it = committed_.find(local_authority);
  return it == committed_.end() ? 0 : it->second;
}

}  // namespace cir::storage
