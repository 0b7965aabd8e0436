#ifndef CIR_SERVER_GRPC_REPLY_RUNNER_H_
#define CIR_SERVER_GRPC_REPLY_RUNNER_H_

#include <atomic>
#include <condition_variable>
#include <cstdint>
#include <deque>
#include <mutex>

#include "absl/base/thread_annotations.h"
#include "absl/functional/any_invocable.h"

namespace cir::server {

// Runs tasks on gRPC's own threads, each task whole. The store gives it the replies of each
// committed write group: finishing all of a group's calls inside one gRPC task lets gRPC combine
// their responses into few network writes, where finishing them one by one from a thread of our
// own costs a write (and a wake-up on the client) per call.
//
// A task is handed over through a queue under our own mutex, not inside the alarm that wakes the
// gRPC thread: the hand-off from the caller's thread (the store's writer) to the gRPC thread is
// then one our code can see, so everything the writer did before Run happens before the task
// runs, as far as any checker (ThreadSanitizer) or reader of this code can tell, whatever gRPC
// does inside. The mutex itself was made on the thread that built the runner, and an alarm's
// callback may run on a gRPC thread that never synchronised with that one as far as
// ThreadSanitizer can tell: the callback first acquires a flag the constructor released, which
// orders the runner's construction before its lock.
//
// Thread safety: Run and WaitUntilIdle may be called from any thread.
class GrpcReplyRunner {
 public:
  GrpcReplyRunner();

  // Queues `task` and schedules a gRPC thread (through an alarm due now) to run the oldest queued
  // task; returns at once. Tasks run in the order they were queued when one alarm fires at a time.
  void Run(absl::AnyInvocable<void() &&> task);
  // Blocks until every task queued so far has run (before the gRPC server is destroyed).
  void WaitUntilIdle();

 private:
  // Takes the oldest queued task: the first step of every alarm's callback.
  absl::AnyInvocable<void() &&> TakeOldest();

  std::mutex mu_;
  std::condition_variable idle_;
  std::deque<absl::AnyInvocable<void() &&>> queue_ ABSL_GUARDED_BY(mu_);
  int64_t pending_ ABSL_GUARDED_BY(mu_) = 0;  // queued, or taken and still running
  std::atomic<bool> constructed_;             // see the class comment
};

}  // namespace cir::server

#endif  // CIR_SERVER_GRPC_REPLY_RUNNER_H_
