// cir-bench runs end to end against a real server, reports every workload, and its counts agree
// with what the registry holds. Speed is not checked here: it is measured by scripts/bench.

#include <sys/wait.h>

#include <cstdio>
#include <fstream>
#include <sstream>
#include <string>
#include <utility>

#include "cir/client.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "identifiers/nhs_number.h"
#include "tests/testing/server_process.h"
#include "tests/testing/temp_dir.h"
#include "tests/testing/test_access.h"

namespace cir {
namespace {

using ::testing::HasSubstr;

// Runs cir-bench with `arguments`; its exit status and everything it printed.
std::pair<int, std::string> RunBench(const std::string& arguments) {
  std::string command = std::string(CIR_BENCH_PATH) + " --plaintext " + arguments + " 2>&1";
  FILE* pipe = popen(command.c_str(), "r");
  std::string output;
  char buffer[4096];
  for (size_t n; (n = fread(buffer, 1, sizeof buffer, pipe)) > 0;) output.append(buffer, n);
  return {pclose(pipe), output};
}

TEST(CirBenchSmoke, RefusesToLoadARegistryThatIsNotATestEnvironment) {
  testing::TempDir dir;
  testing::ServerProcess server(CIR_SERVER_PATH, dir.Sub("db"));
  server.set_test_environment(false);
  ASSERT_TRUE(server.Start()) << server.log();
  auto [status, output] = RunBench("--server " + server.address() + " --smoke --population 30");
  EXPECT_TRUE(WIFEXITED(status) && WEXITSTATUS(status) == 2) << output;
  EXPECT_THAT(output, HasSubstr("not a test environment"));
  Client client({.target = server.address(),
                 .end_user = ::cir::testing::kTestEndUser,
                 .purpose_of_use = ::cir::testing::kTestPurpose});
  EXPECT_EQ(client.Resolve(identifiers::TestRangeNhsNumber(0)).status().code(),
            absl::StatusCode::kNotFound);
}

TEST(CirBenchSmoke, RunsEveryWorkloadWithoutErrorsAndTheChildrenItRegisteredResolve) {
  testing::TempDir dir;
  testing::ServerProcess server(CIR_SERVER_PATH, dir.Sub("db"));
  ASSERT_TRUE(server.Start()) << server.log();
  std::string json_path = dir.Sub("bench.json");
  auto [status, output] =
      RunBench("--server " + server.address() + " --smoke --population 300 --json " + json_path);
  ASSERT_TRUE(WIFEXITED(status) && WEXITSTATUS(status) == 0) << output;
  for (const char* workload : {"health", "register", "resolve", "resolve by child id",
                               "resolve by NHS number", "resolve by UPN", "batch-resolve-100",
                               "batch-resolve-1000", "batch-resolve-10000",
                               "batch-resolve-1000 child-id view", "mix",
                               "register @50% rate", "resolve @50% rate"}) {
    EXPECT_THAT(output, HasSubstr(workload));
  }
  EXPECT_THAT(output, HasSubstr("health rate"));
  std::stringstream json;
  json << std::ifstream(json_path).rdbuf();
  EXPECT_THAT(json.str(), HasSubstr("\"ratio_to_health\""));
  EXPECT_THAT(json.str(), ::testing::Not(HasSubstr("\"errors\": 1")));

  // The population the tool loaded is really there: test-range numbers 0..299, each with a UPN.
  Client client({.target = server.address(),
                 .end_user = ::cir::testing::kTestEndUser,
                 .purpose_of_use = ::cir::testing::kTestPurpose});
  v1::BatchResolveRequest request;
  for (uint32_t n = 0; n < 300; ++n) request.add_identifiers(identifiers::TestRangeNhsNumber(n));
  absl::StatusOr<v1::BatchResolveResponse> resolved = client.BatchResolve(request);
  ASSERT_TRUE(resolved.ok()) << resolved.status();
  for (int i = 0; i < resolved->results_size(); ++i) {
    const v1::BatchResolveResult& result = resolved->results(i);
    ASSERT_EQ(result.outcome(), v1::BatchResolveResult::OUTCOME_FOUND) << request.identifiers(i);
    EXPECT_FALSE(result.record().upn().empty());
  }
}

}  // namespace
}  // namespace cir
