#ifndef CIR_TESTS_SOAK_SOAK_MODEL_H_
#define CIR_TESTS_SOAK_SOAK_MODEL_H_

#include <cstdint>
#include <map>
#include <memory>
#include <mutex>
#include <optional>
#include <set>
#include <string>
#include <tuple>
#include <vector>

#include "absl/status/status.h"
#include "cir/v1/registry.pb.h"

namespace cir::soak {

// What a write's answer says about whether it took effect.
enum class Outcome {
  kAcknowledged,  // OK: it took effect, durably, and must be found after any crash
  kRefused,       // a definite refusal (bad state, bad input): nothing changed
  kUnknown,       // the server went away or could not make it durable: it may or may not have
};
Outcome OutcomeOf(const absl::Status& status);

// A feed event the registry must hold because a change that makes it was acknowledged.
struct ExpectedEvent {
  std::string area;
  std::string child_id;
  v1::FeedEventKind kind;
  int64_t version;
  auto operator<=>(const ExpectedEvent&) const = default;
};

// Everything the load was told, kept by the harness across crashes: what must be found, and
// what may or may not be. Thread safety: every member function may be called from any thread.
inline constexpr char kRegisterBirthMethod[] = "/cir.v1.ChildRegistry/RegisterBirth";
inline constexpr char kRegisterBirthsMethod[] = "/cir.v1.ChildRegistry/RegisterBirths";

class SoakModel {
 public:
  // A child the load registered and owns (only its own worker changes it).
  struct Child {
    std::string area;                   // where its last acknowledged change left it
    std::string nhs_number;             // "" for a duplicate registered without one
    std::set<std::string> nhs_numbers;  // every NHS number acknowledged as its (current or former)
    std::string upn;                    // the UPN acknowledged as linked, if any
    int64_t version = 0;                // the highest version an acknowledged change returned
    bool uncertain = false;             // a change of unknown outcome was made to it
    std::string merged_into;            // the survivor of an acknowledged merge
  };

  // A registration's answer for `notification`: OK (with its child) or not. Counts a duplicate
  // when one notification has been answered with two children.
  // `method`: the call that carried it, whose audit entry must name the child.
  void RegistrationAnswered(const std::string& notification,
                            const v1::RegisterBirthRequest& request, const absl::Status& status,
                            const v1::ChildRecord* record,
                            const std::string& method = kRegisterBirthMethod);
  // An acknowledged change (or read) of `child_id` by `method` (the audit log must name it), with
  // the record it returned and the feed events it made.
  void Acknowledged(const std::string& method, const std::string& child_id,
                    const v1::ChildRecord& record, const std::vector<ExpectedEvent>& events);
  void ReadAcknowledged(const std::string& method, const std::vector<std::string>& child_ids);
  void UnknownOutcome(const std::string& child_id);
  // A read that failed (a soak without crashes expects none).
  void ReadFailed();
  int64_t failed_reads() const;
  void NhsNumberAcknowledged(const std::string& child_id, const std::string& nhs_number);
  void UpnAcknowledged(const std::string& child_id, const std::string& upn);
  void MergeAcknowledged(const std::string& survivor, const std::string& retired);
  // The merge of `retired` undone: a child of its own again (uncertain as well, when the undo's
  // outcome is unknown).
  void MergeUndone(const std::string& retired);

  // A copy of everything recorded so far: what a backup made now must hold.
  std::unique_ptr<SoakModel> Snapshot() const;

  // A new registration about to be sent, kept so that it can be sent again exactly (a retry).
  void RegistrationSent(const v1::RegisterBirthRequest& request);
  // One of the registrations sent so far, picked by `pick` (any number); none before the first.
  std::optional<v1::RegisterBirthRequest> SentRegistration(uint64_t pick) const;
  size_t sent_registrations() const;

  // Registrations whose answer was unknown and that were never answered since: the verifier
  // sends each again (same notification) and it must then be answered.
  std::map<std::string, v1::RegisterBirthRequest> UnansweredRegistrations() const;

  std::map<std::string, Child> Children() const;
  // One child as the model knows it, and the child one notification named; nullopt if none.
  std::optional<Child> ChildNamed(const std::string& child_id) const;
  std::optional<std::string> ChildOfNotification(const std::string& notification) const;
  std::map<std::string, std::string> NotificationChildren() const;
  std::set<ExpectedEvent> ExpectedEvents() const;
  // The acknowledged calls by (method, child), with how many each: the audit log must hold at
  // least as many entries of that method naming that child with status OK.
  std::map<std::pair<std::string, std::string>, int> AcknowledgedCalls() const;
  // The acknowledged calls by method: the load's mix as it ran.
  std::map<std::string, int64_t> AcknowledgedByMethod() const;
  int64_t acknowledged_operations() const;
  int64_t unknown_outcomes() const;
  int64_t duplicates() const;
  std::vector<std::string> duplicate_descriptions() const;

 private:
  mutable std::mutex mu_;
  std::map<std::string, Child> children_;
  std::map<std::string, std::string> notification_child_;  // acknowledged answers
  std::map<std::string, v1::RegisterBirthRequest> unanswered_;
  std::vector<v1::RegisterBirthRequest> sent_;
  std::set<ExpectedEvent> expected_events_;
  std::map<std::pair<std::string, std::string>, int> acknowledged_calls_;
  std::map<std::string, int64_t> acknowledged_by_method_;
  int64_t acknowledged_ = 0;
  int64_t unknown_ = 0;
  int64_t failed_reads_ = 0;
  std::vector<std::string> duplicates_;
};

}  // namespace cir::soak

#endif  // CIR_TESTS_SOAK_SOAK_MODEL_H_
