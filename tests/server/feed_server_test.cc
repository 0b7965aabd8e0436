// The feed end to end over real gRPC on a loopback port: live delivery as writes commit,
// heartbeats, resumption by cursor across a restart, many subscribers over many areas, a subscriber
// that does not read, the server's stop, and the life events through the client library.

#include <atomic>
#include <condition_variable>
#include <deque>
#include <map>
#include <memory>
#include <mutex>
#include <set>
#include <thread>
#include <vector>

#include "absl/strings/escaping.h"
#include "absl/strings/str_cat.h"
#include "cir/client.h"
#include "feed/feed_cursor.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "server/registry_server.h"
#include "tests/testing/fictional_children.h"
#include "tests/testing/in_process_access.h"
#include "tests/testing/temp_dir.h"
#include "tests/testing/test_access.h"

namespace cir::server {
namespace {

using testing::FictionalBirth;
using testing::FictionalNhsNumber;

class FeedServerTest : public ::testing::Test {
 protected:
  void SetUp() override { StartServer(); }

  void StartServer() {
    RegistryServerOptions options;
    ::cir::testing::UsePlaintextTestAccess(options);
    options.listen_address = "127.0.0.1:0";
    options.store.path = dir_.Sub("db");
    options.store.create_if_missing = true;
    options.registry.allow_test_nhs_numbers = true;  // fictional children only
    options.feed.heartbeat_interval = heartbeat_;
    absl::StatusOr<std::unique_ptr<RegistryServer>> server = RegistryServer::Start(options);
    ASSERT_TRUE(server.ok()) << server.status();
    server_ = *std::move(server);
    client_ =
        std::make_unique<Client>(ClientOptions{.target = server_->address(),
                                               .end_user = ::cir::testing::kTestEndUser,
                                               .purpose_of_use = ::cir::testing::kTestPurpose});
  }

  // Registers the n-th fictional child in `area`; returns its identifier.
  std::string RegisterIn(int n, const std::string& area, Client* client = nullptr) {
    v1::RegisterBirthRequest birth = FictionalBirth(absl::StrCat("n-", n), FictionalNhsNumber(n));
    birth.set_local_authority(area);
    birth.add_address_lines(absl::StrCat(n, " Test Street"));
    absl::StatusOr<v1::RegisterBirthResponse> r =
        (client != nullptr ? client : client_.get())->RegisterBirth(birth);
    EXPECT_TRUE(r.ok()) << r.status();
    return r.ok() ? r->record().child_id() : "";
  }

  static v1::SubscribeRequest FromBeginning(const std::vector<std::string>& areas) {
    v1::SubscribeRequest request;
    for (const std::string& area : areas) request.add_local_authorities(area);
    request.set_from_beginning(true);
    return request;
  }

  // The next event of `subscription`, skipping heartbeats; nullopt once it has ended.
  std::optional<v1::FeedEvent> NextEvent(FeedSubscription& subscription) {
    std::deque<v1::FeedEvent>* found;
    {
      std::lock_guard<std::mutex> lock(waiting_mu_);
      found = &waiting_[&subscription];  // a map's elements stay where they are
    }
    std::deque<v1::FeedEvent>& waiting = *found;
    v1::SubscribeResponse message;
    while (waiting.empty() && subscription.Next(&message)) {
      for (const v1::FeedEvent& event : message.events()) waiting.push_back(event);
    }
    if (waiting.empty()) return std::nullopt;
    v1::FeedEvent event = std::move(waiting.front());
    waiting.pop_front();
    return event;
  }

  absl::Duration heartbeat_ = absl::Seconds(10);
  // Events received in a message but not yet taken by NextEvent, per subscription.
  std::mutex waiting_mu_;
  std::map<FeedSubscription*, std::deque<v1::FeedEvent>> waiting_;
  testing::TempDir dir_;
  std::unique_ptr<RegistryServer> server_;
  std::unique_ptr<Client> client_;
};

TEST_F(FeedServerTest, ASubscriberReceivesABirthInItsAreaAsItCommits) {
  std::unique_ptr<FeedSubscription> feed = client_->Subscribe(FromBeginning({"938"}));
  const std::string child = RegisterIn(1, "938");
  std::optional<v1::FeedEvent> event = NextEvent(*feed);
  ASSERT_TRUE(event.has_value());
  EXPECT_EQ(event->kind(), v1::FEED_EVENT_KIND_BIRTH_REGISTERED);
  EXPECT_EQ(event->local_authority(), "938");
  EXPECT_EQ(event->sequence(), 1u);
  EXPECT_EQ(event->child_id(), child);
  EXPECT_EQ(event->child().given_name(), "Ada");
  EXPECT_THAT(event->child().address_lines(), ::testing::ElementsAre("1 Test Street"));
  EXPECT_FALSE(event->cursor().empty());
  EXPECT_EQ(event->made_by(), testing::kFictionalNotifyingSystem);
}

TEST_F(FeedServerTest, HeartbeatsCarryEachAreasHeadWhileNothingHappens) {
  server_.reset();
  heartbeat_ = absl::Milliseconds(200);
  StartServer();
  RegisterIn(1, "938");
  std::unique_ptr<FeedSubscription> feed = client_->Subscribe(FromBeginning({"938", "201"}));
  v1::SubscribeResponse message;
  ASSERT_TRUE(feed->Next(&message));
  ASSERT_EQ(message.events_size(), 1);
  ASSERT_TRUE(feed->Next(&message));
  ASSERT_TRUE(message.has_heartbeat());
  EXPECT_EQ(message.events_size(), 0);
  std::map<std::string, uint64_t> heads;
  for (const v1::FeedHead& head : message.heartbeat().heads()) {
    heads[head.local_authority()] = head.head_sequence();
  }
  EXPECT_EQ(heads, (std::map<std::string, uint64_t>{{"938", 1}, {"201", 0}}));
}

TEST_F(FeedServerTest, ASubscriberResumingFromItsLastCursorAfterARestartGetsEveryLaterEventOnce) {
  std::vector<std::string> children;
  for (int n = 1; n <= 5; ++n) children.push_back(RegisterIn(n, n % 2 == 0 ? "201" : "938"));
  std::string cursor;
  {
    std::unique_ptr<FeedSubscription> feed = client_->Subscribe(FromBeginning({"938", "201"}));
    for (int i = 0; i < 3; ++i) {
      std::optional<v1::FeedEvent> event = NextEvent(*feed);
      ASSERT_TRUE(event.has_value());
      EXPECT_EQ(event->child_id(), children[i]);  // in commit order across the two areas
      cursor = event->cursor();
    }
  }
  server_.reset();
  StartServer();
  for (int n = 6; n <= 8; ++n) children.push_back(RegisterIn(n, n % 2 == 0 ? "201" : "938"));
  v1::SubscribeRequest resume = FromBeginning({"938", "201"});
  resume.set_after_cursor(cursor);
  std::unique_ptr<FeedSubscription> feed = client_->Subscribe(resume);
  std::vector<std::string> received;
  while (received.size() < 5) {
    std::optional<v1::FeedEvent> event = NextEvent(*feed);
    ASSERT_TRUE(event.has_value());
    received.push_back(event->child_id());
  }
  EXPECT_EQ(received, std::vector<std::string>(children.begin() + 3, children.end()));
}

TEST_F(FeedServerTest, FiveHundredSubscribersOverManyAreasEachReceiveExactlyTheirAreasEvents) {
  constexpr int kAreas = 153;
  constexpr int kSubscribers = 500;
  constexpr int kBirthsPerArea = 2;
  auto area_of = [](int i) { return absl::StrCat(800 + i % kAreas); };
  std::vector<std::unique_ptr<Client>> clients;
  for (int c = 0; c < 10; ++c) {
    clients.push_back(
        std::make_unique<Client>(ClientOptions{.target = server_->address(),
                                               .end_user = ::cir::testing::kTestEndUser,
                                               .purpose_of_use = ::cir::testing::kTestPurpose}));
  }
  std::vector<std::unique_ptr<FeedSubscription>> feeds;
  for (int s = 0; s < kSubscribers; ++s) {
    feeds.push_back(clients[s % clients.size()]->Subscribe(FromBeginning({area_of(s)})));
  }
  std::map<std::string, std::set<std::string>> born_in;
  std::vector<std::thread> writers;
  std::mutex mu;
  for (int w = 0; w < 4; ++w) {
    writers.emplace_back([&, w] {
      for (int i = w; i < kAreas * kBirthsPerArea; i += 4) {
        std::string child = RegisterIn(i + 1, area_of(i), clients[w].get());
        std::lock_guard<std::mutex> lock(mu);
        born_in[area_of(i)].insert(child);
      }
    });
  }
  for (std::thread& writer : writers) writer.join();
  std::vector<std::thread> readers;
  std::vector<std::string> mismatches;
  for (int s = 0; s < kSubscribers; ++s) {
    readers.emplace_back([&, s] {
      std::set<std::string> received;
      std::string mismatch;
      for (int i = 0; i < kBirthsPerArea && mismatch.empty(); ++i) {
        std::optional<v1::FeedEvent> event = NextEvent(*feeds[s]);
        if (!event.has_value()) {
          mismatch = absl::StrCat("stream ", s, " ended: ", feeds[s]->Finish().ToString());
        } else if (event->local_authority() != area_of(s) ||
                   event->sequence() != static_cast<uint64_t>(i + 1)) {
          mismatch = absl::StrCat("stream ", s, " of ", area_of(s), " got ",
                                  event->local_authority(), " #", event->sequence());
        } else {
          received.insert(event->child_id());
        }
      }
      if (mismatch.empty() && received != born_in[area_of(s)]) {
        mismatch = absl::StrCat("stream ", s, " got other children");
      }
      if (!mismatch.empty()) {
        std::lock_guard<std::mutex> lock(mu);
        mismatches.push_back(mismatch);
      }
    });
  }
  for (std::thread& reader : readers) reader.join();
  EXPECT_THAT(mismatches, ::testing::IsEmpty());
  // And nothing more: another area's birth reaches none of them, only its own subscribers.
  feeds.clear();
}

TEST_F(FeedServerTest, ASubscriberThatDoesNotReadHoldsUpNobodyElse) {
  std::unique_ptr<FeedSubscription> stalled = client_->Subscribe(FromBeginning({"938"}));
  std::unique_ptr<FeedSubscription> reading = client_->Subscribe(FromBeginning({"938"}));
  constexpr int kBirths = 2000;
  std::vector<std::thread> writers;
  for (int w = 0; w < 4; ++w) {
    writers.emplace_back([&, w] {
      Client client({.target = server_->address(),
                     .end_user = ::cir::testing::kTestEndUser,
                     .purpose_of_use = ::cir::testing::kTestPurpose});
      for (int n = w; n < kBirths; n += 4) RegisterIn(n + 1, "938", &client);
    });
  }
  for (std::thread& writer : writers) writer.join();
  uint64_t last = 0;
  for (int i = 0; i < kBirths; ++i) {
    std::optional<v1::FeedEvent> event = NextEvent(*reading);
    ASSERT_TRUE(event.has_value());
    ASSERT_EQ(event->sequence(), last + 1);
    last = event->sequence();
  }
  EXPECT_EQ(last, static_cast<uint64_t>(kBirths));
}

TEST_F(FeedServerTest, StoppingTheServerEndsEveryStreamWithServerStoppingSoSubscribersResume) {
  std::unique_ptr<FeedSubscription> feed = client_->Subscribe(FromBeginning({"938"}));
  RegisterIn(1, "938");
  ASSERT_TRUE(NextEvent(*feed).has_value());
  ASSERT_TRUE(server_->Stop(absl::Seconds(5)).ok());
  EXPECT_FALSE(NextEvent(*feed).has_value());
  absl::Status ended = feed->Finish();
  EXPECT_EQ(ended.code(), absl::StatusCode::kUnavailable);
  EXPECT_EQ(ErrorReasonOf(ended), v1::SERVER_STOPPING);
}

TEST_F(FeedServerTest, ACursorTheRegistryCannotServeIsRefusedNeverSkipped) {
  RegisterIn(1, "938");
  v1::SubscribeRequest ahead = FromBeginning({"938"});
  ahead.set_after_cursor(feed::EncodeCursor({{"938", 50}}));
  std::unique_ptr<FeedSubscription> feed = client_->Subscribe(ahead);
  EXPECT_FALSE(NextEvent(*feed).has_value());
  absl::Status refused = feed->Finish();
  EXPECT_EQ(refused.code(), absl::StatusCode::kOutOfRange);
  EXPECT_EQ(ErrorReasonOf(refused), v1::CURSOR_OUT_OF_RANGE);

  v1::ListEventsRequest damaged;
  damaged.set_local_authority("938");
  damaged.set_after_cursor("not a cursor");
  absl::StatusOr<v1::ListEventsResponse> page = client_->ListEvents(damaged);
  EXPECT_EQ(page.status().code(), absl::StatusCode::kInvalidArgument);
  EXPECT_EQ(ErrorReasonOf(page.status()), v1::CURSOR_INVALID);
}

TEST_F(FeedServerTest, AnObjectionWithdrawsTheChildFromALiveStreamAndWithholdsItsLaterEvents) {
  const std::string child = RegisterIn(1, "938");
  std::unique_ptr<FeedSubscription> feed = client_->Subscribe(FromBeginning({"938"}));
  ASSERT_TRUE(NextEvent(*feed).has_value());
  v1::RestrictSharingRequest object;
  object.set_request_id("object-1");
  object.set_child_id(child);
  object.set_objection(v1::RESTRICTION_CHANGE_SET);
  object.set_recorded_by("Test data team");
  ASSERT_TRUE(client_->RestrictSharing(object).ok());
  v1::ChangeAddressRequest move;
  move.set_request_id("move-1");
  move.set_child_id(child);
  move.add_address_lines("2 Other Road");
  move.set_postcode("PO19 1AB");
  move.set_local_authority("938");
  move.set_recorded_by("Test data team");
  ASSERT_TRUE(client_->ChangeAddress(move).ok());

  std::optional<v1::FeedEvent> withdrawn = NextEvent(*feed);
  ASSERT_TRUE(withdrawn.has_value());
  EXPECT_EQ(withdrawn->kind(), v1::FEED_EVENT_KIND_SHARING_WITHDRAWN);
  EXPECT_EQ(withdrawn->child_id(), child);
  EXPECT_FALSE(withdrawn->has_child());
  std::optional<v1::FeedEvent> moved = NextEvent(*feed);
  ASSERT_TRUE(moved.has_value());
  EXPECT_EQ(moved->kind(), v1::FEED_EVENT_KIND_WITHHELD);
  EXPECT_EQ(moved->sequence(), 3u);
  EXPECT_TRUE(moved->child_id().empty());
  EXPECT_FALSE(moved->has_child());
}

TEST_F(FeedServerTest, EveryLifeEventIsServedOverTheWire) {
  const std::string child = RegisterIn(1, "938");
  const std::string duplicate = RegisterIn(2, "938");
  v1::CorrectDetailsRequest correct;
  correct.set_request_id("correct-1");
  correct.set_child_id(child);
  correct.set_expected_version(1);
  correct.set_given_name("Adah");
  correct.set_recorded_by("Test data team");
  absl::StatusOr<v1::CorrectDetailsResponse> corrected = client_->CorrectDetails(correct);
  ASSERT_TRUE(corrected.ok()) << corrected.status();
  EXPECT_EQ(corrected->record().given_name(), "Adah");
  // A retry answers as the first call did; a stale version is refused.
  EXPECT_EQ(client_->CorrectDetails(correct)->record().version(), 2);
  correct.set_request_id("correct-2");
  EXPECT_EQ(ErrorReasonOf(client_->CorrectDetails(correct).status()), v1::RECORD_VERSION_STALE);

  v1::SupersedeNhsNumberRequest supersede;
  supersede.set_request_id("supersede-1");
  supersede.set_child_id(child);
  supersede.set_new_nhs_number(FictionalNhsNumber(100));
  supersede.set_recorded_by("Test data team");
  ASSERT_TRUE(client_->SupersedeNhsNumber(supersede).ok());
  EXPECT_TRUE(client_->Resolve(FictionalNhsNumber(1))->matched_former());

  v1::MergeRecordsRequest merge;
  merge.set_request_id("merge-1");
  merge.set_surviving_child_id(child);
  merge.set_retired_child_id(duplicate);
  merge.set_recorded_by("Test data team");
  EXPECT_EQ(ErrorReasonOf(client_->MergeRecords(merge).status()), v1::NHS_NUMBERS_DIFFER);
  merge.set_retired_nhs_number_superseded(true);
  ASSERT_TRUE(client_->MergeRecords(merge).ok());
  absl::StatusOr<v1::ResolveResponse> redirected = client_->Resolve(duplicate);
  ASSERT_TRUE(redirected.ok());
  EXPECT_EQ(redirected->record().child_id(), child);
  EXPECT_EQ(redirected->redirected_from_child_id(), duplicate);

  v1::UndoMergeRequest undo;
  undo.set_request_id("undo-1");
  undo.set_retired_child_id(duplicate);
  undo.set_recorded_by("Test data team");
  ASSERT_TRUE(client_->UndoMerge(undo).ok());
  EXPECT_EQ(client_->Resolve(duplicate)->record().child_id(), duplicate);

  v1::RecordDeathRequest death;
  death.set_request_id("death-1");
  death.set_child_id(child);
  death.set_notice(v1::DEATH_NOTICE_FORMAL);
  *death.mutable_date_of_death() = FictionalBirth("x", "").date_of_birth();
  death.set_recorded_by("Test registrar");
  absl::StatusOr<v1::RecordDeathResponse> died = client_->RecordDeath(death);
  ASSERT_TRUE(died.ok()) << died.status();
  EXPECT_EQ(died->record().status(), v1::RECORD_STATUS_DECEASED);
  EXPECT_EQ(died->record().death_kind(), v1::DEATH_KIND_FORMAL);

  v1::ListEventsRequest list;
  list.set_local_authority("938");
  list.set_from_beginning(true);
  absl::StatusOr<v1::ListEventsResponse> page = client_->ListEvents(list);
  ASSERT_TRUE(page.ok()) << page.status();
  std::vector<v1::FeedEventKind> kinds;
  for (const v1::FeedEvent& event : page->events()) kinds.push_back(event.kind());
  EXPECT_THAT(kinds, ::testing::ElementsAre(
                         v1::FEED_EVENT_KIND_BIRTH_REGISTERED, v1::FEED_EVENT_KIND_BIRTH_REGISTERED,
                         v1::FEED_EVENT_KIND_DETAILS_CORRECTED, v1::FEED_EVENT_KIND_MERGED,
                         v1::FEED_EVENT_KIND_UNMERGED, v1::FEED_EVENT_KIND_DIED));
  EXPECT_TRUE(page->at_head());
}

TEST_F(FeedServerTest, AStreamReadByCallbacksGetsItsEventsInOrderThenHowItEnded) {
  std::mutex mu;
  std::condition_variable changed;
  std::vector<uint64_t> sequences;
  std::optional<absl::Status> ended;
  std::unique_ptr<FeedStream> stream = client_->SubscribeAsync(
      FromBeginning({"938"}),
      [&](const v1::SubscribeResponse& message) {
        std::lock_guard<std::mutex> lock(mu);
        for (const v1::FeedEvent& event : message.events()) sequences.push_back(event.sequence());
        changed.notify_all();
      },
      [&](absl::Status status) {
        std::lock_guard<std::mutex> lock(mu);
        ended = std::move(status);
        changed.notify_all();
      });
  for (int n = 1; n <= 3; ++n) RegisterIn(n, "938");
  {
    std::unique_lock<std::mutex> lock(mu);
    ASSERT_TRUE(
        changed.wait_for(lock, std::chrono::seconds(30), [&] { return sequences.size() == 3; }));
    EXPECT_THAT(sequences, ::testing::ElementsAre(1u, 2u, 3u));
  }
  stream->Cancel();
  std::unique_lock<std::mutex> lock(mu);
  ASSERT_TRUE(changed.wait_for(lock, std::chrono::seconds(30), [&] { return ended.has_value(); }));
  EXPECT_EQ(ended->code(), absl::StatusCode::kCancelled);
}

}  // namespace
}  // namespace cir::server
