#ifndef CIR_CLIENT_BENCH_LOAD_GENERATOR_H_
#define CIR_CLIENT_BENCH_LOAD_GENERATOR_H_

#include <cstdint>
#include <functional>
#include <string>

#include "absl/status/status.h"
#include "absl/time/time.h"
#include "client/bench/latency_recorder.h"

namespace cir::bench {

// Starts call number `index` and calls `done` once with its outcome, from any thread.
using IssueCall = std::function<void(uint64_t index, std::function<void(absl::Status)> done)>;

struct LoadOptions {
  // Calls in flight at once (closed loop), or at most in flight (paced). Default: 64.
  int concurrency = 64;
  // Measured time, after the warm-up. Default: 5 s.
  absl::Duration duration = absl::Seconds(5);
  // Calls made before measuring starts; not counted. Default: 1 s.
  absl::Duration warmup = absl::Seconds(1);
  // 0: closed loop, each finished call starts the next (the maximum rate). Otherwise calls are due
  // at this many per second whatever the server does. Latency counts from the moment a call is
  // sent; how late the generator sent calls behind their schedule is reported apart (start_lag),
  // since on a shared machine the generator's own stalls are not the server's.
  double calls_per_second = 0;
  // Stop after this many calls (0: no limit), e.g. to bulk-load exactly N children.
  uint64_t max_calls = 0;
};

struct LoadResult {
  uint64_t calls = 0;   // completed within the measured time, including failures
  uint64_t errors = 0;  // of those, failed
  uint64_t issued = 0;  // call indices handed out, warm-up included (the next run starts there)
  double seconds = 0;   // the measured time
  LatencySummary latency;
  LatencySummary start_lag;  // paced runs: how far behind schedule calls were sent
  absl::Status first_error;
  double calls_per_second() const { return seconds > 0 ? calls / seconds : 0; }
};

// Runs `issue` under the given load until the time is up (or max_calls are made) and every call
// has finished.
LoadResult RunLoad(const LoadOptions& options, const IssueCall& issue);

}  // namespace cir::bench

#endif  // CIR_CLIENT_BENCH_LOAD_GENERATOR_H_
