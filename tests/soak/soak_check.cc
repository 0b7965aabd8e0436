#include "tests/soak/soak_check.h"

#include <sys/wait.h>

#include <atomic>
#include <cstdio>
#include <map>
#include <mutex>
#include <set>
#include <thread>
#include <tuple>

#include "absl/status/statusor.h"
#include "absl/strings/str_cat.h"
#include "cir/client.h"
#include "tests/testing/test_access.h"
#include "tests/testing/whole_feed.h"

namespace cir::soak {
namespace {

constexpr size_t kMaxDescriptions = 200;
constexpr size_t kBatch = 1000;

ClientOptions CheckerOptions(const std::string& address, const std::string& purpose) {
  return ClientOptions{.target = address,
                       .default_timeout = absl::Seconds(30),
                       .end_user = ::cir::testing::kTestEndUser,
                       .purpose_of_use = purpose};
}

// The records of `identifiers` in the full view, by identifier (absent: not found).
std::map<std::string, v1::ChildRecord> ResolveAll(Client& client,
                                                  const std::vector<std::string>& identifiers,
                                                  SoakFindings& findings) {
  std::map<std::string, v1::ChildRecord> found;
  for (size_t at = 0; at < identifiers.size(); at += kBatch) {
    v1::BatchResolveRequest batch;
    batch.set_view(v1::RECORD_VIEW_FULL);
    for (size_t i = at; i < identifiers.size() && i < at + kBatch; ++i) {
      batch.add_identifiers(identifiers[i]);
    }
    absl::StatusOr<v1::BatchResolveResponse> answer = client.BatchResolve(batch);
    if (!answer.ok()) {
      findings.Lost(absl::StrCat("a batch read failed: ", answer.status().ToString()));
      continue;
    }
    // Results come in request order.
    for (int i = 0; i < answer->results_size(); ++i) {
      const v1::BatchResolveResult& result = answer->results(i);
      if (result.outcome() == v1::BatchResolveResult::OUTCOME_FOUND) {
        found[batch.identifiers(i)] = result.record();
      }
    }
  }
  return found;
}

// The step that spreads `sample` picks over `count` (1: every one).
size_t StepFor(size_t count, size_t sample) {
  return sample == 0 || count <= sample ? 1 : count / sample;
}

void CheckRegistrations(Client& client, SoakModel& model, SoakFindings& findings, size_t sample) {
  // Registrations whose answer was lost, sent again: each must now be answered.
  for (const auto& [notification, request] : model.UnansweredRegistrations()) {
    absl::StatusOr<v1::RegisterBirthResponse> answer = client.RegisterBirth(request);
    model.RegistrationAnswered(notification, request, answer.status(),
                               answer.ok() ? &answer->record() : nullptr);
    if (!answer.ok()) {
      findings.Lost(absl::StrCat("notification ", notification,
                                 " sent again was refused: ", answer.status().ToString()));
    }
  }
  // Every registration sent again names the child it named before: the model counts a
  // notification answered with two children as a duplicate.
  const size_t sent = model.sent_registrations();
  for (size_t i = 0; i < sent; i += StepFor(sent, sample)) {
    std::optional<v1::RegisterBirthRequest> request = model.SentRegistration(i);
    absl::StatusOr<v1::RegisterBirthResponse> answer = client.RegisterBirth(*request);
    const std::string notification =
        absl::StrCat(request->notifying_system(), " ", request->notification_id());
    model.RegistrationAnswered(notification, *request, answer.status(),
                               answer.ok() ? &answer->record() : nullptr);
    if (!answer.ok()) {
      findings.Lost(absl::StrCat("notification ", notification,
                                 " sent again was refused: ", answer.status().ToString()));
    }
  }
  for (const std::string& duplicate : model.duplicate_descriptions()) {
    findings.Duplicate(duplicate);
  }
}

// Each child not merged away is at its acknowledged version or later, and, when no change of
// unknown outcome was made to it, in the area its last acknowledged change left it. Read one by
// one (a batch read is a school's, which sees no versions), from a few threads.
void CheckVersionsAndAreas(Client& client, const std::map<std::string, SoakModel::Child>& children,
                           SoakFindings& findings, size_t sample) {
  std::vector<std::pair<std::string, SoakModel::Child>> todo;
  size_t seen = 0;
  const size_t step = StepFor(children.size(), sample);
  for (const auto& [child_id, child] : children) {
    if (seen++ % step != 0) continue;
    if (child.merged_into.empty()) todo.emplace_back(child_id, child);
  }
  std::mutex mu;
  std::atomic<size_t> next{0};
  std::vector<std::thread> readers;
  for (int t = 0; t < 4; ++t) {
    readers.emplace_back([&] {
      for (size_t i; (i = next++) < todo.size();) {
        const auto& [child_id, child] = todo[i];
        absl::StatusOr<v1::ResolveResponse> now = client.Resolve(child_id);
        std::lock_guard<std::mutex> lock(mu);
        if (!now.ok()) {
          findings.Lost(
              absl::StrCat("child ", child_id, " cannot be read: ", now.status().ToString()));
          continue;
        }
        if (now->record().child_id() != child_id)
          continue;  // merged by a change of unknown outcome
        if (now->record().version() < child.version) {
          findings.Lost(absl::StrCat("child ", child_id, " is at version ", now->record().version(),
                                     " after version ", child.version, " was acknowledged"));
        }
        if (!child.uncertain && now->record().version() == child.version &&
            now->record().local_authority() != child.area) {
          findings.Lost(
              absl::StrCat("child ", child_id, " is in area ", now->record().local_authority(),
                           " where its last acknowledged change left it in ", child.area));
        }
      }
    });
  }
  for (std::thread& reader : readers) reader.join();
}

void CheckChildren(Client& client, const SoakModel& model, SoakFindings& findings, size_t sample,
                   const SoakModel& later) {
  const std::map<std::string, SoakModel::Child> everything = later.Children();
  const std::map<std::string, SoakModel::Child> children = model.Children();
  std::vector<std::string> identifiers;
  for (const auto& [child_id, child] : children) {
    identifiers.push_back(child_id);
    for (const std::string& nhs : child.nhs_numbers) identifiers.push_back(nhs);
    if (!child.upn.empty()) identifiers.push_back(child.upn);
  }
  const std::map<std::string, v1::ChildRecord> found = ResolveAll(client, identifiers, findings);
  std::map<std::string, std::set<std::string>> holders;  // identifier -> children holding it
  for (const auto& [child_id, child] : children) {
    auto record = found.find(child_id);
    if (record == found.end()) {
      findings.Lost(absl::StrCat("child ", child_id, " is not found"));
      continue;
    }
    const v1::ChildRecord& now = record->second;
    if (!child.merged_into.empty()) {
      // Checked against a backup, the merge may since have been undone (and the record merged
      // again) by a change acknowledged after `model` was taken and before the backup began:
      // the registry may hold that instead.
      auto after = everything.find(child_id);
      const std::string later_holder =
          after == everything.end() || after->second.merged_into == child.merged_into
              ? child.merged_into
              : (after->second.merged_into.empty() ? child_id : after->second.merged_into);
      const std::string& holder = now.child_id() == later_holder ? later_holder : child.merged_into;
      if (now.child_id() != holder) {
        findings.Lost(absl::StrCat("child ", child_id, " merged into ", child.merged_into,
                                   " resolves to ", now.child_id()));
      }
      for (const std::string& nhs : child.nhs_numbers) {
        auto by_nhs = found.find(nhs);
        if (by_nhs == found.end() || by_nhs->second.child_id() != holder) {
          findings.Lost(absl::StrCat("NHS number ", nhs, " of child ", child_id,
                                     " does not resolve to the child it was merged into"));
        }
      }
      continue;
    }
    if (now.child_id() != child_id) {
      auto after = everything.find(child_id);
      const bool merged_later =
          after != everything.end() && after->second.merged_into == now.child_id();
      if (!child.uncertain && !merged_later) {
        findings.Lost(absl::StrCat("child ", child_id, " resolves to ", now.child_id()));
      }
      continue;
    }
    for (const std::string& nhs : child.nhs_numbers) {
      auto by_nhs = found.find(nhs);
      if (by_nhs == found.end() || by_nhs->second.child_id() != child_id) {
        findings.Lost(absl::StrCat("NHS number ", nhs, " acknowledged for child ", child_id,
                                   " does not resolve to it"));
      }
    }
    if (!child.upn.empty()) {
      auto by_upn = found.find(child.upn);
      if (by_upn == found.end() || by_upn->second.child_id() != child_id) {
        findings.Lost(absl::StrCat("UPN ", child.upn, " acknowledged for child ", child_id,
                                   " does not resolve to it"));
      }
    }
    if (!now.nhs_number().empty()) holders[now.nhs_number()].insert(now.child_id());
    for (const std::string& former : now.former_nhs_numbers()) {
      holders[former].insert(now.child_id());
    }
    if (!now.upn().empty()) holders[now.upn()].insert(now.child_id());
  }
  CheckVersionsAndAreas(client, children, findings, sample);
  for (const auto& [identifier, held_by] : holders) {
    if (held_by.size() > 1) {
      findings.Duplicate(
          absl::StrCat("identifier ", identifier, " is held by ", held_by.size(), " children"));
    }
  }
}

// Each area's feed: returns the heads, checks gap-free sequences and every expected event.
std::map<std::string, std::vector<v1::FeedEvent>> CheckFeeds(Client& client, const SoakModel& model,
                                                             SoakFindings& findings,
                                                             const SoakModel& later) {
  std::map<std::string, std::vector<v1::FeedEvent>> feeds;
  std::map<std::tuple<std::string, std::string, v1::FeedEventKind, int64_t>, int> held;
  for (const std::string& area : SoakAreas()) {
    absl::StatusOr<std::vector<v1::FeedEvent>> events = testing::WholeFeed(client, area);
    if (!events.ok()) {
      findings.Lost(
          absl::StrCat("area ", area, "'s feed could not be read: ", events.status().ToString()));
      continue;
    }
    for (size_t i = 0; i < events->size(); ++i) {
      const v1::FeedEvent& event = (*events)[i];
      if (event.sequence() != i + 1) {
        findings.Lost(absl::StrCat("area ", area, "'s feed has sequence ", event.sequence(),
                                   " at position ", i + 1));
        break;
      }
      if (++held[{area, event.child_id(), event.kind(), event.record_version()}] == 2) {
        findings.Duplicate(absl::StrCat("area ", area, " holds the event of kind ", event.kind(),
                                        " for child ", event.child_id(), " at version ",
                                        event.record_version(), " twice"));
      }
    }
    feeds[area] = *std::move(events);
  }
  // Every child the feeds say was born is one the registry answered a notification with: a child
  // made by a racing or retried call whose answer was lost, besides the one the notification
  // names, would show here.
  const std::map<std::string, std::string> named = later.NotificationChildren();
  std::set<std::string> answered;
  for (const auto& [notification, child_id] : named) answered.insert(child_id);
  for (const auto& [key, count] : held) {
    const auto& [area, child_id, kind, version] = key;
    if (kind == v1::FEED_EVENT_KIND_BIRTH_REGISTERED && !answered.count(child_id)) {
      findings.Duplicate(absl::StrCat("child ", child_id, " was born in area ", area,
                                      " but no notification names it"));
    }
  }
  for (const ExpectedEvent& expected : model.ExpectedEvents()) {
    if (!held.count({expected.area, expected.child_id, expected.kind, expected.version})) {
      findings.Lost(absl::StrCat("area ", expected.area, " lacks the event of kind ", expected.kind,
                                 " for child ", expected.child_id, " at version ",
                                 expected.version));
    }
  }
  return feeds;
}

void CheckFollowers(const std::string& address,
                    const std::map<std::string, std::vector<v1::FeedEvent>>& feeds,
                    std::vector<std::unique_ptr<FeedFollower>>& followers, SoakFindings& findings) {
  std::map<std::string, uint64_t> heads;
  for (const auto& [area, events] : feeds) heads[area] = events.size();
  for (std::unique_ptr<FeedFollower>& follower : followers) {
    if (!follower->CatchUp(address, heads, absl::Seconds(60))) {
      findings.Lost(absl::StrCat("follower ", follower->id(), " did not catch up"));
    }
    if (follower->gaps() > 0) {
      findings.Lost(absl::StrCat("follower ", follower->id(), " saw ", follower->gaps(), " gaps"));
    }
    if (follower->repeats() > 0) {
      findings.Duplicate(absl::StrCat("follower ", follower->id(), " was sent ",
                                      follower->repeats(), " events it had already received"));
    }
    const std::map<std::string, std::vector<FeedFollower::Received>> received =
        follower->received();
    for (const auto& [area, events] : feeds) {
      auto it = received.find(area);
      const size_t got = it == received.end() ? 0 : it->second.size();
      if (got != events.size()) {
        findings.Lost(absl::StrCat("follower ", follower->id(), " received ", got,
                                   " events of area ", area, " where ", events.size(),
                                   " are committed"));
        continue;
      }
      for (size_t i = 0; i < got; ++i) {
        const FeedFollower::Received& r = it->second[i];
        const v1::FeedEvent& e = events[i];
        if (r.sequence != e.sequence() || r.child_id != e.child_id() || r.kind != e.kind() ||
            r.version != e.record_version()) {
          findings.Lost(absl::StrCat("follower ", follower->id(), " received another event at ",
                                     area, " sequence ", e.sequence()));
          break;
        }
      }
    }
  }
}

void CheckAudit(const std::string& address, const SoakModel& model, const std::string& cli_path,
                const std::string& public_key_file, SoakFindings& findings) {
  const std::string command = absl::StrCat(
      cli_path, " --server ", address, " --plaintext --end-user ", ::cir::testing::kTestEndUser,
      " --purpose AUDIT audit verify --public-key ", public_key_file, " 2>&1");
  FILE* pipe = popen(command.c_str(), "r");
  char buffer[4096];
  for (size_t n; pipe != nullptr && (n = fread(buffer, 1, sizeof buffer, pipe)) > 0;) {
    findings.audit_output.append(buffer, n);
  }
  const int status = pipe == nullptr ? -1 : pclose(pipe);
  findings.audit_verified = status == 0;
  if (!findings.audit_verified) findings.Lost("the audit log does not verify");

  Client auditor(CheckerOptions(address, "AUDIT"));
  std::map<std::pair<std::string, std::string>, int> entries;  // OK entries by method and child
  v1::ReadAuditEntriesRequest request;
  request.set_max_entries(10000);
  for (;;) {
    absl::StatusOr<v1::ReadAuditEntriesResponse> page = auditor.ReadAuditEntries(request);
    if (!page.ok()) {
      findings.Lost(absl::StrCat("the audit log could not be read: ", page.status().ToString()));
      return;
    }
    for (const v1::AuditRecord& record : page->records()) {
      v1::AuditEntry entry;
      if (!entry.ParseFromString(record.entry())) {
        findings.Lost(absl::StrCat("audit entry ", record.index(), " does not parse"));
        continue;
      }
      ++findings.audit_entries;
      if (entry.status_code() != 0) continue;
      for (const std::string& child : entry.child_ids()) ++entries[{entry.method(), child}];
    }
    if (page->records().empty()) break;
    request.set_from_index(page->records(page->records_size() - 1).index() + 1);
    if (request.from_index() >= page->tree_size()) break;
  }
  for (const auto& [call, count] : model.AcknowledgedCalls()) {
    auto it = entries.find(call);
    const int held = it == entries.end() ? 0 : it->second;
    if (held < count) {
      findings.Lost(absl::StrCat("the audit log holds ", held, " entries of ", call.first,
                                 " naming child ", call.second, " where ", count,
                                 " calls were acknowledged"));
    }
  }
}

}  // namespace

void SoakFindings::Lost(const std::string& what) {
  ++lost;
  if (descriptions.size() < kMaxDescriptions) descriptions.push_back("lost: " + what);
}

void SoakFindings::Duplicate(const std::string& what) {
  ++duplicates;
  if (descriptions.size() < kMaxDescriptions) descriptions.push_back("duplicate: " + what);
}

SoakFindings CheckAgainstModel(const std::string& address, SoakModel& model,
                               std::vector<std::unique_ptr<FeedFollower>>& followers,
                               const std::string& cli_path, const std::string& public_key_file,
                               size_t sample, const SoakModel* later) {
  SoakFindings findings;
  const SoakModel& whole_run = later != nullptr ? *later : model;
  Client client(CheckerOptions(address, ::cir::testing::kTestPurpose));
  CheckRegistrations(client, model, findings, sample);
  CheckChildren(client, model, findings, sample, whole_run);
  const std::map<std::string, std::vector<v1::FeedEvent>> feeds =
      CheckFeeds(client, model, findings, whole_run);
  CheckFollowers(address, feeds, followers, findings);
  CheckAudit(address, model, cli_path, public_key_file, findings);
  return findings;
}

}  // namespace cir::soak
