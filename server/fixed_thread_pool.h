#ifndef CIR_SERVER_FIXED_THREAD_POOL_H_
#define CIR_SERVER_FIXED_THREAD_POOL_H_

#include <condition_variable>
#include <deque>
#include <mutex>
#include <string>
#include <thread>
#include <vector>

#include "absl/base/thread_annotations.h"
#include "absl/functional/any_invocable.h"

namespace cir::server {

// A fixed number of threads running posted tasks in the order posted (several at once, one per
// thread). The feed's streams do their reads on it, however many streams there are.
// Destruction runs every task already posted, then joins the threads.
//
// Thread safety: Post may be called from any thread, also from a task.
class FixedThreadPool {
 public:
  // `thread_name` (at most 15 characters) names the threads in profiles and `top -H`.
  FixedThreadPool(int threads, std::string thread_name);
  ~FixedThreadPool();
  FixedThreadPool(const FixedThreadPool&) = delete;
  FixedThreadPool& operator=(const FixedThreadPool&) = delete;

  void Post(absl::AnyInvocable<void() &&> task);

 private:
  void Run();

  const std::string thread_name_;
  std::mutex mu_;
  std::condition_variable cv_;
  std::deque<absl::AnyInvocable<void() &&>> tasks_ ABSL_GUARDED_BY(mu_);
  bool stopping_ ABSL_GUARDED_BY(mu_) = false;
  std::vector<std::thread> threads_;  // last: started once every other member is initialised
};

}  // namespace cir::server

#endif  // CIR_SERVER_FIXED_THREAD_POOL_H_
