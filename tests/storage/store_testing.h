#ifndef CIR_TESTS_STORAGE_STORE_TESTING_H_
#define CIR_TESTS_STORAGE_STORE_TESTING_H_

// Helpers for tests of the store: records to write, units waited for, a writer held still.

#include <future>
#include <string>
#include <utility>

#include "absl/status/status.h"
#include "storage/child_store.h"
#include "storage/rocksdb_child_store.h"

namespace cir::storage::testing {

// Options for a store in `path`, created if missing (tests start from empty folders).
inline RocksDbStoreOptions StoreOptions(const std::string& path) {
  RocksDbStoreOptions options;
  options.path = path;
  options.create_if_missing = true;
  return options;
}

inline StoredChild Child(const std::string& id, const std::string& la = "938") {
  StoredChild child;
  child.set_child_id(id);
  child.set_local_authority(la);
  child.set_version(1);
  return child;
}

// Appends an event about `child_id` in `la` through `txn`.
inline absl::Status AppendEvent(WriteTxn& txn, const std::string& child_id,
                                const std::string& la = "938") {
  StoredEvent event;
  event.set_child_id(child_id);
  event.set_local_authority(la);
  return txn.AppendEvent(event);
}

// A unit that writes child `id`, its NHS number index entry `nhs` and an event about it.
inline WriteWork RegisterChild(std::string id, std::string nhs) {
  return [id = std::move(id), nhs = std::move(nhs)](WriteTxn& txn) {
    absl::Status s = txn.PutChild(Child(id));
    if (s.ok()) s = txn.PutIndex(IndexKind::kNhsNumber, nhs, IndexEntry{id, ""});
    if (s.ok()) s = AppendEvent(txn, id);
    return s;
  };
}

// Submits `work` and waits for its outcome (tests only: the server never waits like this).
inline absl::Status RunUnit(ChildStore& store, WriteWork work, SubmitOptions options = {}) {
  std::promise<absl::Status> outcome;
  store.Submit(std::move(work), [&](absl::Status s) { outcome.set_value(std::move(s)); },
               std::move(options));
  return outcome.get_future().get();
}

// Holds the store's writer inside a unit of its own (which writes nothing) from construction
// until Release, so that every unit submitted meanwhile waits in the queue and, once released,
// the queued units run together in one group (up to max_group_size).
class WriterBlocker {
 public:
  explicit WriterBlocker(ChildStore& store) {
    std::future<void> running = running_.get_future();
    store.Submit(
        [this](WriteTxn&) {
          running_.set_value();
          release_.get_future().wait();
          return absl::OkStatus();
        },
        [this](absl::Status s) { done_.set_value(std::move(s)); });
    running.wait();  // the writer has taken this unit, alone, and the queue is empty
  }
  ~WriterBlocker() {
    Release();
    done_.get_future().wait();
  }
  WriterBlocker(const WriterBlocker&) = delete;
  WriterBlocker& operator=(const WriterBlocker&) = delete;

  void Release() {
    if (!released_) release_.set_value();
    released_ = true;
  }

 private:
  std::promise<void> running_;
  std::promise<void> release_;
  std::promise<absl::Status> done_;
  bool released_ = false;
};

}  // namespace cir::storage::testing

#endif  // CIR_TESTS_STORAGE_STORE_TESTING_H_
