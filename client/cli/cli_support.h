#ifndef CIR_CLIENT_CLI_CLI_SUPPORT_H_
#define CIR_CLIENT_CLI_CLI_SUPPORT_H_

// What every command of the cir tool shares: the global options, how a refusal and a usage error
// are reported (and the exit statuses they give), and the parsing of dates and sexes.

#include <optional>
#include <string>

#include "absl/status/status.h"
#include "cir/client.h"
#include "cir/v1/registry.pb.h"

namespace cir::cli {

struct GlobalOptions {
  std::string server = "127.0.0.1:50051";
  bool json = false;
  double timeout_seconds = 30;
};

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
