// What callers see when the disk fails under a running server: a failed commit is never followed
// by business as usual (health, refusals with their reasons, reads going on, recovery by itself),
// and a stop is bounded by its grace period even when the disk stops answering.

#include <chrono>
#include <future>
#include <memory>
#include <string>

#include "absl/strings/str_cat.h"
#include "absl/time/clock.h"
#include "cir/client.h"
#include "grpc/health/v1/health.grpc.pb.h"
#include "grpcpp/client_context.h"
#include "grpcpp/create_channel.h"
#include "grpcpp/security/credentials.h"
#include "gtest/gtest.h"
#include "server/registry_server.h"
#include "tests/testing/fault_injection_fs.h"
#include "tests/testing/fictional_children.h"
#include "tests/testing/health_check.h"
#include "tests/testing/in_process_access.h"
#include "tests/testing/temp_dir.h"
#include "tests/testing/test_access.h"

namespace cir::server {
namespace {

using testing::HealthOf;

using grpc::health::v1::HealthCheckResponse;
using testing::FictionalBirth;
using testing::FictionalNhsNumber;

// Polls the registry service's health until it is `wanted`; false after 20 seconds.
bool AwaitRegistryHealth(const std::string& address, HealthCheckResponse::ServingStatus wanted) {
  const absl::Time give_up = absl::Now() + absl::Seconds(20);
  while (absl::Now() < give_up) {
    if (HealthOf(address, "cir.v1.ChildRegistry") == wanted) return true;
    absl::SleepFor(absl::Milliseconds(10));
  }
  return false;
}

class ServerFailureTest : public ::testing::Test {
 protected:
  void SetUp() override {
    RegistryServerOptions options;
    ::cir::testing::UsePlaintextTestAccess(options);
    options.listen_address = "127.0.0.1:0";
    options.store.path = dir_.Sub("db");
    options.store.create_if_missing = true;
    options.store.file_system = disk_;
    options.store.write_recovery_interval = absl::Milliseconds(50);
    options.registry.allow_test_nhs_numbers = true;
    absl::StatusOr<std::unique_ptr<RegistryServer>> server = RegistryServer::Start(options);
    ASSERT_TRUE(server.ok()) << server.status();
    server_ = *std::move(server);
    // One attempt per call: these tests look at each answer, not at the channel's retries.
    client_ =
        std::make_unique<Client>(ClientOptions{.target = server_->address(),
                                               .max_attempts = 1,
                                               .end_user = ::cir::testing::kTestEndUser,
                                               .purpose_of_use = ::cir::testing::kTestPurpose});
  }

  testing::TempDir dir_;
  std::shared_ptr<testing::FaultInjectionFs> disk_ = std::make_shared<testing::FaultInjectionFs>();
  std::unique_ptr<RegistryServer> server_;
  std::unique_ptr<Client> client_;
};

TEST_F(ServerFailureTest, AFailedCommitSuspendsWritesAndAuditedReadsUntilTheDiskRecovers) {
  const std::string first = FictionalNhsNumber(1);
  ASSERT_TRUE(client_->RegisterBirth(FictionalBirth("fail-1", first)).ok());
  ASSERT_EQ(HealthOf(server_->address(), "cir.v1.ChildRegistry"), HealthCheckResponse::SERVING);

  disk_->FailSyncs(true);
  const v1::RegisterBirthRequest in_flight = FictionalBirth("fail-2", FictionalNhsNumber(2));
  // With the client library's default options: it must not hide this answer behind a retry.
  Client defaults({.target = server_->address(),
                   .end_user = ::cir::testing::kTestEndUser,
                   .purpose_of_use = ::cir::testing::kTestPurpose});
  absl::Status unknown = defaults.RegisterBirth(in_flight).status();
  EXPECT_EQ(unknown.code(), absl::StatusCode::kUnavailable) << unknown;
  EXPECT_EQ(ErrorReasonOf(unknown), v1::WRITE_OUTCOME_UNKNOWN) << unknown;
  EXPECT_NE(unknown.message().find("retry"), absl::string_view::npos) << unknown;

  // No business as usual: the registry reports NOT_SERVING and refuses writes at once ...
  EXPECT_EQ(HealthOf(server_->address(), "cir.v1.ChildRegistry"), HealthCheckResponse::NOT_SERVING);
  absl::Status suspended =
      client_->RegisterBirth(FictionalBirth("fail-3", FictionalNhsNumber(3))).status();
  EXPECT_EQ(suspended.code(), absl::StatusCode::kUnavailable) << suspended;
  EXPECT_EQ(ErrorReasonOf(suspended), v1::WRITES_SUSPENDED) << suspended;
  // ... while the process stays up. A read's audit entry cannot be made durable either, so the
  // read is refused rather than answered unaudited: no entry, no data.
  EXPECT_EQ(HealthOf(server_->address(), ""), HealthCheckResponse::SERVING);
  absl::StatusOr<v1::ResolveResponse> read = client_->Resolve(first);
  EXPECT_EQ(read.status().code(), absl::StatusCode::kUnavailable) << read.status();
  EXPECT_EQ(ErrorReasonOf(read.status()), v1::AUDIT_UNAVAILABLE) << read.status();

  // Once the disk answers again the store recovers by itself, and a retry with the same ids is
  // safe: it returns the outcome, whether or not the first attempt had taken effect.
  disk_->FailSyncs(false);
  ASSERT_TRUE(AwaitRegistryHealth(server_->address(), HealthCheckResponse::SERVING));
  absl::StatusOr<v1::RegisterBirthResponse> retried = client_->RegisterBirth(in_flight);
  ASSERT_TRUE(retried.ok()) << retried.status();
  absl::StatusOr<v1::RegisterBirthResponse> again = client_->RegisterBirth(in_flight);
  ASSERT_TRUE(again.ok()) << again.status();
  EXPECT_EQ(again->record().child_id(), retried->record().child_id());
  EXPECT_TRUE(client_->RegisterBirth(FictionalBirth("fail-3", FictionalNhsNumber(3))).ok());
  EXPECT_TRUE(client_->Resolve(first).ok());
}

TEST_F(ServerFailureTest, AStopIsBoundedByItsGracePeriodEvenWhenTheDiskStopsAnswering) {
  ASSERT_TRUE(client_->RegisterBirth(FictionalBirth("hang-1", FictionalNhsNumber(1))).ok());
  disk_->HangSyncs(true);
  std::promise<absl::Status> answered;
  client_->RegisterBirthAsync(
      FictionalBirth("hang-2", FictionalNhsNumber(2)),
      [&](absl::StatusOr<v1::RegisterBirthResponse> r) { answered.set_value(r.status()); },
      {.timeout = absl::Seconds(30)});
  ASSERT_TRUE(disk_->AwaitHungSync(std::chrono::seconds(20)));  // the writer is stuck in a sync

  const absl::Time began = absl::Now();
  absl::Status stopped = server_->Stop(absl::Seconds(1));
  const absl::Duration took = absl::Now() - began;
  EXPECT_EQ(stopped.code(), absl::StatusCode::kDeadlineExceeded) << stopped;
  EXPECT_LT(took, absl::Seconds(5)) << "the stop overran its grace period";
  // The write in flight was not acknowledged: its call ended without an OK.
  std::future<absl::Status> outcome = answered.get_future();
  ASSERT_EQ(outcome.wait_for(std::chrono::seconds(20)), std::future_status::ready);
  EXPECT_FALSE(outcome.get().ok());

  disk_->HangSyncs(false);  // the disk comes back: the close finishes, and the fixture cleans up
  server_.reset();
}

TEST_F(ServerFailureTest, AWriteWhoseCallerHasGoneBeforeItsTurnIsNotMade) {
  disk_->HangSyncs(true);
  std::promise<absl::Status> first_answered;
  client_->RegisterBirthAsync(
      FictionalBirth("gone-1", FictionalNhsNumber(1)),
      [&](absl::StatusOr<v1::RegisterBirthResponse> r) { first_answered.set_value(r.status()); },
      {.timeout = absl::Seconds(30)});
  ASSERT_TRUE(disk_->AwaitHungSync(std::chrono::seconds(20)));  // the writer is stuck on the first
  // The second waits behind it until its caller gives up.
  absl::Status gone = client_->RegisterBirth(FictionalBirth("gone-2", FictionalNhsNumber(2)),
                                             {.timeout = absl::Milliseconds(300)})
                          .status();
  EXPECT_EQ(gone.code(), absl::StatusCode::kDeadlineExceeded) << gone;
  disk_->HangSyncs(false);
  EXPECT_TRUE(first_answered.get_future().get().ok());
  // The writer reached the second after its deadline: it was dropped, not made.
  EXPECT_EQ(client_->Resolve(FictionalNhsNumber(2)).status().code(), absl::StatusCode::kNotFound);
  EXPECT_TRUE(client_->Resolve(FictionalNhsNumber(1)).ok());
}

}  // namespace
}  // namespace cir::server
