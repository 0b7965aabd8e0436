#ifndef CIR_SERVER_GRPC_REPLY_RUNNER_H_
#define CIR_SERVER_GRPC_REPLY_RUNNER_H_

#include <condition_variable>
#include <cstdint>
#include <mutex>

#include "absl/base/thread_annotations.h"
#include "absl/functional/any_invocable.h"

namespace cir::server {

// Runs tasks on gRPC's own threads, each task whole. The store gives it the replies of each
// committed write group: finishing all of a group's calls inside one gRPC task lets gRPC combine
// their responses into few network writes, where finishing them one by one from a thread of our
// own costs a write (and a wake-up on the client) per call.
//
// Thread safety: Run and WaitUntilIdle may be called from any thread.
class GrpcReplyRunner {
 public:
  // Schedules `task` on a gRPC thread (through an alarm due now) and returns at once.
  void Run(absl::AnyInvocable<void() &&> task);
  // Blocks until every task scheduled so far has run (before the gRPC server is destroyed).
  void WaitUntilIdle();

 private:
  std::mutex mu_;
  std::condition_variable idle_;
  int64_t pending_ ABSL_GUARDED_BY(mu_) = 0;
};

}  // namespace cir::server

#endif  // CIR_SERVER_GRPC_REPLY_RUNNER_H_
