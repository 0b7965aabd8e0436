// Life events racing each other on the same children, submitted at once from several threads
// against the real store, round after round: whichever runs first, the records, the identifier
// index and every area's feed end consistent.

#include <algorithm>
#include <functional>
#include <latch>
#include <map>
#include <string>
#include <thread>
#include <vector>

#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "tests/registry/registry_fixture.h"

namespace cir::registry {
namespace {

using storage::IndexKind;
using testing::FictionalNhsNumber;
using testing::FictionalUpn;

constexpr int kRounds = 50;

// Runs each of `calls` on a thread of its own, all released at once, and waits for all of them.
// The threads start in an order that turns with `round`, so that over the rounds each call is
// sometimes the first to reach the store.
void RunTogether(const std::vector<std::function<void()>>& calls, int round) {
  std::latch start(1);
  std::vector<std::thread> threads;
  threads.reserve(calls.size());
  for (size_t i = 0; i < calls.size(); ++i) {
    const std::function<void()>& call = calls[(i + round) % calls.size()];
    threads.emplace_back([&start, &call] {
      start.wait();
      call();
    });
  }
  start.count_down();
  for (std::thread& thread : threads) thread.join();
}

bool Holds(const storage::StoredChild& child, const std::string& upn) {
  return child.upn() == upn || std::find(child.former_upns().begin(), child.former_upns().end(),
                                         upn) != child.former_upns().end();
}

bool HoldsNhsNumber(const storage::StoredChild& child, const std::string& nhs) {
  const auto& former = child.former_nhs_numbers();
  return child.nhs_number() == nhs || std::find(former.begin(), former.end(), nhs) != former.end();
}

TEST_F(RegistryTest, AMergeRacingAUpnLinkOnTheRetiredChildLeavesTheUpnWithTheSurvivorOrRefused) {
  int linked_first = 0;
  for (int round = 0; round < kRounds; ++round) {
    SCOPED_TRACE(absl::StrCat("round ", round));
    const std::string retired = RegisterNew(100 + round);
    const std::string survivor = RegisterWithoutNhsNumber(absl::StrCat("survivor-", round));
    const std::string upn = FictionalUpn(100 + round);
    absl::Status merged, linked;
    RunTogether({[&] { merged = Merge(survivor, retired).status(); },
                 [&] { linked = LinkUpn(retired, upn).status(); }},
                round);

    ASSERT_TRUE(merged.ok()) << merged;
    const storage::StoredChild retired_record = Stored(retired);
    const storage::StoredChild survivor_record = Stored(survivor);
    EXPECT_EQ(retired_record.status(), v1::RECORD_STATUS_MERGED);
    EXPECT_EQ(retired_record.merged_into(), survivor);
    EXPECT_EQ(Resolve(retired)->record().child_id(), survivor);
    absl::StatusOr<v1::ResolveResponse> by_upn = Resolve(upn);
    if (linked.ok()) {
      ++linked_first;
      // Linked before the merge, which carried it to the survivor.
      ASSERT_TRUE(by_upn.ok()) << by_upn.status();
      EXPECT_EQ(by_upn->record().child_id(), survivor);
      EXPECT_EQ(store_->Lookup(IndexKind::kUpn, upn)->value().child_id, survivor);
      EXPECT_TRUE(Holds(survivor_record, upn));
    } else {
      // The merge ran first: the retired record takes no change.
      EXPECT_EQ(linked.code(), absl::StatusCode::kFailedPrecondition) << linked;
      EXPECT_EQ(errors::ReasonOf(linked), v1::CHILD_MERGED) << linked;
      EXPECT_EQ(by_upn.status().code(), absl::StatusCode::kNotFound);
      EXPECT_FALSE(Holds(survivor_record, upn));
      EXPECT_FALSE(Holds(retired_record, upn));
    }
    EXPECT_EQ(survivor_record.version(), 2);
    EXPECT_EQ(retired_record.version(), linked.ok() ? 3 : 2);
  }
  RecordProperty("rounds_linked_before_the_merge", linked_first);
}

TEST_F(RegistryTest, AMergeRacingLinksOfOneUpnToBothRecordsLeavesItWithTheSurvivorAlone) {
  for (int round = 0; round < kRounds; ++round) {
    SCOPED_TRACE(absl::StrCat("round ", round));
    const std::string retired = RegisterNew(200 + round);
    const std::string survivor = RegisterWithoutNhsNumber(absl::StrCat("survivor-", round));
    const std::string upn = FictionalUpn(200 + round);
    absl::Status merged, to_retired, to_survivor;
    RunTogether({[&] { merged = Merge(survivor, retired).status(); },
                 [&] { to_retired = LinkUpn(retired, upn).status(); },
                 [&] { to_survivor = LinkUpn(survivor, upn).status(); }},
                round);
    ASSERT_TRUE(merged.ok()) << merged;
    EXPECT_TRUE(to_retired.ok() || to_survivor.ok()) << to_retired << "; " << to_survivor;
    if (!to_retired.ok()) {
      EXPECT_THAT(errors::ReasonOf(to_retired),
                  ::testing::AnyOf(v1::CHILD_MERGED, v1::UPN_HELD_BY_ANOTHER_CHILD))
          << to_retired;
    }
    if (!to_survivor.ok()) {
      EXPECT_EQ(errors::ReasonOf(to_survivor), v1::UPN_HELD_BY_ANOTHER_CHILD) << to_survivor;
    }
    absl::StatusOr<v1::ResolveResponse> by_upn = Resolve(upn);
    ASSERT_TRUE(by_upn.ok()) << by_upn.status();
    EXPECT_EQ(by_upn->record().child_id(), survivor);
    EXPECT_EQ(by_upn->record().upn(), upn);
    EXPECT_THAT(by_upn->record().former_upns(), ::testing::IsEmpty());
    EXPECT_EQ(Stored(retired).status(), v1::RECORD_STATUS_MERGED);
  }
}

// Merges `merges` (survivor, retired) at once among three fresh children a, b and c, and checks
// the end state; returns how many merges were made.
class OverlappingMergesTest : public RegistryTest {
 protected:
  int MergeAtOnce(int round, const std::vector<std::pair<int, int>>& merges) {
    std::vector<std::string> children;
    std::vector<std::string> nhs_numbers;
    for (int k = 0; k < 3; ++k) {
      children.push_back(RegisterNew(1000 + round * 3 + k));
      nhs_numbers.push_back(FictionalNhsNumber(1000 + round * 3 + k));
    }
    std::vector<absl::Status> outcomes(merges.size());
    std::vector<std::function<void()>> calls;
    for (size_t i = 0; i < merges.size(); ++i) {
      calls.push_back([&, i] {
        v1::MergeRecordsRequest request =
            MergeRequest(NewRequestId(), children[merges[i].first], children[merges[i].second]);
        request.set_retired_nhs_number_superseded(true);
        outcomes[i] = MergeRecords(request).status();
      });
    }
    RunTogether(calls, round);
    int made = 0;
    for (const absl::Status& outcome : outcomes) {
      if (outcome.ok()) {
        ++made;
      } else {
        EXPECT_EQ(outcome.code(), absl::StatusCode::kFailedPrecondition) << outcome;
        EXPECT_EQ(errors::ReasonOf(outcome), v1::CHILD_MERGED) << outcome;
      }
    }
    ExpectConsistent(children, nhs_numbers);
    int live = 0;
    for (const std::string& child : children) {
      live += Stored(child).status() != v1::RECORD_STATUS_MERGED;
    }
    EXPECT_EQ(live, 3 - made);
    outcomes_.push_back(outcomes);
    return made;
  }

  // The end state of merges among `children`: every retired record points at a survivor that is
  // not itself merged (and the index says the same), every record resolves to a live one, and
  // each NHS number resolves to the one live record holding it.
  void ExpectConsistent(const std::vector<std::string>& children,
                        const std::vector<std::string>& nhs_numbers) {
    std::map<std::string, storage::StoredChild> records;
    for (const std::string& child : children) records[child] = Stored(child);
    for (const std::string& child : children) {
      SCOPED_TRACE(child);
      const storage::StoredChild& record = records[child];
      absl::StatusOr<std::optional<storage::IndexEntry>> retired_entry =
          store_->Lookup(IndexKind::kRetiredChildId, child);
      ASSERT_TRUE(retired_entry.ok()) << retired_entry.status();
      std::string live = child;
      if (record.status() == v1::RECORD_STATUS_MERGED) {
        live = record.merged_into();
        ASSERT_EQ(records.count(live), 1u);
        const storage::StoredChild& survivor = records[live];
        EXPECT_NE(survivor.status(), v1::RECORD_STATUS_MERGED);
        EXPECT_THAT(survivor.merged_from(), ::testing::Contains(child));
        ASSERT_TRUE(retired_entry->has_value());
        EXPECT_EQ((*retired_entry)->child_id, live);
      } else {
        EXPECT_FALSE(retired_entry->has_value());
        EXPECT_EQ(record.merged_into(), "");
      }
      absl::StatusOr<v1::ResolveResponse> r = Resolve(child);
      ASSERT_TRUE(r.ok()) << r.status();
      EXPECT_EQ(r->record().child_id(), live);
      EXPECT_NE(r->record().status(), v1::RECORD_STATUS_MERGED);
    }
    for (const std::string& nhs : nhs_numbers) {
      SCOPED_TRACE(nhs);
      absl::StatusOr<std::optional<storage::IndexEntry>> entry =
          store_->Lookup(IndexKind::kNhsNumber, nhs);
      ASSERT_TRUE(entry.ok() && entry->has_value());
      ASSERT_EQ(records.count((*entry)->child_id), 1u);
      const storage::StoredChild& owner = records[(*entry)->child_id];
      EXPECT_NE(owner.status(), v1::RECORD_STATUS_MERGED);
      EXPECT_TRUE(HoldsNhsNumber(owner, nhs));
      int live_holders = 0;
      for (const auto& [id, record] : records) {
        live_holders += record.status() != v1::RECORD_STATUS_MERGED && HoldsNhsNumber(record, nhs);
      }
      EXPECT_EQ(live_holders, 1);
    }
  }

  std::vector<std::vector<absl::Status>> outcomes_;
};

constexpr int kA = 0, kB = 1, kC = 2;

TEST_F(OverlappingMergesTest, AIntoBRacingBIntoCLeavesEveryRetiredRecordPointingAtALiveSurvivor) {
  for (int round = 0; round < kRounds; ++round) {
    SCOPED_TRACE(absl::StrCat("round ", round));
    MergeAtOnce(round, {{kB, kA}, {kC, kB}});
    // b into c always succeeds; a into b only if it ran first.
    EXPECT_TRUE(outcomes_.back()[1].ok()) << outcomes_.back()[1];
  }
  RecordProperty("rounds_a_into_b_first",
                 std::count_if(outcomes_.begin(), outcomes_.end(),
                               [](const std::vector<absl::Status>& o) { return o[0].ok(); }));
}

TEST_F(OverlappingMergesTest, AIntoBRacingAIntoCMergesAIntoExactlyOne) {
  for (int round = 0; round < kRounds; ++round) {
    SCOPED_TRACE(absl::StrCat("round ", round));
    EXPECT_EQ(MergeAtOnce(round, {{kB, kA}, {kC, kA}}), 1);
  }
}

TEST_F(OverlappingMergesTest, ThreeMergesInACircleMakeTwoAndNeverACycle) {
  for (int round = 0; round < kRounds; ++round) {
    SCOPED_TRACE(absl::StrCat("round ", round));
    EXPECT_EQ(MergeAtOnce(round, {{kB, kA}, {kC, kB}, {kA, kC}}), 2);
  }
}

TEST_F(RegistryTest, AMoveRacingCorrectionsCountsEveryChangeAndKeepsEachAreasFeedGapFree) {
  const std::vector<std::string> areas = {"938", "201", "873"};
  int corrected_first = 0;
  for (int round = 0; round < kRounds; ++round) {
    SCOPED_TRACE(absl::StrCat("round ", round));
    const std::string child = RegisterAt(2000 + round, "938");
    const std::string destination = round % 2 == 0 ? "201" : "873";
    absl::Status moved, given, family;
    RunTogether({[&] { moved = Move(child, destination).status(); },
                 [&] {
                   v1::CorrectDetailsRequest r = CorrectionRequest(NewRequestId(), child, 1);
                   r.set_given_name("Augusta");
                   given = CorrectDetails(r).status();
                 },
                 [&] {
                   v1::CorrectDetailsRequest r = CorrectionRequest(NewRequestId(), child, 1);
                   r.set_family_name("Byron-Test");
                   family = CorrectDetails(r).status();
                 }},
                round);
    ASSERT_TRUE(moved.ok()) << moved;
    int changes = 1;
    for (const absl::Status& correction : {given, family}) {
      if (correction.ok()) {
        ++changes;
      } else {
        EXPECT_EQ(errors::ReasonOf(correction), v1::RECORD_VERSION_STALE) << correction;
      }
    }
    EXPECT_LE(changes, 2);  // both corrections were prepared from version 1
    corrected_first += changes == 2;
    const storage::StoredChild record = Stored(child);
    EXPECT_EQ(record.version(), 1 + changes);
    EXPECT_EQ(record.local_authority(), destination);
    EXPECT_EQ(record.given_name(), given.ok() ? "Augusta" : "Ada");
    EXPECT_EQ(record.family_name(), family.ok() ? "Byron-Test" : "Lovelace-Test");
    // The log has one event per change, at consecutive versions.
    std::vector<int64_t> versions;
    for (const storage::StoredEvent& event : Events()) {
      if (event.child_id() == child) versions.push_back(event.child_version());
    }
    ASSERT_EQ(versions.size(), static_cast<size_t>(1 + changes));
    for (size_t i = 0; i < versions.size(); ++i)
      EXPECT_EQ(versions[i], static_cast<int64_t>(i + 1));
  }

  RecordProperty("rounds_corrected_before_the_move", corrected_first);

  // Each area's feed numbers its events 1..n without a gap, and agrees with the log.
  std::map<uint64_t, storage::StoredEvent> log;
  for (const storage::StoredEvent& event : Events()) log[event.sequence()] = event;
  std::vector<storage::AreaPosition> positions;
  for (const std::string& area : areas) positions.push_back({area, 0});
  absl::StatusOr<std::vector<storage::AreaFeedPage>> pages =
      store_->ReadAreaFeeds(positions, 100000);
  ASSERT_TRUE(pages.ok()) << pages.status();
  const std::vector<uint64_t> heads = store_->AreaHeads(areas);
  size_t feed_events = 0;
  for (size_t k = 0; k < pages->size(); ++k) {
    const storage::AreaFeedPage& page = (*pages)[k];
    SCOPED_TRACE(page.local_authority);
    ASSERT_FALSE(page.events.empty());
    EXPECT_EQ(page.head, page.events.size());
    EXPECT_EQ(heads[k], page.events.size());
    uint64_t previous_event = 0;
    for (size_t i = 0; i < page.events.size(); ++i) {
      const storage::StoredFeedEvent& event = page.events[i];
      EXPECT_EQ(event.area_sequence(), i + 1);
      EXPECT_GT(event.event_sequence(), previous_event);  // in commit order
      previous_event = event.event_sequence();
      const storage::StoredEvent& logged = log[event.event_sequence()];
      EXPECT_EQ(logged.child_id(), event.child_id());
      EXPECT_EQ(logged.child_version(), event.child_version());
      bool listed = false;
      for (const storage::StoredAreaSequence& at : logged.area_sequences()) {
        listed |= at.local_authority() == page.local_authority &&
                  at.area_sequence() == event.area_sequence();
      }
      EXPECT_TRUE(listed) << "area sequence " << event.area_sequence();
    }
    feed_events += page.events.size();
  }
  // The feeds hold exactly the feed events the log lists.
  size_t listed = 0;
  for (const auto& [sequence, event] : log) listed += event.area_sequences_size();
  EXPECT_EQ(feed_events, listed);
}

TEST_F(RegistryTest, ASupersessionRacingARegistrationWithTheSameNhsNumberGivesItToOneChildOnly) {
  int superseded_first = 0;
  for (int round = 0; round < kRounds; ++round) {
    SCOPED_TRACE(absl::StrCat("round ", round));
    const std::string child = RegisterNew(700 + round);
    const std::string contested = FictionalNhsNumber(800 + round);
    // Another birth (another birth order: a twin) notified with the same NHS number.
    v1::RegisterBirthRequest twin =
        testing::FictionalBirth(absl::StrCat("twin-", round), contested);
    twin.set_birth_order(2);
    absl::Status superseded, registered;
    std::string registered_child;
    RunTogether({[&] {
                   superseded = SupersedeNhsNumber(
                                    SupersessionRequest(absl::StrCat("supersede-race-", round),
                                                        child, contested))
                                    .status();
                 },
                 [&] {
                   absl::StatusOr<v1::RegisterBirthResponse> r = Register(twin);
                   registered = r.status();
                   if (r.ok()) registered_child = r->record().child_id();
                 }},
                round);

    // Exactly one of them holds the number, and the index names that one.
    ASSERT_NE(superseded.ok(), registered.ok()) << superseded << " / " << registered;
    const std::string holder = superseded.ok() ? child : registered_child;
    const absl::Status& refused = superseded.ok() ? registered : superseded;
    EXPECT_EQ(errors::ReasonOf(refused), v1::NHS_NUMBER_HELD_BY_ANOTHER_CHILD) << refused;
    EXPECT_EQ(store_->Lookup(IndexKind::kNhsNumber, contested)->value().child_id, holder);
    EXPECT_EQ(HoldsNhsNumber(Stored(child), contested), superseded.ok());
    superseded_first += superseded.ok();
  }
  // Both orders happened.
  EXPECT_GT(superseded_first, 0);
  EXPECT_LT(superseded_first, kRounds);
}

}  // namespace
}  // namespace cir::registry
