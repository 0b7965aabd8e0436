#ifndef CIR_CLIENT_CLI_BATCH_RESOLVE_COMMAND_H_
#define CIR_CLIENT_CLI_BATCH_RESOLVE_COMMAND_H_

#include <optional>
#include <string>

#include "CLI/CLI.hpp"
#include "cir/client.h"
#include "client/cli/cli_support.h"

namespace cir::cli {

// `cir batch-resolve FILE`: a file of identifiers, one a line or a column of a CSV file, resolved
// 10,000 a call and answered one a line in the file's order (text, JSON or CSV). Reads the file as
// it goes: memory does not grow with its length.
class BatchResolveCommand {
 public:
  // Adds the command to `app`.
  explicit BatchResolveCommand(CLI::App& app);

  // Runs the command if it was parsed: its exit status; nullopt otherwise.
  std::optional<int> Run(Client& client, const GlobalOptions& global);

 private:
  CLI::App* command_ = nullptr;
  std::string path_;
  std::string input_;   // lines or csv; "" to tell by the file's name
  std::string column_;  // a CSV column's name, or its number from 1; "" for the first
  bool no_header_ = false;
};

}  // namespace cir::cli

#endif  // CIR_CLIENT_CLI_BATCH_RESOLVE_COMMAND_H_
