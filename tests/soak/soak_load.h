#ifndef CIR_TESTS_SOAK_SOAK_LOAD_H_
#define CIR_TESTS_SOAK_SOAK_LOAD_H_

#include <atomic>
#include <cstdint>
#include <functional>
#include <map>
#include <memory>
#include <mutex>
#include <random>
#include <string>
#include <thread>
#include <vector>

#include "cir/client.h"
#include "tests/soak/soak_model.h"

namespace cir::soak {

// The local authorities the load registers children in, moves them between, and follows.
const std::vector<std::string>& SoakAreas();

// What one load worker owns across the server's restarts: its children and its random stream.
struct WorkerState {
  explicit WorkerState(uint32_t seed) : random(seed) {}
  std::mt19937 random;
  std::vector<std::string> children;  // registered by this worker (never retired or restricted)
};

// The mixed load on one running server: registrations with racing retries, UPN links, every life
// event, and batch reads, from many threads, each change recorded in the model by its answer. It
// runs until Stop (which the harness calls after killing the server, so that calls in flight end
// with an unknown outcome).
class MixedLoad {
 public:
  MixedLoad(const std::string& address, SoakModel& model,
            std::vector<std::unique_ptr<WorkerState>>& workers, std::atomic<uint32_t>& next_number);
  ~MixedLoad() { Stop(); }
  void Stop();

  // Operations begun a second, over every worker: 0 (the default) runs them back to back.
  void Pace(double operations_per_second) { pace_ = operations_per_second; }
  // Operations done so far, and the durations (microseconds) of those done since the last call,
  // which it clears: for a soak's per-minute latency.
  int64_t operations() const { return operations_; }
  std::vector<int64_t> TakeDurations();

 private:
  void Run(WorkerState& state);
  // One operation, picked at random.
  void RunOne(WorkerState& state);
  void RegisterNew(WorkerState& state);
  // A few new births in one RegisterBirths call, each recorded as its own registration.
  void RegisterMany(WorkerState& state);
  void RetryRegistration(WorkerState& state);
  void LinkUpn(WorkerState& state, const std::string& child);
  void Move(WorkerState& state, const std::string& child, bool to_another_area);
  void CorrectDetails(const std::string& child);
  void RecordDeath(const std::string& child);
  void SupersedeNhsNumber(const std::string& child);
  void MergeDuplicate(WorkerState& state, const std::string& child);
  void Restrict(WorkerState& state, const std::string& child);
  void BatchRead(WorkerState& state);

  // Sends `request` and records its answer.
  void Register(const v1::RegisterBirthRequest& request);
  // Records a change's answer: its events (built from the record it returned) if acknowledged.
  template <typename Response>
  bool Record(const std::string& method, const std::string& child,
              const absl::StatusOr<Response>& answer,
              const std::function<std::vector<ExpectedEvent>(const v1::ChildRecord&)>& events);

  SoakModel& model_;
  std::unique_ptr<Client> client_;
  std::atomic<uint32_t>& next_number_;
  std::atomic<bool> stop_{false};
  std::atomic<double> pace_{0};
  std::atomic<int64_t> operations_{0};
  std::mutex durations_mu_;
  std::vector<int64_t> durations_;
  std::vector<std::thread> threads_;
};

// Subscribers following every area's feed, each resuming from the cursor of the last event it
// processed whenever its stream ends (the server was killed) until it is stopped. State kept
// across the server's restarts: what each received, with every gap or repeat counted.
class FeedFollower {
 public:
  explicit FeedFollower(int id) : id_(id) {}

  // Follows the server at `address` on a thread of its own until Stop.
  void Start(const std::string& address);
  void Stop();
  // Follows until every area's received sequence reaches `heads`, or `timeout` passes; false if
  // it did not get there.
  bool CatchUp(const std::string& address, const std::map<std::string, uint64_t>& heads,
               absl::Duration timeout);

  // Per area, the (sequence, child, kind, version) of every event received, in order.
  struct Received {
    uint64_t sequence;
    std::string child_id;
    v1::FeedEventKind kind;
    int64_t version;
  };
  std::map<std::string, std::vector<Received>> received() const;
  int64_t gaps() const { return gaps_; }
  int64_t repeats() const { return repeats_; }
  int id() const { return id_; }

 private:
  // One subscription, from the cursor, until it ends or `stop` is set.
  void FollowOnce(Client& client, const std::atomic<bool>& stop);
  void Take(const v1::FeedEvent& event);

  const int id_;
  mutable std::mutex mu_;
  std::string cursor_;
  std::map<std::string, std::vector<Received>> received_;
  std::atomic<int64_t> gaps_{0};
  std::atomic<int64_t> repeats_{0};
  std::atomic<bool> stop_{false};
  std::unique_ptr<Client> client_;
  std::unique_ptr<FeedSubscription> subscription_;
  std::thread thread_;
};

}  // namespace cir::soak

#endif  // CIR_TESTS_SOAK_SOAK_LOAD_H_
