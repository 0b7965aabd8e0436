#include "storage/group_deliverer.h"

#include <pthread.h>

#include <utility>

namespace cir::storage {

GroupDeliverer::GroupDeliverer(std::string thread_name, std::function<absl::Status()> sync)
    : sync_(std::move(sync)), thread_([this, name = std::move(thread_name)] { Run(name); }) {}

void GroupDeliverer::Stop() {
  {
    std::lock_guard<std::mutex> lock(mu_);
    if (stopping_) return;
    stopping_ = true;
  }
  cv_.notify_all();
  thread_.join();
}

void GroupDeliverer::Post(bool written_unsynced, Replies replies) {
  {
    std::lock_guard<std::mutex> lock(mu_);
    if (!stopping_) {
      groups_.push_back(Group{written_unsynced, std::move(replies)});
      ++posted_;
      cv_.notify_all();
      return;
    }
  }
  // Stopping: delivered here rather than lost.
  std::deque<Group> late;
  late.push_back(Group{written_unsynced, std::move(replies)});
  Deliver(late);
}

void GroupDeliverer::WaitUntilDelivered() {
  std::unique_lock<std::mutex> lock(mu_);
  const uint64_t target = posted_;
  cv_.wait(lock, [&] { return delivered_ >= target; });
}

void GroupDeliverer::Deliver(std::deque<Group>& groups) {
  absl::Status synced;
  for (const Group& group : groups) {
    if (group.written_unsynced) {
      synced = sync_();
      break;
    }
  }
  for (Group& group : groups) {
    std::move(group.replies)(group.written_unsynced ? synced : absl::OkStatus());
  }
}

void GroupDeliverer::Run(const std::string& thread_name) {
  pthread_setname_np(pthread_self(), thread_name.substr(0, 15).c_str());
  for (;;) {
    std::deque<Group> batch;
    {
      std::unique_lock<std::mutex> lock(mu_);
      cv_.wait(lock, [this] { return stopping_ || !groups_.empty(); });
      if (groups_.empty()) return;  // stopping, and every posted group has been delivered
      batch.swap(groups_);
    }
    Deliver(batch);
    {
      std::lock_guard<std::mutex> lock(mu_);
      delivered_ += batch.size();
    }
    cv_.notify_all();
  }
}

}  // namespace cir::storage
