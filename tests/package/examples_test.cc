// The worked examples (examples/maternity, examples/school_census, examples/childrens_centre) as
// an agency builds them: out of tree, by find_package(cir), against the client package installed
// into a folder of the test's own, and run against a real cir-server that the tests kill and
// restart, as they kill the programs themselves.
#include <signal.h>

#include <algorithm>
#include <fstream>
#include <map>
#include <memory>
#include <set>
#include <sstream>
#include <string>
#include <thread>
#include <vector>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_split.h"
#include "absl/time/clock.h"
#include "cir/client.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "tests/testing/client_package.h"
#include "tests/testing/fictional_children.h"
#include "tests/testing/installed_client_package.h"
#include "tests/testing/server_process.h"
#include "tests/testing/temp_dir.h"
#include "tests/testing/test_access.h"
#include "tests/testing/whole_feed.h"

namespace cir {
namespace {

using testing::ChildProgram;
using testing::CommandRun;
using testing::FictionalNhsNumber;
using testing::FictionalUpn;
using ::testing::HasSubstr;
using ::testing::Not;
using ::testing::StartsWith;

std::string ReadFile(const std::string& path) {
  std::ifstream file(path);
  std::stringstream text;
  text << file.rdbuf();
  return text.str();
}

std::vector<std::string> Lines(const std::string& path) {
  return absl::StrSplit(ReadFile(path), '\n', absl::SkipEmpty());
}

// Waits until the file at `path` holds at least `lines` lines; false if it does not within 30 s.
bool WaitForLines(const std::string& path, size_t lines) {
  const absl::Time give_up = absl::Now() + absl::Seconds(30);
  while (absl::Now() < give_up) {
    const std::string text = ReadFile(path);
    if (static_cast<size_t>(std::count(text.begin(), text.end(), '\n')) >= lines) return true;
    absl::SleepFor(absl::Milliseconds(1));
  }
  return false;
}

// The fields of a line the examples wrote, none of them quoted.
std::vector<std::string> Fields(const std::string& line) { return absl::StrSplit(line, ','); }

// One install for the whole suite: every example builds against it.
class ExamplesTest : public testing::InstalledClientPackageTest {
 protected:
  void SetUp() override { ASSERT_TRUE(StartServer()) << server_.log(); }

  // Starts (or restarts, on the same port) the server; heartbeats every second.
  bool StartServer() { return server_.Start({"--feed-heartbeat-seconds", "1"}); }

  // Builds examples/`name` out of tree; the program's path.
  std::string Build(const std::string& name) {
    const std::string build = dir_.Sub("build-" + name);
    CommandRun built = testing::BuildAgainstPackage(
        std::string(CIR_SOURCE_DIR) + "/examples/" + name, build, Prefix());
    EXPECT_EQ(built.exit_code, 0) << built.output;
    return build + "/" + name;
  }

  // Starts `program` with `args` against the server, plaintext, as the test agency acting for
  // its test user; its output goes to `log`.
  std::unique_ptr<ChildProgram> Start(const std::string& program, std::vector<std::string> args,
                                      const std::string& log) {
    args.insert(args.begin(), {program, "--registry", server_.address(), "--plaintext-for-tests"});
    return std::make_unique<ChildProgram>(
        args,
        std::vector<std::string>{"LD_LIBRARY_PATH=" + LibDir(),
                                 std::string("CIR_END_USER=") + testing::kTestEndUser,
                                 std::string("CIR_PURPOSE_OF_USE=") + testing::kTestPurpose},
        dir_.Sub(log));
  }

  // Runs `program` to its end; its exit status and output.
  CommandRun Run(const std::string& program, std::vector<std::string> args,
                 const std::string& log) {
    std::unique_ptr<ChildProgram> run = Start(program, std::move(args), log);
    std::optional<int> exit_code = run->Wait(absl::Seconds(120));
    return {exit_code.value_or(-1), run->Output()};
  }

  Client Registry() {
    return Client({.target = server_.address(),
                   .end_user = testing::kTestEndUser,
                   .purpose_of_use = testing::kTestPurpose});
  }

  testing::TempDir dir_;
  testing::ServerProcess server_{CIR_SERVER_PATH, dir_.Sub("db")};
};

// ---- maternity ----------------------------------------------------------------------------------

TEST_F(ExamplesTest, AMaternityRunKilledAndRestartedThroughARegistryRestartRecordsEveryBirthOnce) {
  const std::string maternity = Build("maternity");
  // N births in 938; every tenth without an NHS number, so known to the registry by its
  // notification alone; and one row the registry refuses (a mistyped check digit).
  constexpr int kBirths = 1000;
  const std::string births = dir_.Sub("births.csv");
  const std::string results = dir_.Sub("results.csv");
  std::string mistyped = FictionalNhsNumber(99999);
  mistyped.back() = static_cast<char>('0' + (mistyped.back() - '0' + 1) % 10);
  {
    std::ofstream out(births);
    out << "notification_id,nhs_number,date_of_birth,sex,given_name,family_name,address_line_1,"
           "postcode,local_authority\n";
    for (int i = 0; i < kBirths; ++i) {
      out << "N-" << i << "," << (i % 10 == 0 ? "" : FictionalNhsNumber(1000 + i)) << ",2026-03-14,"
          << (i % 2 == 0 ? "female" : "male") << ",Child" << i << ",Test,\"" << i
          << " High Street, Horsham\",RH12 1AA,938\n";
      if (i == kBirths / 2) {
        out << "N-MISTYPED," << mistyped << ",2026-03-14,female,Mistyped,Test,,RH12 1AA,938\n";
      }
    }
  }
  const std::vector<std::string> args = {"--notifying-system", "RXH01", births, results};
  server_.set_port(server_.port());  // restarted where the program connects

  // The program is killed a third of the way in, and started again.
  std::unique_ptr<ChildProgram> run = Start(maternity, args, "maternity.log");
  ASSERT_TRUE(WaitForLines(results, kBirths / 3)) << run->Output();
  run->Kill(SIGKILL);
  run = Start(maternity, args, "maternity.log");
  // The registry is killed while the program sends, and restarted.
  ASSERT_TRUE(WaitForLines(results, 2 * kBirths / 3)) << run->Output();
  ASSERT_TRUE(run->Running()) << "finished before the registry could be killed under it";
  server_.Signal(SIGKILL);
  ASSERT_TRUE(StartServer()) << server_.log();
  std::optional<int> exit_code = run->Wait(absl::Seconds(60));
  ASSERT_TRUE(exit_code.has_value()) << run->Output();
  EXPECT_EQ(*exit_code, 1) << run->Output();  // every birth recorded, one refused

  // Every birth recorded exactly once, with the identifier the registry holds for it.
  std::vector<std::string> lines = Lines(results);
  ASSERT_FALSE(lines.empty());
  EXPECT_EQ(lines[0], "notification_id,result,child_id,detail");
  std::map<std::string, int> times_recorded;
  std::map<std::string, std::string> child_of;  // notification id to child
  for (size_t i = 1; i < lines.size(); ++i) {
    const std::string id = lines[i].substr(0, lines[i].find(','));
    ++times_recorded[id];
    if (id == "N-MISTYPED") {
      EXPECT_THAT(lines[i], StartsWith("N-MISTYPED,refused,,FIELD_INVALID: ")) << lines[i];
      continue;
    }
    std::vector<std::string> fields = Fields(lines[i]);
    ASSERT_EQ(fields.size(), 4u) << lines[i];
    EXPECT_EQ(fields[1], "created") << lines[i];
    child_of[id] = fields[2];
  }
  EXPECT_EQ(times_recorded.size(), kBirths + 1u);
  for (const auto& [id, times] : times_recorded) EXPECT_EQ(times, 1) << id << " recorded";
  Client registry = Registry();
  v1::BatchResolveRequest numbers;
  for (int i = 1; i < kBirths; ++i) {
    if (i % 10 != 0) numbers.add_identifiers(FictionalNhsNumber(1000 + i));
  }
  absl::StatusOr<v1::BatchResolveResponse> held = registry.BatchResolve(numbers);
  ASSERT_TRUE(held.ok()) << held.status();
  for (int i = 1, at = 0; i < kBirths; ++i) {
    if (i % 10 == 0) continue;
    EXPECT_EQ(held->results(at++).record().child_id_display(), child_of["N-" + std::to_string(i)])
        << "birth " << i;
  }
  // The registry holds exactly N children: one birth registered in the area for each.
  absl::StatusOr<std::vector<v1::FeedEvent>> feed = testing::WholeFeed(registry, "938");
  ASSERT_TRUE(feed.ok()) << feed.status();
  std::set<std::string> registered;
  for (const v1::FeedEvent& event : *feed) {
    if (event.kind() == v1::FEED_EVENT_KIND_BIRTH_REGISTERED) {
      EXPECT_TRUE(registered.insert(event.child_id_display()).second) << event.child_id_display();
    }
  }
  std::set<std::string> recorded;
  for (const auto& [id, child] : child_of) recorded.insert(child);
  EXPECT_EQ(registered.size(), static_cast<size_t>(kBirths));
  EXPECT_EQ(registered, recorded);
}

// ---- school census ------------------------------------------------------------------------------

TEST_F(ExamplesTest, ASchoolLinksUpnsThenACensusOfTwentyThousandAnswersEachUpnInInputOrder) {
  const std::string school = Build("school_census");
  // M children registered, each then given a UPN by the school's link run.
  constexpr int kChildren = 500;
  Client registry = Registry();
  std::vector<std::string> child_ids;
  const std::string links = dir_.Sub("links.csv");
  {
    std::ofstream out(links);
    out << "nhs_number,upn\n";
    for (int i = 0; i < kChildren; ++i) {
      absl::StatusOr<v1::RegisterBirthResponse> born = registry.RegisterBirth(
          testing::FictionalBirth(absl::StrCat("school-", i), FictionalNhsNumber(2000 + i)));
      ASSERT_TRUE(born.ok()) << born.status();
      child_ids.push_back(born->record().child_id_display());
      out << FictionalNhsNumber(2000 + i) << "," << FictionalUpn(i) << "\n";
    }
    out << FictionalNhsNumber(9000) << "," << FictionalUpn(999) << "\n";  // no such child
  }
  CommandRun linked = Run(school, {"link", links, dir_.Sub("linked.csv")}, "link.log");
  EXPECT_EQ(linked.exit_code, 1) << linked.output;  // one row not linked
  std::vector<std::string> link_lines = Lines(dir_.Sub("linked.csv"));
  ASSERT_EQ(link_lines.size(), kChildren + 2u);
  for (int i = 0; i < kChildren; ++i) {
    EXPECT_EQ(link_lines[i + 1], absl::StrCat(FictionalNhsNumber(2000 + i), ",", FictionalUpn(i),
                                              ",linked,", child_ids[i], ","));
  }
  EXPECT_EQ(link_lines.back(),
            absl::StrCat(FictionalNhsNumber(9000), ",", FictionalUpn(999), ",not_found,,"));
  // Run again, as after a crash: every link is already there, and nothing changes.
  CommandRun again = Run(school, {"link", links, dir_.Sub("again.csv")}, "again.log");
  EXPECT_EQ(again.exit_code, 1) << again.output;
  EXPECT_THAT(ReadFile(dir_.Sub("again.csv")), Not(HasSubstr(",linked,")));
  EXPECT_THAT(Lines(dir_.Sub("again.csv"))[1], HasSubstr(",unchanged,"));

  // The census: every 40th UPN a linked child's, some malformed, the rest nobody's.
  constexpr int kUpns = 20000;
  std::vector<std::string> upns;
  for (int i = 0; i < kUpns; ++i) {
    if (i % 40 == 0) {
      upns.push_back(FictionalUpn(i / 40));
    } else if (i % 997 == 1) {
      upns.push_back("NOT-A-UPN-" + std::to_string(i));
    } else {
      upns.push_back(FictionalUpn(1000 + i));
    }
  }
  const std::string census_in = dir_.Sub("census.csv");
  {
    std::ofstream out(census_in);
    out << "upn,surname\n";
    for (const std::string& upn : upns) out << upn << ",Test\n";
  }
  CommandRun census =
      Run(school, {"census", "--in-flight", "4", census_in, dir_.Sub("out.csv")}, "census.log");
  EXPECT_EQ(census.exit_code, 1) << census.output;  // some UPNs not found
  EXPECT_EQ(census.output, "");  // standard error is no terminal: no progress bar
  std::vector<std::string> out = Lines(dir_.Sub("out.csv"));
  ASSERT_EQ(out.size(), kUpns + 1u);
  EXPECT_EQ(out[0], "upn,outcome,child_id,nhs_number,current_upn,detail");
  for (int i = 0; i < kUpns; ++i) {
    const std::string& line = out[i + 1];
    ASSERT_THAT(line, StartsWith(upns[i] + ",")) << "line " << i + 1 << " out of order";
    if (i % 40 == 0) {
      const int child = i / 40;
      EXPECT_EQ(line, absl::StrCat(upns[i], ",found,", child_ids[child], ",",
                                   FictionalNhsNumber(2000 + child), ",", upns[i], ","));
    } else if (i % 997 == 1) {
      EXPECT_THAT(line, StartsWith(upns[i] + ",invalid,,,,")) << line;
    } else {
      EXPECT_EQ(line, upns[i] + ",not_found,,,,");
    }
  }

  // With --progress the bar is drawn, and the census written is the same.
  CommandRun drawn =
      Run(school, {"census", "--progress", census_in, dir_.Sub("out2.csv")}, "census2.log");
  EXPECT_EQ(drawn.exit_code, 1) << drawn.output;
  EXPECT_THAT(drawn.output,
              HasSubstr("\r[##############################] 100%  20,000 of 20,000 UPNs"));
  EXPECT_EQ(ReadFile(dir_.Sub("out2.csv")), ReadFile(dir_.Sub("out.csv")));
}

// ---- children's centre --------------------------------------------------------------------------

TEST_F(ExamplesTest, AChildrensCentreKilledMidwayJournalsEachOfItsAreasEventsExactlyOnce) {
  const std::string centre = Build("childrens_centre");
  const std::string journal = dir_.Sub("journal.csv");
  const std::vector<std::string> args = {"--la", "938", journal};
  server_.set_port(server_.port());  // restarted where the centre connects

  // Births alternately in 938 and in 845, registered while the centre follows 938.
  constexpr int kBirths = 400;
  std::vector<std::string> in_938;  // the children the centre must hear of, in order
  auto register_births = [&](int from, int to) {
    Client registry = Registry();
    for (int i = from; i < to; ++i) {
      v1::RegisterBirthRequest birth =
          testing::FictionalBirth(absl::StrCat("centre-", i), FictionalNhsNumber(3000 + i));
      if (i % 2 == 1) {
        birth.set_local_authority("845");
        birth.set_postcode("PO19 1AA");
      }
      absl::StatusOr<v1::RegisterBirthResponse> born = registry.RegisterBirth(birth);
      ASSERT_TRUE(born.ok()) << born.status();
      if (i % 2 == 0) in_938.push_back(born->record().child_id_display());
    }
  };
  std::thread registering(register_births, 0, kBirths / 2);
  std::unique_ptr<ChildProgram> run = Start(centre, args, "centre.log");
  ASSERT_TRUE(WaitForLines(journal, 1 + 40)) << run->Output();
  run->Kill(SIGKILL);  // midway
  run = Start(centre, args, "centre.log");
  registering.join();
  // The registry restarts under the centre, which resumes from its journal's cursor.
  ASSERT_TRUE(WaitForLines(journal, 1 + kBirths / 4)) << run->Output();
  server_.Signal(SIGKILL);
  ASSERT_TRUE(StartServer()) << server_.log();
  register_births(kBirths / 2, kBirths);
  ASSERT_TRUE(WaitForLines(journal, 1 + kBirths / 2)) << run->Output();
  EXPECT_THAT(run->Output(), HasSubstr("resuming from the journal's cursor"));
  run->Kill(SIGKILL);
  // Started once more, it resumes after the last event and, having nothing more to process,
  // exits at the first heartbeat.
  CommandRun last = Run(centre, {"--la", "938", "--until-caught-up", journal}, "last.log");
  EXPECT_EQ(last.exit_code, 0) << last.output;

  std::vector<std::string> lines = Lines(journal);
  ASSERT_EQ(lines.size(), 1 + kBirths / 2u) << "none missing, none repeated";
  EXPECT_EQ(lines[0], "local_authority,sequence,kind,child_id,cursor");
  for (int i = 0; i < kBirths / 2; ++i) {
    std::vector<std::string> fields = Fields(lines[i + 1]);
    ASSERT_EQ(fields.size(), 5u) << lines[i + 1];
    EXPECT_EQ(fields[0], "938");
    EXPECT_EQ(fields[1], std::to_string(i + 1));
    EXPECT_EQ(fields[2], "BIRTH_REGISTERED");
    EXPECT_EQ(fields[3], in_938[i]) << "line " << i + 1;
  }
}

}  // namespace
}  // namespace cir
