#include "client/bench/latency_recorder.h"

#include <algorithm>

namespace cir::bench {

LatencySummary LatencyRecorder::Summarize() {
  size_t kept = std::min<size_t>(count(), samples_.size());
  LatencySummary summary;
  summary.samples = kept;
  if (kept == 0) return summary;
  std::vector<uint32_t> sorted(samples_.begin(), samples_.begin() + kept);
  std::sort(sorted.begin(), sorted.end());
  auto at = [&](double q) { return static_cast<double>(sorted[static_cast<size_t>(q * (kept - 1))]); };
  summary.p50_us = at(0.50);
  summary.p99_us = at(0.99);
  summary.p999_us = at(0.999);
  summary.max_us = sorted.back();
  return summary;
}

}  // namespace cir::bench
