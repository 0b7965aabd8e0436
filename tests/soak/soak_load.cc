#include "tests/soak/soak_load.h"

#include <algorithm>
#include <functional>
#include <utility>

#include "absl/strings/str_cat.h"
#include "absl/time/clock.h"
#include "identifiers/nhs_number.h"
#include "tests/testing/fictional_children.h"
#include "tests/testing/test_access.h"

namespace cir::soak {
namespace {

using ::cir::testing::FictionalBirth;
using ::cir::testing::FictionalNhsNumber;
using ::cir::testing::FictionalUpn;

constexpr char kRecordedBy[] = "Soak data team";
constexpr int kThreads = 6;

std::string Method(const char* name) { return absl::StrCat("/cir.v1.ChildRegistry/", name); }

// A fictional NHS number never given before in this process, or none once the test range is used
// up (long soaks): identifiers::kTestRangeNhsNumberCount numbers, less the last, which is the
// fictional mothers'. A number given twice would make a second registration the same birth as
// the first, which the model would take for a second child.
std::optional<std::string> NewNhsNumber() {
  static std::atomic<uint32_t> next{1};
  const uint32_t n = next++;
  if (n >= identifiers::kTestRangeNhsNumberCount - 1) return std::nullopt;
  return FictionalNhsNumber(n);
}

ClientOptions OptionsFor(const std::string& address) {
  // One attempt per call: every answer is recorded as the server gave it.
  return ClientOptions{.target = address,
                       .default_timeout = absl::Seconds(5),
                       .max_attempts = 1,
                       .end_user = ::cir::testing::kTestEndUser,
                       .purpose_of_use = ::cir::testing::kTestPurpose};
}

}  // namespace

const std::vector<std::string>& SoakAreas() {
  static const std::vector<std::string> areas = {"938", "201", "316"};
  return areas;
}

MixedLoad::MixedLoad(const std::string& address, SoakModel& model,
                     std::vector<std::unique_ptr<WorkerState>>& workers,
                     std::atomic<uint32_t>& next_number)
    : model_(model),
      client_(std::make_unique<Client>(OptionsFor(address))),
      next_number_(next_number) {
  while (workers.size() < kThreads) {
    workers.push_back(std::make_unique<WorkerState>(static_cast<uint32_t>(workers.size() + 1)));
  }
  for (std::unique_ptr<WorkerState>& state : workers) {
    threads_.emplace_back([this, &state = *state] { Run(state); });
  }
}

void MixedLoad::Stop() {
  stop_ = true;
  for (std::thread& thread : threads_) {
    if (thread.joinable()) thread.join();
  }
}

std::vector<int64_t> MixedLoad::TakeDurations() {
  std::lock_guard<std::mutex> lock(durations_mu_);
  return std::exchange(durations_, {});
}

void MixedLoad::Run(WorkerState& state) {
  absl::Time next = absl::Now();
  while (!stop_) {
    if (const double pace = pace_.load(); pace > 0) {
      // Each worker takes its share of the pace, on a fixed schedule: a late operation lets the
      // next ones catch up back to back, by at most a second.
      next = std::max(next + absl::Seconds(kThreads / pace), absl::Now() - absl::Seconds(1));
      absl::SleepFor(next - absl::Now());
    }
    const absl::Time began = absl::Now();
    RunOne(state);
    const int64_t took = absl::ToInt64Microseconds(absl::Now() - began);
    ++operations_;
    std::lock_guard<std::mutex> lock(durations_mu_);
    durations_.push_back(took);
  }
}

void MixedLoad::RunOne(WorkerState& state) {
  {
    const int choice = static_cast<int>(state.random() % 100);
    if (choice < 3) {
      RegisterMany(state);
      return;
    }
    if (choice < 25 || state.children.empty()) {
      RegisterNew(state);
      return;
    }
    if (choice < 32) {
      RetryRegistration(state);
      return;
    }
    if (choice >= 84) {
      BatchRead(state);
      return;
    }
    const std::string child = state.children[state.random() % state.children.size()];
    if (choice < 42) {
      LinkUpn(state, child);
    } else if (choice < 52) {
      Move(state, child, /*to_another_area=*/true);
    } else if (choice < 57) {
      Move(state, child, /*to_another_area=*/false);
    } else if (choice < 64) {
      CorrectDetails(child);
    } else if (choice < 67) {
      RecordDeath(child);
    } else if (choice < 72) {
      SupersedeNhsNumber(child);
    } else if (choice < 80) {
      MergeDuplicate(state, child);
    } else {
      Restrict(state, child);
    }
  }
}

void MixedLoad::Register(const v1::RegisterBirthRequest& request) {
  absl::StatusOr<v1::RegisterBirthResponse> answer = client_->RegisterBirth(request);
  const std::string notification =
      absl::StrCat(request.notifying_system(), " ", request.notification_id());
  model_.RegistrationAnswered(notification, request, answer.status(),
                              answer.ok() ? &answer->record() : nullptr);
}

void MixedLoad::RegisterNew(WorkerState& state) {
  const uint32_t n = next_number_++;
  // Without an NHS number once the test range is used up: still a birth of its own (its own
  // notification).
  v1::RegisterBirthRequest birth =
      FictionalBirth(absl::StrCat("soak-", n), NewNhsNumber().value_or(""));
  birth.set_local_authority(SoakAreas()[state.random() % SoakAreas().size()]);
  birth.add_address_lines(absl::StrCat(n, " Soak Street"));
  model_.RegistrationSent(birth);
  if (state.random() % 5 == 0) {
    // A racing retry: the same notification sent twice at once, as a maternity system whose
    // first attempt timed out might. Both answers must name one child.
    std::thread racer([this, birth] { Register(birth); });
    Register(birth);
    racer.join();
  } else {
    Register(birth);
  }
  std::optional<std::string> child = model_.ChildOfNotification(
      absl::StrCat(birth.notifying_system(), " ", birth.notification_id()));
  if (child.has_value()) state.children.push_back(*child);
}

void MixedLoad::RegisterMany(WorkerState& state) {
  v1::RegisterBirthsRequest request;
  const int count = 2 + static_cast<int>(state.random() % 30);
  for (int i = 0; i < count; ++i) {
    const uint32_t n = next_number_++;
    v1::RegisterBirthRequest* birth = request.add_births();
    *birth = FictionalBirth(absl::StrCat("soak-", n), NewNhsNumber().value_or(""));
    birth->set_local_authority(SoakAreas()[state.random() % SoakAreas().size()]);
    birth->add_address_lines(absl::StrCat(n, " Soak Street"));
    model_.RegistrationSent(*birth);
  }
  absl::StatusOr<v1::RegisterBirthsResponse> answer = client_->RegisterBirths(request);
  for (int i = 0; i < count; ++i) {
    const v1::RegisterBirthRequest& birth = request.births(i);
    const std::string notification =
        absl::StrCat(birth.notifying_system(), " ", birth.notification_id());
    // The call's own outcome for each birth when it failed as a whole (unknown: each is sent
    // again later, alone); otherwise the birth's own result.
    absl::Status status = answer.status();
    const v1::ChildRecord* record = nullptr;
    if (answer.ok()) {
      const v1::RegisterBirthsResult& result = answer->results(i);
      if (result.has_registered()) {
        record = &result.registered().record();
      } else {
        status = absl::Status(static_cast<absl::StatusCode>(result.refused().code()),
                              result.refused().message());
      }
    }
    model_.RegistrationAnswered(notification, birth, status, record, kRegisterBirthsMethod);
    std::optional<std::string> child = model_.ChildOfNotification(notification);
    if (child.has_value()) state.children.push_back(*child);
  }
}

void MixedLoad::RetryRegistration(WorkerState& state) {
  // A registration whose answer was lost (the server was killed) sent again, or an acknowledged
  // one sent again as a system that missed its answer would: each must name the one child.
  std::map<std::string, v1::RegisterBirthRequest> unanswered = model_.UnansweredRegistrations();
  if (!unanswered.empty()) {
    auto it = unanswered.begin();
    std::advance(it, state.random() % unanswered.size());
    Register(it->second);
    return;
  }
  std::optional<v1::RegisterBirthRequest> sent = model_.SentRegistration(state.random());
  if (sent.has_value()) Register(*sent);
}

template <typename Response>
bool MixedLoad::Record(
    const std::string& method, const std::string& child, const absl::StatusOr<Response>& answer,
    const std::function<std::vector<ExpectedEvent>(const v1::ChildRecord&)>& events) {
  switch (OutcomeOf(answer.status())) {
    case Outcome::kAcknowledged:
      // A change that found nothing to change (a death recorded twice) makes no event.
      model_.Acknowledged(
          method, child, answer->record(),
          answer->changed() ? events(answer->record()) : std::vector<ExpectedEvent>{});
      return true;
    case Outcome::kUnknown:
      model_.UnknownOutcome(child);
      return false;
    case Outcome::kRefused:
      return false;
  }
  return false;
}

void MixedLoad::LinkUpn(WorkerState& state, const std::string& child) {
  v1::LinkUpnRequest link;
  link.set_child_id(child);
  link.set_upn(FictionalUpn(next_number_++ % 74000, 938));
  absl::StatusOr<v1::LinkUpnResponse> answer = client_->LinkUpn(link);
  if (Record(Method("LinkUpn"), child, answer,
             [](const v1::ChildRecord&) { return std::vector<ExpectedEvent>{}; })) {
    model_.UpnAcknowledged(child, answer->record().upn());
  }
}

void MixedLoad::Move(WorkerState& state, const std::string& child, bool to_another_area) {
  std::optional<SoakModel::Child> known = model_.ChildNamed(child);
  if (!known.has_value() || known->uncertain) return;  // its area is not known
  const std::string from = known->area;
  std::string to = from;
  while (to_another_area && to == from) to = SoakAreas()[state.random() % SoakAreas().size()];
  v1::ChangeAddressRequest move;
  move.set_request_id(absl::StrCat("soak-move-", next_number_++));
  move.set_child_id(child);
  move.add_address_lines(absl::StrCat(state.random() % 999 + 1, " Soak Road"));
  move.set_postcode("PO19 1AB");
  move.set_local_authority(to);
  move.set_recorded_by(kRecordedBy);
  Record(Method("ChangeAddress"), child, client_->ChangeAddress(move),
         [&](const v1::ChildRecord& record) {
           if (from == to) {
             return std::vector<ExpectedEvent>{
                 {to, child, v1::FEED_EVENT_KIND_ADDRESS_CHANGED, record.version()}};
           }
           return std::vector<ExpectedEvent>{
               {from, child, v1::FEED_EVENT_KIND_MOVED_OUT, record.version()},
               {to, child, v1::FEED_EVENT_KIND_MOVED_IN, record.version()}};
         });
}

void MixedLoad::CorrectDetails(const std::string& child) {
  absl::StatusOr<v1::ResolveResponse> now = client_->Resolve(child);
  if (!now.ok() || !now->redirected_from_child_id().empty()) return;
  v1::CorrectDetailsRequest correction;
  correction.set_request_id(absl::StrCat("soak-correct-", next_number_++));
  correction.set_child_id(child);
  correction.set_expected_version(now->record().version());
  correction.set_given_name(now->record().given_name() == "Ada" ? "Augusta" : "Ada");
  correction.set_recorded_by(kRecordedBy);
  Record(Method("CorrectDetails"), child, client_->CorrectDetails(correction),
         [&](const v1::ChildRecord& record) {
           return std::vector<ExpectedEvent>{{record.local_authority(), child,
                                              v1::FEED_EVENT_KIND_DETAILS_CORRECTED,
                                              record.version()}};
         });
}

void MixedLoad::RecordDeath(const std::string& child) {
  v1::RecordDeathRequest death;
  death.set_request_id(absl::StrCat("soak-death-", next_number_++));
  death.set_child_id(child);
  death.set_notice(v1::DEATH_NOTICE_INFORMAL);
  death.mutable_date_of_death()->set_year(2026);
  death.mutable_date_of_death()->set_month(4);
  death.mutable_date_of_death()->set_day(1);
  death.set_recorded_by(kRecordedBy);
  Record(Method("RecordDeath"), child, client_->RecordDeath(death),
         [&](const v1::ChildRecord& record) {
           return std::vector<ExpectedEvent>{
               {record.local_authority(), child, v1::FEED_EVENT_KIND_DIED, record.version()}};
         });
}

void MixedLoad::SupersedeNhsNumber(const std::string& child) {
  std::optional<std::string> fresh = NewNhsNumber();
  if (!fresh.has_value()) return;  // the test range is used up
  const std::string replacement = *fresh;
  v1::SupersedeNhsNumberRequest supersede;
  supersede.set_request_id(absl::StrCat("soak-supersede-", next_number_++));
  supersede.set_child_id(child);
  supersede.set_new_nhs_number(replacement);
  supersede.set_recorded_by(kRecordedBy);
  if (Record(Method("SupersedeNhsNumber"), child, client_->SupersedeNhsNumber(supersede),
             [](const v1::ChildRecord&) { return std::vector<ExpectedEvent>{}; })) {
    model_.NhsNumberAcknowledged(child, replacement);
  }
}

void MixedLoad::MergeDuplicate(WorkerState& state, const std::string& child) {
  // A duplicate of the child registered by another notification without an NHS number, then
  // merged into it.
  const uint32_t m = next_number_++;
  v1::RegisterBirthRequest duplicate = FictionalBirth(absl::StrCat("soak-", m), "");
  std::optional<SoakModel::Child> known = model_.ChildNamed(child);
  if (!known.has_value() || known->uncertain) return;
  duplicate.set_local_authority(known->area);
  absl::StatusOr<v1::RegisterBirthResponse> registered = client_->RegisterBirth(duplicate);
  model_.RegistrationAnswered(
      absl::StrCat(duplicate.notifying_system(), " ", duplicate.notification_id()), duplicate,
      registered.status(), registered.ok() ? &registered->record() : nullptr);
  if (!registered.ok()) return;
  const std::string retired = registered->record().child_id();
  v1::MergeRecordsRequest merge;
  merge.set_request_id(absl::StrCat("soak-merge-", m));
  merge.set_surviving_child_id(child);
  merge.set_retired_child_id(retired);
  merge.set_recorded_by(kRecordedBy);
  absl::StatusOr<v1::MergeRecordsResponse> answer = client_->MergeRecords(merge);
  if (Record(Method("MergeRecords"), child, answer, [&](const v1::ChildRecord& record) {
        return std::vector<ExpectedEvent>{
            {record.local_authority(), child, v1::FEED_EVENT_KIND_MERGED, record.version()}};
      })) {
    model_.MergeAcknowledged(child, retired);
  } else {
    if (OutcomeOf(answer.status()) == Outcome::kUnknown) model_.UnknownOutcome(retired);
    return;
  }
  // One merge in three found to be of two children after all, and undone: the duplicate is
  // restored as a child of its own (which no worker changes after) and its area told.
  if (state.random() % 3 != 0) return;
  v1::UndoMergeRequest undo;
  undo.set_request_id(absl::StrCat("soak-unmerge-", m));
  undo.set_retired_child_id(retired);
  undo.set_recorded_by(kRecordedBy);
  absl::StatusOr<v1::UndoMergeResponse> undone = client_->UndoMerge(undo);
  if (Record(Method("UndoMerge"), retired, undone, [&](const v1::ChildRecord& record) {
        return std::vector<ExpectedEvent>{
            {record.local_authority(), retired, v1::FEED_EVENT_KIND_UNMERGED, record.version()}};
      })) {
    model_.MergeUndone(retired);
    // Registered without an NHS number, the restored child is given one.
    std::optional<std::string> nhs_number = NewNhsNumber();
    if (!nhs_number.has_value()) return;
    v1::LinkNhsNumberRequest link;
    link.set_child_id(retired);
    link.set_nhs_number(*nhs_number);
    absl::StatusOr<v1::LinkNhsNumberResponse> linked = client_->LinkNhsNumber(link);
    if (Record(Method("LinkNhsNumber"), retired, linked,
               [](const v1::ChildRecord&) { return std::vector<ExpectedEvent>{}; })) {
      model_.NhsNumberAcknowledged(retired, linked->record().nhs_number());
    }
  } else if (OutcomeOf(undone.status()) == Outcome::kUnknown) {
    // Merged or not: the check takes either.
    model_.MergeUndone(retired);
    model_.UnknownOutcome(retired);
  }
}

void MixedLoad::Restrict(WorkerState& state, const std::string& child) {
  // Marked sensitive: its feed events change form from then on, so the worker leaves it alone.
  v1::RestrictSharingRequest restrict;
  restrict.set_request_id(absl::StrCat("soak-restrict-", next_number_++));
  restrict.set_child_id(child);
  restrict.set_sensitive(v1::RESTRICTION_CHANGE_SET);
  restrict.set_recorded_by(kRecordedBy);
  Record(Method("RestrictSharing"), child, client_->RestrictSharing(restrict),
         [](const v1::ChildRecord&) { return std::vector<ExpectedEvent>{}; });
  state.children.erase(std::find(state.children.begin(), state.children.end(), child));
}

void MixedLoad::BatchRead(WorkerState& state) {
  v1::BatchResolveRequest batch;
  batch.set_view(v1::RECORD_VIEW_FULL);
  std::vector<std::string> asked;
  for (int i = 0; i < 50 && i < static_cast<int>(state.children.size()); ++i) {
    asked.push_back(state.children[state.random() % state.children.size()]);
    batch.add_identifiers(asked.back());
  }
  absl::StatusOr<v1::BatchResolveResponse> answer = client_->BatchResolve(batch);
  if (!answer.ok()) {
    model_.ReadFailed();
    return;
  }
  std::vector<std::string> read;
  for (const v1::BatchResolveResult& result : answer->results()) {
    if (result.outcome() == v1::BatchResolveResult::OUTCOME_FOUND) {
      read.push_back(result.record().child_id());
    }
  }
  model_.ReadAcknowledged(Method("BatchResolve"), read);
}

void FeedFollower::Start(const std::string& address) {
  stop_ = false;
  client_ = std::make_unique<Client>(OptionsFor(address));
  thread_ = std::thread([this] {
    while (!stop_) {
      FollowOnce(*client_, stop_);
      if (!stop_) absl::SleepFor(absl::Milliseconds(50));
    }
  });
}

void FeedFollower::Stop() {
  stop_ = true;
  {
    std::lock_guard<std::mutex> lock(mu_);
    if (subscription_ != nullptr) subscription_->Cancel();
  }
  if (thread_.joinable()) thread_.join();
  client_.reset();
}

void FeedFollower::FollowOnce(Client& client, const std::atomic<bool>& stop) {
  v1::SubscribeRequest request;
  for (const std::string& area : SoakAreas()) request.add_local_authorities(area);
  {
    std::lock_guard<std::mutex> lock(mu_);
    if (cursor_.empty()) {
      request.set_from_beginning(true);
    } else {
      request.set_after_cursor(cursor_);
    }
    if (stop) return;
    subscription_ = client.Subscribe(request);
  }
  v1::SubscribeResponse message;
  while (!stop && subscription_->Next(&message)) {
    for (const v1::FeedEvent& event : message.events()) Take(event);
  }
  std::lock_guard<std::mutex> lock(mu_);
  subscription_->Cancel();
  subscription_.reset();
}

void FeedFollower::Take(const v1::FeedEvent& event) {
  std::lock_guard<std::mutex> lock(mu_);
  std::vector<Received>& area = received_[event.local_authority()];
  const uint64_t last = area.empty() ? 0 : area.back().sequence;
  if (event.sequence() <= last) {
    ++repeats_;
    return;
  }
  if (event.sequence() != last + 1) ++gaps_;
  area.push_back({event.sequence(), event.child_id(), event.kind(), event.record_version()});
  cursor_ = event.cursor();
}

bool FeedFollower::CatchUp(const std::string& address, const std::map<std::string, uint64_t>& heads,
                           absl::Duration timeout) {
  auto reached = [&] {
    std::lock_guard<std::mutex> lock(mu_);
    for (const auto& [area, head] : heads) {
      auto it = received_.find(area);
      const uint64_t last =
          (it == received_.end() || it->second.empty()) ? 0 : it->second.back().sequence;
      if (last < head) return false;
    }
    return true;
  };
  if (reached()) return true;
  Start(address);
  const absl::Time give_up = absl::Now() + timeout;
  while (!reached() && absl::Now() < give_up) absl::SleepFor(absl::Milliseconds(20));
  Stop();
  return reached();
}

std::map<std::string, std::vector<FeedFollower::Received>> FeedFollower::received() const {
  std::lock_guard<std::mutex> lock(mu_);
  return received_;
}

}  // namespace cir::soak
