#include "storage/serial_executor.h"

#include <pthread.h>

#include <utility>

namespace cir::storage {

SerialExecutor::SerialExecutor(std::string thread_name)
    : thread_([this, name = std::move(thread_name)] { Run(name); }) {}

SerialExecutor::~SerialExecutor() {
  {
    std::lock_guard<std::mutex> lock(mu_);
    stopping_ = true;
  }
  cv_.notify_one();
  thread_.join();
}

void SerialExecutor::Post(absl::AnyInvocable<void() &&> task) {
  {
    std::lock_guard<std::mutex> lock(mu_);
    if (!stopping_) {
      tasks_.push_back(std::move(task));
      cv_.notify_one();
      return;
    }
  }
  std::move(task)();  // stopping: run it here rather than lose it
}

void SerialExecutor::Run(const std::string& thread_name) {
  pthread_setname_np(pthread_self(), thread_name.substr(0, 15).c_str());
  for (;;) {
    std::deque<absl::AnyInvocable<void() &&>> batch;
    {
      std::unique_lock<std::mutex> lock(mu_);
      cv_.wait(lock, [this] { return stopping_ || !tasks_.empty(); });
      if (tasks_.empty()) return;  // stopping, and every posted task has run
      batch.swap(tasks_);
    }
    for (auto& task : batch) std::move(task)();
  }
}

}  // namespace cir::storage
