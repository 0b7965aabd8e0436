#include "server/grpc_reply_runner.h"

#include <utility>

#include "grpc/support/time.h"
#include "grpcpp/alarm.h"

namespace cir::server {

GrpcReplyRunner::GrpcReplyRunner() { constructed_.store(true, std::memory_order_release); }

void GrpcReplyRunner::Run(absl::AnyInvocable<void() &&> task) {
  // One alarm per task, made before the hand-off so that it is handed over too; it owns itself
  // until it fires and carries nothing but the runner. Its callback runs whether the alarm fired
  // or was cancelled, since every reply must be delivered.
  auto *alarm = new grpc::Alarm();
  {
    std::lock_guard<std::mutex> lock(mu_);
    queue_.push_back(std::move(task));
    ++pending_;
  }
  alarm->Set(gpr_now(GPR_CLOCK_MONOTONIC), [this, alarm](bool) {
    constructed_.load(std::memory_order_acquire);
    absl::AnyInvocable<void() &&> task = TakeOldest();
    std::move(task)();
    delete alarm;
    std::lock_guard<std::mutex> lock(mu_);
    if (--pending_ == 0) idle_.notify_all();
  });
}

absl::AnyInvocable<void() &&> GrpcReplyRunner::TakeOldest() {
  std::lock_guard<std::mutex> lock(mu_);
  // Each alarm is set after its task is queued and each callback takes one task, so the queue is
  // never empty here.
  absl::AnyInvocable<void() &&> task = std::move(queue_.front());
  queue_.pop_front();
  return task;
}

void GrpcReplyRunner::WaitUntilIdle() {
  std::unique_lock<std::mutex> lock(mu_);
  idle_.wait(lock, [this] { return pending_ == 0; });
}

}  // namespace cir::server
