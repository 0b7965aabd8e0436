#include "server/grpc_reply_runner.h"

#include <memory>
#include <utility>

#include "grpc/support/time.h"
#include "grpcpp/alarm.h"

namespace cir::server {

void GrpcReplyRunner::Run(absl::AnyInvocable<void() &&> task) {
  {
    std::lock_guard<std::mutex> lock(mu_);
    ++pending_;
  }
  // The alarm owns itself until it fires; the task runs whether it fired or was cancelled, since
  // every reply must be delivered.
  auto* alarm = new grpc::Alarm();
  auto shared_task = std::make_shared<absl::AnyInvocable<void() &&>>(std::move(task));
  alarm->Set(gpr_now(GPR_CLOCK_MONOTONIC), [this, alarm, shared_task](bool) {
    std::move (*shared_task)();
    delete alarm;
    std::lock_guard<std::mutex> lock(mu_);
    if (--pending_ == 0) idle_.notify_all();
  });
}

void GrpcReplyRunner::WaitUntilIdle() {
  std::unique_lock<std::mutex> lock(mu_);
  idle_.wait(lock, [this] { return pending_ == 0; });
}

}  // namespace cir::server
