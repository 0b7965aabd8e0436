// An acknowledged registration survives the server being killed (SIGKILL) or stopped (SIGTERM)
// mid-load: the write-ahead log is synced before any reply, so a restart on the same folder finds
// every acknowledged child, with the identifier its caller was given.

#include <signal.h>
#include <sys/wait.h>

#include <atomic>
#include <condition_variable>
#include <map>
#include <mutex>
#include <set>
#include <thread>
#include <vector>

#include "absl/strings/str_cat.h"
#include "cir/client.h"
#include "gtest/gtest.h"
#include "tests/testing/fictional_children.h"
#include "tests/testing/server_process.h"
#include "tests/testing/temp_dir.h"
#include "tests/testing/test_access.h"

namespace cir {
namespace {

using testing::FictionalBirth;
using testing::FictionalNhsNumber;

class DurabilityTest : public ::testing::Test {
 protected:
  // Registers fictional births from `writers` threads until the server stops answering; each
  // acknowledged one is recorded in acknowledged_ (NHS number -> child identifier).
  class Load {
   public:
    Load(DurabilityTest& test, const std::string& address, int writers) : test_(test) {
      // One attempt per call: every answer is recorded as the server gave it.
      client_ =
          std::make_unique<Client>(ClientOptions{.target = address,
                                                 .max_attempts = 1,
                                                 .end_user = ::cir::testing::kTestEndUser,
                                                 .purpose_of_use = ::cir::testing::kTestPurpose});
      for (int w = 0; w < writers; ++w) threads_.emplace_back([this] { Write(); });
    }
    // Waits until `count` more registrations are acknowledged; false if that takes over a minute.
    bool AwaitAcknowledged(size_t count) {
      std::unique_lock<std::mutex> lock(test_.mu_);
      const size_t target = test_.acknowledged_.size() + count;
      return test_.enough_.wait_for(lock, std::chrono::minutes(1),
                                    [&] { return test_.acknowledged_.size() >= target; });
    }
    // Stops the writers (each ends at its first failed call) and waits for them.
    void Join() {
      server_gone_ = true;
      for (std::thread& t : threads_) {
        if (t.joinable()) t.join();
      }
    }
    ~Load() { Join(); }

   private:
    void Write() {
      while (!server_gone_) {
        int birth;
        {
          std::lock_guard<std::mutex> lock(test_.mu_);
          birth = test_.next_birth_++;
        }
        std::string nhs = FictionalNhsNumber(birth);
        absl::StatusOr<v1::RegisterBirthResponse> r = client_->RegisterBirth(
            FictionalBirth(absl::StrCat("durable-", birth), nhs), {.timeout = absl::Seconds(5)});
        if (!r.ok()) {  // the server is going or gone: this one may or may not have landed
          std::lock_guard<std::mutex> lock(test_.mu_);
          test_.failures_.push_back(r.status());
          return;
        }
        std::lock_guard<std::mutex> lock(test_.mu_);
        test_.acknowledged_[nhs] = r->record().child_id();
        test_.enough_.notify_all();
      }
    }

    DurabilityTest& test_;
    std::unique_ptr<Client> client_;
    std::atomic<bool> server_gone_ = false;
    std::vector<std::thread> threads_;
  };

  // Restarts the server and checks that every acknowledged registration resolves to the child
  // its caller was given, and that no two share a child.
  void ExpectEveryAcknowledgedRegistrationPresent() {
    ASSERT_TRUE(server_.Start()) << server_.log();
    Client client({.target = server_.address(),
                   .end_user = ::cir::testing::kTestEndUser,
                   .purpose_of_use = ::cir::testing::kTestPurpose});
    std::vector<std::string> numbers;
    for (const auto& [nhs, id] : acknowledged_) numbers.push_back(nhs);
    std::set<std::string> distinct_children;
    for (size_t start = 0; start < numbers.size(); start += 10000) {
      v1::BatchResolveRequest request;
      for (size_t i = start; i < std::min(numbers.size(), start + 10000); ++i) {
        request.add_identifiers(numbers[i]);
      }
      absl::StatusOr<v1::BatchResolveResponse> r = client.BatchResolve(request);
      ASSERT_TRUE(r.ok()) << r.status();
      for (int i = 0; i < r->results_size(); ++i) {
        const v1::BatchResolveResult& result = r->results(i);
        const std::string& nhs = request.identifiers(i);
        ASSERT_EQ(result.outcome(), v1::BatchResolveResult::OUTCOME_FOUND)
            << "acknowledged NHS number " << nhs << " was lost";
        EXPECT_EQ(result.record().child_id(), acknowledged_[nhs]);
        distinct_children.insert(result.record().child_id());
      }
    }
    EXPECT_EQ(distinct_children.size(), acknowledged_.size());
  }

  testing::TempDir dir_;
  testing::ServerProcess server_{CIR_SERVER_PATH, dir_.Sub("db")};
  std::mutex mu_;
  std::condition_variable enough_;
  std::map<std::string, std::string> acknowledged_;
  std::vector<absl::Status> failures_;  // each writer's first failed call
  int next_birth_ = 0;
};

TEST_F(DurabilityTest, EveryAcknowledgedRegistrationSurvivesSigkillMidLoad) {
  constexpr int kKillAfterAcknowledged = 1500;
  for (int round = 0; round < 2; ++round) {
    ASSERT_TRUE(server_.Start()) << server_.log();
    Load load(*this, server_.address(), 8);
    ASSERT_TRUE(load.AwaitAcknowledged(kKillAfterAcknowledged));
    int status = server_.Signal(SIGKILL);  // while the writers are still sending
    load.Join();
    ASSERT_TRUE(WIFSIGNALED(status) && WTERMSIG(status) == SIGKILL);
  }
  EXPECT_GE(acknowledged_.size(), static_cast<size_t>(2 * kKillAfterAcknowledged));
  ExpectEveryAcknowledgedRegistrationPresent();
}

TEST_F(DurabilityTest, SigtermWithWritesInFlightAnswersEveryCallAndLosesNoAcknowledgedWrite) {
  ASSERT_TRUE(server_.Start({"--drain-seconds", "0.2", "--grace-seconds", "5"})) << server_.log();
  const absl::Time began_stopping = [&] {
    Load load(*this, server_.address(), 8);
    EXPECT_TRUE(load.AwaitAcknowledged(500));
    absl::Time now = absl::Now();
    int status = server_.Signal(SIGTERM);  // returns once the process has ended
    EXPECT_TRUE(WIFEXITED(status) && WEXITSTATUS(status) == 0) << server_.log();
    // Every writer's call in flight was answered (acknowledged or refused): Join returns.
    load.Join();
    return now;
  }();
  EXPECT_LT(absl::Now() - began_stopping, absl::Seconds(5 + 5)) << "the stop overran its grace";
  // Every call was answered: each writer's last call was acknowledged or ended by the server as
  // it went (UNAVAILABLE: refused while stopping, or no longer reachable; CANCELLED: cancelled by
  // the shutdown), never left to run into its deadline.
  EXPECT_EQ(failures_.size(), 8u);
  for (const absl::Status& failure : failures_) {
    EXPECT_TRUE(failure.code() == absl::StatusCode::kUnavailable ||
                failure.code() == absl::StatusCode::kCancelled)
        << failure;
  }
  ExpectEveryAcknowledgedRegistrationPresent();
}

TEST_F(DurabilityTest, SigtermFinishesCleanlyAndLogsStartAndStop) {
  ASSERT_TRUE(server_.Start()) << server_.log();
  {
    Client client({.target = server_.address(),
                   .end_user = ::cir::testing::kTestEndUser,
                   .purpose_of_use = ::cir::testing::kTestPurpose});
    ASSERT_TRUE(client.RegisterBirth(FictionalBirth("term-1", FictionalNhsNumber(1))).ok());
  }
  int status = server_.Signal(SIGTERM);
  EXPECT_TRUE(WIFEXITED(status) && WEXITSTATUS(status) == 0) << server_.log();
  std::string log = server_.log();
  EXPECT_NE(log.find("serving on"), std::string::npos) << log;
  EXPECT_NE(log.find("store closed"), std::string::npos) << log;
  ASSERT_TRUE(server_.Start()) << server_.log();
  Client client({.target = server_.address(),
                 .end_user = ::cir::testing::kTestEndUser,
                 .purpose_of_use = ::cir::testing::kTestPurpose});
  EXPECT_TRUE(client.Resolve(FictionalNhsNumber(1)).ok());
}

}  // namespace
}  // namespace cir
