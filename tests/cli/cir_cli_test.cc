// The cir command-line tool against a real cir-server: each command, its text and JSON output,
// and its exit status (0 done, 1 refused by the registry, 2 bad usage).

#include <signal.h>
#include <sys/wait.h>

#include <cstdio>
#include <fstream>
#include <regex>
#include <string>
#include <vector>

#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "tests/testing/fictional_children.h"
#include "tests/testing/server_process.h"
#include "tests/testing/temp_dir.h"
#include "tests/testing/test_access.h"

namespace cir {
namespace {

using ::testing::HasSubstr;

struct CliRun {
  int exit_code;
  std::string output;  // standard output and standard error together
};

class CirCliTest : public ::testing::Test {
 protected:
  void SetUp() override { ASSERT_TRUE(server_.Start()) << server_.log(); }

  CliRun Cir(const std::string& arguments) {
    std::string command = std::string(CIR_CLI_PATH) + " --server " + server_.address() +
                          " --plaintext --end-user " + ::cir::testing::kTestEndUser +
                          " --purpose " + ::cir::testing::kTestPurpose + " " + arguments + " 2>&1";
    FILE* pipe = popen(command.c_str(), "r");
    std::string output;
    char buffer[4096];
    for (size_t n; (n = fread(buffer, 1, sizeof buffer, pipe)) > 0;) output.append(buffer, n);
    int status = pclose(pipe);
    return {WIFEXITED(status) ? WEXITSTATUS(status) : -1, output};
  }

  std::string RegisterAndGetId(const std::string& notification, const std::string& nhs) {
    CliRun run = Cir("register --notifying-system RXH01 --notification-id " + notification +
                     " --nhs '" + nhs +
                     "' --dob 2026-05-01 --sex female --postcode 'rh12 1aa' --la 938 "
                     "--given-name Ada");
    EXPECT_EQ(run.exit_code, 0) << run.output;
    std::smatch match;
    EXPECT_TRUE(std::regex_search(run.output, match, std::regex("Child ([A-Z0-9-]{13})")))
        << run.output;
    return match.size() > 1 ? match[1].str() : "";
  }

  testing::TempDir dir_;
  testing::ServerProcess server_{CIR_SERVER_PATH, dir_.Sub("db")};
};

TEST_F(CirCliTest, RegisterPrintsTheNewChildAndAnotherNotificationSaysNothingWasCreated) {
  std::string id = RegisterAndGetId("cli-1", "999 000 0018");
  EXPECT_EQ(id.size(), 13u);
  // A retry answers as the first call did.
  EXPECT_EQ(RegisterAndGetId("cli-1", "999 000 0018"), id);
  CliRun again =
      Cir("register --notifying-system RYJ02 --notification-id cli-1 "
          "--nhs '999 000 0018' --dob 2026-05-01 --sex female --postcode 'rh12 1aa' "
          "--la 938 --given-name Ada");
  EXPECT_EQ(again.exit_code, 0);
  EXPECT_THAT(again.output, HasSubstr("Already registered"));
  EXPECT_THAT(again.output, HasSubstr(id));
}

TEST_F(CirCliTest, ResolveFindsTheChildByEachIdentifierAndPrintsJsonOnRequest) {
  std::string id = RegisterAndGetId("cli-2", testing::FictionalNhsNumber(2));
  CliRun linked = Cir("link-upn " + id + " B801200005001");
  EXPECT_EQ(linked.exit_code, 0) << linked.output;
  EXPECT_THAT(linked.output, HasSubstr("UPN linked"));
  for (const std::string& identifier :
       {id, testing::FictionalNhsNumber(2), std::string("b801200005001")}) {
    CliRun run = Cir("resolve '" + identifier + "'");
    EXPECT_EQ(run.exit_code, 0) << run.output;
    EXPECT_THAT(run.output, HasSubstr(id));
    EXPECT_THAT(run.output, HasSubstr("B801200005001"));
  }
  CliRun json = Cir("resolve " + id + " --json");
  EXPECT_EQ(json.exit_code, 0);
  EXPECT_THAT(json.output, HasSubstr("\"child_id_display\":\"" + id + "\""));
  EXPECT_THAT(json.output, HasSubstr("\"matched_kind\":\"IDENTIFIER_KIND_CHILD_ID\""));
}

TEST_F(CirCliTest, LinkNhsAddsAnNhsNumber) {
  CliRun registered =
      Cir("register --notifying-system RXH01 --notification-id cli-abroad "
          "--dob 2025-12-01 --sex not-known --postcode 'SW1A 1AA' --la 213");
  ASSERT_EQ(registered.exit_code, 0) << registered.output;
  std::smatch match;
  ASSERT_TRUE(std::regex_search(registered.output, match, std::regex("Child ([A-Z0-9-]{13})")));
  CliRun linked = Cir("link-nhs " + match[1].str() + " " + testing::FictionalNhsNumber(3));
  EXPECT_EQ(linked.exit_code, 0) << linked.output;
  EXPECT_THAT(linked.output, HasSubstr("NHS number linked"));
}

TEST_F(CirCliTest, BatchResolveReadsAFileAndAnswersEachLineInOrder) {
  std::string id = RegisterAndGetId("cli-4", testing::FictionalNhsNumber(4));
  std::string file = dir_.Sub("census.txt");
  std::ofstream(file) << testing::FictionalNhsNumber(4) << "\nnonsense\n"
                      << testing::FictionalNhsNumber(5) << "\n"
                      << id << "\n";
  CliRun run = Cir("batch-resolve " + file);
  EXPECT_EQ(run.exit_code, 0) << run.output;
  std::regex expected(testing::FictionalNhsNumber(4) + "\tfound\t" + id +
                      "\n(.|\n)*nonsense\tinvalid(.|\n)*" + testing::FictionalNhsNumber(5) +
                      "\tnot-found\n" + id + "\tfound\t" + id);
  EXPECT_TRUE(std::regex_search(run.output, expected)) << run.output;
  EXPECT_THAT(run.output, HasSubstr("2 found, 1 not found, 1 invalid"));
}

TEST_F(CirCliTest, BatchResolveReadsAColumnOfACsvFileAndAnswersInCsv) {
  const std::string id = RegisterAndGetId("cli-csv", testing::FictionalNhsNumber(9));
  const std::string file = dir_.Sub("pupils.csv");
  std::ofstream(file) << "name,nhs_number\n"
                      << "\"Lovelace-Test, Ada\"," << testing::FictionalNhsNumber(9) << "\n"
                      << "Nobody," << testing::FictionalNhsNumber(10) << "\n";
  CliRun run = Cir("batch-resolve " + file + " --column nhs_number --format csv");
  EXPECT_EQ(run.exit_code, 0) << run.output;
  EXPECT_THAT(run.output, HasSubstr("identifier,outcome,child_id,matched_former,error\n" +
                                    testing::FictionalNhsNumber(9) + ",found," + id + ",false,\n" +
                                    testing::FictionalNhsNumber(10) + ",not-found,,false,\n"));
  // The first column by default, by its number, or of a file without a header row.
  const std::string plain = dir_.Sub("ids.csv");
  std::ofstream(plain) << id << ",x\n";
  CliRun headless = Cir("batch-resolve " + plain + " --no-header --format csv");
  EXPECT_THAT(headless.output, HasSubstr("\n" + id + ",found," + id + ",false,\n"));
  CliRun second = Cir("batch-resolve " + file + " --column 2");
  EXPECT_THAT(second.output, HasSubstr(testing::FictionalNhsNumber(9) + "\tfound\t" + id));
  EXPECT_EQ(Cir("batch-resolve " + file + " --column postcode").exit_code, 2);
  // resolve prints the record as a CSV row under its header.
  CliRun resolved = Cir("resolve " + id + " --format csv");
  EXPECT_EQ(resolved.exit_code, 0) << resolved.output;
  EXPECT_THAT(resolved.output, HasSubstr("child_id,nhs_number,upn,"));
  EXPECT_THAT(resolved.output, HasSubstr("\n" + id + "," + testing::FictionalNhsNumber(9) + ","));
}

TEST_F(CirCliTest, ARefusedCallExitsOneWithTheRegistrysMessage) {
  CliRun run =
      Cir("register --notifying-system RXH01 --notification-id cli-bad "
          "--nhs 9990000017 --dob 2026-05-01 --sex f --postcode 'RH12 1AA' --la 938");
  EXPECT_EQ(run.exit_code, 1);
  EXPECT_THAT(run.output, HasSubstr("INVALID_ARGUMENT"));
  EXPECT_THAT(run.output, HasSubstr("nhs_number"));
  CliRun missing = Cir("resolve " + testing::FictionalNhsNumber(6));
  EXPECT_EQ(missing.exit_code, 1);
  EXPECT_THAT(missing.output, HasSubstr("NOT_FOUND"));
}

TEST_F(CirCliTest, RegisterTakesTheBirthOrderAndTheMothersNames) {
  CliRun twin =
      Cir("register --notifying-system rxh01 --notification-id cli-twin-2 "
          "--dob 2026-05-01 --sex female --postcode 'RH12 1AA' --la 938 "
          "--birth-order 2 --mother-given-name Mary --mother-family-name Lovelace-Test "
          "--json");
  EXPECT_EQ(twin.exit_code, 0) << twin.output;
  EXPECT_THAT(twin.output, HasSubstr("\"birth_order\":2"));
  EXPECT_THAT(twin.output, HasSubstr("\"mother_given_name\":\"Mary\""));
  EXPECT_THAT(twin.output, HasSubstr("\"mother_family_name\":\"Lovelace-Test\""));
  EXPECT_EQ(Cir("register --notifying-system RXH01 --notification-id cli-twin-10 "
                "--dob 2026-05-01 --sex female --postcode 'RH12 1AA' --la 938 --birth-order 10")
                .exit_code,
            2);
}

TEST_F(CirCliTest, LinkUpnSaysWhatItDidWithASecondPermanentUpn) {
  std::string id = RegisterAndGetId("cli-7", testing::FictionalNhsNumber(7));
  ASSERT_EQ(Cir("link-upn " + id + " " + testing::FictionalUpn(7)).exit_code, 0);
  CliRun refused = Cir("link-upn " + id + " " + testing::FictionalUpn(8));
  EXPECT_EQ(refused.exit_code, 1);
  EXPECT_THAT(refused.output, HasSubstr("[CHILD_HAS_ANOTHER_UPN]"));
  CliRun kept = Cir("link-upn " + id + " " + testing::FictionalUpn(8) + " --replace");
  EXPECT_EQ(kept.exit_code, 0) << kept.output;
  EXPECT_THAT(kept.output, HasSubstr("kept as a former UPN"));
}

TEST_F(CirCliTest, BadUsageExitsTwoAndHelpExitsZero) {
  EXPECT_EQ(Cir("register --dob 2026-05-01").exit_code, 2);
  EXPECT_EQ(Cir("frobnicate").exit_code, 2);
  CliRun bad_date =
      Cir("register --notifying-system RXH01 --notification-id x "
          "--dob 01/05/2026 --sex f --postcode 'RH12 1AA' --la 938");
  EXPECT_EQ(bad_date.exit_code, 2);
  EXPECT_THAT(bad_date.output, HasSubstr("YYYY-MM-DD"));
  for (const char* command : {"register", "resolve", "link-upn", "link-nhs", "batch-resolve"}) {
    CliRun help = Cir(std::string(command) + " --help");
    EXPECT_EQ(help.exit_code, 0) << command;
    EXPECT_THAT(help.output, HasSubstr("Usage")) << command;
  }
}

TEST_F(CirCliTest, EachLifeEventCommandChangesTheRecordAndSaysWhatItDid) {
  const std::string id = RegisterAndGetId("cli-life", testing::FictionalNhsNumber(40));
  const std::string duplicate = RegisterAndGetId("cli-life-2", testing::FictionalNhsNumber(41));
  struct Step {
    std::string arguments;
    std::string says;
  };
  const std::vector<Step> steps = {
      {"move " + id + " --address-line '2 Low Road' --postcode 'PO19 1AB' --la 201",
       "Address changed"},
      {"correct " + id + " --version 2 --given-name Adah", "Details corrected"},
      {"supersede-nhs " + id + " " + testing::FictionalNhsNumber(42), "NHS number superseded"},
      {"merge " + id + " " + duplicate + " --nhs-superseded", "Merged"},
      {"unmerge " + duplicate, "Merge undone"},
      {"restrict " + id + " --sensitive set", "Restrictions changed"},
      {"death " + id + " --notice formal --date 2026-05-02", "Death recorded"},
  };
  for (const Step& step : steps) {
    CliRun run = Cir(step.arguments + " --recorded-by 'Test data team'");
    EXPECT_EQ(run.exit_code, 0) << step.arguments << "\n" << run.output;
    EXPECT_THAT(run.output, HasSubstr(step.says)) << step.arguments;
  }
  CliRun resolved = Cir("resolve " + id);
  EXPECT_THAT(resolved.output, HasSubstr("deceased 2026-05-02 (registered)"));
  EXPECT_THAT(resolved.output, HasSubstr("Adah"));
  // A stale version is refused with its reason, and the same request id is not applied twice.
  CliRun stale = Cir("correct " + id + " --version 2 --given-name Ada --recorded-by T");
  EXPECT_EQ(stale.exit_code, 1);
  EXPECT_THAT(stale.output, HasSubstr("[RECORD_VERSION_STALE]"));
  CliRun first = Cir("restrict " + id + " --objection set --request-id r-1 --recorded-by T");
  CliRun retry = Cir("restrict " + id + " --objection set --request-id r-1 --recorded-by T");
  EXPECT_EQ(first.exit_code, 0) << first.output;
  EXPECT_EQ(retry.exit_code, 0) << retry.output;
  EXPECT_THAT(retry.output, HasSubstr("Restrictions changed"));  // the first call's answer
}

TEST_F(CirCliTest, WatchPrintsEventsAsTheyCommitAndEventsPagesWithTheNextCursor) {
  const std::string first = RegisterAndGetId("cli-feed-1", testing::FictionalNhsNumber(50));
  CliRun watched = Cir("watch --la 938 --from-start --max-events 1");
  EXPECT_EQ(watched.exit_code, 0) << watched.output;
  EXPECT_THAT(watched.output, HasSubstr("938 #1 BIRTH_REGISTERED " + first));
  std::smatch cursor;
  ASSERT_TRUE(
      std::regex_search(watched.output, cursor, std::regex("resume with --from (c[0-9]\\S+)")))
      << watched.output;
  const std::string second = RegisterAndGetId("cli-feed-2", testing::FictionalNhsNumber(51));
  CliRun resumed = Cir("watch --la 938 --from " + cursor[1].str() + " --max-events 1 --json");
  EXPECT_EQ(resumed.exit_code, 0) << resumed.output;
  EXPECT_THAT(resumed.output, HasSubstr("\"sequence\":\"2\""));
  EXPECT_THAT(resumed.output, HasSubstr(second.substr(0, 4)));
  CliRun page = Cir("events --la 938 --from-start --page-size 1");
  EXPECT_EQ(page.exit_code, 0) << page.output;
  EXPECT_THAT(page.output, HasSubstr("938 #1 BIRTH_REGISTERED"));
  EXPECT_THAT(page.output, HasSubstr("(more to fetch)"));
  CliRun bad = Cir("events --la 938 --after nonsense");
  EXPECT_EQ(bad.exit_code, 1);
  EXPECT_THAT(bad.output, HasSubstr("[CURSOR_INVALID]"));
  EXPECT_EQ(Cir("watch --la 938").exit_code, 2);  // no start given
}

}  // namespace
}  // namespace cir
