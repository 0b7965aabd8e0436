#ifndef CIR_CLIENT_BENCH_LATENCY_RECORDER_H_
#define CIR_CLIENT_BENCH_LATENCY_RECORDER_H_

#include <atomic>
#include <cstdint>
#include <vector>

namespace cir::bench {

struct LatencySummary {
  uint64_t samples = 0;
  double p50_us = 0;
  double p99_us = 0;
  double p999_us = 0;
  double max_us = 0;
};

// Collects call latencies from many threads without locks: each sample takes the next slot of a
// preallocated array. Samples beyond the capacity are counted but not kept.
class LatencyRecorder {
 public:
  explicit LatencyRecorder(size_t capacity) : samples_(capacity) {}

  void Record(uint32_t microseconds) {
    size_t slot = next_.fetch_add(1, std::memory_order_relaxed);
    if (slot < samples_.size()) samples_[slot] = microseconds;
  }

  uint64_t count() const { return next_.load(std::memory_order_relaxed); }

  // Percentiles of the kept samples; call once recording has stopped.
  LatencySummary Summarize();

 private:
  std::vector<uint32_t> samples_;
  std::atomic<size_t> next_ = 0;
};

}  // namespace cir::bench

#endif  // CIR_CLIENT_BENCH_LATENCY_RECORDER_H_
