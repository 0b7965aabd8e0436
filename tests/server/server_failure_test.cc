// What callers see when the disk fails or stalls under a running server, or other callers stall:
// a failed commit (a failing sync or write, a full disk) is never followed by business as usual
// (health, refusals with their reasons, recovery by itself); a failing read is refused clearly and
// changes nothing; a stalled disk holds up no health check, heartbeat or call past its deadline,
// and a stop is bounded by its grace period even then; clients that connect and never speak hold
// up nobody else.

#include <arpa/inet.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <unistd.h>

#include <chrono>
#include <future>
#include <memory>
#include <string>
#include <vector>

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
using testing::FictionalUpn;

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
    ::cir::testing::UsePlaintextTestAccess(options_);
    options_.listen_address = "127.0.0.1:0";
    options_.store.path = dir_.Sub("db");
    options_.store.create_if_missing = true;
    options_.store.file_system = disk_;
    options_.store.write_recovery_interval = absl::Milliseconds(50);
    options_.registry.allow_test_nhs_numbers = true;
    StartServer();
  }

  void StartServer() {
    absl::StatusOr<std::unique_ptr<RegistryServer>> server = RegistryServer::Start(options_);
    ASSERT_TRUE(server.ok()) << server.status();
    server_ = *std::move(server);
    // One attempt per call: these tests look at each answer, not at the channel's retries.
    client_ =
        std::make_unique<Client>(ClientOptions{.target = server_->address(),
                                               .max_attempts = 1,
                                               .end_user = ::cir::testing::kTestEndUser,
                                               .purpose_of_use = ::cir::testing::kTestPurpose});
  }

  // Stops the server in order and starts it again on the same folder and disk.
  void Restart() {
    client_.reset();
    ASSERT_TRUE(server_->Stop().ok());
    server_.reset();
    StartServer();
  }

  RegistryServerOptions options_;
  testing::TempDir dir_;
  std::shared_ptr<testing::FaultInjectionFs> disk_ = std::make_shared<testing::FaultInjectionFs>();
  std::unique_ptr<RegistryServer> server_;
  std::unique_ptr<Client> client_;
};

// The disk faults a running registry must come through: a sync that fails, an append that fails
// (an I/O error on write), and a disk with no space left.
enum class DiskFault { kFailingSync, kFailingWrite, kFullDisk };

class DiskFaultTest : public ServerFailureTest, public ::testing::WithParamInterface<DiskFault> {
 protected:
  void Inject(bool on) {
    switch (GetParam()) {
      case DiskFault::kFailingSync:
        disk_->FailSyncs(on);
        break;
      case DiskFault::kFailingWrite:
        disk_->FailAppends(on);
        break;
      case DiskFault::kFullDisk:
        disk_->FillDisk(on);
        break;
    }
  }
};

TEST_P(DiskFaultTest, AFailedCommitSuspendsWritesAndAuditedReadsUntilTheDiskRecovers) {
  const std::string first = FictionalNhsNumber(1);
  ASSERT_TRUE(client_->RegisterBirth(FictionalBirth("fail-1", first)).ok());
  ASSERT_EQ(HealthOf(server_->address(), "cir.v1.ChildRegistry"), HealthCheckResponse::SERVING);

  Inject(true);
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
  Inject(false);
  ASSERT_TRUE(AwaitRegistryHealth(server_->address(), HealthCheckResponse::SERVING));
  absl::StatusOr<v1::RegisterBirthResponse> retried = client_->RegisterBirth(in_flight);
  ASSERT_TRUE(retried.ok()) << retried.status();
  absl::StatusOr<v1::RegisterBirthResponse> again = client_->RegisterBirth(in_flight);
  ASSERT_TRUE(again.ok()) << again.status();
  EXPECT_EQ(again->record().child_id(), retried->record().child_id());
  EXPECT_TRUE(client_->RegisterBirth(FictionalBirth("fail-3", FictionalNhsNumber(3))).ok());
  EXPECT_TRUE(client_->Resolve(first).ok());
}

INSTANTIATE_TEST_SUITE_P(Faults, DiskFaultTest,
                         ::testing::Values(DiskFault::kFailingSync, DiskFault::kFailingWrite,
                                           DiskFault::kFullDisk),
                         [](const ::testing::TestParamInfo<DiskFault>& info) {
                           switch (info.param) {
                             case DiskFault::kFailingSync:
                               return "FailingSync";
                             case DiskFault::kFailingWrite:
                               return "FailingWrite";
                             case DiskFault::kFullDisk:
                               return "FullDisk";
                           }
                           return "";
                         });

TEST_F(ServerFailureTest, AFailingDiskReadIsRefusedClearlyChangesNothingAndPassesWithTheFault) {
  std::vector<std::string> children;
  for (int i = 1; i <= 3; ++i) {
    absl::StatusOr<v1::RegisterBirthResponse> registered =
        client_->RegisterBirth(FictionalBirth(absl::StrCat("read-", i), FictionalNhsNumber(i)));
    ASSERT_TRUE(registered.ok()) << registered.status();
    children.push_back(registered->record().child_id());
  }
  // After a restart the records are in the store's tables on disk (the log is replayed into
  // tables when the store opens) and no cache holds them: a read must go to the disk.
  Restart();
  disk_->FailReads(true);
  absl::StatusOr<v1::ResolveResponse> read = client_->Resolve(FictionalNhsNumber(1));
  EXPECT_EQ(read.status().code(), absl::StatusCode::kUnavailable) << read.status();
  EXPECT_EQ(ErrorReasonOf(read.status()), v1::STORE_UNAVAILABLE) << read.status();
  // A change that must read the record first is refused the same way, and makes nothing.
  v1::LinkUpnRequest link;
  link.set_child_id(children[1]);
  link.set_upn(FictionalUpn(1));
  absl::Status linked = client_->LinkUpn(link).status();
  EXPECT_EQ(linked.code(), absl::StatusCode::kUnavailable) << linked;
  EXPECT_EQ(ErrorReasonOf(linked), v1::STORE_UNAVAILABLE) << linked;
  EXPECT_EQ(HealthOf(server_->address(), ""), HealthCheckResponse::SERVING);

  // Once the disk reads again, everything is as it was, and the change can be made.
  disk_->FailReads(false);
  for (int i = 1; i <= 3; ++i) {
    absl::StatusOr<v1::ResolveResponse> found = client_->Resolve(FictionalNhsNumber(i));
    ASSERT_TRUE(found.ok()) << found.status();
    EXPECT_EQ(found->record().child_id(), children[i - 1]);
    EXPECT_EQ(found->record().version(), 1);
    EXPECT_EQ(found->record().upn(), "");
  }
  EXPECT_TRUE(client_->LinkUpn(link).ok());
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

TEST_F(ServerFailureTest, AStalledDiskHoldsUpNoHealthCheckNoHeartbeatAndNoCallPastItsDeadline) {
  options_.feed.heartbeat_interval = absl::Milliseconds(200);
  Restart();
  ASSERT_TRUE(client_->RegisterBirth(FictionalBirth("stall-1", FictionalNhsNumber(1))).ok());
  v1::SubscribeRequest follow;
  follow.add_local_authorities("938");
  follow.set_from_beginning(true);
  std::unique_ptr<FeedSubscription> feed = client_->Subscribe(follow);
  v1::SubscribeResponse message;
  ASSERT_TRUE(feed->Next(&message));  // the birth
  ASSERT_EQ(message.events_size(), 1);

  disk_->HangSyncs(true);
  std::promise<absl::Status> stuck;
  client_->RegisterBirthAsync(
      FictionalBirth("stall-2", FictionalNhsNumber(2)),
      [&](absl::StatusOr<v1::RegisterBirthResponse> r) { stuck.set_value(r.status()); },
      {.timeout = absl::Seconds(30)});
  ASSERT_TRUE(disk_->AwaitHungSync(std::chrono::seconds(20)));  // the writer is stuck in a sync

  // Health answers at once; a subscriber keeps its heartbeats; a call waiting on the disk ends
  // at its own deadline.
  const absl::Time began = absl::Now();
  EXPECT_EQ(HealthOf(server_->address(), ""), HealthCheckResponse::SERVING);
  EXPECT_LT(absl::Now() - began, absl::Seconds(1));
  for (int heartbeats = 0; heartbeats < 3;) {
    ASSERT_TRUE(feed->Next(&message));
    ASSERT_EQ(message.events_size(), 0) << "no event can be durable while the disk stalls";
    heartbeats += message.has_heartbeat();
  }
  const absl::Time asked = absl::Now();
  absl::Status read =
      client_->Resolve(FictionalNhsNumber(1), {.timeout = absl::Milliseconds(500)}).status();
  EXPECT_EQ(read.code(), absl::StatusCode::kDeadlineExceeded) << read;
  EXPECT_LT(absl::Now() - asked, absl::Seconds(3));

  // The disk answers again: the stuck write completes, and everything goes on.
  disk_->HangSyncs(false);
  EXPECT_TRUE(stuck.get_future().get().ok());
  EXPECT_TRUE(client_->Resolve(FictionalNhsNumber(2)).ok());
  feed->Cancel();
}

TEST_F(ServerFailureTest, ClientsThatConnectAndNeverSpeakHoldUpNobodyElse) {
  // Connections that send nothing at all, as a stalled or hostile client would hold them.
  std::vector<int> silent;
  const std::string address = server_->address();
  const int port = std::stoi(address.substr(address.rfind(':') + 1));
  for (int i = 0; i < 200; ++i) {
    const int fd = socket(AF_INET, SOCK_STREAM, 0);
    ASSERT_GE(fd, 0);
    sockaddr_in to{};
    to.sin_family = AF_INET;
    to.sin_port = htons(static_cast<uint16_t>(port));
    to.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    ASSERT_EQ(connect(fd, reinterpret_cast<sockaddr*>(&to), sizeof to), 0);
    silent.push_back(fd);
  }
  // A connection that sent half of HTTP/2's preface and stopped.
  constexpr char kHalfPreface[] = "PRI * HTTP/2.0\r\n";
  ASSERT_GT(write(silent[0], kHalfPreface, sizeof kHalfPreface - 1), 0);

  for (int i = 1; i <= 20; ++i) {
    absl::StatusOr<v1::RegisterBirthResponse> registered =
        client_->RegisterBirth(FictionalBirth(absl::StrCat("speaks-", i), FictionalNhsNumber(i)),
                               {.timeout = absl::Seconds(2)});
    ASSERT_TRUE(registered.ok()) << registered.status();
    ASSERT_TRUE(client_->Resolve(FictionalNhsNumber(i), {.timeout = absl::Seconds(2)}).ok());
  }
  for (int fd : silent) close(fd);
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
