#ifndef CIR_EXAMPLES_COMMON_RETRY_H_
#define CIR_EXAMPLES_COMMON_RETRY_H_

// When to retry a call, and how long to pause first.

#include <algorithm>
#include <random>

#include "absl/status/status.h"
#include "absl/time/time.h"
#include "cir/client.h"

namespace cir_examples {

// Whether a call that failed with `status` is worth making again, with the same request: the
// registry was not reached or is restarting (UNAVAILABLE, whatever the reason,
// WRITE_OUTCOME_UNKNOWN included), the deadline passed on the way (DEADLINE_EXCEEDED), the call was
// cut off (CANCELLED, which these programs never ask for), the registry discarded a write before
// making it (ABORTED), or it was short of memory for the moment (RESOURCE_EXHAUSTED, unless the
// request itself is too large). A write that failed so may or may not have taken effect; sending it
// again with the same ids (notification id, request id) is always safe and answers with its
// outcome.
inline bool WorthRetrying(const absl::Status& status) {
  switch (status.code()) {
    case absl::StatusCode::kUnavailable:
    case absl::StatusCode::kDeadlineExceeded:
    case absl::StatusCode::kCancelled:
    case absl::StatusCode::kAborted:
      return true;
    case absl::StatusCode::kResourceExhausted:
      return cir::ErrorReasonOf(status) != cir::v1::REQUEST_TOO_LARGE;
    default:
      return false;
  }
}

// Pauses between retries: doubling from `initial` up to `max`, each drawn at random from the upper
// half of its range, so that many agencies' systems that lost the registry together do not all
// come back in the same instant. Reset once a call gets through.
class Backoff {
 public:
  explicit Backoff(absl::Duration initial = absl::Milliseconds(200),
                   absl::Duration max = absl::Seconds(10))
      : initial_(initial), max_(max), next_(initial), random_(std::random_device{}()) {}

  // The pause before the next retry.
  absl::Duration Next() {
    const absl::Duration ceiling = next_;
    next_ = std::min(next_ * 2, max_);
    std::uniform_real_distribution<double> half(0.5, 1.0);
    return ceiling * half(random_);
  }
  void Reset() { next_ = initial_; }

 private:
  absl::Duration initial_;
  absl::Duration max_;
  absl::Duration next_;
  std::mt19937 random_;
};

}  // namespace cir_examples

#endif  // CIR_EXAMPLES_COMMON_RETRY_H_
