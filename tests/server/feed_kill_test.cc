// The feed under kills, with real processes: a subscriber (the cir tool following the feed) killed
// with SIGKILL at random moments and resumed from the cursor of the last event it processed ends
// with exactly the events committed, in order, none missed or repeated; and a server killed with
// SIGKILL under load keeps every acknowledged change with its events, no event without its change,
// and every area's sequence gap-free.

#include <fcntl.h>
#include <signal.h>
#include <sys/wait.h>
#include <unistd.h>

#include <atomic>
#include <map>
#include <mutex>
#include <random>
#include <set>
#include <string>
#include <thread>
#include <vector>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_split.h"
#include "cir/client.h"
#include "google/protobuf/util/json_util.h"
#include "gtest/gtest.h"
#include "tests/testing/fictional_children.h"
#include "tests/testing/server_process.h"
#include "tests/testing/temp_dir.h"
#include "tests/testing/test_access.h"
#include "tests/testing/whole_feed.h"

namespace cir {
namespace {

using testing::FictionalBirth;
using testing::FictionalNhsNumber;

const std::vector<std::string> kAreas = {"938", "201", "316"};

// A mixed load on the registry, from several threads, until stopped: registrations in every area,
// moves between areas, merges of two children registered for it. Records what was acknowledged.
class MixedLoad {
 public:
  struct Move {
    std::string child_id;
    std::string from, to;
    int64_t version;
  };
  struct Merge {
    std::string survivor, retired;
  };

  MixedLoad(const std::string& address, int first_birth) : next_birth_(first_birth) {
    client_ =
        std::make_unique<Client>(ClientOptions{.target = address,
                                               .max_attempts = 1,
                                               .end_user = ::cir::testing::kTestEndUser,
                                               .purpose_of_use = ::cir::testing::kTestPurpose});
    for (int w = 0; w < 3; ++w) threads_.emplace_back([this, w] { Run(w); });
  }
  ~MixedLoad() { Stop(); }

  void Stop() {
    stop_ = true;
    for (std::thread& t : threads_) {
      if (t.joinable()) t.join();
    }
  }

  std::mutex mu;
  std::map<std::string, std::string> registered;  // child -> area, acknowledged
  std::vector<Move> moves;
  std::vector<Merge> merges;
  std::atomic<int> failures{0};

 private:
  std::optional<v1::ChildRecord> Register(int n, const std::string& area) {
    v1::RegisterBirthRequest birth =
        FictionalBirth(absl::StrCat("kill-", n), FictionalNhsNumber(n));
    birth.set_local_authority(area);
    birth.add_address_lines(absl::StrCat(n, " Test Street"));
    absl::StatusOr<v1::RegisterBirthResponse> r = client_->RegisterBirth(birth);
    if (!r.ok()) return std::nullopt;
    std::lock_guard<std::mutex> lock(mu);
    registered[r->record().child_id()] = area;
    return r->record();
  }

  void Run(int worker) {
    std::mt19937 random(worker);
    while (!stop_) {
      const int n = next_birth_++;
      const std::string& area = kAreas[random() % kAreas.size()];
      std::optional<v1::ChildRecord> child = Register(n, area);
      if (!child.has_value()) {
        ++failures;
        absl::SleepFor(absl::Milliseconds(20));
        continue;
      }
      switch (random() % 4) {
        case 0: {  // a move to another area
          v1::ChangeAddressRequest move;
          move.set_request_id(absl::StrCat("move-", n));
          move.set_child_id(child->child_id());
          move.add_address_lines(absl::StrCat(n, " New Road"));
          move.set_postcode("PO19 1AB");
          const std::string& to =
              kAreas[(random() % (kAreas.size() - 1) + 1 + (&area - kAreas.data())) %
                     kAreas.size()];
          move.set_local_authority(to);
          move.set_recorded_by("Test data team");
          absl::StatusOr<v1::ChangeAddressResponse> moved = client_->ChangeAddress(move);
          if (moved.ok()) {
            std::lock_guard<std::mutex> lock(mu);
            moves.push_back({child->child_id(), area, to, moved->record().version()});
          }
          break;
        }
        case 1: {  // a duplicate registered without an NHS number, merged into the child
          const int m = next_birth_++;
          v1::RegisterBirthRequest duplicate = FictionalBirth(absl::StrCat("kill-", m), "");
          duplicate.set_local_authority(area);
          absl::StatusOr<v1::RegisterBirthResponse> r = client_->RegisterBirth(duplicate);
          if (!r.ok()) break;
          {
            std::lock_guard<std::mutex> lock(mu);
            registered[r->record().child_id()] = area;
          }
          v1::MergeRecordsRequest merge;
          merge.set_request_id(absl::StrCat("merge-", m));
          merge.set_surviving_child_id(child->child_id());
          merge.set_retired_child_id(r->record().child_id());
          merge.set_recorded_by("Test data team");
          if (client_->MergeRecords(merge).ok()) {
            std::lock_guard<std::mutex> lock(mu);
            merges.push_back({child->child_id(), r->record().child_id()});
          }
          break;
        }
        default:
          break;
      }
    }
  }

  std::unique_ptr<Client> client_;
  std::atomic<int> next_birth_;
  std::atomic<bool> stop_{false};
  std::vector<std::thread> threads_;
};

// `cir watch` as a child process whose standard output the test reads.
class Watcher {
 public:
  Watcher(const std::string& address, const std::string& cursor) {
    std::vector<std::string> args = {CIR_CLI_PATH,  "--server", address,
                                     "--plaintext", "--json",   "watch"};
    for (const std::string& area : kAreas) {
      args.push_back("--la");
      args.push_back(area);
    }
    if (cursor.empty()) {
      args.push_back("--from-start");
    } else {
      args.push_back("--from");
      args.push_back(cursor);
    }
    std::vector<char*> argv;
    for (std::string& arg : args) argv.push_back(arg.data());
    argv.push_back(nullptr);
    int out[2];
    EXPECT_EQ(pipe(out), 0);
    pid_ = fork();
    if (pid_ == 0) {
      dup2(out[1], STDOUT_FILENO);
      int null = open("/dev/null", O_WRONLY);
      dup2(null, STDERR_FILENO);
      close(out[0]);
      execv(argv[0], argv.data());
      _exit(127);
    }
    close(out[1]);
    fd_ = out[0];
    fcntl(fd_, F_SETFL, fcntl(fd_, F_GETFL) | O_NONBLOCK);
  }
  ~Watcher() {
    Kill();
    close(fd_);
  }

  // The complete lines written so far (a line cut by a kill is not complete, and is dropped).
  std::vector<std::string> Lines() {
    char buffer[65536];
    for (;;) {
      ssize_t n = read(fd_, buffer, sizeof(buffer));
      if (n <= 0) break;
      pending_.append(buffer, n);
    }
    std::vector<std::string> lines;
    size_t end;
    while ((end = pending_.find('\n')) != std::string::npos) {
      lines.push_back(pending_.substr(0, end));
      pending_.erase(0, end + 1);
    }
    return lines;
  }

  void Kill() {
    if (pid_ <= 0) return;
    kill(pid_, SIGKILL);
    waitpid(pid_, nullptr, 0);
    pid_ = -1;
  }

 private:
  pid_t pid_ = -1;
  int fd_ = -1;
  std::string pending_;
};

class FeedKillTest : public ::testing::Test {
 protected:
  testing::TempDir dir_;
};

TEST_F(FeedKillTest, ASubscriberKilledAtRandomAndResumedFromItsCursorGetsEveryEventOnceInOrder) {
  testing::ServerProcess server(CIR_SERVER_PATH, dir_.Sub("db"));
  ASSERT_TRUE(server.Start({"--feed-heartbeat-seconds", "0.2"})) << server.log();
  MixedLoad load(server.address(), 1);
  std::vector<v1::FeedEvent> processed;  // what the subscriber processed, in order
  std::string cursor;
  std::mt19937 random(7);
  auto take = [&](Watcher& watcher) {
    for (const std::string& line : watcher.Lines()) {
      v1::SubscribeResponse message;
      ASSERT_TRUE(google::protobuf::util::JsonStringToMessage(line, &message).ok()) << line;
      for (const v1::FeedEvent& event : message.events()) {
        processed.push_back(event);
        cursor = event.cursor();
      }
    }
  };
  constexpr int kKills = 25;
  for (int kill = 0; kill < kKills; ++kill) {
    Watcher watcher(server.address(), cursor);
    absl::SleepFor(absl::Milliseconds(50 + random() % 250));
    watcher.Kill();
    take(watcher);
  }
  load.Stop();
  // Caught up: one last run until each area's head is reached.
  Client client({.target = server.address(),
                 .end_user = ::cir::testing::kTestEndUser,
                 .purpose_of_use = ::cir::testing::kTestPurpose});
  std::map<std::string, std::vector<v1::FeedEvent>> committed;
  size_t total = 0;
  for (const std::string& area : kAreas) {
    absl::StatusOr<std::vector<v1::FeedEvent>> feed = testing::WholeFeed(client, area);
    ASSERT_TRUE(feed.ok()) << feed.status();
    committed[area] = *std::move(feed);
    total += committed[area].size();
  }
  {
    Watcher watcher(server.address(), cursor);
    const absl::Time give_up = absl::Now() + absl::Seconds(60);
    while (processed.size() < total && absl::Now() < give_up) {
      absl::SleepFor(absl::Milliseconds(20));
      take(watcher);
    }
  }
  ASSERT_GT(load.registered.size(), 50u) << "too little load to test anything";
  // Per area: exactly the committed events, in sequence order, none twice, none missing.
  std::map<std::string, std::vector<v1::FeedEvent>> received;
  for (const v1::FeedEvent& event : processed) received[event.local_authority()].push_back(event);
  for (const std::string& area : kAreas) {
    ASSERT_EQ(received[area].size(), committed[area].size()) << "area " << area;
    for (size_t i = 0; i < committed[area].size(); ++i) {
      EXPECT_EQ(received[area][i].sequence(), i + 1) << "area " << area;
      EXPECT_EQ(received[area][i].kind(), committed[area][i].kind());
      EXPECT_EQ(received[area][i].child_id(), committed[area][i].child_id());
    }
  }
  // And across areas, in commit order: an event that is a move's move-in never comes before its
  // move-out.
  std::map<std::pair<std::string, int64_t>, size_t> moved_out_at;
  for (size_t i = 0; i < processed.size(); ++i) {
    const v1::FeedEvent& event = processed[i];
    if (event.kind() == v1::FEED_EVENT_KIND_MOVED_OUT) {
      moved_out_at[{event.child_id(), event.record_version()}] = i;
    }
    if (event.kind() == v1::FEED_EVENT_KIND_MOVED_IN) {
      EXPECT_TRUE(moved_out_at.count({event.child_id(), event.record_version()}))
          << "a move-in before its move-out";
    }
  }
}

TEST_F(FeedKillTest, AServerKilledUnderLoadKeepsEveryAcknowledgedChangeWithItsEvents) {
  testing::ServerProcess server(CIR_SERVER_PATH, dir_.Sub("db"));
  std::mt19937 random(11);
  std::vector<std::unique_ptr<MixedLoad>> loads;
  constexpr int kKills = 3;
  for (int kill = 0; kill < kKills; ++kill) {
    ASSERT_TRUE(server.Start()) << server.log();
    loads.push_back(std::make_unique<MixedLoad>(server.address(), 1 + kill * 100000));
    absl::SleepFor(absl::Milliseconds(300 + random() % 700));
    server.Signal(SIGKILL);
    loads.back()->Stop();
  }
  ASSERT_TRUE(server.Start()) << server.log();
  Client client({.target = server.address(),
                 .end_user = ::cir::testing::kTestEndUser,
                 .purpose_of_use = ::cir::testing::kTestPurpose});
  std::map<std::string, std::vector<v1::FeedEvent>> feeds;
  for (const std::string& area : kAreas) {
    absl::StatusOr<std::vector<v1::FeedEvent>> feed = testing::WholeFeed(client, area);
    ASSERT_TRUE(feed.ok()) << feed.status();
    feeds[area] = *std::move(feed);
  }

  // Every area's sequence is gap-free.
  for (const auto& [area, events] : feeds) {
    for (size_t i = 0; i < events.size(); ++i) ASSERT_EQ(events[i].sequence(), i + 1) << area;
  }
  // The events each child has, by kind and version.
  std::set<std::tuple<std::string, std::string, v1::FeedEventKind, int64_t>> has;
  std::map<std::string, int64_t> newest_event_version;
  std::set<std::pair<std::string, std::string>> merged_pairs;  // survivor, retired
  for (const auto& [area, events] : feeds) {
    for (const v1::FeedEvent& event : events) {
      if (event.kind() == v1::FEED_EVENT_KIND_MERGED) {
        merged_pairs.insert({event.child_id(), event.other_child_id()});
      }
      has.insert({area, event.child_id(), event.kind(), event.record_version()});
      int64_t& newest = newest_event_version[event.child_id()];
      newest = std::max(newest, event.record_version());
    }
  }
  size_t acknowledged = 0;
  for (const std::unique_ptr<MixedLoad>& load : loads) {
    std::lock_guard<std::mutex> lock(load->mu);
    for (const auto& [child, area] : load->registered) {
      ++acknowledged;
      EXPECT_TRUE(has.count({area, child, v1::FEED_EVENT_KIND_BIRTH_REGISTERED, 1}))
          << "an acknowledged birth without its event";
    }
    for (const MixedLoad::Move& move : load->moves) {
      EXPECT_TRUE(
          has.count({move.from, move.child_id, v1::FEED_EVENT_KIND_MOVED_OUT, move.version}));
      EXPECT_TRUE(has.count({move.to, move.child_id, v1::FEED_EVENT_KIND_MOVED_IN, move.version}));
    }
    for (const MixedLoad::Merge& merge : load->merges) {
      EXPECT_TRUE(merged_pairs.count({merge.survivor, merge.retired}))
          << "an acknowledged merge without its event";
      absl::StatusOr<v1::ResolveResponse> retired = client.Resolve(merge.retired);
      ASSERT_TRUE(retired.ok()) << retired.status();
      EXPECT_EQ(retired->record().child_id(), merge.survivor);
      EXPECT_EQ(retired->redirected_from_child_id(), merge.retired);
    }
  }
  ASSERT_GT(acknowledged, 30u) << "too little load to test anything";
  // No event without its change: each event's version is one the record has reached.
  for (const auto& [child, version] : newest_event_version) {
    absl::StatusOr<v1::ResolveResponse> resolved = client.Resolve(child);
    ASSERT_TRUE(resolved.ok()) << resolved.status();
    if (!resolved->redirected_from_child_id().empty()) continue;  // retired: the survivor returned
    EXPECT_LE(version, resolved->record().version());
  }
}

}  // namespace
}  // namespace cir
