#include "client/bench/feed_workload.h"

#include <atomic>
#include <memory>
#include <thread>
#include <vector>

#include "absl/strings/str_cat.h"
#include "absl/time/clock.h"

namespace cir::bench {
namespace {

// Births n = first, first + 1, ... each into one of `areas` areas from `first_area` on; counts
// those acknowledged as new children in `acknowledged`.
IssueCall RegisterInAreas(ClientPool& pool, uint64_t first, std::string run_tag, int first_area,
                          int areas, std::atomic<uint64_t>* acknowledged,
                          std::vector<std::atomic<uint64_t>>* per_area) {
  return [&pool, first, run_tag, first_area, areas, acknowledged, per_area](
             uint64_t index, std::function<void(absl::Status)> done) {
    v1::RegisterBirthRequest birth = BenchBirth(first + index, run_tag, true);
    const int area = static_cast<int>(index % areas);
    birth.set_local_authority(absl::StrCat(first_area + area));
    pool.For(index).RegisterBirthAsync(birth, [done = std::move(done), acknowledged, per_area,
                                               area](absl::StatusOr<v1::RegisterBirthResponse> r) {
      if (r.ok() && r->created()) {
        acknowledged->fetch_add(1);
        if (per_area != nullptr) (*per_area)[area].fetch_add(1);
      }
      done(r.status());
    });
  };
}

}  // namespace

FeedBenchResult RunFeedBench(ClientPool& pool, const ClientOptions& connection,
                             const FeedBenchOptions& options, uint64_t first_birth,
                             const std::string& run_tag) {
  FeedBenchResult result;
  constexpr int kUnfollowedAreas = 600;  // 600, 601, ...: areas nobody follows
  constexpr int kFollowedAreas = 800;    // 800, 801, ...: areas the subscribers follow
  std::atomic<uint64_t> acknowledged{0};
  result.register_alone =
      RunLoad(options.load, RegisterInAreas(pool, first_birth, run_tag, kUnfollowedAreas,
                                            options.areas, &acknowledged, nullptr));
  first_birth += result.register_alone.issued;

  // The subscribers, over channels of their own (8, shared round-robin).
  std::vector<std::unique_ptr<Client>> clients;
  for (int c = 0; c < 8; ++c) {
    clients.push_back(std::make_unique<Client>(connection));
  }
  LatencyRecorder delivery(5'000'000);
  std::atomic<uint64_t> delivered{0};
  // Each stream read by callbacks on gRPC's threads: no thread per subscriber here either.
  std::atomic<int> ended_early{0};
  std::atomic<bool> stopping{false};
  std::vector<std::unique_ptr<FeedStream>> streams;
  for (int s = 0; s < options.subscribers; ++s) {
    v1::SubscribeRequest request;
    request.add_local_authorities(absl::StrCat(kFollowedAreas + s % options.areas));
    request.set_from_beginning(true);
    streams.push_back(clients[s % clients.size()]->SubscribeAsync(
        request,
        [&](const v1::SubscribeResponse& message) {
          const int64_t now = absl::ToUnixMicros(absl::Now());
          for (const v1::FeedEvent& event : message.events()) {
            const int64_t latency = now - event.recorded_at_unix_micros();
            delivery.Record(static_cast<uint32_t>(std::max<int64_t>(0, latency)));
          }
          delivered.fetch_add(message.events_size());
        },
        [&](absl::Status) {
          if (!stopping) ++ended_early;
        }));
  }
  absl::SleepFor(absl::Seconds(1));  // every stream open and waiting

  std::vector<std::atomic<uint64_t>> per_area(options.areas);
  acknowledged = 0;
  result.register_subscribed =
      RunLoad(options.load, RegisterInAreas(pool, first_birth, run_tag, kFollowedAreas,
                                            options.areas, &acknowledged, &per_area));
  result.births_followed = acknowledged;
  for (int s = 0; s < options.subscribers; ++s) {
    result.expected_deliveries += per_area[s % options.areas];
  }
  const absl::Time give_up = absl::Now() + absl::Seconds(60);
  while (delivered < result.expected_deliveries && absl::Now() < give_up && ended_early == 0) {
    absl::SleepFor(absl::Milliseconds(50));
  }
  stopping = true;
  streams.clear();  // cancels each stream and waits for its last callback
  result.delivered = delivered;
  result.delivery = delivery.Summarize();
  if (ended_early > 0) {
    result.error = absl::InternalError(absl::StrCat(ended_early.load(), " streams ended early"));
  } else if (result.delivered != result.expected_deliveries) {
    result.error = absl::DataLossError(absl::StrCat(
        "delivered ", result.delivered, " events, expected ", result.expected_deliveries));
  }
  return result;
}

}  // namespace cir::bench
