#include "client/bench/load_generator.h"

#include <algorithm>
#include <atomic>
#include <condition_variable>
#include <memory>
#include <mutex>
#include <thread>

#include "absl/time/clock.h"

namespace cir::bench {
namespace {

// What every call of one run shares.
struct RunState {
  RunState(const LoadOptions& options, size_t capacity)
      : options(options), recorder(capacity), lag_recorder(options.calls_per_second > 0 ? capacity : 1) {}

  const LoadOptions& options;
  absl::Time measure_from;
  absl::Time measure_until;
  std::atomic<uint64_t> next_index = 0;
  std::atomic<uint64_t> calls = 0;
  std::atomic<uint64_t> errors = 0;
  std::atomic<int> in_flight = 0;
  LatencyRecorder recorder;
  LatencyRecorder lag_recorder;
  std::mutex mu;
  std::condition_variable changed;
  absl::Status first_error;

  // Records a finished call that was due at `due` and sent at `sent`.
  void Finished(absl::Time due, absl::Time sent, const absl::Status& status) {
    absl::Time now = absl::Now();
    if (due >= measure_from && now <= measure_until) {
      calls.fetch_add(1, std::memory_order_relaxed);
      recorder.Record(static_cast<uint32_t>(
          std::min<int64_t>(absl::ToInt64Microseconds(now - sent), UINT32_MAX)));
      if (sent > due) {
        lag_recorder.Record(static_cast<uint32_t>(
            std::min<int64_t>(absl::ToInt64Microseconds(sent - due), UINT32_MAX)));
      }
      if (!status.ok()) {
        if (errors.fetch_add(1) == 0) {
          std::lock_guard<std::mutex> lock(mu);
          first_error = status;
        }
      }
    }
  }

  // Takes the next call's index, or false when no more calls may start.
  bool Take(uint64_t& index) {
    if (absl::Now() >= measure_until) return false;
    index = next_index.fetch_add(1, std::memory_order_relaxed);
    return options.max_calls == 0 || index < options.max_calls;
  }

  void Ended() {
    if (in_flight.fetch_sub(1) == 1) {
      std::lock_guard<std::mutex> lock(mu);
      changed.notify_all();
    }
  }
};

// One closed-loop chain: issues a call, and when it finishes issues the next.
void IssueNext(const std::shared_ptr<RunState>& state, const IssueCall& issue) {
  uint64_t index;
  if (!state->Take(index)) {
    state->Ended();
    return;
  }
  absl::Time started = absl::Now();
  issue(index, [state, &issue, started](absl::Status status) {
    state->Finished(started, started, status);
    IssueNext(state, issue);
  });
}

}  // namespace

LoadResult RunLoad(const LoadOptions& options, const IssueCall& issue) {
  double expected_rate = options.calls_per_second > 0 ? options.calls_per_second : 400000;
  size_t capacity = static_cast<size_t>(
      std::min(expected_rate * absl::ToDoubleSeconds(options.duration + options.warmup),
               20e6));
  auto state = std::make_shared<RunState>(options, std::max<size_t>(capacity, 1024));
  absl::Time start = absl::Now();
  state->measure_from = start + options.warmup;
  state->measure_until = state->measure_from + options.duration;
  if (options.max_calls > 0) {
    state->measure_from = start;  // a bounded run measures every call
    state->measure_until = absl::InfiniteFuture();
  }

  if (options.calls_per_second <= 0) {
    state->in_flight = options.concurrency;
    for (int i = 0; i < options.concurrency; ++i) IssueNext(state, issue);
  } else {
    // Paced: one thread starts calls on schedule, never more than `concurrency` at once. It wakes
    // every tick and starts every call due by then, rather than sleeping once per call, so its own
    // timer granularity does not show up as server latency.
    state->in_flight = 1;  // the pacing thread itself
    const absl::Duration interval = absl::Seconds(1) / options.calls_per_second;
    const absl::Duration tick = absl::Microseconds(100);
    bool running = true;
    for (uint64_t k = 0; running;) {
      absl::Time now = absl::Now();
      for (absl::Time due = start + interval * static_cast<double>(k); due <= now;
           due = start + interval * static_cast<double>(++k)) {
        if (due >= state->measure_until) {
          running = false;
          break;
        }
        {
          std::unique_lock<std::mutex> lock(state->mu);
          state->changed.wait(lock,
                              [&] { return state->in_flight.load() <= options.concurrency; });
        }
        uint64_t index;
        if (!state->Take(index)) {
          running = false;
          break;
        }
        state->in_flight.fetch_add(1);
        absl::Time sent = absl::Now();
        issue(index, [state, due, sent](absl::Status status) {
          state->Finished(due, sent, status);
          {
            std::lock_guard<std::mutex> lock(state->mu);
            state->changed.notify_all();
          }
          state->Ended();
        });
      }
      if (running) std::this_thread::sleep_for(absl::ToChronoMicroseconds(tick));
    }
    state->Ended();
  }

  {
    std::unique_lock<std::mutex> lock(state->mu);
    state->changed.wait(lock, [&] { return state->in_flight.load() == 0; });
  }
  absl::Time finished = absl::Now();
  LoadResult result;
  result.calls = state->calls.load();
  result.errors = state->errors.load();
  result.issued = options.max_calls > 0 ? std::min(state->next_index.load(), options.max_calls)
                                        : state->next_index.load();
  result.seconds = absl::ToDoubleSeconds(
      std::min(finished, state->measure_until) - state->measure_from);
  result.latency = state->recorder.Summarize();
  result.start_lag = state->lag_recorder.Summarize();
  result.first_error = state->first_error;
  return result;
}

}  // namespace cir::bench
