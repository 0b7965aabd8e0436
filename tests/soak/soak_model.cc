#include "tests/soak/soak_model.h"

#include <algorithm>

#include "absl/strings/str_cat.h"

namespace cir::soak {

Outcome OutcomeOf(const absl::Status& status) {
  switch (status.code()) {
    case absl::StatusCode::kOk:
      return Outcome::kAcknowledged;
    // The server was not reached, went away mid-call, or could not make the write durable
    // (WRITE_OUTCOME_UNKNOWN): the change may have been made. ABORTED says nothing was written,
    // but counting it as unknown only loosens what the verifier demands.
    case absl::StatusCode::kUnavailable:
    case absl::StatusCode::kDeadlineExceeded:
    case absl::StatusCode::kCancelled:
    case absl::StatusCode::kUnknown:
    case absl::StatusCode::kInternal:
    case absl::StatusCode::kAborted:
    case absl::StatusCode::kResourceExhausted:
      return Outcome::kUnknown;
    default:
      return Outcome::kRefused;
  }
}

void SoakModel::RegistrationAnswered(const std::string& notification,
                                     const v1::RegisterBirthRequest& request,
                                     const absl::Status& status, const v1::ChildRecord* record,
                                     const std::string& method) {
  std::lock_guard<std::mutex> lock(mu_);
  const Outcome outcome = OutcomeOf(status);
  if (outcome == Outcome::kUnknown) {
    ++unknown_;
    if (!notification_child_.count(notification)) unanswered_[notification] = request;
    return;
  }
  if (outcome == Outcome::kRefused) return;
  ++acknowledged_;
  unanswered_.erase(notification);
  ++acknowledged_by_method_[method];
  ++acknowledged_calls_[{method, record->child_id()}];
  auto [it, first] = notification_child_.emplace(notification, record->child_id());
  if (!first && it->second != record->child_id()) {
    duplicates_.push_back(absl::StrCat("notification ", notification, " answered with child ",
                                       it->second, " and with child ", record->child_id()));
    return;
  }
  Child& child = children_[record->child_id()];
  if (first) {
    child.area = record->local_authority();
    child.nhs_number = request.nhs_number();
    if (!request.nhs_number().empty()) child.nhs_numbers.insert(request.nhs_number());
    child.version = std::max(child.version, record->version());
    expected_events_.insert(
        {request.local_authority(), record->child_id(), v1::FEED_EVENT_KIND_BIRTH_REGISTERED, 1});
  }
}

void SoakModel::Acknowledged(const std::string& method, const std::string& child_id,
                             const v1::ChildRecord& record,
                             const std::vector<ExpectedEvent>& events) {
  std::lock_guard<std::mutex> lock(mu_);
  ++acknowledged_;
  ++acknowledged_by_method_[method];
  ++acknowledged_calls_[{method, child_id}];
  Child& child = children_[child_id];
  if (record.version() >= child.version) {
    child.version = record.version();
    child.area = record.local_authority();
  }
  expected_events_.insert(events.begin(), events.end());
}

void SoakModel::ReadAcknowledged(const std::string& method,
                                 const std::vector<std::string>& child_ids) {
  std::lock_guard<std::mutex> lock(mu_);
  ++acknowledged_;
  ++acknowledged_by_method_[method];
  for (const std::string& child_id : child_ids) ++acknowledged_calls_[{method, child_id}];
}

void SoakModel::UnknownOutcome(const std::string& child_id) {
  std::lock_guard<std::mutex> lock(mu_);
  ++unknown_;
  children_[child_id].uncertain = true;
}

void SoakModel::ReadFailed() {
  std::lock_guard<std::mutex> lock(mu_);
  ++failed_reads_;
}

int64_t SoakModel::failed_reads() const {
  std::lock_guard<std::mutex> lock(mu_);
  return failed_reads_;
}

void SoakModel::NhsNumberAcknowledged(const std::string& child_id, const std::string& nhs_number) {
  std::lock_guard<std::mutex> lock(mu_);
  Child& child = children_[child_id];
  child.nhs_number = nhs_number;
  child.nhs_numbers.insert(nhs_number);
}

void SoakModel::UpnAcknowledged(const std::string& child_id, const std::string& upn) {
  std::lock_guard<std::mutex> lock(mu_);
  children_[child_id].upn = upn;
}

void SoakModel::MergeAcknowledged(const std::string& survivor, const std::string& retired) {
  std::lock_guard<std::mutex> lock(mu_);
  children_[retired].merged_into = survivor;
}

void SoakModel::MergeUndone(const std::string& retired) {
  std::lock_guard<std::mutex> lock(mu_);
  children_[retired].merged_into.clear();
}

std::unique_ptr<SoakModel> SoakModel::Snapshot() const {
  auto copy = std::make_unique<SoakModel>();
  std::lock_guard<std::mutex> lock(mu_);
  copy->children_ = children_;
  copy->notification_child_ = notification_child_;
  copy->unanswered_ = unanswered_;
  copy->sent_ = sent_;
  copy->expected_events_ = expected_events_;
  copy->acknowledged_calls_ = acknowledged_calls_;
  copy->acknowledged_by_method_ = acknowledged_by_method_;
  copy->acknowledged_ = acknowledged_;
  copy->unknown_ = unknown_;
  copy->failed_reads_ = failed_reads_;
  copy->duplicates_ = duplicates_;
  return copy;
}

void SoakModel::RegistrationSent(const v1::RegisterBirthRequest& request) {
  std::lock_guard<std::mutex> lock(mu_);
  sent_.push_back(request);
}

std::optional<v1::RegisterBirthRequest> SoakModel::SentRegistration(uint64_t pick) const {
  std::lock_guard<std::mutex> lock(mu_);
  if (sent_.empty()) return std::nullopt;
  return sent_[pick % sent_.size()];
}

size_t SoakModel::sent_registrations() const {
  std::lock_guard<std::mutex> lock(mu_);
  return sent_.size();
}

std::map<std::string, v1::RegisterBirthRequest> SoakModel::UnansweredRegistrations() const {
  std::lock_guard<std::mutex> lock(mu_);
  return unanswered_;
}

std::map<std::string, SoakModel::Child> SoakModel::Children() const {
  std::lock_guard<std::mutex> lock(mu_);
  return children_;
}

std::optional<SoakModel::Child> SoakModel::ChildNamed(const std::string& child_id) const {
  std::lock_guard<std::mutex> lock(mu_);
  auto it = children_.find(child_id);
  if (it == children_.end()) return std::nullopt;
  return it->second;
}

std::optional<std::string> SoakModel::ChildOfNotification(const std::string& notification) const {
  std::lock_guard<std::mutex> lock(mu_);
  auto it = notification_child_.find(notification);
  if (it == notification_child_.end()) return std::nullopt;
  return it->second;
}

std::map<std::string, std::string> SoakModel::NotificationChildren() const {
  std::lock_guard<std::mutex> lock(mu_);
  return notification_child_;
}

std::set<ExpectedEvent> SoakModel::ExpectedEvents() const {
  std::lock_guard<std::mutex> lock(mu_);
  return expected_events_;
}

std::map<std::pair<std::string, std::string>, int> SoakModel::AcknowledgedCalls() const {
  std::lock_guard<std::mutex> lock(mu_);
  return acknowledged_calls_;
}

std::map<std::string, int64_t> SoakModel::AcknowledgedByMethod() const {
  std::lock_guard<std::mutex> lock(mu_);
  return acknowledged_by_method_;
}

int64_t SoakModel::acknowledged_operations() const {
  std::lock_guard<std::mutex> lock(mu_);
  return acknowledged_;
}

int64_t SoakModel::unknown_outcomes() const {
  std::lock_guard<std::mutex> lock(mu_);
  return unknown_;
}

int64_t SoakModel::duplicates() const {
  std::lock_guard<std::mutex> lock(mu_);
  return static_cast<int64_t>(duplicates_.size());
}

std::vector<std::string> SoakModel::duplicate_descriptions() const {
  std::lock_guard<std::mutex> lock(mu_);
  return duplicates_;
}

}  // namespace cir::soak
