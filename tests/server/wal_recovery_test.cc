// The real cir-server never silently rolls back acknowledged registrations: killed (SIGKILL) after
// 100 of them, it refuses to start on a write-ahead log damaged in the middle (naming the file),
// and starts with all 100 on a log whose last record was torn.
//
// Births are registered without NHS numbers (notification ids only) and resolved by child id, so
// the test does not depend on whether the server accepts test-range NHS numbers.

#include <signal.h>
#include <sys/wait.h>

#include <filesystem>
#include <fstream>
#include <string>
#include <vector>

#include "absl/strings/str_cat.h"
#include "cir/client.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "tests/testing/fictional_children.h"
#include "tests/testing/server_process.h"
#include "tests/testing/temp_dir.h"
#include "tests/testing/test_access.h"

namespace cir {
namespace {

using ::testing::HasSubstr;
using testing::FictionalBirth;

// The one write-ahead log file in `folder`.
std::string WalFile(const std::string& folder) {
  std::vector<std::string> logs;
  for (const auto& entry : std::filesystem::directory_iterator(folder)) {
    if (entry.path().extension() == ".log") logs.push_back(entry.path().string());
  }
  EXPECT_EQ(logs.size(), 1u) << "write-ahead logs in " << folder;
  return logs.empty() ? "" : logs[0];
}

class ServerWalRecoveryTest : public ::testing::Test {
 protected:
  // Registers 100 births, one at a time, then a 101st alone (so it is the log's last record),
  // and kills the server. Fills children_ and sets the log's size before and after the 101st.
  void RegisterAndKill() {
    ASSERT_TRUE(server_.Start()) << server_.log();
    ClientOptions options;
    options.target = server_.address();
    options.end_user = ::cir::testing::kTestEndUser;
    options.purpose_of_use = ::cir::testing::kTestPurpose;
    Client client(options);
    for (int i = 0; i <= 100; ++i) {
      if (i == 100) log_size_before_last_ = std::filesystem::file_size(WalFile(data_));
      absl::StatusOr<v1::RegisterBirthResponse> registered =
          client.RegisterBirth(FictionalBirth(absl::StrCat("wal-recovery-", i), ""));
      ASSERT_TRUE(registered.ok()) << registered.status();
      children_.push_back(registered->record().child_id());
    }
    int status = server_.Signal(SIGKILL);
    ASSERT_TRUE(WIFSIGNALED(status) && WTERMSIG(status) == SIGKILL);
    log_size_after_last_ = std::filesystem::file_size(WalFile(data_));
    ASSERT_GT(log_size_after_last_, log_size_before_last_);
  }

  cir::testing::TempDir dir_;
  const std::string data_ = dir_.Sub("db");
  cir::testing::ServerProcess server_{CIR_SERVER_PATH, data_};
  std::vector<std::string> children_;
  uint64_t log_size_before_last_ = 0;
  uint64_t log_size_after_last_ = 0;
};

TEST_F(ServerWalRecoveryTest, ALogDamagedInTheMiddleIsRefusedAtStartNamingTheFile) {
  ASSERT_NO_FATAL_FAILURE(RegisterAndKill());
  const std::string wal = WalFile(data_);
  {
    std::fstream file(wal, std::ios::in | std::ios::out | std::ios::binary);
    const std::streamoff middle = static_cast<std::streamoff>(log_size_after_last_ / 2);
    file.seekg(middle);
    char byte = 0;
    file.read(&byte, 1);
    byte = static_cast<char>(byte ^ 0x5a);
    file.seekp(middle);
    file.write(&byte, 1);
  }
  EXPECT_FALSE(server_.Start()) << "the server started on a damaged log";
  int status = server_.Signal(SIGKILL);  // reaps the process, which has already exited
  EXPECT_TRUE(WIFEXITED(status) && WEXITSTATUS(status) != 0) << server_.log();
  EXPECT_THAT(server_.log(), HasSubstr(std::filesystem::path(wal).filename().string()));
}

TEST_F(ServerWalRecoveryTest, ALogWhoseLastRecordIsTornStartsWithEveryEarlierRegistration) {
  ASSERT_NO_FATAL_FAILURE(RegisterAndKill());
  std::filesystem::resize_file(
      WalFile(data_),
      log_size_before_last_ + (log_size_after_last_ - log_size_before_last_) / 2);
  ASSERT_TRUE(server_.Start()) << server_.log();
  ClientOptions options;
  options.target = server_.address();
  options.end_user = ::cir::testing::kTestEndUser;
  options.purpose_of_use = ::cir::testing::kTestPurpose;
  Client client(options);
  for (int i = 0; i < 100; ++i) {
    absl::StatusOr<v1::ResolveResponse> resolved = client.Resolve(children_[i]);
    EXPECT_TRUE(resolved.ok()) << "registration " << i << ": " << resolved.status();
  }
  // The torn record was the 101st registration's, and only it is gone.
  EXPECT_EQ(client.Resolve(children_[100]).status().code(), absl::StatusCode::kNotFound);
}

}  // namespace
}  // namespace cir
