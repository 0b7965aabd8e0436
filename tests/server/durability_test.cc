// An acknowledged registration survives the server being killed (SIGKILL) mid-load: the
// write-ahead log is synced before any reply, so a restart on the same folder finds every
// acknowledged child, with the identifier its caller was given.

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

namespace cir {
namespace {

using testing::FictionalBirth;
using testing::FictionalNhsNumber;

class DurabilityTest : public ::testing::Test {
 protected:
  testing::TempDir dir_;
  testing::ServerProcess server_{CIR_SERVER_PATH, dir_.Sub("db")};
};

TEST_F(DurabilityTest, EveryAcknowledgedRegistrationSurvivesSigkillMidLoad) {
  constexpr int kWriters = 8;
  constexpr int kKillAfterAcknowledged = 1500;
  std::mutex mu;
  std::condition_variable enough;
  std::map<std::string, std::string> acknowledged;  // NHS number -> child identifier
  int next_birth = 0;

  for (int round = 0; round < 2; ++round) {
    ASSERT_TRUE(server_.Start()) << server_.log();
    Client client({.target = server_.address(), .max_attempts = 2});
    const size_t acknowledged_before = acknowledged.size();
    std::atomic<bool> server_gone = false;
    std::vector<std::thread> writers;
    for (int w = 0; w < kWriters; ++w) {
      writers.emplace_back([&] {
        while (!server_gone) {
          int birth;
          {
            std::lock_guard<std::mutex> lock(mu);
            birth = next_birth++;
          }
          std::string nhs = FictionalNhsNumber(birth);
          absl::StatusOr<v1::RegisterBirthResponse> r = client.RegisterBirth(
              FictionalBirth(absl::StrCat("durable-", birth), nhs), {.timeout = absl::Seconds(5)});
          if (!r.ok()) return;  // the server is gone; this request may or may not have landed
          std::lock_guard<std::mutex> lock(mu);
          acknowledged[nhs] = r->record().child_id();
          enough.notify_all();
        }
      });
    }
    {
      std::unique_lock<std::mutex> lock(mu);
      enough.wait(lock, [&] {
        return acknowledged.size() >= acknowledged_before + kKillAfterAcknowledged;
      });
    }
    int status = server_.Signal(SIGKILL);  // while the writers are still sending
    server_gone = true;
    for (std::thread& t : writers) t.join();
    ASSERT_TRUE(WIFSIGNALED(status) && WTERMSIG(status) == SIGKILL);
  }

  ASSERT_TRUE(server_.Start()) << server_.log();
  Client client({.target = server_.address()});
  std::vector<std::string> numbers;
  for (const auto& [nhs, id] : acknowledged) numbers.push_back(nhs);
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
      EXPECT_EQ(result.record().child_id(), acknowledged[nhs]);
      distinct_children.insert(result.record().child_id());
    }
  }
  EXPECT_EQ(distinct_children.size(), acknowledged.size());
  EXPECT_GE(acknowledged.size(), static_cast<size_t>(2 * kKillAfterAcknowledged));
}

TEST_F(DurabilityTest, SigtermFinishesCleanlyAndLogsStartAndStop) {
  ASSERT_TRUE(server_.Start()) << server_.log();
  {
    Client client({.target = server_.address()});
    ASSERT_TRUE(client.RegisterBirth(FictionalBirth("term-1", FictionalNhsNumber(1))).ok());
  }
  int status = server_.Signal(SIGTERM);
  EXPECT_TRUE(WIFEXITED(status) && WEXITSTATUS(status) == 0) << server_.log();
  std::string log = server_.log();
  EXPECT_NE(log.find("serving on"), std::string::npos) << log;
  EXPECT_NE(log.find("store closed"), std::string::npos) << log;
  ASSERT_TRUE(server_.Start()) << server_.log();
  Client client({.target = server_.address()});
  EXPECT_TRUE(client.Resolve(FictionalNhsNumber(1)).ok());
}

}  // namespace
}  // namespace cir
