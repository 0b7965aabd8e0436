// What cir says about itself, all made from its own commands and options: the exit statuses its
// --help documents (each is what it returns), the bash completion script (every command, its
// options and choices) and the man page the build writes (every command, the exit statuses, and
// it renders).

#include <netinet/in.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cstdio>
#include <fstream>
#include <map>
#include <regex>
#include <sstream>
#include <string>
#include <vector>

#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "tests/testing/temp_dir.h"

namespace cir {
namespace {

using ::testing::HasSubstr;

struct CirRun {
  int exit_code;
  std::string output;
};

// Runs `command` with /bin/sh, without the environment's CIR_ settings.
CirRun Shell(const std::string& command, bool with_stderr = true) {
  const std::string clean =
      "env -u CIR_SERVER -u CIR_PKI_DIR -u CIR_CA -u CIR_CERT -u CIR_KEY -u CIR_END_USER "
      "-u CIR_PURPOSE_OF_USE ";
  FILE* pipe = popen((clean + command + (with_stderr ? " 2>&1" : " 2>/dev/null")).c_str(), "r");
  std::string output;
  char buffer[4096];
  for (size_t n; (n = fread(buffer, 1, sizeof buffer, pipe)) > 0;) output.append(buffer, n);
  const int status = pclose(pipe);
  return {WIFEXITED(status) ? WEXITSTATUS(status) : -1, output};
}

CirRun Cir(const std::string& arguments) {
  return Shell(std::string(CIR_CLI_PATH) + " " + arguments);
}

std::string ReadFile(const std::string& path) {
  std::ifstream in(path);
  std::stringstream text;
  text << in.rdbuf();
  return text.str();
}

// The commands `cir --help` lists, and those of `cir audit --help`, as "audit verify".
std::vector<std::string> Commands() {
  std::vector<std::string> commands;
  auto listed = [&](const std::string& help, const std::string& prefix) {
    const size_t start = help.find("Subcommands:\n");
    EXPECT_NE(start, std::string::npos) << help;
    std::istringstream lines(help.substr(start + 13));
    std::smatch match;
    for (std::string line; std::getline(lines, line) && !line.empty();) {
      if (std::regex_search(line, match, std::regex("^  ([a-z-]+) "))) {
        commands.push_back(prefix + match[1].str());
      }
    }
  };
  listed(Cir("--help").output, "");
  listed(Cir("audit --help").output, "audit ");
  return commands;
}

// The statuses the help's exit status table documents.
std::vector<int> DocumentedExitStatuses() {
  const std::string help = Cir("--help").output;
  const size_t table = help.find("Exit status:\n");
  EXPECT_NE(table, std::string::npos) << help;
  std::vector<int> statuses;
  std::istringstream lines(help.substr(table + 13));
  std::smatch match;
  for (std::string line; std::getline(lines, line);) {
    if (!std::regex_search(line, match, std::regex("^  ([0-9]+)  "))) break;
    statuses.push_back(std::stoi(match[1].str()));
  }
  return statuses;
}

// A loopback address where nothing listens.
std::string NobodyListening() {
  const int fd = socket(AF_INET, SOCK_STREAM, 0);
  sockaddr_in address = {};
  address.sin_family = AF_INET;
  address.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  socklen_t length = sizeof address;
  EXPECT_EQ(bind(fd, reinterpret_cast<sockaddr*>(&address), sizeof address), 0);
  EXPECT_EQ(getsockname(fd, reinterpret_cast<sockaddr*>(&address), &length), 0);
  close(fd);
  return "127.0.0.1:" + std::to_string(ntohs(address.sin_port));
}

TEST(CliDocumentsTest, EachExitStatusTheHelpDocumentsIsWhatTheToolReturns) {
  testing::TempDir dir;
  const std::string births = dir.Sub("births.csv");
  std::ofstream(births) << "notification_id,date_of_birth,sex,postcode,local_authority\n"
                           "doc-1,2026-05-01,female,RH12 1AA,938\n";
  const std::string unreachable = "--plaintext --server " + NobodyListening();
  // The main case of each status.
  const std::map<int, std::string> cases = {
      {0, "--help"},
      {1, unreachable + " --timeout 1 resolve 9990000018"},  // the call failed: UNAVAILABLE
      {2, "resolve --no-such-option"},
      {3, unreachable + " --timeout 0.2 import " + births +
              " --notifying-system RXH01 --report " + dir.Sub("report.csv") +
              " --give-up-after 0.3"},
  };
  const std::vector<int> documented = DocumentedExitStatuses();
  ASSERT_FALSE(documented.empty());
  for (int status : documented) {
    auto found = cases.find(status);
    ASSERT_NE(found, cases.end()) << "exit status " << status << " is documented, never tested";
    CirRun run = Cir(found->second);
    EXPECT_EQ(run.exit_code, status) << found->second << "\n" << run.output;
  }
  EXPECT_EQ(documented.size(), cases.size()) << "a status tested here is not documented";
  EXPECT_EQ(Cir("register --notifying-system RXH01 --format csv").exit_code, 2);
}

TEST(CliDocumentsTest, TheCompletionScriptCompletesEveryCommandAndItsOptions) {
  const std::string script = Cir("completion bash").output;
  const std::vector<std::string> commands = Commands();
  ASSERT_GE(commands.size(), 20u);
  for (const std::string& command : commands) {
    EXPECT_THAT(script, HasSubstr("command=\"" + command + "\"")) << command;
  }
  // The build's copy is the same script.
  EXPECT_EQ(ReadFile(CIR_BASH_COMPLETION), script);

  // In bash: what the user gets for a partial line.
  testing::TempDir dir;
  const std::string path = dir.Sub("cir-completion.bash");
  std::ofstream(path) << script;
  auto complete = [&](const std::string& words) {
    return Shell("bash -c 'source " + path + "; COMP_WORDS=(" + words +
                     "); COMP_CWORD=$((${#COMP_WORDS[@]} - 1)); _cir; echo \"${COMPREPLY[*]}\"'")
        .output;
  };
  EXPECT_EQ(complete("cir imp"), "import\n");
  EXPECT_EQ(complete("cir --server x:1 au"), "audit\n");  // an option's value is not a command
  EXPECT_EQ(complete("cir audit ver"), "verify\n");
  EXPECT_THAT(complete("cir import births.csv --batch"), HasSubstr("--batch-size"));
  EXPECT_EQ(complete("cir import --view \"\""), "child-id identifiers full\n");
  EXPECT_EQ(complete("cir resolve x --format c"), "csv\n");
}

TEST(CliDocumentsTest, TheManPageHoldsEveryCommandAndTheExitStatusesAndRenders) {
  const std::string page = ReadFile(CIR_MAN_PAGE);
  EXPECT_EQ(page, Cir("man").output) << "the build's page is what cir man prints";
  EXPECT_THAT(page, HasSubstr(".TH CIR 1"));
  for (const std::string& command : Commands()) {
    EXPECT_THAT(page, HasSubstr("\n.SS " + command + "\n")) << command;
  }
  for (int status : DocumentedExitStatuses()) {
    EXPECT_THAT(page, HasSubstr(".SH EXIT STATUS\n")) << status;
    EXPECT_THAT(page, HasSubstr("\n.B " + std::to_string(status) + "\n")) << status;
  }
  for (const char* variable : {"CIR_SERVER", "CIR_CERT", "CIR_PURPOSE_OF_USE"}) {
    EXPECT_THAT(page, HasSubstr("\n.B " + std::string(variable) + "\n"));
  }
  EXPECT_THAT(page, HasSubstr("notification_id"));  // import's columns

  // man-db is one of the packages scripts/lib.sh installs, so the page is rendered in every run.
  ASSERT_EQ(Shell("man --version").exit_code, 0) << "man is not installed (scripts/lib.sh: man-db)";
  CirRun warnings = Shell("LC_ALL=C man --warnings -l " + std::string(CIR_MAN_PAGE) + " 2>&1 >/dev/null");
  EXPECT_EQ(warnings.output, "") << "roff warnings";
  CirRun rendered = Shell("LC_ALL=C MANWIDTH=100 man -l " + std::string(CIR_MAN_PAGE), false);
  EXPECT_EQ(rendered.exit_code, 0);
  EXPECT_THAT(rendered.output, HasSubstr("EXIT STATUS"));
  EXPECT_THAT(rendered.output, HasSubstr("cir import [OPTIONS] births"));
  EXPECT_THAT(rendered.output, HasSubstr("--batch-size"));
}

}  // namespace
}  // namespace cir
