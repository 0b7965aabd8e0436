#ifndef CIR_STORAGE_GROUP_DELIVERER_H_
#define CIR_STORAGE_GROUP_DELIVERER_H_

#include <condition_variable>
#include <deque>
#include <functional>
#include <mutex>
#include <string>
#include <thread>

#include "absl/base/thread_annotations.h"
#include "absl/functional/any_invocable.h"
#include "absl/status/status.h"

namespace cir::storage {

// Delivers the replies of the store's written groups, in the order they were written, on a
// thread of its own, so that the writer runs the next group meanwhile.
//
// A group the writer wrote without a sync (one holding nothing but audit entries: see
// RocksDbChildStore) is not durable yet: its replies wait for `sync` (a sync of the write-ahead
// log), and hear its outcome. One sync covers every such group waiting when it starts, so a
// stream of reads costs one sync per batch of groups, made while the writer goes on writing.
// A group written with a sync hears OK.
//
// Stop (or destruction) delivers every group already posted (syncing as above), then joins the
// thread; a group posted after it is delivered at once on the caller's thread.
//
// Thread safety: Post may be called from any thread, the deliverer's own included.
class GroupDeliverer {
 public:
  using Replies = absl::AnyInvocable<void(absl::Status durable) &&>;

  // `thread_name` (at most 15 characters) names the thread in profiles and `top -H`; `sync`
  // makes durable every write made before it is called, and runs on that thread.
  GroupDeliverer(std::string thread_name, std::function<absl::Status()> sync);
  ~GroupDeliverer() { Stop(); }
  GroupDeliverer(const GroupDeliverer&) = delete;
  GroupDeliverer& operator=(const GroupDeliverer&) = delete;

  // `replies` of a group written with a sync (`written_unsynced` false) or without.
  void Post(bool written_unsynced, Replies replies);

  // Returns once every group posted before the call has heard its outcome. Not from the
  // deliverer's own thread.
  void WaitUntilDelivered();

  void Stop();

 private:
  struct Group {
    bool written_unsynced = false;
    Replies replies;
  };
  void Run(const std::string& thread_name);
  // Delivers `groups`, syncing first if any was written without a sync.
  void Deliver(std::deque<Group>& groups);

  const std::function<absl::Status()> sync_;
  std::mutex mu_;
  std::condition_variable cv_;
  std::deque<Group> groups_ ABSL_GUARDED_BY(mu_);
  uint64_t posted_ ABSL_GUARDED_BY(mu_) = 0;
  uint64_t delivered_ ABSL_GUARDED_BY(mu_) = 0;
  bool stopping_ ABSL_GUARDED_BY(mu_) = false;
  std::thread thread_;  // last: started once every other member is initialised
};

}  // namespace cir::storage

#endif  // CIR_STORAGE_GROUP_DELIVERER_H_
