#ifndef CIR_TESTS_FUZZ_FUZZ_STORE_H_
#define CIR_TESTS_FUZZ_FUZZ_STORE_H_

// A RocksDB store, and a registry with its life events over it, for the fuzz targets that run
// the registry's own code against a real store: opened once per process, in a temporary folder
// of its own (under TMPDIR), closed and removed when the process exits normally.
//
// The store is unencrypted and does not sync its writes: the fuzz targets judge what the registry
// does with requests and records, not durability, and a sync per input would take most of the
// time. Its state carries over from one input to the next.

#include <future>
#include <string>
#include <utility>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/time/civil_time.h"
#include "registry/life_events.h"
#include "registry/registry.h"
#include "storage/child_store.h"

namespace cir::fuzz {

// The date the fuzzed registries take as today, so that a date in an input means the same on
// every run.
inline absl::CivilDay FuzzToday() { return absl::CivilDay(2026, 11, 25); }

struct FuzzStore {
  storage::ChildStore* store = nullptr;
  // A test environment's registry, which accepts NHS numbers of the test range (999...)...
  registry::Registry* registry = nullptr;
  registry::LifeEvents* life_events = nullptr;
  // ... and a production one's, which refuses them.
  registry::Registry* strict_registry = nullptr;
  registry::LifeEvents* strict_life_events = nullptr;
  // The folder the store is in.
  std::string folder;
};

// The process's store, opened by the first call (which aborts if it cannot be). The first call
// also drops protobuf's log lines below FATAL.
const FuzzStore& SharedStore();

// A folder of its own under TMPDIR, created by the first call and removed with everything in it
// when the process exits normally.
const std::string& ProcessFolder();

// Submits `work` to `store` with `options` and waits for its outcome.
absl::Status RunUnit(storage::ChildStore& store, storage::WriteWork work,
                     storage::SubmitOptions options = {});

// Calls `call` with a reply for a registry write of `Response` and waits for the reply: what the
// registry answers, however many threads it takes.
template <typename Response, typename Call>
absl::StatusOr<Response> WaitForReply(Call&& call) {
  std::promise<absl::StatusOr<Response>> reply;
  std::future<absl::StatusOr<Response>> answered = reply.get_future();
  std::forward<Call>(call)(
      [&reply](absl::StatusOr<Response> result) { reply.set_value(std::move(result)); });
  return answered.get();
}

}  // namespace cir::fuzz

#endif  // CIR_TESTS_FUZZ_FUZZ_STORE_H_
