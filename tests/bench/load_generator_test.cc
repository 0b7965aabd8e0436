#include "client/bench/load_generator.h"

#include <atomic>
#include <mutex>
#include <set>
#include <thread>
#include <vector>

#include "gtest/gtest.h"

namespace cir::bench {
namespace {

// Completes each call on a thread of its own, as gRPC does, failing every `fail_every`-th.
class FakeServer {
 public:
  explicit FakeServer(uint64_t fail_every = 0) : fail_every_(fail_every) {}
  ~FakeServer() {
    // The last call's thread can end the run while the thread that started it is still inside
    // emplace_back (under the lock): take the lock, so that every thread is in the vector, first.
    std::vector<std::thread> threads;
    {
      std::lock_guard<std::mutex> lock(mu_);
      threads.swap(threads_);
    }
    for (std::thread& t : threads) t.join();
  }

  IssueCall Issue() {
    return [this](uint64_t index, std::function<void(absl::Status)> done) {
      {
        std::lock_guard<std::mutex> lock(mu_);
        EXPECT_TRUE(indices_.insert(index).second) << "index " << index << " issued twice";
        threads_.emplace_back([this, index, done = std::move(done)] {
          done(fail_every_ > 0 && index % fail_every_ == 0 ? absl::UnavailableError("down")
                                                           : absl::OkStatus());
        });
      }
    };
  }

  size_t issued() {
    std::lock_guard<std::mutex> lock(mu_);
    return indices_.size();
  }

 private:
  uint64_t fail_every_;
  std::mutex mu_;
  std::set<uint64_t> indices_;
  std::vector<std::thread> threads_;
};

TEST(LoadGenerator, ABoundedRunMakesExactlyThatManyCallsEachWithItsOwnIndex) {
  FakeServer server;
  LoadResult result = RunLoad({.concurrency = 8, .max_calls = 500}, server.Issue());
  EXPECT_EQ(result.calls, 500u);
  EXPECT_EQ(result.issued, 500u);
  EXPECT_EQ(result.errors, 0u);
  EXPECT_EQ(server.issued(), 500u);
  EXPECT_EQ(result.latency.samples, 500u);
}

TEST(LoadGenerator, CountsFailuresAndKeepsTheFirstError) {
  FakeServer server(/*fail_every=*/10);
  LoadResult result = RunLoad({.concurrency = 4, .max_calls = 100}, server.Issue());
  EXPECT_EQ(result.calls, 100u);
  EXPECT_EQ(result.errors, 10u);  // indices 0, 10, ..., 90
  EXPECT_EQ(result.first_error.code(), absl::StatusCode::kUnavailable);
}

TEST(LoadGenerator, ATimedRunCountsOnlyCallsInsideTheMeasuredWindow) {
  FakeServer server;
  LoadResult result = RunLoad({.concurrency = 2,
                               .duration = absl::Milliseconds(200),
                               .warmup = absl::Milliseconds(50)},
                              server.Issue());
  EXPECT_GT(result.calls, 0u);
  EXPECT_LT(result.calls, server.issued());  // warm-up calls are made but not counted
  EXPECT_NEAR(result.seconds, 0.2, 0.05);
}

TEST(LoadGenerator, APacedRunNeverExceedsItsRate) {
  FakeServer server;
  LoadResult result = RunLoad({.concurrency = 4,
                               .duration = absl::Milliseconds(300),
                               .warmup = absl::ZeroDuration(),
                               .calls_per_second = 1000},
                              server.Issue());
  EXPECT_LE(server.issued(), 301u);  // one call per millisecond at most, over 300 ms
  EXPECT_LE(result.calls, server.issued());
}

}  // namespace
}  // namespace cir::bench
