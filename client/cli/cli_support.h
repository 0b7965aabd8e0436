#ifndef CIR_CLIENT_CLI_CLI_SUPPORT_H_
#define CIR_CLIENT_CLI_CLI_SUPPORT_H_

// What every command of the cir tool shares: the global options, how a refusal and a usage error
// are reported (and the exit statuses they give), and the parsing of dates and sexes.

#include <optional>
#include <string>

#include "CLI/CLI.hpp"
#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "cir/client.h"
#include "cir/v1/registry.pb.h"

namespace cir::cli {

struct GlobalOptions {
  std::string server = "127.0.0.1:50051";
  bool json = false;
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

// The development certificate (scripts/serve) a command uses when none is given: the role that
// may run it, e.g. "maternity" for register, "school" for batch-resolve.
std::string DevelopmentIdentityFor(const std::string& command);

// The client options for `command` from the global options; a refusal naming the file if a
// certificate cannot be read.
absl::StatusOr<ClientOptions> ConnectionFor(const GlobalOptions& global,
                                            const std::string& command);

// Prints a refusal as "error: CODE [REASON]: message", the reason being the registry's
// machine-readable one (scripts can match it), and returns exit status 1.
int Fail(const absl::Status& status);

// Prints "usage error: message" and returns exit status 2.
int UsageError(const std::string& message);

// "2026-11-20" -> Date, or nullopt.
std::optional<v1::Date> ParseDate(const std::string& text);

// male, female, indeterminate, not-known (and m, f, unknown), any case.
std::optional<v1::Sex> ParseSex(const std::string& text);

}  // namespace cir::cli

#endif  // CIR_CLIENT_CLI_CLI_SUPPORT_H_
