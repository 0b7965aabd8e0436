#ifndef CIR_CLIENT_CLI_CLI_SUPPORT_H_
#define CIR_CLIENT_CLI_CLI_SUPPORT_H_

// What every command of the cir tool shares: the global options, how a refusal and a usage error
// are reported, the exit statuses and environment variables (one table each, which --help, the
// man page and README show), and the parsing of dates and sexes.

#include <optional>
#include <string>
#include <vector>

#include "CLI/CLI.hpp"
#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "cir/client.h"
#include "cir/v1/registry.pb.h"

namespace cir::cli {

// How a command prints what it got: text for people, JSON (one object a line), or CSV (a header
// row, then one row a result: resolve, batch-resolve, import).
enum class OutputFormat { kText, kJson, kCsv };

struct GlobalOptions {
  std::string server = "127.0.0.1:50051";
  // --format text|json|csv (--json is --format json). Default: text.
  OutputFormat format = OutputFormat::kText;
  bool json() const { return format == OutputFormat::kJson; }
  bool csv() const { return format == OutputFormat::kCsv; }
  // --progress / --no-progress: whether long commands draw progress on standard error. Default
  // (nullopt): only when standard error is a terminal.
  std::optional<bool> progress;
  double timeout_seconds = 30;
  // Mutual TLS: the agency's certificate and key and the registry's CA (PEM files). When none is
  // given, the development certificates scripts/serve makes are used: `pki_dir`/ca.pem and the
  // certificate of the role the command needs (`pki_dir`/<role>.pem and .key).
  std::string ca_file;
  std::string certificate_file;
  std::string key_file;
  std::string pki_dir = "cir-pki";
  // No TLS: for a registry started for tests on this machine only.
  bool plaintext = false;
  // The person the command is run for, and why (metadata x-cir-end-user, x-cir-purpose-of-use).
  std::string end_user;
  std::string purpose_of_use;
};

// Adds the global options (and their environment variables) to `app`.
void AddGlobalOptions(CLI::App& app, GlobalOptions& global);

// The exit statuses of cir and cir-admin.
enum ExitStatus : int {
  kExitDone = 0,
  kExitRefused = 1,
  kExitUsage = 2,
  kExitUnfinished = 3,
};
struct ExitStatusMeaning {
  int status;
  const char* meaning;
};
// Every exit status with what it means, in order.
const std::vector<ExitStatusMeaning>& ExitStatusMeanings();
// The same as a table for --help's footer: "Exit status:" and a line each.
std::string ExitStatusHelp();

// The environment variables the tool reads, each with what it sets, in order.
struct EnvironmentVariable {
  const char* name;
  const char* meaning;
};
const std::vector<EnvironmentVariable>& EnvironmentVariables();

// The development certificate (scripts/serve) a command uses when none is given: the role that
// may run it, e.g. "maternity" for register, "school" for batch-resolve.
std::string DevelopmentIdentityFor(const std::string& command);

// The client options for `command` from the global options; a refusal naming the file if a
// certificate cannot be read.
absl::StatusOr<ClientOptions> ConnectionFor(const GlobalOptions& global,
                                            const std::string& command);

// Prints a refusal as "error: CODE [REASON]: message", the reason being the registry's
// machine-readable one (scripts can match it), and returns exit status 1 (kExitRefused).
int Fail(const absl::Status& status);

// "error: CODE [REASON]: message" for `status`, without its newline.
std::string RefusalText(const absl::Status& status);

// Prints "usage error: message" and returns exit status 2 (kExitUsage).
int UsageError(const std::string& message);

// "2026-11-20" -> Date, or nullopt.
std::optional<v1::Date> ParseDate(const std::string& text);

// male, female, indeterminate, not-known (and m, f, unknown, not_known), any case.
std::optional<v1::Sex> ParseSex(const std::string& text);

}  // namespace cir::cli

#endif  // CIR_CLIENT_CLI_CLI_SUPPORT_H_
