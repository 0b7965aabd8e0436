// The registry end to end over real gRPC on a loopback port: every RPC through the client library,
// every error class with its code and message, idempotent retries, and racing registrations.

#include "server/registry_server.h"

#include <arpa/inet.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <unistd.h>

#include <atomic>
#include <future>
#include <map>
#include <mutex>
#include <set>
#include <thread>
#include <vector>

#include "absl/strings/str_cat.h"
#include "cir/client.h"
#include "cir/v1/registry.grpc.pb.h"
#include "gmock/gmock.h"
#include "google/protobuf/unknown_field_set.h"
#include "grpc/health/v1/health.grpc.pb.h"
#include "grpcpp/client_context.h"
#include "grpcpp/create_channel.h"
#include "grpcpp/security/credentials.h"
#include "gtest/gtest.h"
#include "tests/testing/fictional_children.h"
#include "tests/testing/health_check.h"
#include "tests/testing/in_process_access.h"
#include "tests/testing/temp_dir.h"
#include "tests/testing/test_access.h"

namespace cir::server {
namespace {

using testing::HealthOf;

using ::testing::HasSubstr;
using ::testing::Not;
using testing::FictionalBirth;
using testing::FictionalNhsNumber;
using testing::FictionalUpn;

class RegistryServerTest : public ::testing::Test {
 protected:
  void SetUp() override {
    RegistryServerOptions options;
    ::cir::testing::UsePlaintextTestAccess(options);
    options.listen_address = "127.0.0.1:0";
    options.store.path = dir_.Sub("db");
    options.store.create_if_missing = true;
    options.registry.allow_test_nhs_numbers = true;  // fictional children only
    absl::StatusOr<std::unique_ptr<RegistryServer>> server = RegistryServer::Start(options);
    ASSERT_TRUE(server.ok()) << server.status();
    server_ = *std::move(server);
    client_ =
        std::make_unique<Client>(ClientOptions{.target = server_->address(),
                                               .end_user = ::cir::testing::kTestEndUser,
                                               .purpose_of_use = ::cir::testing::kTestPurpose});
  }

  std::string RegisterNew(int n) {
    absl::StatusOr<v1::RegisterBirthResponse> r =
        client_->RegisterBirth(FictionalBirth(absl::StrCat("n-", n), FictionalNhsNumber(n)));
    EXPECT_TRUE(r.ok()) << r.status();
    return r.ok() ? r->record().child_id() : "";
  }

  testing::TempDir dir_;
  std::unique_ptr<RegistryServer> server_;
  std::unique_ptr<Client> client_;
};

TEST_F(RegistryServerTest, TheHealthCheckReportsServing) {
  EXPECT_TRUE(client_->CheckHealth().ok());
  EXPECT_EQ(HealthOf(server_->address(), "cir.v1.ChildRegistry"),
            grpc::health::v1::HealthCheckResponse::SERVING);
}

TEST_F(RegistryServerTest, StoppingTurnsHealthNotServingAndKeepsAnsweringThroughTheDrain) {
  server_.reset();  // the fixture's server has no drain interval; this test starts its own
  RegistryServerOptions options;
  ::cir::testing::UsePlaintextTestAccess(options);
  options.listen_address = "127.0.0.1:0";
  options.store.path = dir_.Sub("db");
  options.registry.allow_test_nhs_numbers = true;
  options.drain = absl::Seconds(30);  // far longer than the test: it ends with the grace period
  absl::StatusOr<std::unique_ptr<RegistryServer>> server = RegistryServer::Start(options);
  ASSERT_TRUE(server.ok()) << server.status();
  const std::string address = (*server)->address();
  Client client({.target = address,
                 .end_user = ::cir::testing::kTestEndUser,
                 .purpose_of_use = ::cir::testing::kTestPurpose});
  const std::string nhs = FictionalNhsNumber(30);
  ASSERT_TRUE(client.RegisterBirth(FictionalBirth("drain-1", nhs)).ok());

  std::thread stopper([&] { EXPECT_TRUE((*server)->Stop(absl::Seconds(3)).ok()); });
  const absl::Time give_up = absl::Now() + absl::Seconds(20);
  while (HealthOf(address, "cir.v1.ChildRegistry") ==
             grpc::health::v1::HealthCheckResponse::SERVING &&
         absl::Now() < give_up) {
    absl::SleepFor(absl::Milliseconds(5));
  }
  EXPECT_EQ(HealthOf(address, ""), grpc::health::v1::HealthCheckResponse::NOT_SERVING);
  // Still answering while load balancers move away.
  absl::StatusOr<v1::ResolveResponse> resolved = client.Resolve(nhs);
  EXPECT_TRUE(resolved.ok()) << resolved.status();
  stopper.join();
}

TEST_F(RegistryServerTest, DescribeRegistrySaysWhetherItIsATestEnvironment) {
  absl::StatusOr<v1::DescribeRegistryResponse> test = client_->DescribeRegistry();
  ASSERT_TRUE(test.ok()) << test.status();
  EXPECT_EQ(test->environment(), v1::DescribeRegistryResponse::ENVIRONMENT_TEST);
  EXPECT_EQ(test->max_batch_identifiers(), 10000);

  RegistryServerOptions options;

  ::cir::testing::UsePlaintextTestAccess(options);
  options.listen_address = "127.0.0.1:0";
  options.store.path = dir_.Sub("production");
  options.store.create_if_missing = true;
  absl::StatusOr<std::unique_ptr<RegistryServer>> production = RegistryServer::Start(options);
  ASSERT_TRUE(production.ok()) << production.status();
  Client client({.target = (*production)->address(),
                 .end_user = ::cir::testing::kTestEndUser,
                 .purpose_of_use = ::cir::testing::kTestPurpose});
  absl::StatusOr<v1::DescribeRegistryResponse> described = client.DescribeRegistry();
  ASSERT_TRUE(described.ok()) << described.status();
  EXPECT_EQ(described->environment(), v1::DescribeRegistryResponse::ENVIRONMENT_PRODUCTION);
  // A production registry refuses the test range, naming the field.
  absl::Status refused =
      client.RegisterBirth(FictionalBirth("prod-1", FictionalNhsNumber(50))).status();
  EXPECT_EQ(refused.code(), absl::StatusCode::kInvalidArgument);
  EXPECT_EQ(ErrorReasonOf(refused), v1::TEST_NHS_NUMBER_NOT_ACCEPTED);
}

TEST_F(RegistryServerTest, ARequestLargerThanItsMethodTakesIsRefusedAndChangesNothing) {
  v1::RegisterBirthRequest oversized = FictionalBirth("big-1", FictionalNhsNumber(31));
  oversized.set_given_name(std::string(20000, 'A'));
  absl::Status refused = client_->RegisterBirth(oversized).status();
  EXPECT_EQ(refused.code(), absl::StatusCode::kResourceExhausted);
  EXPECT_EQ(ErrorReasonOf(refused), v1::REQUEST_TOO_LARGE);
  EXPECT_EQ(client_->Resolve(FictionalNhsNumber(31)).status().code(), absl::StatusCode::kNotFound);
}

// A request of type `Request` whose only content is `bytes` bytes of a field it does not know,
// as a newer or a careless client might send: it counts towards the request's size all the same.
template <typename Request>
Request WithUnknownBytes(size_t bytes) {
  Request request;
  request.GetReflection()->MutableUnknownFields(&request)->AddLengthDelimited(
      99, std::string(bytes, 'x'));
  return request;
}

TEST_F(RegistryServerTest, EveryMethodRefusesARequestLargerThanItTakesNamingTheLimit) {
  auto expect_too_large = [](const absl::Status& refused, absl::string_view limit) {
    EXPECT_EQ(refused.code(), absl::StatusCode::kResourceExhausted) << refused;
    EXPECT_EQ(ErrorReasonOf(refused), v1::REQUEST_TOO_LARGE) << refused;
    EXPECT_THAT(refused.message(), HasSubstr(absl::StrCat("at most ", limit, " bytes")));
  };
  // Between its method's limit (4 MiB) and the server-wide receive limit: the method's own
  // refusal, and no birth of it registered.
  v1::RegisterBirthsRequest births;
  for (int n = 0; n < 300; ++n) {
    v1::RegisterBirthRequest* birth = births.add_births();
    *birth = FictionalBirth(absl::StrCat("big-", n), FictionalNhsNumber(100 + n));
    birth->set_given_name(std::string(16000, 'A'));
  }
  expect_too_large(client_->RegisterBirths(births).status(), "4194304");
  EXPECT_EQ(client_->Resolve(FictionalNhsNumber(100)).status().code(), absl::StatusCode::kNotFound);

  v1::BatchResolveRequest batch;
  for (int n = 0; n < 5000; ++n) batch.add_identifiers(std::string(300, '9'));
  expect_too_large(client_->BatchResolve(batch).status(), "1048576");

  v1::ListEventsRequest list;
  list.set_local_authority(std::string(100000, '9'));
  list.set_from_beginning(true);
  expect_too_large(client_->ListEvents(list).status(), "65536");
  v1::SubscribeRequest subscribe;
  subscribe.add_local_authorities(std::string(100000, '9'));
  subscribe.set_from_beginning(true);
  std::unique_ptr<FeedSubscription> stream = client_->Subscribe(subscribe);
  v1::SubscribeResponse message;
  EXPECT_FALSE(stream->Next(&message));
  expect_too_large(stream->Finish(), "65536");

  v1::GetAccessReportRequest report;
  report.set_child_id(std::string(2000, '9'));
  expect_too_large(client_->GetAccessReport(report).status(), "1024");

  v1::RegisterBirthRequest birth = FictionalBirth("big-one", FictionalNhsNumber(99));
  birth.set_given_name(std::string(10000, 'A'));
  expect_too_large(client_->RegisterBirth(birth).status(), "8192");
  v1::ChangeAddressRequest move;
  move.set_child_id(std::string(11, 'A'));
  move.set_request_id("move-1");
  move.add_address_lines(std::string(10000, 'A'));
  expect_too_large(client_->ChangeAddress(move).status(), "8192");

  // A request with no field of any size is still bounded: its unknown fields count.
  auto checkpoints = WithUnknownBytes<v1::ListCheckpointsRequest>(2000);
  expect_too_large(client_->ListAuditCheckpoints(checkpoints).status(), "1024");
  auto consistency = WithUnknownBytes<v1::ProveConsistencyRequest>(2000);
  expect_too_large(client_->ProveAuditConsistency(consistency).status(), "1024");
  auto entries = WithUnknownBytes<v1::ReadAuditEntriesRequest>(2000);
  expect_too_large(client_->ReadAuditEntries(entries).status(), "1024");
  auto describe = WithUnknownBytes<v1::DescribeRegistryRequest>(2000);
  expect_too_large(client_->DescribeRegistry(describe).status(), "1024");
  // BackUp, which the client library sends without fields, through the bare stub.
  std::unique_ptr<v1::RegistryAdmin::Stub> admin = v1::RegistryAdmin::NewStub(
      grpc::CreateChannel(server_->address(), grpc::InsecureChannelCredentials()));
  grpc::ClientContext context;
  context.AddMetadata("x-cir-end-user", ::cir::testing::kTestEndUser);
  context.AddMetadata("x-cir-purpose-of-use", ::cir::testing::kTestPurpose);
  auto backup = WithUnknownBytes<v1::BackUpRequest>(2000);
  v1::BackUpResponse made;
  const grpc::Status backup_refused = admin->BackUp(&context, backup, &made);
  EXPECT_EQ(backup_refused.error_code(), grpc::StatusCode::RESOURCE_EXHAUSTED)
      << backup_refused.error_message();
  EXPECT_THAT(backup_refused.error_message(), HasSubstr("at most 1024 bytes"));
}

TEST_F(RegistryServerTest, EveryRefusalCarriesItsMachineReadableReason) {
  v1::RegisterBirthRequest bad = FictionalBirth("reason-bad", FictionalNhsNumber(40));
  bad.set_postcode("nowhere");
  absl::Status invalid = client_->RegisterBirth(bad).status();
  EXPECT_EQ(ErrorReasonOf(invalid), v1::FIELD_INVALID);
  EXPECT_EQ(ErrorReasonNameOf(invalid), "FIELD_INVALID");

  EXPECT_EQ(ErrorReasonOf(client_->Resolve(FictionalNhsNumber(41)).status()),
            v1::IDENTIFIER_NOT_FOUND);

  std::string first = RegisterNew(42);
  std::string second = RegisterNew(43);
  v1::LinkUpnRequest link;
  link.set_child_id(first);
  link.set_upn(FictionalUpn(42));
  ASSERT_TRUE(client_->LinkUpn(link).ok());
  link.set_child_id(second);
  EXPECT_EQ(ErrorReasonOf(client_->LinkUpn(link).status()), v1::UPN_HELD_BY_ANOTHER_CHILD);

  v1::LinkNhsNumberRequest nhs;
  nhs.set_child_id(second);
  nhs.set_nhs_number(FictionalNhsNumber(42));
  EXPECT_EQ(ErrorReasonOf(client_->LinkNhsNumber(nhs).status()),
            v1::NHS_NUMBER_HELD_BY_ANOTHER_CHILD);

  v1::RegisterBirthRequest reused = FictionalBirth("n-42", FictionalNhsNumber(42));
  reused.set_given_name("Someone Else");
  EXPECT_EQ(ErrorReasonOf(client_->RegisterBirth(reused).status()),
            v1::NOTIFICATION_REUSED_WITH_OTHER_DETAILS);
}

TEST_F(RegistryServerTest, RegisterResolveAndLinkWorkEndToEnd) {
  absl::StatusOr<v1::RegisterBirthResponse> registered =
      client_->RegisterBirth(FictionalBirth("maternity-1", "999-000-0018"));
  ASSERT_TRUE(registered.ok()) << registered.status();
  EXPECT_TRUE(registered->created());
  const std::string id = registered->record().child_id();
  EXPECT_EQ(registered->record().child_id_display().size(), 13u);

  v1::LinkUpnRequest upn;
  upn.set_child_id(registered->record().child_id_display());
  upn.set_upn("b801200005001");
  absl::StatusOr<v1::LinkUpnResponse> linked = client_->LinkUpn(upn);
  ASSERT_TRUE(linked.ok()) << linked.status();
  EXPECT_EQ(linked->record().upn(), "B801200005001");

  for (const std::string& identifier : {id, std::string("999 000 0018"),
                                        std::string("B801200005001")}) {
    absl::StatusOr<v1::ResolveResponse> resolved = client_->Resolve(identifier);
    ASSERT_TRUE(resolved.ok()) << identifier << ": " << resolved.status();
    EXPECT_EQ(resolved->record().child_id(), id);
    EXPECT_EQ(resolved->record().nhs_number(), "9990000018");
    EXPECT_EQ(resolved->record().upn(), "B801200005001");
  }
}

TEST_F(RegistryServerTest, LinkNhsNumberAddsTheNumberOverTheWire) {
  absl::StatusOr<v1::RegisterBirthResponse> r = client_->RegisterBirth(FictionalBirth("abroad", ""));
  ASSERT_TRUE(r.ok()) << r.status();
  v1::LinkNhsNumberRequest link;
  link.set_child_id(r->record().child_id());
  link.set_nhs_number(FictionalNhsNumber(5));
  absl::StatusOr<v1::LinkNhsNumberResponse> linked = client_->LinkNhsNumber(link);
  ASSERT_TRUE(linked.ok()) << linked.status();
  EXPECT_EQ(client_->Resolve(FictionalNhsNumber(5))->record().child_id(), r->record().child_id());
}

TEST_F(RegistryServerTest, EveryErrorClassArrivesWithItsCodeAndAMessageNamingTheProblem) {
  // INVALID_ARGUMENT, naming the field.
  v1::RegisterBirthRequest bad = FictionalBirth("bad", FictionalNhsNumber(1));
  bad.set_postcode("nowhere");
  absl::Status invalid = client_->RegisterBirth(bad).status();
  EXPECT_EQ(invalid.code(), absl::StatusCode::kInvalidArgument);
  EXPECT_THAT(invalid.message(), HasSubstr("postcode"));
  // NOT_FOUND.
  EXPECT_EQ(client_->Resolve(FictionalNhsNumber(2)).status().code(), absl::StatusCode::kNotFound);
  // ALREADY_EXISTS, without disclosing the other child.
  std::string first = RegisterNew(3);
  std::string second = RegisterNew(4);
  v1::LinkUpnRequest link;
  link.set_child_id(first);
  link.set_upn(FictionalUpn(3));
  ASSERT_TRUE(client_->LinkUpn(link).ok());
  link.set_child_id(second);
  absl::Status taken = client_->LinkUpn(link).status();
  EXPECT_EQ(taken.code(), absl::StatusCode::kAlreadyExists);
  EXPECT_THAT(taken.message(), Not(HasSubstr(first)));
  // FAILED_PRECONDITION.
  link.set_upn(FictionalUpn(4));
  ASSERT_TRUE(client_->LinkUpn(link).ok());
  link.set_upn(FictionalUpn(5));
  EXPECT_EQ(client_->LinkUpn(link).status().code(), absl::StatusCode::kFailedPrecondition);
  // A bad request changed nothing.
  EXPECT_EQ(client_->Resolve(FictionalNhsNumber(1)).status().code(), absl::StatusCode::kNotFound);
  // Nothing answers on a closed port: UNAVAILABLE, after the channel's retries.
  Client nowhere({.target = "127.0.0.1:1",
                  .max_attempts = 2,
                  .end_user = ::cir::testing::kTestEndUser,
                  .purpose_of_use = ::cir::testing::kTestPurpose});
  EXPECT_EQ(nowhere.Resolve(first, {.timeout = absl::Seconds(2)}).status().code(),
            absl::StatusCode::kUnavailable);
}

TEST_F(RegistryServerTest, RetriedRegistrationsReturnWhatTheFirstCallReturned) {
  v1::RegisterBirthRequest birth = FictionalBirth("retry-me", FictionalNhsNumber(6));
  std::string id = client_->RegisterBirth(birth)->record().child_id();
  for (int i = 0; i < 3; ++i) {
    absl::StatusOr<v1::RegisterBirthResponse> retry = client_->RegisterBirth(birth);
    ASSERT_TRUE(retry.ok());
    EXPECT_TRUE(retry->created());  // as the first call: this notification created the child
    EXPECT_EQ(retry->record().child_id(), id);
  }
  // Another notification of the same birth returns the child, not created by it.
  absl::StatusOr<v1::RegisterBirthResponse> other =
      client_->RegisterBirth(FictionalBirth("other-notification", FictionalNhsNumber(6)));
  ASSERT_TRUE(other.ok()) << other.status();
  EXPECT_FALSE(other->created());
  EXPECT_EQ(other->record().child_id(), id);
}

TEST_F(RegistryServerTest, BatchResolveOfTenThousandAnswersEveryIdentifierInOrder) {
  std::vector<std::string> ids;
  for (int n = 0; n < 50; ++n) ids.push_back(RegisterNew(n));
  v1::BatchResolveRequest request;
  for (int i = 0; i < 10000; ++i) {
    request.add_identifiers(i % 3 == 0 ? FictionalNhsNumber(i % 100) : i % 3 == 1 ? "junk" : ids[i % 50]);
  }
  absl::StatusOr<v1::BatchResolveResponse> r = client_->BatchResolve(request);
  ASSERT_TRUE(r.ok()) << r.status();
  ASSERT_EQ(r->results_size(), 10000);
  for (int i = 0; i < 10000; ++i) {
    const v1::BatchResolveResult& result = r->results(i);
    if (i % 3 == 1) {
      EXPECT_EQ(result.outcome(), v1::BatchResolveResult::OUTCOME_INVALID);
    } else if (i % 3 == 2 || i % 100 < 50) {
      EXPECT_EQ(result.outcome(), v1::BatchResolveResult::OUTCOME_FOUND) << i;
    } else {
      EXPECT_EQ(result.outcome(), v1::BatchResolveResult::OUTCOME_NOT_FOUND) << i;
    }
  }
  v1::BatchResolveRequest too_many = request;
  too_many.add_identifiers(ids[0]);
  EXPECT_EQ(client_->BatchResolve(too_many).status().code(), absl::StatusCode::kInvalidArgument);
}

TEST_F(RegistryServerTest, SixteenRacersRegisteringTheSameHundredBirthsCreateExactlyOneHundredChildren) {
  constexpr int kRacers = 16;
  constexpr int kBirths = 100;
  std::mutex mu;
  std::map<int, std::set<std::string>> ids_seen;  // birth -> every identifier any racer received
  int created = 0;
  std::vector<std::thread> racers;
  for (int racer = 0; racer < kRacers; ++racer) {
    racers.emplace_back([&, racer] {
      for (int k = 0; k < kBirths; ++k) {
        int birth = (k + racer * 7) % kBirths;  // racers start at different births
        // Each racer is its own notifying system, sending the same notification ids: every birth
        // is notified 16 times, with the same NHS number.
        v1::RegisterBirthRequest request =
            FictionalBirth(absl::StrCat("birth-", birth), FictionalNhsNumber(birth));
        request.set_notifying_system(absl::StrCat("RACER", racer));
        absl::StatusOr<v1::RegisterBirthResponse> r = client_->RegisterBirth(request);
        ASSERT_TRUE(r.ok()) << r.status();
        std::lock_guard<std::mutex> lock(mu);
        ids_seen[birth].insert(r->record().child_id());
        created += r->created();
      }
    });
  }
  for (std::thread& t : racers) t.join();
  EXPECT_EQ(created, kBirths);
  ASSERT_EQ(ids_seen.size(), static_cast<size_t>(kBirths));
  std::set<std::string> distinct;
  for (const auto& [birth, ids] : ids_seen) {
    ASSERT_EQ(ids.size(), 1u) << "birth " << birth << " got " << ids.size() << " identifiers";
    distinct.insert(*ids.begin());
    EXPECT_EQ(client_->Resolve(FictionalNhsNumber(birth))->record().child_id(), *ids.begin());
  }
  EXPECT_EQ(distinct.size(), static_cast<size_t>(kBirths));  // and no two births share one
}

TEST_F(RegistryServerTest, AsynchronousCallsCompleteWithTheSameAnswers) {
  std::string id = RegisterNew(9);
  std::promise<absl::StatusOr<v1::ResolveResponse>> resolved;
  v1::ResolveRequest request;
  request.set_identifier(FictionalNhsNumber(9));
  client_->ResolveAsync(request, [&](auto r) { resolved.set_value(std::move(r)); });
  absl::StatusOr<v1::ResolveResponse> r = resolved.get_future().get();
  ASSERT_TRUE(r.ok()) << r.status();
  EXPECT_EQ(r->record().child_id(), id);
  std::promise<absl::Status> health;
  client_->CheckHealthAsync([&](absl::Status s) { health.set_value(s); });
  EXPECT_TRUE(health.get_future().get().ok());
}

// An agency's callback may own what it needs (a promise, a buffer): the callbacks take move-only
// callables.
TEST_F(RegistryServerTest, AsynchronousCallsTakeMoveOnlyCallbacks) {
  std::string id = RegisterNew(10);
  v1::ResolveRequest request;
  request.set_identifier(FictionalNhsNumber(10));
  std::promise<absl::StatusOr<v1::ResolveResponse>> resolved;
  std::future<absl::StatusOr<v1::ResolveResponse>> answer = resolved.get_future();
  client_->ResolveAsync(request, [promise = std::move(resolved)](auto r) mutable {
    promise.set_value(std::move(r));
  });
  absl::StatusOr<v1::ResolveResponse> r = answer.get();
  ASSERT_TRUE(r.ok()) << r.status();
  EXPECT_EQ(r->record().child_id(), id);
  auto healthy = std::make_unique<std::promise<absl::Status>>();
  std::future<absl::Status> health = healthy->get_future();
  client_->CheckHealthAsync(
      [healthy = std::move(healthy)](absl::Status s) mutable { healthy->set_value(s); });
  EXPECT_TRUE(health.get().ok());
}

// A refusal's machine-readable reason and its facts come back through the client library.
TEST_F(RegistryServerTest, ARefusalsReasonAndFactsReachTheClient) {
  v1::ResolveRequest request;
  request.set_identifier("not an identifier");
  absl::StatusOr<v1::ResolveResponse> r = client_->Resolve(request);
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.status().code(), absl::StatusCode::kInvalidArgument);
  EXPECT_NE(ErrorReasonOf(r.status()), v1::ERROR_REASON_UNSPECIFIED);
  EXPECT_EQ(ErrorReasonNameOf(r.status()), v1::ErrorReason_Name(ErrorReasonOf(r.status())));
  EXPECT_EQ(ErrorMetadataOf(r.status()),
            (std::map<std::string, std::string>{{"field", "identifier"}}));
}

TEST_F(RegistryServerTest, AcknowledgedWritesSurviveAStopAndARestart) {
  std::atomic<int> acknowledged = 0;
  std::vector<std::string> expected;
  for (int n = 0; n < 200; ++n) expected.push_back(FictionalNhsNumber(n));
  std::vector<std::promise<void>> done(200);
  for (int n = 0; n < 200; ++n) {
    client_->RegisterBirthAsync(FictionalBirth(absl::StrCat("stop-", n), expected[n]),
                                [&, n](auto r) {
                                  acknowledged += r.ok();
                                  done[n].set_value();
                                });
  }
  for (auto& d : done) d.get_future().wait();
  ASSERT_TRUE(server_->Stop().ok());
  RegistryServerOptions options;
  ::cir::testing::UsePlaintextTestAccess(options);
  options.listen_address = "127.0.0.1:0";
  options.store.path = dir_.Sub("db");
  options.registry.allow_test_nhs_numbers = true;
  absl::StatusOr<std::unique_ptr<RegistryServer>> restarted = RegistryServer::Start(options);
  ASSERT_TRUE(restarted.ok()) << restarted.status();
  Client client({.target = (*restarted)->address(),
                 .end_user = ::cir::testing::kTestEndUser,
                 .purpose_of_use = ::cir::testing::kTestPurpose});
  EXPECT_EQ(acknowledged.load(), 200);
  for (const std::string& nhs : expected) EXPECT_TRUE(client.Resolve(nhs).ok()) << nhs;
}

// A loopback port free just now: bound to port 0 and let go of.
int FreeLoopbackPort() {
  const int fd = socket(AF_INET, SOCK_STREAM, 0);
  sockaddr_in address{};
  address.sin_family = AF_INET;
  address.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  socklen_t length = sizeof address;
  bind(fd, reinterpret_cast<sockaddr*>(&address), sizeof address);
  getsockname(fd, reinterpret_cast<sockaddr*>(&address), &length);
  close(fd);
  return ntohs(address.sin_port);
}

// A batch job's call made while the registry is not listening yet (or restarting) waits for it
// with wait_for_ready, and succeeds once it listens; the same call without it fails at once.
TEST_F(RegistryServerTest, ACallWaitingForReadySucceedsOnceTheServerListensAndFailsAtOnceWithout) {
  const std::string address = absl::StrCat("127.0.0.1:", FreeLoopbackPort());
  Client client({.target = address});
  const v1::RegisterBirthRequest birth = FictionalBirth("ready-1", FictionalNhsNumber(60));

  const absl::Time start = absl::Now();
  absl::Status refused = client.RegisterBirth(birth, {.timeout = absl::Seconds(30)}).status();
  EXPECT_EQ(refused.code(), absl::StatusCode::kUnavailable) << refused;
  EXPECT_LT(absl::Now() - start, absl::Seconds(5)) << "not at once: it waited";

  std::future<absl::StatusOr<v1::RegisterBirthResponse>> waiting =
      std::async(std::launch::async, [&] {
        return client.RegisterBirth(birth, {.timeout = absl::Seconds(30), .wait_for_ready = true});
      });
  // Nothing listens yet: the call waits rather than failing.
  EXPECT_EQ(waiting.wait_for(std::chrono::milliseconds(500)), std::future_status::timeout);
  RegistryServerOptions options;
  ::cir::testing::UsePlaintextTestAccess(options);
  options.listen_address = address;
  options.store.path = dir_.Sub("later");
  options.store.create_if_missing = true;
  options.registry.allow_test_nhs_numbers = true;
  absl::StatusOr<std::unique_ptr<RegistryServer>> later = RegistryServer::Start(options);
  ASSERT_TRUE(later.ok()) << later.status();
  absl::StatusOr<v1::RegisterBirthResponse> born = waiting.get();
  ASSERT_TRUE(born.ok()) << born.status();
  EXPECT_TRUE(born->created());
}

TEST_F(RegistryServerTest, AFeedStreamWaitingForReadyOpensOnceTheServerListens) {
  const std::string address = absl::StrCat("127.0.0.1:", FreeLoopbackPort());
  Client client({.target = address,
                 .end_user = ::cir::testing::kTestEndUser,
                 .purpose_of_use = ::cir::testing::kTestPurpose});
  v1::SubscribeRequest request;
  request.add_local_authorities("938");
  request.set_from_beginning(true);

  // Without waiting, a stream to a registry not listening ends at once, UNAVAILABLE.
  std::unique_ptr<FeedSubscription> unready = client.Subscribe(request);
  v1::SubscribeResponse message;
  EXPECT_FALSE(unready->Next(&message));
  EXPECT_EQ(unready->Finish().code(), absl::StatusCode::kUnavailable);

  // Waiting, it is opened (Subscribe blocks until it is) once the registry listens.
  std::unique_ptr<FeedSubscription> waiting;
  std::future<bool> first = std::async(std::launch::async, [&] {
    waiting = client.Subscribe(request, {.timeout = absl::Seconds(30), .wait_for_ready = true});
    return waiting->Next(&message);
  });
  EXPECT_EQ(first.wait_for(std::chrono::milliseconds(500)), std::future_status::timeout);
  RegistryServerOptions options;
  ::cir::testing::UsePlaintextTestAccess(options);
  options.listen_address = address;
  options.store.path = dir_.Sub("later-feed");
  options.store.create_if_missing = true;
  options.registry.allow_test_nhs_numbers = true;
  options.feed.heartbeat_interval = absl::Milliseconds(100);
  absl::StatusOr<std::unique_ptr<RegistryServer>> later = RegistryServer::Start(options);
  ASSERT_TRUE(later.ok()) << later.status();
  // The stream opened once the server listened: its first message (a heartbeat) arrives.
  ASSERT_TRUE(first.get());
  waiting->Cancel();
}

}  // namespace
}  // namespace cir::server
