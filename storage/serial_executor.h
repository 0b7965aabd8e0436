#ifndef CIR_STORAGE_SERIAL_EXECUTOR_H_
#define CIR_STORAGE_SERIAL_EXECUTOR_H_

#include <condition_variable>
#include <deque>
#include <mutex>
#include <string>
#include <thread>

#include "absl/base/thread_annotations.h"
#include "absl/functional/any_invocable.h"

namespace cir::storage {

// Runs tasks one at a time, in the order posted, on a thread of its own. The store hands it the
// replies of each committed group, so the writer commits the next group while the last group's
// replies are being sent. Destruction runs every task already posted, then joins the thread.
//
// Thread safety: Post may be called from any thread.
class SerialExecutor {
 public:
  // `thread_name` (at most 15 characters) names the thread in profiles and `top -H`.
  explicit SerialExecutor(std::string thread_name);
  ~SerialExecutor();
  SerialExecutor(const SerialExecutor&) = delete;
  SerialExecutor& operator=(const SerialExecutor&) = delete;

  void Post(absl::AnyInvocable<void() &&> task);

 private:
  void Run(const std::string& thread_name);

  std::mutex mu_;
  std::condition_variable cv_;
  std::deque<absl::AnyInvocable<void() &&>> tasks_ ABSL_GUARDED_BY(mu_);
  bool stopping_ ABSL_GUARDED_BY(mu_) = false;
  std::thread thread_;  // last: started once every other member is initialised
};

}  // namespace cir::storage

#endif  // CIR_STORAGE_SERIAL_EXECUTOR_H_
