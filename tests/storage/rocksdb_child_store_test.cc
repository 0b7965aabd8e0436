#include "storage/rocksdb_child_store.h"

#include <unistd.h>

#include <atomic>
#include <filesystem>
#include <future>
#include <string>
#include <thread>
#include <vector>

#include "absl/strings/str_cat.h"
#include "errors/refusal.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "storage/key_codec.h"
#include "storage/rocksdb_status.h"
#include "tests/storage/store_testing.h"
#include "tests/testing/process_memory.h"
#include "tests/testing/temp_dir.h"

namespace cir::storage {
namespace {

using ::testing::HasSubstr;
using testing::AppendEvent;
using testing::Child;
using testing::RunUnit;
using testing::StoreOptions;
using testing::WriterBlocker;

class RocksDbChildStoreTest : public ::testing::Test {
 protected:
  std::unique_ptr<ChildStore> Open(RocksDbStoreOptions options) {
    absl::StatusOr<std::unique_ptr<ChildStore>> store = RocksDbChildStore::Open(options);
    EXPECT_TRUE(store.ok()) << store.status();
    return store.ok() ? *std::move(store) : nullptr;
  }
  std::unique_ptr<ChildStore> Open() { return Open(StoreOptions(dir_.Sub("db"))); }

  cir::testing::TempDir dir_;
};

// Collects outcomes delivered on any thread.
struct Outcomes {
  explicit Outcomes(size_t n) : promises(n) {}
  WriteDone For(size_t i) {
    return [this, i](absl::Status s) { promises[i].set_value(std::move(s)); };
  }
  absl::Status Get(size_t i) { return promises[i].get_future().get(); }
  std::vector<std::promise<absl::Status>> promises;
};

TEST(FromRocksTest, TransientFaultsAreUnavailableWithAReason) {
  for (const rocksdb::Status& fault :
       {rocksdb::Status::IOError("disk"), rocksdb::Status::Busy(), rocksdb::Status::TimedOut(),
        rocksdb::Status::TryAgain(), rocksdb::Status::NoSpace()}) {
    absl::Status s = FromRocks(fault, "reading a child");
    EXPECT_EQ(s.code(), absl::StatusCode::kUnavailable) << s;
    EXPECT_EQ(errors::ReasonOf(s), v1::STORE_UNAVAILABLE) << s;
    EXPECT_THAT(s.message(), HasSubstr("reading a child: "));
  }
}

TEST(FromRocksTest, CorruptionIsDataLossWithAReason) {
  absl::Status s = FromRocks(rocksdb::Status::Corruption("bad block"), "reading events");
  EXPECT_EQ(s.code(), absl::StatusCode::kDataLoss) << s;
  EXPECT_EQ(errors::ReasonOf(s), v1::STORED_DATA_UNREADABLE) << s;
}

TEST(FromRocksTest, AnythingElseIsInternalWithAReason) {
  for (const rocksdb::Status& fault :
       {rocksdb::Status::InvalidArgument("x"), rocksdb::Status::NotSupported("y")}) {
    absl::Status s = FromRocks(fault, "staging a child");
    EXPECT_EQ(s.code(), absl::StatusCode::kInternal) << s;
    EXPECT_EQ(errors::ReasonOf(s), v1::INTERNAL_ERROR) << s;
  }
  EXPECT_TRUE(FromRocks(rocksdb::Status::OK(), "anything").ok());
}

TEST_F(RocksDbChildStoreTest, AUnitsWritesAreReadableOnceItIsAcknowledged) {
  std::unique_ptr<ChildStore> store = Open();
  ASSERT_TRUE(RunUnit(*store, [](WriteTxn& txn) {
                absl::Status s = txn.PutChild(Child("AAAAAAAAAAA"));
                if (!s.ok()) return s;
                return txn.PutIndex(IndexKind::kNhsNumber, "9990000018", {"AAAAAAAAAAA", ""});
              }).ok());
  absl::StatusOr<std::optional<StoredChild>> child = store->GetChild("AAAAAAAAAAA");
  ASSERT_TRUE(child.ok() && child->has_value());
  EXPECT_EQ((*child)->local_authority(), "938");
  absl::StatusOr<std::optional<IndexEntry>> entry =
      store->Lookup(IndexKind::kNhsNumber, "9990000018");
  ASSERT_TRUE(entry.ok() && entry->has_value());
  EXPECT_EQ((*entry)->child_id, "AAAAAAAAAAA");
  EXPECT_FALSE(store->Lookup(IndexKind::kUpn, "9990000018")->has_value());
  EXPECT_TRUE(store->WriteAvailability().ok());
}

TEST_F(RocksDbChildStoreTest, AFailedUnitLeavesNothingBehindAndItsGroupUnharmed) {
  std::unique_ptr<ChildStore> store = Open();
  Outcomes outcomes(3);
  std::vector<absl::Time> commit_times(3);
  {
    WriterBlocker blocker(*store);  // the three units below queue up and run as one group
    store->Submit(
        [&](WriteTxn& txn) {
          commit_times[0] = txn.CommitTime();
          return txn.PutChild(Child("BBBBBBBBBBB"));
        },
        outcomes.For(0));
    store->Submit(
        [&](WriteTxn& txn) {
          commit_times[1] = txn.CommitTime();
          absl::Status s = txn.PutChild(Child("CCCCCCCCCCC"));
          if (!s.ok()) return s;
          s = AppendEvent(txn, "CCCCCCCCCCC", "938");
          if (!s.ok()) return s;
          return absl::FailedPreconditionError("refused after staging");
        },
        outcomes.For(1));
    store->Submit(
        [&](WriteTxn& txn) {
          commit_times[2] = txn.CommitTime();
          return AppendEvent(txn, "DDDDDDDDDDD", "201");
        },
        outcomes.For(2));
  }
  EXPECT_TRUE(outcomes.Get(0).ok());
  EXPECT_EQ(outcomes.Get(1).code(), absl::StatusCode::kFailedPrecondition);
  EXPECT_TRUE(outcomes.Get(2).ok());
  EXPECT_EQ(commit_times[0], commit_times[1]);  // they did share a group
  EXPECT_EQ(commit_times[1], commit_times[2]);
  EXPECT_TRUE(store->GetChild("BBBBBBBBBBB")->has_value());
  EXPECT_FALSE(store->GetChild("CCCCCCCCCCC")->has_value());
  absl::StatusOr<std::vector<StoredEvent>> events = store->ReadEvents(0, 10);
  ASSERT_TRUE(events.ok());
  ASSERT_EQ(events->size(), 1u);  // the failed unit's event is gone and left no gap
  EXPECT_EQ((*events)[0].sequence(), 1u);
  EXPECT_EQ((*events)[0].child_id(), "DDDDDDDDDDD");
}

TEST_F(RocksDbChildStoreTest, AUnitThatStagedNothingIsDiscardedWithoutRollingTheBatchBack) {
  // Every rollback made is counted, and fails: had the store rolled back the unit below (which
  // staged nothing), it would have discarded the whole group.
  std::atomic<int> rollbacks = 0;
  RocksDbStoreTestHooks hooks;
  hooks.fail_rollback = [&] {
    ++rollbacks;
    return true;
  };
  absl::StatusOr<std::unique_ptr<ChildStore>> opened =
      RocksDbChildStore::OpenWithTestHooks(StoreOptions(dir_.Sub("db")), hooks);
  ASSERT_TRUE(opened.ok()) << opened.status();
  ChildStore& store = **opened;
  Outcomes outcomes(3);
  {
    WriterBlocker blocker(store);
    store.Submit([](WriteTxn& txn) { return txn.PutChild(Child("EEEEEEEEEEE")); },
                 outcomes.For(0));
    store.Submit([](WriteTxn&) { return absl::AlreadyExistsError("refused before staging"); },
                 outcomes.For(1));
    store.Submit([](WriteTxn& txn) { return txn.PutChild(Child("FFFFFFFFFFF")); },
                 outcomes.For(2));
  }
  EXPECT_TRUE(outcomes.Get(0).ok());
  EXPECT_EQ(outcomes.Get(1).code(), absl::StatusCode::kAlreadyExists);
  EXPECT_TRUE(outcomes.Get(2).ok());
  EXPECT_EQ(rollbacks.load(), 0);
  EXPECT_TRUE(store.GetChild("EEEEEEEEEEE")->has_value());
  EXPECT_TRUE(store.GetChild("FFFFFFFFFFF")->has_value());
}

TEST_F(RocksDbChildStoreTest, AFailedRollbackAbortsTheWholeGroupAndWritesNothing) {
  std::atomic<bool> fail_rollback = true;
  RocksDbStoreTestHooks hooks;
  hooks.fail_rollback = [&] { return fail_rollback.load(); };
  absl::StatusOr<std::unique_ptr<ChildStore>> opened =
      RocksDbChildStore::OpenWithTestHooks(StoreOptions(dir_.Sub("db")), hooks);
  ASSERT_TRUE(opened.ok()) << opened.status();
  ChildStore& store = **opened;
  auto gone = [] {  // a caller whose deadline has passed
    SubmitOptions options;
    options.deadline = absl::InfinitePast();
    return options;
  };
  Outcomes outcomes(5);
  {
    WriterBlocker blocker(store);
    store.Submit([](WriteTxn& txn) { return txn.PutChild(Child("GGGGGGGGGGG")); },
                 outcomes.For(0));
    store.Submit([](WriteTxn& txn) { return txn.PutChild(Child("FFFFFFFFFFF")); }, outcomes.For(1),
                 gone());
    store.Submit(
        [](WriteTxn& txn) {
          absl::Status s = txn.PutChild(Child("HHHHHHHHHHH"));
          if (!s.ok()) return s;
          return absl::FailedPreconditionError("refused after staging");
        },
        outcomes.For(2));
    store.Submit([](WriteTxn& txn) { return txn.PutChild(Child("JJJJJJJJJJJ")); },
                 outcomes.For(3));
    store.Submit([](WriteTxn& txn) { return txn.PutChild(Child("LLLLLLLLLLL")); }, outcomes.For(4),
                 gone());
  }
  // The others in the group wrote nothing and may retry: ABORTED, never INTERNAL (which a client
  // does not retry).
  for (size_t i : {0, 3}) {
    absl::Status discarded = outcomes.Get(i);
    EXPECT_EQ(discarded.code(), absl::StatusCode::kAborted) << discarded;
    EXPECT_THAT(discarded.message(), HasSubstr("nothing was written"));
    EXPECT_EQ(errors::ReasonOf(discarded), v1::INTERNAL_ERROR);
  }
  // Units whose caller had gone still say so, before and after the failed one.
  for (size_t i : {1, 4}) {
    absl::Status abandoned = outcomes.Get(i);
    EXPECT_EQ(abandoned.code(), absl::StatusCode::kDeadlineExceeded) << abandoned;
    EXPECT_EQ(errors::ReasonOf(abandoned), v1::CALL_ABANDONED) << abandoned;
  }
  EXPECT_EQ(outcomes.Get(2).code(), absl::StatusCode::kFailedPrecondition);
  for (const char* id : {"GGGGGGGGGGG", "FFFFFFFFFFF", "HHHHHHHHHHH", "JJJJJJJJJJJ", "LLLLLLLLLLL"}) {
    EXPECT_FALSE(store.GetChild(id)->has_value()) << id;
  }
  fail_rollback = false;  // the store goes on taking writes
  EXPECT_TRUE(RunUnit(store, [](WriteTxn& txn) { return txn.PutChild(Child("KKKKKKKKKKK")); }).ok());
  EXPECT_TRUE(store.GetChild("KKKKKKKKKKK")->has_value());
}

TEST_F(RocksDbChildStoreTest, APartWhoseWritesCannotBeUndoneAbortsItsUnitWithTheWholeGroup) {
  RocksDbStoreTestHooks hooks;
  hooks.fail_rollback = [] { return true; };
  absl::StatusOr<std::unique_ptr<ChildStore>> opened =
      RocksDbChildStore::OpenWithTestHooks(StoreOptions(dir_.Sub("db")), hooks);
  ASSERT_TRUE(opened.ok()) << opened.status();
  ChildStore& store = **opened;
  Outcomes outcomes(3);
  absl::Status part_outcome;
  {
    WriterBlocker blocker(store);
    store.Submit([](WriteTxn& txn) { return txn.PutChild(Child("GGGGGGGGGGG")); }, outcomes.For(0));
    // A bulk unit: its first part is kept, its second refused after staging, and the unit goes
    // on to answer OK, as a bulk call with one refused item does.
    store.Submit(
        [&](WriteTxn& txn) {
          absl::Status kept = txn.RunPart([&] { return txn.PutChild(Child("HHHHHHHHHHH")); });
          if (!kept.ok()) return kept;
          part_outcome = txn.RunPart([&] {
            absl::Status s = txn.PutChild(Child("JJJJJJJJJJJ"));
            if (!s.ok()) return s;
            return absl::FailedPreconditionError("refused after staging");
          });
          return absl::OkStatus();
        },
        outcomes.For(1));
    store.Submit([](WriteTxn& txn) { return txn.PutChild(Child("KKKKKKKKKKK")); }, outcomes.For(2));
  }
  // The bulk unit too wrote nothing: ABORTED, which its caller retries, as its group-mates hear.
  for (size_t i : {0, 1, 2}) {
    absl::Status discarded = outcomes.Get(i);
    EXPECT_EQ(discarded.code(), absl::StatusCode::kAborted) << i << ": " << discarded;
    EXPECT_THAT(discarded.message(), HasSubstr("nothing was written")) << i;
  }
  EXPECT_EQ(part_outcome.code(), absl::StatusCode::kInternal) << part_outcome;  // set before
  for (const char* id : {"GGGGGGGGGGG", "HHHHHHHHHHH", "JJJJJJJJJJJ", "KKKKKKKKKKK"}) {
    EXPECT_FALSE(store.GetChild(id)->has_value()) << id;
  }
}

TEST_F(RocksDbChildStoreTest, LaterUnitsInAGroupSeeEarlierUnitsWrites) {
  std::unique_ptr<ChildStore> store = Open();
  // 64 units in one group race to claim one key; each claims only if unclaimed. Exactly one wins.
  std::atomic<int> winners = 0;
  Outcomes outcomes(64);
  {
    WriterBlocker blocker(*store);
    for (int i = 0; i < 64; ++i) {
      store->Submit(
          [i, &winners](WriteTxn& txn) -> absl::Status {
            absl::StatusOr<std::optional<IndexEntry>> holder =
                txn.Lookup(IndexKind::kUpn, "B801200005001");
            if (!holder.ok()) return holder.status();
            if (holder->has_value()) return absl::AlreadyExistsError("taken");
            ++winners;
            return txn.PutIndex(IndexKind::kUpn, "B801200005001",
                                {absl::StrCat("E", std::string(9, 'A'), i % 10), ""});
          },
          outcomes.For(i));
    }
  }
  int ok = 0;
  for (int i = 0; i < 64; ++i) ok += outcomes.Get(i).ok();
  EXPECT_EQ(ok, 1);
  EXPECT_EQ(winners.load(), 1);
}

TEST_F(RocksDbChildStoreTest, EventsCarryTheirGroupsCommitTimeInSequenceOrder) {
  std::unique_ptr<ChildStore> store = Open();
  std::vector<absl::Time> seen;
  for (int group = 0; group < 3; ++group) {
    Outcomes outcomes(2);
    {
      WriterBlocker blocker(*store);
      for (int i = 0; i < 2; ++i) {
        store->Submit(
            [&](WriteTxn& txn) {
              seen.push_back(txn.CommitTime());
              StoredEvent event;
              event.set_child_id("LLLLLLLLLLL");
              event.set_local_authority("938");
              event.set_at_unix_micros(1);  // whatever the caller says, the store stamps it
              return txn.AppendEvent(event);
            },
            outcomes.For(i));
      }
    }
    ASSERT_TRUE(outcomes.Get(0).ok());
    ASSERT_TRUE(outcomes.Get(1).ok());
  }
  absl::StatusOr<std::vector<StoredEvent>> events = store->ReadEvents(0, 10);
  ASSERT_TRUE(events.ok());
  ASSERT_EQ(events->size(), 6u);
  for (size_t i = 0; i < events->size(); ++i) {
    EXPECT_EQ((*events)[i].at_unix_micros(), absl::ToUnixMicros(seen[i])) << i;
    if (i > 0) {
      EXPECT_GE((*events)[i].at_unix_micros(), (*events)[i - 1].at_unix_micros());
    }
  }
  EXPECT_EQ(seen[0], seen[1]);  // one time per group
  EXPECT_LE(seen[1], seen[2]);
}

TEST_F(RocksDbChildStoreTest, EventSequencesContinueAcrossReopen) {
  {
    std::unique_ptr<ChildStore> store = Open();
    for (int i = 0; i < 3; ++i) {
      ASSERT_TRUE(RunUnit(*store, [](WriteTxn& txn) {
                    return AppendEvent(txn, "EEEEEEEEEEE", "938");
                  }).ok());
    }
  }
  std::unique_ptr<ChildStore> store = Open();
  ASSERT_TRUE(RunUnit(*store, [](WriteTxn& txn) {
                return AppendEvent(txn, "EEEEEEEEEEE", "938");
              }).ok());
  absl::StatusOr<std::vector<StoredEvent>> events = store->ReadEvents(0, 10);
  ASSERT_TRUE(events.ok());
  ASSERT_EQ(events->size(), 4u);
  for (int i = 0; i < 4; ++i) EXPECT_EQ((*events)[i].sequence(), static_cast<uint64_t>(i + 1));
  EXPECT_EQ(store->ReadEvents(2, 10)->size(), 2u);
  EXPECT_GE((*events)[3].at_unix_micros(), (*events)[2].at_unix_micros());
}

TEST_F(RocksDbChildStoreTest, BatchedReadsAnswerInInputOrder) {
  std::unique_ptr<ChildStore> store = Open();
  ASSERT_TRUE(RunUnit(*store, [](WriteTxn& txn) {
                absl::Status s = txn.PutChild(Child("FFFFFFFFFFF"));
                if (!s.ok()) return s;
                return txn.PutIndex(IndexKind::kUpn, "B801200005001", {"FFFFFFFFFFF", ""});
              }).ok());
  std::vector<std::string> ids = {"GGGGGGGGGGG", "FFFFFFFFFFF"};
  auto children = store->GetChildren(ids);
  ASSERT_EQ(children.size(), 2u);
  EXPECT_FALSE(children[0]->has_value());
  EXPECT_TRUE(children[1]->has_value());
  std::vector<IndexKey> keys = {{IndexKind::kUpn, "B801200005001"},
                                {IndexKind::kNhsNumber, "B801200005001"}};
  auto entries = store->LookupMany(keys);
  ASSERT_EQ(entries.size(), 2u);
  EXPECT_TRUE(entries[0]->has_value());
  EXPECT_FALSE(entries[1]->has_value());
  auto stored = store->ChildrenExist(ids);
  ASSERT_EQ(stored.size(), 2u);
  EXPECT_FALSE(*stored[0]);
  EXPECT_TRUE(*stored[1]);
}

TEST_F(RocksDbChildStoreTest, AFolderWithoutAStoreIsRefusedUnlessCreationIsAskedFor) {
  RocksDbStoreOptions unmounted;
  unmounted.path = dir_.Sub("unmounted");
  absl::StatusOr<std::unique_ptr<ChildStore>> store = RocksDbChildStore::Open(unmounted);
  EXPECT_EQ(store.status().code(), absl::StatusCode::kFailedPrecondition);
  EXPECT_FALSE(std::filesystem::exists(dir_.Sub("unmounted")));
  // An empty folder (a mount point whose volume is missing) is refused and left empty.
  std::filesystem::create_directory(dir_.Sub("mount_point"));
  RocksDbStoreOptions mount_point;
  mount_point.path = dir_.Sub("mount_point");
  EXPECT_EQ(RocksDbChildStore::Open(mount_point).status().code(),
            absl::StatusCode::kFailedPrecondition);
  EXPECT_TRUE(std::filesystem::is_empty(dir_.Sub("mount_point")));
  Open().reset();  // created on purpose
  RocksDbStoreOptions existing;
  existing.path = dir_.Sub("db");
  EXPECT_TRUE(RocksDbChildStore::Open(existing).ok());  // and reopened without
}

TEST_F(RocksDbChildStoreTest, ASecondOpenOfTheSameFolderIsRefusedWhileTheFirstIsOpen) {
  std::unique_ptr<ChildStore> store = Open();
  absl::StatusOr<std::unique_ptr<ChildStore>> second =
      RocksDbChildStore::Open(StoreOptions(dir_.Sub("db")));
  EXPECT_EQ(second.status().code(), absl::StatusCode::kUnavailable);
}

TEST_F(RocksDbChildStoreTest, ClosingCommitsEveryQueuedUnit) {
  std::atomic<int> acknowledged = 0;
  {
    std::unique_ptr<ChildStore> store = Open();
    for (int i = 0; i < 500; ++i) {
      std::string id = absl::StrCat("H", std::string(6, 'A'), 1000 + i);
      store->Submit([id](WriteTxn& txn) { return txn.PutChild(Child(id)); },
                    [&](absl::Status s) { acknowledged += s.ok(); });
    }
  }  // the destructor drains the queue
  EXPECT_EQ(acknowledged.load(), 500);
  std::unique_ptr<ChildStore> store = Open();
  for (int i = 0; i < 500; ++i) {
    EXPECT_TRUE(store->GetChild(absl::StrCat("H", std::string(6, 'A'), 1000 + i))->has_value());
  }
}

TEST_F(RocksDbChildStoreTest, AUnitWhoseCallerHasGoneIsNotRun) {
  std::unique_ptr<ChildStore> store = Open();
  std::atomic<int> ran = 0;
  std::atomic<bool> cancelled = false;
  Outcomes outcomes(3);
  {
    WriterBlocker blocker(*store);
    SubmitOptions past_deadline;
    past_deadline.deadline = absl::Now() - absl::Seconds(1);
    store->Submit(
        [&](WriteTxn& txn) {
          ++ran;
          return txn.PutChild(Child("MMMMMMMMMMM"));
        },
        outcomes.For(0), std::move(past_deadline));
    SubmitOptions cancellable;
    cancellable.is_cancelled = [&] { return cancelled.load(); };
    store->Submit(
        [&](WriteTxn& txn) {
          ++ran;
          return txn.PutChild(Child("NNNNNNNNNNN"));
        },
        outcomes.For(1), std::move(cancellable));
    SubmitOptions patient;
    patient.deadline = absl::Now() + absl::Hours(1);
    patient.is_cancelled = [] { return false; };
    store->Submit(
        [&](WriteTxn& txn) {
          ++ran;
          return txn.PutChild(Child("PPPPPPPPPPP"));
        },
        outcomes.For(2), std::move(patient));
    cancelled = true;  // the caller goes while its unit waits
  }
  absl::Status late = outcomes.Get(0);
  EXPECT_EQ(late.code(), absl::StatusCode::kDeadlineExceeded);
  EXPECT_EQ(errors::ReasonOf(late), v1::CALL_ABANDONED);
  absl::Status gone = outcomes.Get(1);
  EXPECT_EQ(gone.code(), absl::StatusCode::kCancelled);
  EXPECT_EQ(errors::ReasonOf(gone), v1::CALL_ABANDONED);
  EXPECT_THAT(gone.message(), HasSubstr("nothing was written"));
  EXPECT_TRUE(outcomes.Get(2).ok());
  EXPECT_EQ(ran.load(), 1);
  EXPECT_FALSE(store->GetChild("MMMMMMMMMMM")->has_value());
  EXPECT_FALSE(store->GetChild("NNNNNNNNNNN")->has_value());
  EXPECT_TRUE(store->GetChild("PPPPPPPPPPP")->has_value());
}

// Resident memory of this process, in bytes.
int64_t ResidentBytes() { return cir::testing::ProcessMemoryKib(getpid(), "VmRSS") * 1024; }

TEST_F(RocksDbChildStoreTest, AFullQueueRefusesAtOnceAndMemoryStaysWithinTheBound) {
  constexpr size_t kBound = 100'000;
  constexpr size_t kSubmitted = 1'000'000;
#if defined(__SANITIZE_THREAD__) || defined(__SANITIZE_ADDRESS__)
  constexpr int64_t kGenerousLimit = 512 << 20;
#else
  constexpr int64_t kGenerousLimit = 64 << 20;
#endif
  RocksDbStoreOptions options = StoreOptions(dir_.Sub("db"));
  options.max_queued_units = kBound;
  std::unique_ptr<ChildStore> store = Open(options);
  // The reply below allocates nothing, so that resident memory measures the queue alone.
  struct Tally {
    std::thread::id caller = std::this_thread::get_id();
    std::atomic<size_t> refused_at_once = 0, refused_otherwise = 0, acknowledged = 0,
                        unavailable = 0;
    absl::Status last_refusal;  // written on the caller's thread only
  } tally;
  auto submit = [&] {
    store->Submit([](WriteTxn&) { return absl::OkStatus(); },
                  [t = &tally](absl::Status s) {
                    if (s.ok()) {
                      ++t->acknowledged;
                    } else if (std::this_thread::get_id() == t->caller) {
                      ++t->refused_at_once;
                      t->unavailable += s.code() == absl::StatusCode::kUnavailable;
                      t->last_refusal = std::move(s);
                    } else {
                      ++t->refused_otherwise;
                    }
                  });
  };
  const int64_t resident_before = ResidentBytes();
  {
    WriterBlocker blocker(*store);
    for (size_t i = 0; i < kBound; ++i) submit();
    const int64_t resident_when_full = ResidentBytes();
    for (size_t i = kBound; i < kSubmitted; ++i) submit();
    const int64_t resident_after = ResidentBytes();
    // Every refusal came inside Submit, on this thread, while the writer was still held.
    EXPECT_EQ(tally.refused_at_once.load(), kSubmitted - kBound);
    EXPECT_EQ(tally.unavailable.load(), kSubmitted - kBound);
    EXPECT_EQ(errors::ReasonOf(tally.last_refusal), v1::WRITE_QUEUE_FULL);
    EXPECT_EQ(tally.acknowledged.load(), 0u);
    // The queued units cost about 150 bytes each (15 MB; a million would cost ten times that),
    // more under a sanitizer's shadow memory; the refused ones cost nothing that stays.
    EXPECT_LT(resident_after - resident_before, kGenerousLimit)
        << "resident memory grew by " << resident_after - resident_before << " bytes";
    EXPECT_LT(resident_after - resident_when_full, 8 << 20)
        << "refusing units grew resident memory by " << resident_after - resident_when_full;
  }
  store.reset();  // drains the queue: every accepted unit runs
  EXPECT_EQ(tally.acknowledged.load(), kBound);
  EXPECT_EQ(tally.refused_otherwise.load(), 0u);
}

TEST_F(RocksDbChildStoreTest, TheQueueIsBoundedInBytesToo) {
  RocksDbStoreOptions options = StoreOptions(dir_.Sub("db"));
  options.max_queued_bytes = 10'000;
  std::unique_ptr<ChildStore> store = Open(options);
  std::atomic<int> acknowledged = 0, queue_full = 0;
  {
    WriterBlocker blocker(*store);
    for (int i = 0; i < 25; ++i) {
      SubmitOptions thousand_bytes;
      thousand_bytes.approximate_bytes = 1000;
      store->Submit([](WriteTxn&) { return absl::OkStatus(); },
                    [&](absl::Status s) {
                      acknowledged += s.ok();
                      queue_full += errors::ReasonOf(s) == v1::WRITE_QUEUE_FULL;
                    },
                    std::move(thousand_bytes));
    }
    EXPECT_EQ(queue_full.load(), 15);
  }
  store.reset();
  EXPECT_EQ(acknowledged.load(), 10);
}

TEST_F(RocksDbChildStoreTest, AUnitLargerThanTheByteBoundIsTakenWhenTheQueueIsEmpty) {
  RocksDbStoreOptions options = StoreOptions(dir_.Sub("db"));
  options.max_queued_bytes = 1000;
  std::unique_ptr<ChildStore> store = Open(options);
  SubmitOptions large;
  large.approximate_bytes = 5000;
  EXPECT_TRUE(RunUnit(
                  *store, [](WriteTxn&) { return absl::OkStatus(); }, std::move(large))
                  .ok());
}

TEST_F(RocksDbChildStoreTest, OptionsThatCouldNeverWorkAreRefused) {
  RocksDbStoreOptions no_queue = StoreOptions(dir_.Sub("db"));
  no_queue.max_queued_units = 0;
  EXPECT_EQ(RocksDbChildStore::Open(no_queue).status().code(), absl::StatusCode::kInvalidArgument);
  RocksDbStoreOptions no_retry = StoreOptions(dir_.Sub("db"));
  no_retry.write_recovery_interval = absl::ZeroDuration();
  EXPECT_EQ(RocksDbChildStore::Open(no_retry).status().code(), absl::StatusCode::kInvalidArgument);
}

}  // namespace
}  // namespace cir::storage
