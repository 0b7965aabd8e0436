#ifndef CIR_CLIENT_BENCH_FEED_WORKLOAD_H_
#define CIR_CLIENT_BENCH_FEED_WORKLOAD_H_

#include <cstdint>
#include <string>

#include "absl/status/status.h"
#include "client/bench/latency_recorder.h"
#include "client/bench/load_generator.h"
#include "client/bench/workloads.h"

namespace cir::bench {

struct FeedBenchOptions {
  // Subscribers, each following one area's feed, spread round-robin over `areas` areas.
  int subscribers = 500;
  int areas = 153;
  // The registration load of both measured phases (closed loop: the full rate).
  LoadOptions load;
};

struct FeedBenchResult {
  LoadResult register_alone;         // births into areas nobody follows
  LoadResult register_subscribed;    // births into the followed areas, subscribers reading
  LatencySummary delivery;           // commit (the event's recorded time) to receipt
  uint64_t births_followed = 0;      // acknowledged births in followed areas
  uint64_t delivered = 0;            // events received by their area's subscribers
  uint64_t expected_deliveries = 0;  // births in each followed area times its subscribers
  absl::Status error;                // a stream that ended early, or deliveries missing
};

// The feed workload: registrations at the full rate, first with nobody following the areas
// written, then into areas followed by `subscribers` streams (opened from each area's beginning,
// before any birth there), which read every event as it arrives. Reports both register rates and
// the latency from each event's commit to its receipt by every subscriber of its area (one
// machine, one clock).
FeedBenchResult RunFeedBench(ClientPool& pool, const ClientOptions& connection,
                             const FeedBenchOptions& options, uint64_t first_birth,
                             const std::string& run_tag);

}  // namespace cir::bench

#endif  // CIR_CLIENT_BENCH_FEED_WORKLOAD_H_
