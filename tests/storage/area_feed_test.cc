// Each local authority's feed: a gap-free sequence per area, assigned by the writer in the batch of
// the change it reports, given back by a unit that fails, continued after a failed commit and a
// reopen; read from one view of the store, by date, and announced to a watcher; built from the
// event log when a store of schema version 2 is opened.

#include <atomic>
#include <chrono>
#include <condition_variable>
#include <functional>
#include <future>
#include <map>
#include <memory>
#include <mutex>
#include <string>
#include <thread>
#include <utility>
#include <vector>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "absl/time/clock.h"
#include "absl/time/time.h"
#include "cir/v1/registry.pb.h"
#include "errors/refusal.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "rocksdb/db.h"
#include "storage/key_codec.h"
#include "storage/rocksdb_child_store.h"
#include "tests/storage/raw_store.h"
#include "tests/storage/store_testing.h"
#include "tests/testing/fault_injection_fs.h"
#include "tests/testing/fictional_children.h"
#include "tests/testing/temp_dir.h"

namespace cir::storage {
namespace {

using ::testing::ElementsAre;
using ::testing::IsEmpty;
using testing::RunUnit;
using testing::StoreOptions;
using testing::WriterBlocker;

std::string ChildId(int i) { return absl::StrFormat("FEEDCHILD%02d", i); }

// A feed event of `kind` about `child_id` for `area`'s feed, with nothing the store assigns.
StoredFeedEvent FeedEntry(const std::string& area, const std::string& child_id,
                          v1::FeedEventKind kind = v1::FEED_EVENT_KIND_BIRTH_REGISTERED) {
  StoredFeedEvent entry;
  entry.set_local_authority(area);
  entry.set_kind(kind);
  entry.set_child_id(child_id);
  entry.set_child_version(1);
  return entry;
}

// Appends through `txn` one event about child `i`, carried by each of `areas`' feeds in order.
absl::Status AppendCarried(WriteTxn& txn, int i, const std::vector<std::string>& areas) {
  StoredEvent event;
  event.set_kind(EVENT_KIND_BIRTH_REGISTERED);
  event.set_child_id(ChildId(i));
  event.set_local_authority(areas.empty() ? "938" : areas.back());
  std::vector<StoredFeedEvent> feed;
  for (const std::string& area : areas) feed.push_back(FeedEntry(area, ChildId(i)));
  return txn.AppendEvent(std::move(event), std::move(feed));
}

// A unit that appends one event about child `i`, carried by each of `areas`' feeds.
WriteWork Carried(int i, std::vector<std::string> areas) {
  return [i, areas = std::move(areas)](WriteTxn& txn) { return AppendCarried(txn, i, areas); };
}

std::vector<uint64_t> Sequences(const std::vector<StoredFeedEvent>& events) {
  std::vector<uint64_t> sequences;
  for (const StoredFeedEvent& event : events) sequences.push_back(event.area_sequence());
  return sequences;
}

std::vector<std::string> ChildrenOf(const std::vector<StoredFeedEvent>& events) {
  std::vector<std::string> children;
  for (const StoredFeedEvent& event : events) children.push_back(event.child_id());
  return children;
}

// The area sequences an event of the log lists, as "area:sequence".
std::vector<std::string> Listed(const StoredEvent& event) {
  std::vector<std::string> listed;
  for (const StoredAreaSequence& at : event.area_sequences()) {
    listed.push_back(absl::StrCat(at.local_authority(), ":", at.area_sequence()));
  }
  return listed;
}

// The sequences 1, 2, ..., n.
std::vector<uint64_t> OneTo(uint64_t n) {
  std::vector<uint64_t> sequences;
  for (uint64_t s = 1; s <= n; ++s) sequences.push_back(s);
  return sequences;
}

class AreaFeedTest : public ::testing::Test {
 protected:
  void SetUp() override { Reopen(); }

  // Opens the store in the test's folder, closing it first if it is open.
  void Reopen(RocksDbStoreOptions options) {
    store_.reset();
    absl::StatusOr<std::unique_ptr<ChildStore>> store = RocksDbChildStore::Open(options);
    ASSERT_TRUE(store.ok()) << store.status();
    store_ = *std::move(store);
  }
  void Reopen() { Reopen(StoreOptions(path_)); }

  // Every event of `area`'s feed.
  std::vector<StoredFeedEvent> Feed(const std::string& area) {
    absl::StatusOr<std::vector<AreaFeedPage>> pages = store_->ReadAreaFeeds({{area, 0}}, 100000);
    EXPECT_TRUE(pages.ok()) << pages.status();
    return pages.ok() ? (*pages)[0].events : std::vector<StoredFeedEvent>();
  }
  // Every event of the log.
  std::vector<StoredEvent> Log() {
    absl::StatusOr<std::vector<StoredEvent>> events = store_->ReadEvents(0, 100000);
    EXPECT_TRUE(events.ok()) << events.status();
    return events.ok() ? *events : std::vector<StoredEvent>();
  }

  // Expects every feed event of `areas` to name the change it reports in the log, which lists it
  // and was recorded when it was.
  void ExpectFeedsMatchTheLog(const std::vector<std::string>& areas) {
    const std::vector<StoredEvent> log = Log();
    for (const std::string& area : areas) {
      for (const StoredFeedEvent& entry : Feed(area)) {
        EXPECT_EQ(entry.local_authority(), area);
        ASSERT_GE(entry.event_sequence(), 1u);
        ASSERT_LE(entry.event_sequence(), log.size());
        const StoredEvent& event = log[entry.event_sequence() - 1];
        EXPECT_EQ(event.sequence(), entry.event_sequence());
        EXPECT_EQ(event.child_id(), entry.child_id());
        EXPECT_EQ(entry.recorded_at_unix_micros(), event.at_unix_micros());
        EXPECT_THAT(Listed(event),
                    ::testing::Contains(absl::StrCat(area, ":", entry.area_sequence())));
      }
    }
  }

  cir::testing::TempDir dir_;
  const std::string path_ = dir_.Sub("db");
  std::unique_ptr<ChildStore> store_;
};

TEST_F(AreaFeedTest, EachAreasSequenceStartsAtOneAndHasNoGaps) {
  // Children 1-6, their events interleaved across areas, and one change no feed carries.
  const std::vector<std::pair<int, std::vector<std::string>>> changes = {
      {1, {"938"}}, {2, {"201"}}, {1, {}}, {3, {"938"}}, {4, {"873"}}, {5, {"938"}}, {6, {"201"}}};
  for (const auto& [child, areas] : changes) {
    ASSERT_TRUE(RunUnit(*store_, Carried(child, areas)).ok());
  }
  EXPECT_THAT(Sequences(Feed("938")), ElementsAre(1u, 2u, 3u));
  EXPECT_THAT(ChildrenOf(Feed("938")), ElementsAre(ChildId(1), ChildId(3), ChildId(5)));
  EXPECT_THAT(Sequences(Feed("201")), ElementsAre(1u, 2u));
  EXPECT_THAT(ChildrenOf(Feed("201")), ElementsAre(ChildId(2), ChildId(6)));
  EXPECT_THAT(Sequences(Feed("873")), ElementsAre(1u));
  EXPECT_THAT(Feed("202"), IsEmpty());
  EXPECT_THAT(store_->AreaHeads({"938", "201", "873", "202"}), ElementsAre(3u, 2u, 1u, 0u));

  const std::vector<StoredEvent> log = Log();
  ASSERT_EQ(log.size(), 7u);
  EXPECT_THAT(Listed(log[0]), ElementsAre("938:1"));
  EXPECT_THAT(Listed(log[1]), ElementsAre("201:1"));
  EXPECT_THAT(Listed(log[2]), IsEmpty());
  EXPECT_THAT(Listed(log[3]), ElementsAre("938:2"));
  EXPECT_THAT(Listed(log[4]), ElementsAre("873:1"));
  EXPECT_THAT(Listed(log[5]), ElementsAre("938:3"));
  EXPECT_THAT(Listed(log[6]), ElementsAre("201:2"));
  ExpectFeedsMatchTheLog({"938", "201", "873"});
}

TEST_F(AreaFeedTest, AnEventCarriedByTwoAreasTakesTheNextNumberOfEachAndListsBoth) {
  ASSERT_TRUE(RunUnit(*store_, Carried(1, {"938"})).ok());
  ASSERT_TRUE(RunUnit(*store_, Carried(2, {"938"})).ok());
  ASSERT_TRUE(RunUnit(*store_, Carried(3, {"201"})).ok());
  // Child 1 moves from 938 to 201: a move-out and a move-in, in one change.
  ASSERT_TRUE(RunUnit(*store_, [](WriteTxn& txn) {
                StoredEvent event;
                event.set_kind(EVENT_KIND_ADDRESS_CHANGED);
                event.set_child_id(ChildId(1));
                event.set_local_authority("201");
                // Whatever a caller lists is replaced by what the store assigns.
                StoredAreaSequence* stale = event.add_area_sequences();
                stale->set_local_authority("873");
                stale->set_area_sequence(99);
                return txn.AppendEvent(
                    event, {FeedEntry("938", ChildId(1), v1::FEED_EVENT_KIND_MOVED_OUT),
                            FeedEntry("201", ChildId(1), v1::FEED_EVENT_KIND_MOVED_IN)});
              }).ok());

  const std::vector<StoredEvent> log = Log();
  ASSERT_EQ(log.size(), 4u);
  EXPECT_THAT(Listed(log[3]), ElementsAre("938:3", "201:2"));
  const std::vector<StoredFeedEvent> left = Feed("938");
  const std::vector<StoredFeedEvent> joined = Feed("201");
  ASSERT_THAT(Sequences(left), ElementsAre(1u, 2u, 3u));
  ASSERT_THAT(Sequences(joined), ElementsAre(1u, 2u));
  const StoredFeedEvent& moved_out = left[2];
  const StoredFeedEvent& moved_in = joined[1];
  EXPECT_EQ(moved_out.kind(), v1::FEED_EVENT_KIND_MOVED_OUT);
  EXPECT_EQ(moved_in.kind(), v1::FEED_EVENT_KIND_MOVED_IN);
  EXPECT_EQ(moved_out.event_sequence(), 4u);
  EXPECT_EQ(moved_in.event_sequence(), 4u);
  EXPECT_EQ(moved_out.place_in_change(), 0u);
  EXPECT_EQ(moved_in.place_in_change(), 1u);
  EXPECT_EQ(moved_out.recorded_at_unix_micros(), moved_in.recorded_at_unix_micros());
  EXPECT_THAT(store_->AreaHeads({"938", "201", "873"}), ElementsAre(3u, 2u, 0u));

  // Each area goes on from its own head.
  ASSERT_TRUE(RunUnit(*store_, Carried(4, {"201"})).ok());
  EXPECT_THAT(Sequences(Feed("201")), ElementsAre(1u, 2u, 3u));
  EXPECT_THAT(Sequences(Feed("938")), ElementsAre(1u, 2u, 3u));
  ExpectFeedsMatchTheLog({"938", "201"});
}

TEST_F(AreaFeedTest, AUnitThatFailsGivesItsNumbersBackToTheNextUnitOfItsGroup) {
  std::vector<std::promise<absl::Status>> outcomes(4);
  std::vector<absl::Time> commit_times(4);
  auto done = [&](int i) {
    return [&outcomes, i](absl::Status s) { outcomes[i].set_value(std::move(s)); };
  };
  {
    WriterBlocker blocker(*store_);  // the four units below run as one group
    store_->Submit(
        [&](WriteTxn& txn) {
          commit_times[0] = txn.CommitTime();
          return AppendCarried(txn, 1, {"938"});
        },
        done(0));
    // Takes numbers of two areas, two from one of them, then refuses.
    store_->Submit(
        [&](WriteTxn& txn) {
          commit_times[1] = txn.CommitTime();
          absl::Status s = AppendCarried(txn, 2, {"938", "201"});
          if (s.ok()) s = AppendCarried(txn, 2, {"938"});
          if (!s.ok()) return s;
          return absl::FailedPreconditionError("refused after appending feed events");
        },
        done(1));
    // Takes a number, then AppendEvent itself refuses a feed event naming no area.
    store_->Submit(
        [&](WriteTxn& txn) {
          commit_times[2] = txn.CommitTime();
          return AppendCarried(txn, 3, {"938", ""});
        },
        done(2));
    store_->Submit(
        [&](WriteTxn& txn) {
          commit_times[3] = txn.CommitTime();
          return AppendCarried(txn, 4, {"201", "938"});
        },
        done(3));
  }
  EXPECT_TRUE(outcomes[0].get_future().get().ok());
  EXPECT_EQ(outcomes[1].get_future().get().code(), absl::StatusCode::kFailedPrecondition);
  absl::Status no_area = outcomes[2].get_future().get();
  EXPECT_EQ(no_area.code(), absl::StatusCode::kInternal) << no_area;
  EXPECT_TRUE(outcomes[3].get_future().get().ok());
  for (int i = 1; i < 4; ++i) EXPECT_EQ(commit_times[i], commit_times[0]) << "not one group";

  // The failed units' numbers went to the unit after them: no gap in either area.
  EXPECT_THAT(Sequences(Feed("938")), ElementsAre(1u, 2u));
  EXPECT_THAT(ChildrenOf(Feed("938")), ElementsAre(ChildId(1), ChildId(4)));
  EXPECT_THAT(Sequences(Feed("201")), ElementsAre(1u));
  EXPECT_THAT(ChildrenOf(Feed("201")), ElementsAre(ChildId(4)));
  const std::vector<StoredEvent> log = Log();
  ASSERT_EQ(log.size(), 2u);
  EXPECT_THAT(Listed(log[1]), ElementsAre("201:1", "938:2"));
  EXPECT_THAT(store_->AreaHeads({"938", "201"}), ElementsAre(2u, 1u));

  // And the next group goes on from there.
  ASSERT_TRUE(RunUnit(*store_, Carried(5, {"938", "201"})).ok());
  EXPECT_THAT(Sequences(Feed("938")), ElementsAre(1u, 2u, 3u));
  EXPECT_THAT(Sequences(Feed("201")), ElementsAre(1u, 2u));
  ExpectFeedsMatchTheLog({"938", "201"});
}

TEST_F(AreaFeedTest, APartRefusedWithinAUnitGivesBackItsWritesAndNumbersAndTheUnitGoesOn) {
  std::vector<absl::Status> parts;
  absl::Status unit = RunUnit(*store_, [&](WriteTxn& txn) {
    parts.push_back(txn.RunPart([&] { return AppendCarried(txn, 1, {"938"}); }));
    // Stages a child, an index entry and events in two areas, then refuses.
    parts.push_back(txn.RunPart([&] {
      StoredChild child;
      child.set_child_id(ChildId(2));
      absl::Status s = txn.PutChild(child);
      if (s.ok()) s = txn.PutIndex(IndexKind::kNhsNumber, "9990000018", IndexEntry{ChildId(2), ""});
      if (s.ok()) s = AppendCarried(txn, 2, {"938", "201"});
      if (!s.ok()) return s;
      return absl::AlreadyExistsError("refused after staging writes");
    }));
    // Refuses before staging anything.
    parts.push_back(txn.RunPart([] { return absl::InvalidArgumentError("refused at once"); }));
    parts.push_back(txn.RunPart([&] { return AppendCarried(txn, 3, {"201", "938"}); }));
    return absl::OkStatus();
  });
  ASSERT_TRUE(unit.ok()) << unit;
  ASSERT_EQ(parts.size(), 4u);
  EXPECT_TRUE(parts[0].ok());
  EXPECT_EQ(parts[1].code(), absl::StatusCode::kAlreadyExists);
  EXPECT_EQ(parts[2].code(), absl::StatusCode::kInvalidArgument);
  EXPECT_TRUE(parts[3].ok());

  // The refused part's child and index entry were never written, and its numbers went to the
  // part after it: no gap in either area, none in the event log.
  absl::StatusOr<std::optional<StoredChild>> refused_child = store_->GetChild(ChildId(2));
  ASSERT_TRUE(refused_child.ok());
  EXPECT_FALSE(refused_child->has_value());
  absl::StatusOr<std::optional<IndexEntry>> refused_entry =
      store_->Lookup(IndexKind::kNhsNumber, "9990000018");
  ASSERT_TRUE(refused_entry.ok());
  EXPECT_FALSE(refused_entry->has_value());
  EXPECT_THAT(Sequences(Feed("938")), ElementsAre(1u, 2u));
  EXPECT_THAT(ChildrenOf(Feed("938")), ElementsAre(ChildId(1), ChildId(3)));
  EXPECT_THAT(Sequences(Feed("201")), ElementsAre(1u));
  const std::vector<StoredEvent> log = Log();
  ASSERT_EQ(log.size(), 2u);
  EXPECT_EQ(log[0].sequence(), 1u);
  EXPECT_EQ(log[1].sequence(), 2u);
  ExpectFeedsMatchTheLog({"938", "201"});
}

enum class Fault { kFailingSync, kFailingAppend };

class AreaFeedAfterAFailedCommitTest : public ::testing::TestWithParam<Fault> {
 protected:
  void Inject(bool on) {
    if (GetParam() == Fault::kFailingSync) {
      fs_->FailSyncs(on);
    } else {
      fs_->FailAppends(on);
    }
  }

  // Waits (at most a minute) until the store has said it takes writes again.
  bool AwaitRecovery() {
    std::unique_lock<std::mutex> lock(mu_);
    return recovered_cv_.wait_for(lock, std::chrono::minutes(1), [&] { return recovered_; });
  }

  std::shared_ptr<cir::testing::FaultInjectionFs> fs_ =
      std::make_shared<cir::testing::FaultInjectionFs>();
  std::mutex mu_;
  std::condition_variable recovered_cv_;
  bool recovered_ = false;  // guarded by mu_
};

std::string FaultName(const ::testing::TestParamInfo<Fault>& info) {
  return info.param == Fault::kFailingSync ? "FailingSync" : "FailingAppend";
}

TEST_P(AreaFeedAfterAFailedCommitTest, TheFeedsGoOnWithoutAGapOnceTheStoreRecovers) {
  cir::testing::TempDir dir;
  RocksDbStoreOptions options = StoreOptions(dir.Sub("db"));
  options.file_system = fs_;
  options.write_recovery_interval = absl::Milliseconds(20);
  options.on_write_availability = [this](bool accepting) {
    if (!accepting) return;
    std::lock_guard<std::mutex> lock(mu_);
    recovered_ = true;
    recovered_cv_.notify_all();
  };
  absl::StatusOr<std::unique_ptr<ChildStore>> opened = RocksDbChildStore::Open(options);
  ASSERT_TRUE(opened.ok()) << opened.status();
  ChildStore& store = **opened;
  ASSERT_TRUE(RunUnit(store, Carried(1, {"938"})).ok());
  ASSERT_TRUE(RunUnit(store, Carried(2, {"201"})).ok());

  Inject(true);
  std::vector<std::promise<absl::Status>> failed(2);
  {
    WriterBlocker blocker(store);  // both units commit together, and fail together
    store.Submit(Carried(3, {"938"}), [&](absl::Status s) { failed[0].set_value(std::move(s)); });
    store.Submit(Carried(4, {"938", "201"}),
                 [&](absl::Status s) { failed[1].set_value(std::move(s)); });
  }
  for (std::promise<absl::Status>& outcome : failed) {
    absl::Status s = outcome.get_future().get();
    EXPECT_EQ(errors::ReasonOf(s), v1::WRITE_OUTCOME_UNKNOWN) << s;
  }
  Inject(false);
  ASSERT_TRUE(AwaitRecovery()) << "the store did not recover";
  ASSERT_TRUE(RunUnit(store, Carried(5, {"938", "201"})).ok());

  // The failed group is wholly there or wholly absent, and each feed runs 1, 2, ... to its head,
  // the change made after the recovery last.
  auto feed = [&](const std::string& area) {
    absl::StatusOr<std::vector<AreaFeedPage>> pages = store.ReadAreaFeeds({{area, 0}}, 1000);
    EXPECT_TRUE(pages.ok()) << pages.status();
    return pages.ok() ? (*pages)[0] : AreaFeedPage();
  };
  const AreaFeedPage in_938 = feed("938");
  const AreaFeedPage in_201 = feed("201");
  const bool failed_group_landed = in_938.events.size() == 4;
  if (failed_group_landed) {
    EXPECT_THAT(ChildrenOf(in_938.events),
                ElementsAre(ChildId(1), ChildId(3), ChildId(4), ChildId(5)));
    EXPECT_THAT(ChildrenOf(in_201.events), ElementsAre(ChildId(2), ChildId(4), ChildId(5)));
  } else {
    EXPECT_THAT(ChildrenOf(in_938.events), ElementsAre(ChildId(1), ChildId(5)));
    EXPECT_THAT(ChildrenOf(in_201.events), ElementsAre(ChildId(2), ChildId(5)));
  }
  EXPECT_EQ(Sequences(in_938.events), OneTo(in_938.events.size()));
  EXPECT_EQ(Sequences(in_201.events), OneTo(in_201.events.size()));
  EXPECT_EQ(in_938.head, in_938.events.size());
  EXPECT_EQ(in_201.head, in_201.events.size());
  EXPECT_THAT(store.AreaHeads({"938", "201"}), ElementsAre(in_938.head, in_201.head));
  absl::StatusOr<std::vector<StoredEvent>> log = store.ReadEvents(0, 1000);
  ASSERT_TRUE(log.ok()) << log.status();
  ASSERT_FALSE(log->empty());
  EXPECT_THAT(Listed(log->back()),
              ElementsAre(absl::StrCat("938:", in_938.head), absl::StrCat("201:", in_201.head)));
}

INSTANTIATE_TEST_SUITE_P(Faults, AreaFeedAfterAFailedCommitTest,
                         ::testing::Values(Fault::kFailingSync, Fault::kFailingAppend), FaultName);

TEST_F(AreaFeedTest, HeadsSurviveAReopenAndTheNextEventContinuesTheSequence) {
  ASSERT_TRUE(RunUnit(*store_, Carried(1, {"938"})).ok());
  ASSERT_TRUE(RunUnit(*store_, Carried(2, {"938", "201"})).ok());
  ASSERT_TRUE(RunUnit(*store_, Carried(3, {"938"})).ok());
  Reopen();
  EXPECT_THAT(store_->AreaHeads({"938", "201", "873"}), ElementsAre(3u, 1u, 0u));
  ASSERT_TRUE(RunUnit(*store_, Carried(4, {"201", "938", "873"})).ok());
  EXPECT_THAT(Sequences(Feed("938")), ElementsAre(1u, 2u, 3u, 4u));
  EXPECT_THAT(Sequences(Feed("201")), ElementsAre(1u, 2u));
  EXPECT_THAT(Sequences(Feed("873")), ElementsAre(1u));
  EXPECT_THAT(Listed(Log().back()), ElementsAre("201:2", "938:4", "873:1"));
  Reopen();
  EXPECT_THAT(store_->AreaHeads({"938", "201", "873"}), ElementsAre(4u, 2u, 1u));
}

TEST_F(AreaFeedTest, ReadAreaFeedsReadsEachAreaAfterItsPositionWithItsHeadAndEarliest) {
  for (int i = 1; i <= 5; ++i) {
    ASSERT_TRUE(RunUnit(*store_, Carried(i, {"938"})).ok());
    if (i % 2 == 0) {
      ASSERT_TRUE(RunUnit(*store_, Carried(10 + i, {"201"})).ok());
    }
  }
  absl::StatusOr<std::vector<AreaFeedPage>> pages =
      store_->ReadAreaFeeds({{"201", 0}, {"938", 1}, {"873", 0}}, 2);
  ASSERT_TRUE(pages.ok()) << pages.status();
  ASSERT_EQ(pages->size(), 3u);  // one page per position, in the order asked
  EXPECT_EQ((*pages)[0].local_authority, "201");
  EXPECT_THAT(Sequences((*pages)[0].events), ElementsAre(1u, 2u));
  EXPECT_EQ((*pages)[0].head, 2u);
  EXPECT_EQ((*pages)[0].earliest, 1u);
  EXPECT_EQ((*pages)[1].local_authority, "938");
  EXPECT_THAT(Sequences((*pages)[1].events), ElementsAre(2u, 3u));  // after 1, at most 2
  EXPECT_THAT(ChildrenOf((*pages)[1].events), ElementsAre(ChildId(2), ChildId(3)));
  EXPECT_EQ((*pages)[1].head, 5u);
  EXPECT_EQ((*pages)[1].earliest, 1u);
  // An area without events: head 0, and the earliest it could serve is its first.
  EXPECT_EQ((*pages)[2].local_authority, "873");
  EXPECT_THAT((*pages)[2].events, IsEmpty());
  EXPECT_EQ((*pages)[2].head, 0u);
  EXPECT_EQ((*pages)[2].earliest, 1u);

  // At the head, and with no events asked for: heads alone.
  pages = store_->ReadAreaFeeds({{"938", 5}, {"201", 0}}, 0);
  ASSERT_TRUE(pages.ok()) << pages.status();
  EXPECT_THAT((*pages)[0].events, IsEmpty());
  EXPECT_THAT((*pages)[1].events, IsEmpty());
  EXPECT_EQ((*pages)[0].head, 5u);
  EXPECT_EQ((*pages)[1].head, 2u);
  pages = store_->ReadAreaFeeds({{"938", 4}}, 10);
  ASSERT_TRUE(pages.ok()) << pages.status();
  EXPECT_THAT(Sequences((*pages)[0].events), ElementsAre(5u));
}

TEST_F(AreaFeedTest, EarliestIsTheOldestEventRetentionKeptAndEachAreaKeepsItsNewest) {
  RocksDbStoreOptions options = StoreOptions(path_);
  options.feed_retention = absl::Microseconds(1);
  options.feed_prune_interval = absl::Milliseconds(1);
  Reopen(options);
  for (int i = 1; i <= 3; ++i) ASSERT_TRUE(RunUnit(*store_, Carried(i, {"938"})).ok());
  ASSERT_TRUE(RunUnit(*store_, Carried(4, {"201"})).ok());
  // Past the prune interval, the writer prunes before it runs the next unit.
  const absl::Time due = absl::Now() + absl::Milliseconds(5);
  while (absl::Now() < due) {
    // five milliseconds
  }
  ASSERT_TRUE(RunUnit(*store_, [](WriteTxn&) { return absl::OkStatus(); }).ok());

  absl::StatusOr<std::vector<AreaFeedPage>> pages =
      store_->ReadAreaFeeds({{"938", 0}, {"201", 0}}, 10);
  ASSERT_TRUE(pages.ok()) << pages.status();
  EXPECT_THAT(Sequences((*pages)[0].events), ElementsAre(3u));
  EXPECT_EQ((*pages)[0].earliest, 3u);
  EXPECT_EQ((*pages)[0].head, 3u);
  EXPECT_THAT(Sequences((*pages)[1].events), ElementsAre(1u));
  EXPECT_EQ((*pages)[1].earliest, 1u);
  EXPECT_EQ((*pages)[1].head, 1u);
  // Before the earliest kept is where every reader of the area's remaining events starts.
  absl::StatusOr<uint64_t> before = store_->AreaSequenceBefore("938", absl::InfinitePast());
  ASSERT_TRUE(before.ok()) << before.status();
  EXPECT_EQ(*before, 2u);
  // The sequence goes on from the head, after a reopen as well.
  Reopen(options);
  EXPECT_THAT(store_->AreaHeads({"938", "201"}), ElementsAre(3u, 1u));
  ASSERT_TRUE(RunUnit(*store_, Carried(5, {"938"})).ok());
  EXPECT_EQ(Feed("938").back().area_sequence(), 4u);
}

TEST_F(AreaFeedTest, ReadAreaFeedsReadsEveryAreaFromOneViewWhileChangesCommit) {
  // Unsynced, so that many groups commit while the feeds are read.
  RocksDbStoreOptions options = StoreOptions(path_);
  options.sync_writes = false;
  Reopen(options);
  // Every change is carried by both areas, so any one view of the store shows them level.
  constexpr int kChanges = 1500;
  std::atomic<bool> writing = true;
  std::thread writer([&] {
    for (int i = 0; i < kChanges; ++i) {
      if (!RunUnit(*store_, Carried(i, {"938", "201"})).ok()) break;
    }
    writing = false;
  });
  int reads = 0;
  bool level = true;
  while (level && (writing || reads == 0)) {
    absl::StatusOr<std::vector<AreaFeedPage>> pages =
        store_->ReadAreaFeeds({{"938", 0}, {"201", 0}}, 100000);
    EXPECT_TRUE(pages.ok()) << pages.status();
    if (!pages.ok()) break;
    const AreaFeedPage& first = (*pages)[0];
    const AreaFeedPage& second = (*pages)[1];
    level = first.head == second.head && first.events.size() == second.events.size() &&
            first.events.size() == first.head;
    EXPECT_TRUE(level) << "read " << reads << ": 938 at " << first.head << " with "
                       << first.events.size() << " events, 201 at " << second.head << " with "
                       << second.events.size();
    ++reads;
  }
  writer.join();
  EXPECT_THAT(store_->AreaHeads({"938", "201"}),
              ElementsAre(static_cast<uint64_t>(kChanges), static_cast<uint64_t>(kChanges)));
}

TEST_F(AreaFeedTest, AreaSequenceBeforeFindsWhereTheEventsOfADateBegin) {
  // Three groups at three commit times: 938 gets 1-2, 3, 4-5; 201 gets 1 and 2.
  std::vector<absl::Time> at;
  auto group = [&](std::vector<std::vector<std::string>> changes) {
    // Strictly later than the group before, to the microsecond the feed records.
    while (!at.empty() && absl::ToUnixMicros(absl::Now()) <= absl::ToUnixMicros(at.back())) {
      // a microsecond at most
    }
    absl::Time committed;
    absl::Status s = RunUnit(*store_, [&](WriteTxn& txn) {
      committed = txn.CommitTime();
      for (const std::vector<std::string>& areas : changes) {
        absl::Status appended = AppendCarried(txn, 1, areas);
        if (!appended.ok()) return appended;
      }
      return absl::OkStatus();
    });
    ASSERT_TRUE(s.ok()) << s;
    at.push_back(committed);
  };
  group({{"938"}, {"938", "201"}});
  group({{"938"}});
  group({{"938"}, {"938", "201"}});
  ASSERT_EQ(at.size(), 3u);
  ASSERT_LT(at[0], at[1]);
  ASSERT_LT(at[1], at[2]);
  EXPECT_EQ(Feed("938")[2].recorded_at_unix_micros(), absl::ToUnixMicros(at[1]));

  auto before = [&](const std::string& area, absl::Time since) -> uint64_t {
    absl::StatusOr<uint64_t> sequence = store_->AreaSequenceBefore(area, since);
    EXPECT_TRUE(sequence.ok()) << sequence.status();
    return sequence.ok() ? *sequence : 999;
  };
  const absl::Duration tick = absl::Microseconds(1);
  EXPECT_EQ(before("938", absl::InfinitePast()), 0u);
  EXPECT_EQ(before("938", at[0] - tick), 0u);
  EXPECT_EQ(before("938", at[0]), 0u);
  EXPECT_EQ(before("938", at[0] + tick), 2u);
  EXPECT_EQ(before("938", at[1]), 2u);
  EXPECT_EQ(before("938", at[1] + tick), 3u);
  EXPECT_EQ(before("938", at[2]), 3u);
  EXPECT_EQ(before("938", at[2] + tick), 5u);
  EXPECT_EQ(before("938", absl::InfiniteFuture()), 5u);
  EXPECT_EQ(before("201", at[0]), 0u);
  EXPECT_EQ(before("201", at[1]), 1u);
  EXPECT_EQ(before("201", at[2]), 1u);
  EXPECT_EQ(before("201", at[2] + tick), 2u);
  EXPECT_EQ(before("873", at[1]), 0u);  // an area without events
}

// What a watcher was told.
struct WatchLog {
  std::mutex mu;
  std::vector<std::vector<std::string>> calls;  // each call's heads, as "area:head"
};

TEST_F(AreaFeedTest, TheWatcherIsToldOncePerGroupOfTheMovedHeadsBeforeTheUnitsHearTheirOutcome) {
  WatchLog watched;
  store_->WatchAreaFeeds([&](absl::Span<const AreaHead> heads) {
    std::vector<std::string> call;
    for (const AreaHead& head : heads) {
      call.push_back(absl::StrCat(head.local_authority, ":", head.head));
    }
    std::lock_guard<std::mutex> lock(watched.mu);
    watched.calls.push_back(std::move(call));
  });
  auto calls = [&] {
    std::lock_guard<std::mutex> lock(watched.mu);
    return watched.calls;
  };

  std::vector<std::promise<size_t>> told_by_outcome(4);  // calls made when each unit heard
  auto done = [&](int i) {
    return [&, i](absl::Status) { told_by_outcome[i].set_value(calls().size()); };
  };
  {
    WriterBlocker blocker(*store_);
    store_->Submit(Carried(1, {"938"}), done(0));
    store_->Submit(Carried(2, {"938", "201"}), done(1));
    store_->Submit([](WriteTxn& txn) { return txn.PutChild(testing::Child(ChildId(3))); }, done(2));
    store_->Submit(
        [](WriteTxn& txn) {
          absl::Status s = AppendCarried(txn, 4, {"873"});
          return s.ok() ? absl::AbortedError("refused after appending") : s;
        },
        done(3));
  }
  for (std::promise<size_t>& told : told_by_outcome) EXPECT_EQ(told.get_future().get(), 1u);
  // One call for the group (none for the blocker's, which wrote nothing), without the failed
  // unit's area.
  ASSERT_EQ(calls().size(), 1u);
  EXPECT_THAT(calls()[0], ::testing::UnorderedElementsAre("938:2", "201:1"));

  // A group that appends to no feed is not announced; the next that does is.
  ASSERT_TRUE(RunUnit(*store_, [](WriteTxn& txn) {
                return txn.PutChild(testing::Child(ChildId(5)));
              }).ok());
  EXPECT_EQ(calls().size(), 1u);
  ASSERT_TRUE(RunUnit(*store_, Carried(6, {"201"})).ok());
  ASSERT_EQ(calls().size(), 2u);
  EXPECT_THAT(calls()[1], ElementsAre("201:2"));

  // Once cleared, the watcher hears nothing more.
  store_->WatchAreaFeeds({});
  ASSERT_TRUE(RunUnit(*store_, Carried(7, {"938", "201"})).ok());
  EXPECT_EQ(calls().size(), 2u);
  EXPECT_THAT(store_->AreaHeads({"938", "201"}), ElementsAre(3u, 3u));
}

// ---- Schema version 2 to 3: the feeds built from the event log ---------------------------------

using testing::RawFamilies;
using testing::WriteRawStore;

// Every key and value of `family` in the (closed) store at `path`, read with raw RocksDB.
std::map<std::string, std::string> ReadRawFamily(const std::string& path,
                                                 const std::string& family) {
  std::vector<std::string> names;
  EXPECT_TRUE(rocksdb::DB::ListColumnFamilies(rocksdb::DBOptions(), path, &names).ok());
  std::vector<rocksdb::ColumnFamilyDescriptor> descriptors;
  for (const std::string& name : names) {
    descriptors.emplace_back(name, rocksdb::ColumnFamilyOptions());
  }
  std::vector<rocksdb::ColumnFamilyHandle*> handles;
  rocksdb::DB* db = nullptr;
  std::map<std::string, std::string> contents;
  rocksdb::Status opened =
      rocksdb::DB::OpenForReadOnly(rocksdb::DBOptions(), path, descriptors, &handles, &db);
  EXPECT_TRUE(opened.ok()) << opened.ToString();
  if (!opened.ok()) return contents;
  for (size_t i = 0; i < names.size(); ++i) {
    if (names[i] != family) continue;
    std::unique_ptr<rocksdb::Iterator> it(db->NewIterator(rocksdb::ReadOptions(), handles[i]));
    for (it->SeekToFirst(); it->Valid(); it->Next()) {
      contents[it->key().ToString()] = it->value().ToString();
    }
  }
  for (rocksdb::ColumnFamilyHandle* handle : handles) {
    EXPECT_TRUE(db->DestroyColumnFamilyHandle(handle).ok());
  }
  delete db;
  return contents;
}

// A child as schema version 2 kept it: fictional, fully notified, living at an address in `la`.
StoredChild VersionTwoChild(int i, const std::string& la, const std::string& given_name) {
  StoredChild child;
  child.set_child_id(ChildId(i));
  child.set_nhs_number(cir::testing::FictionalNhsNumber(i));
  child.mutable_date_of_birth()->set_year(2025);
  child.mutable_date_of_birth()->set_month(6);
  child.mutable_date_of_birth()->set_day(i);
  child.set_sex(v1::SEX_FEMALE);
  child.set_given_name(given_name);
  child.set_family_name("Migrated-Test");
  child.add_address_lines(absl::StrCat(i, " Test Row"));
  child.add_address_lines("Fictional Town");
  child.set_postcode("RH12 1AA");
  child.set_local_authority(la);
  child.set_mother_given_name("Mary");
  child.set_mother_family_name("Migrated-Test");
  child.set_birth_order(i == 3 ? 2 : 1);
  child.set_status(v1::RECORD_STATUS_ACTIVE);
  child.set_version(1);
  child.set_notification_id(absl::StrCat("n-", i));
  StoredNotification* notification = child.add_notifications();
  notification->set_notifying_system("RXH01");
  notification->set_notification_id(absl::StrCat("n-", i));
  return child;
}

StoredEvent VersionTwoEvent(uint64_t sequence, EventKind kind, const StoredChild& child,
                            int64_t version) {
  StoredEvent event;
  event.set_sequence(sequence);
  event.set_kind(kind);
  event.set_child_id(child.child_id());
  event.set_local_authority(child.local_authority());
  event.set_at_unix_micros(1750000000000000 + static_cast<int64_t>(sequence) * 1000);
  event.set_child_version(version);
  event.set_made_by("RXH01");
  return event;
}

class AreaFeedMigrationTest : public ::testing::Test {
 protected:
  // A version 2 store with the families `family_names`: children 1 and 3 born in 938, child 2 in
  // 201, child 1 given a UPN in between (events 1-4), the log indexed by area as version 2 did;
  // then whatever `more` writes.
  void WriteVersionTwoStore(const std::vector<std::string>& family_names,
                            const std::function<void(rocksdb::DB&, RawFamilies&)>& more) {
    WriteRawStore(path_, family_names, [&](rocksdb::DB& db, RawFamilies& families) {
      rocksdb::WriteOptions w;
      ASSERT_TRUE(db.Put(w, families["default"], "schema_version", EncodeFixed32BigEndian(2)).ok());
      StoredChild upn_holder = children_[0];
      upn_holder.set_upn(cir::testing::FictionalUpn(1));
      upn_holder.set_version(2);
      for (const StoredChild& child : {upn_holder, children_[1], children_[2]}) {
        ASSERT_TRUE(
            db.Put(w, families["children"], child.child_id(), child.SerializeAsString()).ok());
        ASSERT_TRUE(db.Put(w, families["identifiers"],
                           EncodeIndexKey(IndexKind::kNhsNumber, child.nhs_number()),
                           EncodeIndexEntry({child.child_id(), ""}))
                        .ok());
      }
      for (const StoredEvent& event : log_) {
        ASSERT_TRUE(db.Put(w, families["events"], EncodeEventKey(event.sequence()),
                           event.SerializeAsString())
                        .ok());
        ASSERT_TRUE(db.Put(w, families["events_by_area"],
                           EncodeAreaEventKey(event.local_authority(), event.sequence()), "")
                        .ok());
      }
      more(db, families);
    });
  }

  // Expects the feeds, the log and the children as the migration to version 3 leaves them.
  void ExpectMigrated() {
    EXPECT_THAT(store_->AreaHeads({"938", "201"}), ElementsAre(2u, 1u));
    absl::StatusOr<std::vector<AreaFeedPage>> pages =
        store_->ReadAreaFeeds({{"938", 0}, {"201", 0}}, 100);
    ASSERT_TRUE(pages.ok()) << pages.status();
    const std::vector<StoredFeedEvent>& in_938 = (*pages)[0].events;
    const std::vector<StoredFeedEvent>& in_201 = (*pages)[1].events;
    ASSERT_THAT(Sequences(in_938), ElementsAre(1u, 2u));  // in event order, gap-free
    ASSERT_THAT(Sequences(in_201), ElementsAre(1u));
    // Each birth, from its event and the child's record.
    const std::vector<std::pair<const StoredFeedEvent*, int>> births = {
        {&in_938[0], 0}, {&in_201[0], 1}, {&in_938[1], 2}};
    const uint64_t event_of[] = {1, 2, 4};
    for (const auto& [entry, c] : births) {
      const StoredChild& child = children_[c];
      SCOPED_TRACE(child.child_id());
      EXPECT_EQ(entry->kind(), v1::FEED_EVENT_KIND_BIRTH_REGISTERED);
      EXPECT_EQ(entry->local_authority(), child.local_authority());
      EXPECT_EQ(entry->child_id(), child.child_id());
      EXPECT_EQ(entry->event_sequence(), event_of[c]);
      EXPECT_EQ(entry->child_version(), 1);
      EXPECT_EQ(entry->recorded_at_unix_micros(), log_[event_of[c] - 1].at_unix_micros());
      EXPECT_EQ(entry->made_by(), "RXH01");
      EXPECT_EQ(entry->effective_date().SerializeAsString(),
                child.date_of_birth().SerializeAsString());
      const StoredCentreView& view = entry->child();
      EXPECT_EQ(view.given_name(), child.given_name());
      EXPECT_EQ(view.family_name(), child.family_name());
      EXPECT_EQ(view.date_of_birth().SerializeAsString(),
                child.date_of_birth().SerializeAsString());
      EXPECT_EQ(view.sex(), child.sex());
      EXPECT_THAT(view.address_lines(),
                  ElementsAre(child.address_lines(0), child.address_lines(1)));
      EXPECT_EQ(view.postcode(), child.postcode());
      EXPECT_EQ(view.mother_given_name(), "Mary");
      EXPECT_EQ(view.mother_family_name(), "Migrated-Test");
      EXPECT_EQ(view.birth_order(), child.birth_order());
      EXPECT_EQ(view.status(), v1::RECORD_STATUS_ACTIVE);
    }
    // The log lists where each birth went; the other event went nowhere.
    const std::vector<StoredEvent> log = *store_->ReadEvents(0, 100);
    ASSERT_EQ(log.size(), 4u);
    EXPECT_THAT(Listed(log[0]), ElementsAre("938:1"));
    EXPECT_THAT(Listed(log[1]), ElementsAre("201:1"));
    EXPECT_THAT(Listed(log[2]), IsEmpty());
    EXPECT_EQ(log[2].kind(), EVENT_KIND_UPN_LINKED);
    EXPECT_THAT(Listed(log[3]), ElementsAre("938:2"));
    // Each child knows the feed that carried it; the rest of its record is as it was.
    for (int c = 0; c < 3; ++c) {
      absl::StatusOr<std::optional<StoredChild>> child = store_->GetChild(children_[c].child_id());
      ASSERT_TRUE(child.ok() && child->has_value());
      EXPECT_THAT((*child)->feed_areas(), ElementsAre(children_[c].local_authority()));
      EXPECT_EQ((*child)->given_name(), children_[c].given_name());
    }
    EXPECT_EQ((*store_->GetChild(ChildId(1)))->upn(), cir::testing::FictionalUpn(1));
  }

  cir::testing::TempDir dir_;
  const std::string path_ = dir_.Sub("db");
  const std::vector<StoredChild> children_ = {VersionTwoChild(1, "938", "Ada"),
                                              VersionTwoChild(2, "201", "Grace"),
                                              VersionTwoChild(3, "938", "Hedy")};
  const std::vector<StoredEvent> log_ = {
      VersionTwoEvent(1, EVENT_KIND_BIRTH_REGISTERED, children_[0], 1),
      VersionTwoEvent(2, EVENT_KIND_BIRTH_REGISTERED, children_[1], 1),
      VersionTwoEvent(3, EVENT_KIND_UPN_LINKED, children_[0], 2),
      VersionTwoEvent(4, EVENT_KIND_BIRTH_REGISTERED, children_[2], 1)};
  std::unique_ptr<ChildStore> store_;
};

TEST_F(AreaFeedMigrationTest, AVersionTwoStoreOpensWithAFeedOfEachAreasBirths) {
  WriteVersionTwoStore({"children", "identifiers", "events", "events_by_area"},
                       [](rocksdb::DB&, RawFamilies&) {});
  absl::StatusOr<std::unique_ptr<ChildStore>> store = RocksDbChildStore::Open(StoreOptions(path_));
  ASSERT_TRUE(store.ok()) << store.status();
  store_ = *std::move(store);
  ExpectMigrated();

  // The feeds and the log go on from where the migration left them.
  ASSERT_TRUE(RunUnit(*store_, Carried(9, {"938"})).ok());
  absl::StatusOr<std::vector<StoredEvent>> log = store_->ReadEvents(4, 10);
  ASSERT_TRUE(log.ok() && log->size() == 1u);
  EXPECT_EQ((*log)[0].sequence(), 5u);
  EXPECT_THAT(Listed((*log)[0]), ElementsAre("938:3"));

  // The old index is emptied and the store is at this release's version (3, then 4).
  store_.reset();
  EXPECT_THAT(ReadRawFamily(path_, "events_by_area"), IsEmpty());
  std::map<std::string, std::string> meta = ReadRawFamily(path_, "default");
  ASSERT_TRUE(meta.count("schema_version"));
  EXPECT_EQ(DecodeFixed32BigEndian(meta["schema_version"]), kSchemaVersion);
  EXPECT_EQ(ReadRawFamily(path_, "area_feed").size(), 4u);
}

TEST_F(AreaFeedMigrationTest, AMigrationInterruptedAfterWritingSomeFeedsRunsAgainToTheSameEnd) {
  // What a migration that wrote its first chunk (births 1 and 2) and stopped before stamping
  // version 3 leaves behind: the new families, those feeds, the log and children noting them.
  WriteVersionTwoStore(
      {"children", "identifiers", "events", "events_by_area", "area_feed", "requests"},
      [&](rocksdb::DB& db, RawFamilies& families) {
        rocksdb::WriteOptions w;
        for (int c = 0; c < 2; ++c) {
          StoredEvent event = log_[c];
          StoredAreaSequence* listed = event.add_area_sequences();
          listed->set_local_authority(children_[c].local_authority());
          listed->set_area_sequence(1);
          ASSERT_TRUE(db.Put(w, families["events"], EncodeEventKey(event.sequence()),
                             event.SerializeAsString())
                          .ok());
          StoredChild child = children_[c];
          if (c == 0) {
            child.set_upn(cir::testing::FictionalUpn(1));
            child.set_version(2);
          }
          child.add_feed_areas(child.local_authority());
          ASSERT_TRUE(
              db.Put(w, families["children"], child.child_id(), child.SerializeAsString()).ok());
          StoredFeedEvent entry = FeedEntry(child.local_authority(), child.child_id());
          entry.set_area_sequence(1);
          entry.set_event_sequence(event.sequence());
          ASSERT_TRUE(db.Put(w, families["area_feed"],
                             EncodeAreaEventKey(child.local_authority(), 1),
                             entry.SerializeAsString())
                          .ok());
        }
      });
  absl::StatusOr<std::unique_ptr<ChildStore>> store = RocksDbChildStore::Open(StoreOptions(path_));
  ASSERT_TRUE(store.ok()) << store.status();
  store_ = *std::move(store);
  ExpectMigrated();
}

}  // namespace
}  // namespace cir::storage
