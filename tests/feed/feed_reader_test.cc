// Reading local authorities' feeds as subscribers do, over a registry and a real store: commit
// order across areas with each area's own sequence, resumption by cursor, the starts, the cursors
// refused, pages, and what a child's restrictions and a centre's needs leave in each event.

#include "feed/feed_reader.h"

#include <cstdint>
#include <functional>
#include <future>
#include <map>
#include <memory>
#include <optional>
#include <string>
#include <utility>
#include <vector>

#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/strip.h"
#include "absl/time/civil_time.h"
#include "absl/time/time.h"
#include "errors/refusal.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "identifiers/child_id.h"
#include "registry/birth_validation.h"
#include "registry/life_events.h"
#include "tests/registry/registry_fixture.h"

namespace cir::feed {
namespace {

using ::testing::ElementsAre;
using ::testing::ElementsAreArray;
using ::testing::IsEmpty;

// Who makes the life events of these tests.
constexpr char kDataTeam[] = "Fictional Data Team";

// A postcode in each area the tests use.
std::string PostcodeOf(const std::string& area) {
  if (area == "201") return "EC2V 7HH";
  if (area == "873") return "CB2 1TN";
  return "RH12 1AA";
}

// Calls `call` with a reply and waits for it.
template <typename Response, typename Call>
absl::StatusOr<Response> Await(Call call) {
  auto reply = std::make_shared<std::promise<absl::StatusOr<Response>>>();
  std::future<absl::StatusOr<Response>> answer = reply->get_future();
  call([reply](absl::StatusOr<Response> r) { reply->set_value(std::move(r)); });
  return answer.get();
}

class FeedReaderTest : public registry::RegistryTest {
 protected:
  void SetUp() override {
    RegistryTest::SetUp();
    if (HasFatalFailure()) return;
    changes_ = std::make_unique<registry::LifeEvents>(*store_, TestOptions());
    reader_ = std::make_unique<FeedReader>(*store_);
  }

  // Registers the n-th fictional child, named `given_name`, at "<n> Test Row" in `area`; returns
  // its identifier, which events are described by `given_name`.
  std::string Born(int n, const std::string& area, const std::string& given_name) {
    v1::RegisterBirthRequest birth =
        testing::FictionalBirth(absl::StrCat("feed-", n), testing::FictionalNhsNumber(n));
    birth.set_given_name(given_name);
    birth.add_address_lines(absl::StrCat(n, " Test Row"));
    birth.add_address_lines("Fictional Town");
    birth.set_postcode(PostcodeOf(area));
    birth.set_local_authority(area);
    absl::StatusOr<v1::RegisterBirthResponse> r = Register(birth);
    EXPECT_TRUE(r.ok()) << r.status();
    if (!r.ok()) return "";
    names_[r->record().child_id()] = given_name;
    return r->record().child_id();
  }

  // The child's parents' objection and its sensitive flag, changed.
  void Restrict(const std::string& child_id, v1::RestrictionChange objection,
                v1::RestrictionChange sensitive = v1::RESTRICTION_CHANGE_UNSPECIFIED) {
    v1::RestrictSharingRequest request;
    request.set_request_id(absl::StrCat("restrict-", ++requests_));
    request.set_child_id(child_id);
    request.set_objection(objection);
    request.set_sensitive(sensitive);
    request.set_recorded_by(kDataTeam);
    absl::StatusOr<v1::RestrictSharingResponse> r = Await<v1::RestrictSharingResponse>(
        [&](auto reply) { changes_->RestrictSharing(request, std::move(reply)); });
    ASSERT_TRUE(r.ok()) << r.status();
    EXPECT_TRUE(r->changed());
  }

  // The child's address changed to `line`, Fictional Town, in `area`.
  void MoveTo(const std::string& child_id, const std::string& area, const std::string& line) {
    v1::ChangeAddressRequest request;
    request.set_request_id(absl::StrCat("move-", ++requests_));
    request.set_child_id(child_id);
    request.add_address_lines(line);
    request.add_address_lines("Fictional Town");
    request.set_postcode(PostcodeOf(area));
    request.set_local_authority(area);
    request.set_recorded_by(kDataTeam);
    absl::StatusOr<v1::ChangeAddressResponse> r = Await<v1::ChangeAddressResponse>(
        [&](auto reply) { changes_->ChangeAddress(request, std::move(reply)); });
    ASSERT_TRUE(r.ok()) << r.status();
    EXPECT_TRUE(r->changed());
  }

  static FeedRequest Request(std::vector<std::string> areas, FeedStart start = {}) {
    FeedRequest request;
    request.areas = std::move(areas);
    request.start = std::move(start);
    return request;
  }
  static FeedStart AfterCursor(const std::string& cursor) {
    absl::StatusOr<FeedPositions> positions = DecodeCursor(cursor);
    EXPECT_TRUE(positions.ok()) << positions.status();
    FeedStart start;
    start.kind = FeedStart::Kind::kAfterCursor;
    start.cursor = positions.ok() ? *positions : FeedPositions();
    return start;
  }

  // Where a subscriber of `request` starts.
  std::vector<storage::AreaPosition> Start(const FeedRequest& request) {
    absl::StatusOr<std::vector<storage::AreaPosition>> positions = reader_->Start(request);
    EXPECT_TRUE(positions.ok()) << positions.status();
    return positions.ok() ? *positions : std::vector<storage::AreaPosition>();
  }

  // Every event after `positions`, read `limit` at a time, with `positions` moved past them.
  // A read that says it reached the head must have left nothing to read.
  std::vector<v1::FeedEvent> ReadAll(std::vector<storage::AreaPosition>& positions,
                                     size_t limit = 100) {
    std::vector<v1::FeedEvent> all;
    bool said_at_head = false;
    for (;;) {
      absl::StatusOr<FeedReader::Batch> batch = reader_->ReadNext(positions, limit);
      EXPECT_TRUE(batch.ok()) << batch.status();
      if (!batch.ok()) return all;
      if (said_at_head) {
        EXPECT_THAT(Describe(batch->events), IsEmpty())
            << "left unread by a read that said it had reached the head";
      }
      if (batch->events.empty()) {
        EXPECT_TRUE(batch->at_head);
        return all;
      }
      said_at_head = batch->at_head;
      for (v1::FeedEvent& event : batch->events) all.push_back(std::move(event));
    }
  }
  std::vector<v1::FeedEvent> ReadAll(const FeedRequest& request, size_t limit = 100) {
    std::vector<storage::AreaPosition> positions = Start(request);
    return ReadAll(positions, limit);
  }

  // "area:sequence KIND name", the name being the child's given name as registered.
  std::string Describe(const v1::FeedEvent& event) {
    absl::string_view kind = v1::FeedEventKind_Name(event.kind());
    absl::ConsumePrefix(&kind, "FEED_EVENT_KIND_");
    std::string text = absl::StrCat(event.local_authority(), ":", event.sequence(), " ", kind);
    if (!event.child_id().empty()) {
      auto name = names_.find(event.child_id());
      absl::StrAppend(&text, " ", name == names_.end() ? event.child_id() : name->second);
    }
    return text;
  }
  std::vector<std::string> Describe(const std::vector<v1::FeedEvent>& events) {
    std::vector<std::string> described;
    for (const v1::FeedEvent& event : events) described.push_back(Describe(event));
    return described;
  }

  std::unique_ptr<registry::LifeEvents> changes_;
  std::unique_ptr<FeedReader> reader_;
  std::map<std::string, std::string> names_;  // child identifier -> given name
  int requests_ = 0;
};

// Expects `status` to refuse with `code` and `reason`, its metadata holding `metadata`.
void ExpectRefusedWith(const absl::Status& status, absl::StatusCode code, v1::ErrorReason reason,
                       const std::map<std::string, std::string>& metadata = {}) {
  EXPECT_EQ(status.code(), code) << status;
  EXPECT_EQ(errors::ReasonOf(status), reason) << status;
  std::optional<google::rpc::ErrorInfo> info = errors::ErrorInfoOf(status);
  ASSERT_TRUE(info.has_value()) << status;
  for (const auto& [key, value] : metadata) {
    auto found = info->metadata().find(key);
    ASSERT_NE(found, info->metadata().end()) << "no " << key << " in " << status;
    EXPECT_EQ(found->second, value) << key;
  }
}

// Expects `event` to carry nothing but where it is in its feed: withheld.
void ExpectWithheld(const v1::FeedEvent& event) {
  EXPECT_EQ(event.kind(), v1::FEED_EVENT_KIND_WITHHELD);
  EXPECT_FALSE(event.local_authority().empty());
  EXPECT_GT(event.sequence(), 0u);
  EXPECT_FALSE(event.cursor().empty());
  EXPECT_TRUE(event.child_id().empty());
  EXPECT_TRUE(event.child_id_display().empty());
  EXPECT_FALSE(event.has_child());
  EXPECT_EQ(event.record_version(), 0);
  EXPECT_FALSE(event.has_effective_date());
  EXPECT_TRUE(event.made_by().empty());
  EXPECT_TRUE(event.other_child_id().empty());
  EXPECT_TRUE(event.moved_from_local_authority().empty());
  EXPECT_TRUE(event.moved_to_local_authority().empty());
}

// Expects each area's events among `events` to be numbered 1, 2, ... in the order they came.
void ExpectGapFreePerArea(const std::vector<v1::FeedEvent>& events) {
  std::map<std::string, uint64_t> last;
  for (const v1::FeedEvent& event : events) {
    EXPECT_EQ(event.sequence(), last[event.local_authority()] + 1)
        << "in " << event.local_authority();
    last[event.local_authority()] = event.sequence();
  }
}

TEST_F(FeedReaderTest, EventsOfSeveralAreasComeInCommitOrderEachWithItsAreasSequence) {
  const std::string ada = Born(1, "938", "Ada");
  Born(2, "201", "Grace");
  Born(3, "938", "Hedy");
  Born(4, "873", "Katherine");
  Born(5, "201", "Mary");
  Born(6, "938", "Rosalind");
  MoveTo(ada, "201", "7 Moved Row");  // a move-out from 938 and a move-in to 201, in one change
  Born(7, "873", "Barbara");
  const std::vector<std::string> in_commit_order = {
      "938:1 BIRTH_REGISTERED Ada",    "201:1 BIRTH_REGISTERED Grace",
      "938:2 BIRTH_REGISTERED Hedy",   "873:1 BIRTH_REGISTERED Katherine",
      "201:2 BIRTH_REGISTERED Mary",   "938:3 BIRTH_REGISTERED Rosalind",
      "938:4 MOVED_OUT Ada",           "201:3 MOVED_IN Ada",
      "873:2 BIRTH_REGISTERED Barbara"};
  const FeedRequest all_three = Request({"938", "201", "873"});
  // However few events a read may return, they come in the same order.
  for (size_t limit : {100, 1, 2, 3, 4, 7}) {
    SCOPED_TRACE(absl::StrCat("reading ", limit, " at a time"));
    EXPECT_THAT(Describe(ReadAll(all_three, limit)), ElementsAreArray(in_commit_order));
  }
  // An area alone is its own part of that order.
  EXPECT_THAT(Describe(ReadAll(Request({"201"}))),
              ElementsAre("201:1 BIRTH_REGISTERED Grace", "201:2 BIRTH_REGISTERED Mary",
                          "201:3 MOVED_IN Ada"));
  // Heads, as a heartbeat tells them.
  v1::FeedHeartbeat heartbeat = reader_->Heartbeat({"938", "201", "873", "202"});
  ASSERT_EQ(heartbeat.heads_size(), 4);
  std::vector<std::string> heads;
  for (const v1::FeedHead& head : heartbeat.heads()) {
    heads.push_back(absl::StrCat(head.local_authority(), ":", head.head_sequence()));
  }
  EXPECT_THAT(heads, ElementsAre("938:4", "201:3", "873:2", "202:0"));
  EXPECT_GT(heartbeat.sent_at_unix_micros(), 0);
}

TEST_F(FeedReaderTest, AReadThatSaysItReachedTheHeadLeavesNothingUnread) {
  // Two areas read two events each at most: 938's page is full and at its head, and 201's event,
  // committed after both of 938's, waits for the next read.
  Born(1, "938", "Ada");
  Born(2, "938", "Grace");
  Born(3, "201", "Hedy");
  std::vector<storage::AreaPosition> positions = Start(Request({"938", "201"}));
  absl::StatusOr<FeedReader::Batch> first = reader_->ReadNext(positions, 4);
  ASSERT_TRUE(first.ok()) << first.status();
  EXPECT_THAT(Describe(first->events),
              ElementsAre("938:1 BIRTH_REGISTERED Ada", "938:2 BIRTH_REGISTERED Grace"));
  EXPECT_FALSE(first->at_head) << "201's event is still to be read";
  absl::StatusOr<FeedReader::Batch> second = reader_->ReadNext(positions, 4);
  ASSERT_TRUE(second.ok()) << second.status();
  EXPECT_THAT(Describe(second->events), ElementsAre("201:1 BIRTH_REGISTERED Hedy"));
  EXPECT_TRUE(second->at_head);

  // One event per area per read, over many areas, as a stream of many areas reads.
  const std::vector<std::string> areas = {"938", "201", "873", "202", "203"};
  for (int n = 0; n < 12; ++n) Born(10 + n, areas[(n * 3) % areas.size()], "Mary");
  for (size_t limit : {1, 2, 5, 6, 10, 11}) {
    SCOPED_TRACE(absl::StrCat("reading ", limit, " at a time"));
    EXPECT_EQ(ReadAll(Request(areas), limit).size(), 15u);
  }
}

TEST_F(FeedReaderTest, ASubscriberResumingFromAnyEventsCursorGetsExactlyTheEventsAfterIt) {
  const std::string ada = Born(1, "938", "Ada");
  Born(2, "201", "Grace");
  Born(3, "938", "Hedy");
  MoveTo(ada, "201", "7 Moved Row");
  Born(4, "201", "Mary");
  Born(5, "938", "Rosalind");
  const FeedRequest both = Request({"938", "201"});
  const std::vector<v1::FeedEvent> all = ReadAll(both);
  ASSERT_EQ(all.size(), 7u);
  ExpectGapFreePerArea(all);
  for (size_t i = 0; i < all.size(); ++i) {
    SCOPED_TRACE(absl::StrCat("resuming after ", Describe(all[i])));
    // The cursor holds the position in every area of the stream.
    absl::StatusOr<FeedPositions> positions = DecodeCursor(all[i].cursor());
    ASSERT_TRUE(positions.ok()) << positions.status();
    EXPECT_EQ(positions->at(all[i].local_authority()), all[i].sequence());
    EXPECT_EQ(positions->size(), 2u);
    const std::vector<v1::FeedEvent> rest =
        ReadAll(Request({"938", "201"}, AfterCursor(all[i].cursor())), 2);
    EXPECT_THAT(
        Describe(rest),
        ElementsAreArray(Describe(std::vector<v1::FeedEvent>(all.begin() + i + 1, all.end()))));
  }
  // A subscriber that has read everything gets nothing again, then only what is new.
  std::vector<storage::AreaPosition> positions =
      Start(Request({"938", "201"}, AfterCursor(all.back().cursor())));
  EXPECT_THAT(ReadAll(positions), IsEmpty());
  Born(6, "201", "Barbara");
  EXPECT_THAT(Describe(ReadAll(positions)), ElementsAre("201:4 BIRTH_REGISTERED Barbara"));
  EXPECT_THAT(ReadAll(positions), IsEmpty());
}

TEST_F(FeedReaderTest, ASubscriberStartsFromTheBeginningOrFromADate) {
  Born(1, "938", "Ada");
  Born(2, "201", "Grace");
  Born(3, "938", "Hedy");
  const std::vector<v1::FeedEvent> all = ReadAll(Request({"938", "201"}));
  ASSERT_EQ(all.size(), 3u);
  const absl::CivilDay day_recorded =
      registry::DayInEngland(absl::FromUnixMicros(all.front().recorded_at_unix_micros()));
  const absl::CivilDay tomorrow = day_recorded + 1;

  auto subscribe = [&](std::function<void(v1::SubscribeRequest&)> start) {
    v1::SubscribeRequest request;
    request.add_local_authorities("938");
    request.add_local_authorities("201");
    start(request);
    absl::StatusOr<FeedRequest> valid = ValidateSubscribe(request, tomorrow);
    EXPECT_TRUE(valid.ok()) << valid.status();
    return valid.ok() ? Start(*valid) : std::vector<storage::AreaPosition>();
  };
  auto since = [&](absl::CivilDay day) {
    return subscribe([day](v1::SubscribeRequest& request) {
      request.mutable_since()->set_year(static_cast<int32_t>(day.year()));
      request.mutable_since()->set_month(day.month());
      request.mutable_since()->set_day(day.day());
    });
  };
  auto after = [](const std::vector<storage::AreaPosition>& positions) {
    std::vector<std::string> text;
    for (const storage::AreaPosition& p : positions) {
      text.push_back(absl::StrCat(p.local_authority, ":", p.after_sequence));
    }
    return text;
  };

  std::vector<storage::AreaPosition> from_beginning =
      subscribe([](v1::SubscribeRequest& request) { request.set_from_beginning(true); });
  EXPECT_THAT(after(from_beginning), ElementsAre("938:0", "201:0"));
  EXPECT_THAT(Describe(ReadAll(from_beginning)), ElementsAreArray(Describe(all)));
  // Since the day the events were recorded, or any day before: all of them.
  std::vector<storage::AreaPosition> since_that_day = since(day_recorded);
  EXPECT_THAT(after(since_that_day), ElementsAre("938:0", "201:0"));
  EXPECT_THAT(Describe(ReadAll(since_that_day)), ElementsAreArray(Describe(all)));
  EXPECT_THAT(after(since(day_recorded - 400)), ElementsAre("938:0", "201:0"));
  // Since the next day: none of them, but what is recorded from now on.
  std::vector<storage::AreaPosition> since_tomorrow = since(tomorrow);
  EXPECT_THAT(after(since_tomorrow), ElementsAre("938:2", "201:1"));
  EXPECT_THAT(ReadAll(since_tomorrow), IsEmpty());
  Born(4, "938", "Mary");
  EXPECT_THAT(Describe(ReadAll(since_tomorrow)), ElementsAre("938:3 BIRTH_REGISTERED Mary"));

  // A start is required, and a date after today is refused.
  v1::SubscribeRequest no_start;
  no_start.add_local_authorities("938");
  EXPECT_EQ(ValidateSubscribe(no_start, tomorrow).status().code(),
            absl::StatusCode::kInvalidArgument);
  v1::SubscribeRequest future = no_start;
  future.mutable_since()->set_year(static_cast<int32_t>(tomorrow.year()));
  future.mutable_since()->set_month(tomorrow.month());
  future.mutable_since()->set_day(tomorrow.day());
  EXPECT_EQ(ValidateSubscribe(future, day_recorded).status().code(),
            absl::StatusCode::kInvalidArgument);
}

TEST_F(FeedReaderTest, ACursorNotCoveringEveryRequestedAreaIsRefusedAsAreasDiffer) {
  Born(1, "938", "Ada");
  Born(2, "201", "Grace");
  const std::vector<v1::FeedEvent> only_938 = ReadAll(Request({"938"}));
  ASSERT_EQ(only_938.size(), 1u);
  absl::StatusOr<std::vector<storage::AreaPosition>> refused =
      reader_->Start(Request({"938", "201"}, AfterCursor(only_938[0].cursor())));
  ExpectRefusedWith(refused.status(), absl::StatusCode::kInvalidArgument, v1::CURSOR_AREAS_DIFFER,
                    {{"field", "after_cursor"}, {"local_authority", "201"}});

  v1::ListEventsRequest list;
  list.set_local_authority("201");
  list.set_after_cursor(only_938[0].cursor());
  absl::StatusOr<FeedRequest> valid = ValidateListEvents(list, absl::CivilDay(2026, 11, 25));
  ASSERT_TRUE(valid.ok()) << valid.status();
  ExpectRefusedWith(reader_->List(*valid).status(), absl::StatusCode::kInvalidArgument,
                    v1::CURSOR_AREAS_DIFFER, {{"local_authority", "201"}});

  // A cursor of more areas than are asked for serves each that is.
  const std::vector<v1::FeedEvent> both = ReadAll(Request({"938", "201"}));
  ASSERT_EQ(both.size(), 2u);
  std::vector<storage::AreaPosition> positions =
      Start(Request({"201"}, AfterCursor(both[0].cursor())));
  EXPECT_THAT(Describe(ReadAll(positions)), ElementsAre("201:1 BIRTH_REGISTERED Grace"));
}

TEST_F(FeedReaderTest, ACursorBeyondAnAreasHeadIsOutOfRangeNamingTheEarliestSequence) {
  Born(1, "938", "Ada");
  Born(2, "938", "Hedy");
  absl::StatusOr<std::vector<storage::AreaPosition>> beyond =
      reader_->Start(Request({"938"}, AfterCursor(EncodeCursor({{"938", 3}}))));
  ExpectRefusedWith(
      beyond.status(), absl::StatusCode::kOutOfRange, v1::CURSOR_OUT_OF_RANGE,
      {{"field", "after_cursor"}, {"local_authority", "938"}, {"earliest_sequence", "1"}});
  // An area that has no events yet.
  absl::StatusOr<std::vector<storage::AreaPosition>> empty_area =
      reader_->Start(Request({"938", "873"}, AfterCursor(EncodeCursor({{"938", 2}, {"873", 1}}))));
  ExpectRefusedWith(empty_area.status(), absl::StatusCode::kOutOfRange, v1::CURSOR_OUT_OF_RANGE,
                    {{"local_authority", "873"}, {"earliest_sequence", "1"}});
  // Through ListEvents as well.
  v1::ListEventsRequest list;
  list.set_local_authority("938");
  list.set_after_cursor(EncodeCursor({{"938", 50}}));
  absl::StatusOr<FeedRequest> valid = ValidateListEvents(list, absl::CivilDay(2026, 11, 25));
  ASSERT_TRUE(valid.ok()) << valid.status();
  ExpectRefusedWith(reader_->List(*valid).status(), absl::StatusCode::kOutOfRange,
                    v1::CURSOR_OUT_OF_RANGE, {{"earliest_sequence", "1"}});
  // At the head is no error: there is just nothing to read yet.
  std::vector<storage::AreaPosition> at_head =
      Start(Request({"938", "873"}, AfterCursor(EncodeCursor({{"938", 2}, {"873", 0}}))));
  EXPECT_THAT(ReadAll(at_head), IsEmpty());
}

TEST_F(FeedReaderTest, ListEventsPagesThroughOneAreaToItsHead) {
  for (int n = 1; n <= 5; ++n) {
    Born(n, "938", absl::StrCat("Child", std::string(1, static_cast<char>('a' + n))));
    if (n % 2 == 0) Born(10 + n, "201", "Grace");
  }
  auto list = [&](std::function<void(v1::ListEventsRequest&)> set) {
    v1::ListEventsRequest request;
    request.set_local_authority("938");
    set(request);
    absl::StatusOr<FeedRequest> valid = ValidateListEvents(request, absl::CivilDay(2026, 11, 25));
    EXPECT_TRUE(valid.ok()) << valid.status();
    absl::StatusOr<v1::ListEventsResponse> page =
        valid.ok() ? reader_->List(*valid) : absl::StatusOr<v1::ListEventsResponse>(valid.status());
    EXPECT_TRUE(page.ok()) << page.status();
    return page.ok() ? *page : v1::ListEventsResponse();
  };
  auto sequences = [](const v1::ListEventsResponse& page) {
    std::vector<uint64_t> s;
    for (const v1::FeedEvent& event : page.events()) {
      EXPECT_EQ(event.local_authority(), "938");
      s.push_back(event.sequence());
    }
    return s;
  };

  v1::ListEventsResponse page = list([](v1::ListEventsRequest& r) {
    r.set_from_beginning(true);
    r.set_page_size(2);
  });
  EXPECT_THAT(sequences(page), ElementsAre(1u, 2u));
  EXPECT_EQ(page.head_sequence(), 5u);
  EXPECT_FALSE(page.at_head());
  EXPECT_EQ(page.next_cursor(), page.events(1).cursor());
  std::vector<std::vector<uint64_t>> pages = {sequences(page)};
  while (!page.at_head()) {
    const std::string cursor = page.next_cursor();
    page = list([&](v1::ListEventsRequest& r) {
      r.set_after_cursor(cursor);
      r.set_page_size(2);
    });
    pages.push_back(sequences(page));
    EXPECT_EQ(page.head_sequence(), 5u);
    ASSERT_LE(pages.size(), 5u) << "never reached the head";
  }
  EXPECT_THAT(pages, ElementsAre(ElementsAre(1u, 2u), ElementsAre(3u, 4u), ElementsAre(5u)));

  // At the head: no events, and a next cursor where the page began.
  const std::string last = page.next_cursor();
  page = list([&](v1::ListEventsRequest& r) { r.set_after_cursor(last); });
  EXPECT_EQ(page.events_size(), 0);
  EXPECT_TRUE(page.at_head());
  EXPECT_EQ(page.head_sequence(), 5u);
  EXPECT_EQ(*DecodeCursor(page.next_cursor()), (FeedPositions{{"938", 5}}));
  // A new event is the next page.
  Born(20, "938", "Barbara");
  page = list([&](v1::ListEventsRequest& r) { r.set_after_cursor(last); });
  EXPECT_THAT(Describe(std::vector<v1::FeedEvent>(page.events().begin(), page.events().end())),
              ElementsAre("938:6 BIRTH_REGISTERED Barbara"));
  EXPECT_TRUE(page.at_head());
  EXPECT_EQ(page.head_sequence(), 6u);

  // Unset, the page size is 100; it may be at most 1000.
  page = list([](v1::ListEventsRequest& r) { r.set_from_beginning(true); });
  EXPECT_EQ(page.events_size(), 6);
  EXPECT_TRUE(page.at_head());
  for (int size : {-1, 1001}) {
    v1::ListEventsRequest request;
    request.set_local_authority("938");
    request.set_from_beginning(true);
    request.set_page_size(size);
    ExpectRefusedWith(ValidateListEvents(request, absl::CivilDay(2026, 11, 25)).status(),
                      absl::StatusCode::kInvalidArgument, v1::FIELD_INVALID,
                      {{"field", "page_size"}});
  }
}

TEST_F(FeedReaderTest, AChildWhoseParentsObjectIsInNoReadLiveOrOnReplay) {
  const std::string ada = Born(1, "938", "Ada");
  Born(2, "938", "Grace");
  Born(3, "201", "Hedy");
  // A live subscriber has had Ada's birth before her parents object.
  std::vector<storage::AreaPosition> live = Start(Request({"938", "201"}));
  EXPECT_THAT(Describe(ReadAll(live)),
              ElementsAre("938:1 BIRTH_REGISTERED Ada", "938:2 BIRTH_REGISTERED Grace",
                          "201:1 BIRTH_REGISTERED Hedy"));

  Restrict(ada, v1::RESTRICTION_CHANGE_SET);
  MoveTo(ada, "938", "10 Moved Row");   // within 938
  MoveTo(ada, "201", "11 Moved Lane");  // then to 201
  // Live: the centre is told to delete what it holds, then nothing about her.
  const std::vector<v1::FeedEvent> told_live = ReadAll(live);
  EXPECT_THAT(Describe(told_live), ElementsAre("938:3 SHARING_WITHDRAWN Ada", "938:4 WITHHELD",
                                               "938:5 WITHHELD", "201:2 WITHHELD"));
  // On replay from the beginning, her earlier events are withheld too, in their places.
  const std::vector<v1::FeedEvent> replayed = ReadAll(Request({"938", "201"}));
  EXPECT_THAT(Describe(replayed),
              ElementsAre("938:1 WITHHELD", "938:2 BIRTH_REGISTERED Grace",
                          "201:1 BIRTH_REGISTERED Hedy", "938:3 SHARING_WITHDRAWN Ada",
                          "938:4 WITHHELD", "938:5 WITHHELD", "201:2 WITHHELD"));
  ExpectGapFreePerArea(replayed);
  // And through ListEvents, a page at a time.
  std::vector<v1::FeedEvent> listed;
  for (const char* area : {"938", "201"}) {
    std::vector<storage::AreaPosition> positions = Start(Request({area}));
    for (v1::FeedEvent& event : ReadAll(positions, 1)) listed.push_back(std::move(event));
  }
  std::vector<v1::FeedEvent> everything = replayed;
  everything.insert(everything.end(), told_live.begin(), told_live.end());
  everything.insert(everything.end(), listed.begin(), listed.end());
  for (const v1::FeedEvent& event : everything) {
    SCOPED_TRACE(Describe(event));
    const std::string bytes = event.SerializeAsString();
    EXPECT_FALSE(absl::StrContains(bytes, "Ada"));
    EXPECT_FALSE(absl::StrContains(bytes, "1 Test Row"));
    EXPECT_FALSE(absl::StrContains(bytes, "Moved"));
    if (event.kind() == v1::FEED_EVENT_KIND_SHARING_WITHDRAWN) {
      EXPECT_EQ(event.child_id(), ada);  // which child to delete, and nothing of her
      EXPECT_FALSE(event.has_child());
      EXPECT_TRUE(event.moved_from_local_authority().empty());
      EXPECT_TRUE(event.moved_to_local_authority().empty());
    } else if (event.child_id() != ada && event.kind() != v1::FEED_EVENT_KIND_WITHHELD) {
      EXPECT_TRUE(event.has_child());
    } else {
      ExpectWithheld(event);
    }
  }

  // Once the objection is lifted, her events are read again, the withdrawal still among them.
  Restrict(ada, v1::RESTRICTION_CHANGE_LIFT);
  const std::vector<v1::FeedEvent> resumed = ReadAll(Request({"938", "201"}));
  EXPECT_THAT(Describe(resumed),
              ElementsAre("938:1 BIRTH_REGISTERED Ada", "938:2 BIRTH_REGISTERED Grace",
                          "201:1 BIRTH_REGISTERED Hedy", "938:3 SHARING_WITHDRAWN Ada",
                          "938:4 ADDRESS_CHANGED Ada", "938:5 MOVED_OUT Ada", "201:2 MOVED_IN Ada",
                          "201:3 SHARING_RESUMED Ada"));
  ASSERT_EQ(resumed.size(), 8u);
  EXPECT_EQ(resumed[0].child().given_name(), "Ada");
  EXPECT_THAT(resumed[0].child().address_lines(), ElementsAre("1 Test Row", "Fictional Town"));
  EXPECT_THAT(resumed[6].child().address_lines(), ElementsAre("11 Moved Lane", "Fictional Town"));
  EXPECT_EQ(resumed[7].child().postcode(), "EC2V 7HH");
}

TEST_F(FeedReaderTest, ASensitiveRecordsEventsCarryNoAddressPostcodeOrAreasOfAMove) {
  const std::string ada = Born(1, "938", "Ada");
  const std::string grace = Born(2, "938", "Grace");
  Restrict(ada, v1::RESTRICTION_CHANGE_UNSPECIFIED, v1::RESTRICTION_CHANGE_SET);
  MoveTo(ada, "201", "10 Moved Row");
  MoveTo(grace, "201", "20 Moved Lane");
  const std::vector<v1::FeedEvent> events = ReadAll(Request({"938", "201"}));
  ASSERT_THAT(Describe(events),
              ElementsAre("938:1 BIRTH_REGISTERED Ada", "938:2 BIRTH_REGISTERED Grace",
                          "938:3 RESTRICTED Ada", "938:4 MOVED_OUT Ada", "201:1 MOVED_IN Ada",
                          "938:5 MOVED_OUT Grace", "201:2 MOVED_IN Grace"));
  for (const v1::FeedEvent& event : events) {
    SCOPED_TRACE(Describe(event));
    if (event.child_id() != ada) continue;
    EXPECT_TRUE(event.moved_from_local_authority().empty());
    EXPECT_TRUE(event.moved_to_local_authority().empty());
    if (event.has_child()) {
      EXPECT_TRUE(event.child().restricted());
      EXPECT_THAT(event.child().address_lines(), IsEmpty());
      EXPECT_TRUE(event.child().postcode().empty());
      EXPECT_EQ(event.child().given_name(), "Ada");  // the rest of what a centre receives
    }
    const std::string bytes = event.SerializeAsString();
    for (const char* address :
         {"1 Test Row", "10 Moved Row", "Fictional Town", "RH12 1AA", "EC2V 7HH"}) {
      EXPECT_FALSE(absl::StrContains(bytes, address)) << address;
    }
  }
  // Her birth and moves still carry her details otherwise.
  EXPECT_TRUE(events[0].has_child());
  EXPECT_TRUE(events[4].has_child());
  // A record that is not sensitive keeps its address and the areas of its move.
  const v1::FeedEvent& grace_in = events[6];
  EXPECT_FALSE(grace_in.child().restricted());
  EXPECT_THAT(grace_in.child().address_lines(), ElementsAre("20 Moved Lane", "Fictional Town"));
  EXPECT_EQ(grace_in.child().postcode(), "EC2V 7HH");
  EXPECT_EQ(grace_in.moved_from_local_authority(), "938");
  EXPECT_EQ(grace_in.moved_to_local_authority(), "201");
  EXPECT_EQ(events[5].moved_from_local_authority(), "938");
  EXPECT_EQ(events[5].moved_to_local_authority(), "201");
  EXPECT_THAT(events[5].child().address_lines(), IsEmpty());  // a move-out has no new address
  EXPECT_THAT(events[1].child().address_lines(), ElementsAre("2 Test Row", "Fictional Town"));
}

TEST_F(FeedReaderTest, AnEventCarriesWhatACentreReceivesAndNeverAnNhsNumberOrUpn) {
  v1::RegisterBirthRequest birth =
      testing::FictionalBirth("feed-twin-2", testing::FictionalNhsNumber(42));
  birth.set_given_name("Ada");
  birth.set_family_name("Byron-Test");
  birth.set_sex(v1::SEX_MALE);
  birth.set_birth_order(2);
  birth.add_address_lines("12 Test Row");
  birth.add_address_lines("Fictional Town");
  birth.set_postcode("rh12 1aa");
  birth.set_local_authority("938");
  absl::StatusOr<v1::RegisterBirthResponse> registered = Register(birth);
  ASSERT_TRUE(registered.ok()) << registered.status();
  const v1::ChildRecord record = registered->record();
  const std::string upn = testing::FictionalUpn(42);
  ASSERT_TRUE(LinkUpn(record.child_id(), upn).ok());  // a change no feed carries

  const std::vector<v1::FeedEvent> events = ReadAll(Request({"938"}));
  ASSERT_EQ(events.size(), 1u);
  const v1::FeedEvent& event = events[0];
  EXPECT_EQ(event.kind(), v1::FEED_EVENT_KIND_BIRTH_REGISTERED);
  EXPECT_EQ(event.local_authority(), "938");
  EXPECT_EQ(event.sequence(), 1u);
  EXPECT_EQ(event.child_id(), record.child_id());
  EXPECT_EQ(event.child_id_display(), identifiers::FormatChildId(record.child_id()));
  EXPECT_EQ(event.record_version(), 1);
  EXPECT_EQ(event.made_by(), testing::kFictionalNotifyingSystem);
  EXPECT_EQ(event.effective_date().SerializeAsString(), record.date_of_birth().SerializeAsString());
  EXPECT_GT(event.recorded_at_unix_micros(), 0);
  const v1::CentreChild& child = event.child();
  EXPECT_EQ(child.given_name(), record.given_name());
  EXPECT_EQ(child.family_name(), "Byron-Test");
  EXPECT_EQ(child.date_of_birth().SerializeAsString(), record.date_of_birth().SerializeAsString());
  EXPECT_EQ(child.sex(), v1::SEX_MALE);
  EXPECT_THAT(child.address_lines(), ElementsAre("12 Test Row", "Fictional Town"));
  EXPECT_EQ(child.postcode(), "RH12 1AA");
  EXPECT_EQ(child.mother_given_name(), record.mother_given_name());
  EXPECT_EQ(child.mother_family_name(), record.mother_family_name());
  EXPECT_FALSE(child.mother_given_name().empty());
  EXPECT_EQ(child.birth_order(), 2);
  EXPECT_EQ(child.status(), v1::RECORD_STATUS_ACTIVE);
  EXPECT_FALSE(child.restricted());

  // No identifier of a person, in any form, anywhere in the event.
  const std::string bytes = event.SerializeAsString();
  for (const std::string& identifier :
       {record.nhs_number(), testing::FictionalMotherNhsNumber(), upn,
        record.nhs_number().substr(0, 3) + " " + record.nhs_number().substr(3, 3)}) {
    ASSERT_FALSE(identifier.empty());
    EXPECT_FALSE(absl::StrContains(bytes, identifier)) << identifier;
  }
  for (const google::protobuf::Descriptor* message :
       {v1::FeedEvent::descriptor(), v1::CentreChild::descriptor()}) {
    for (int i = 0; i < message->field_count(); ++i) {
      const std::string& name = message->field(i)->name();
      EXPECT_FALSE(absl::StrContains(name, "nhs") || absl::StrContains(name, "upn"))
          << message->name() << "." << name;
    }
  }
}

}  // namespace
}  // namespace cir::feed
