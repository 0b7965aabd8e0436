#ifndef CIR_CLIENT_CLI_IMPORT_COMMAND_H_
#define CIR_CLIENT_CLI_IMPORT_COMMAND_H_

#include <optional>
#include <string>

#include "CLI/CLI.hpp"
#include "cir/client.h"
#include "client/cli/cli_support.h"

namespace cir::cli {

// `cir import BIRTHS.csv`: a maternity system's births (births_csv.h) sent to the registry with
// RegisterBirths, --batch-size births a call with --in-flight calls at a time, each birth's answer
// written to the report (import_report.h) in the file's order, a batch at a time and durably. Run
// again with the same report, it goes on where it stopped.
//
// A call answered UNAVAILABLE (WRITE_OUTCOME_UNKNOWN included) or DEADLINE_EXCEEDED is sent again,
// with the same births, after a growing pause, for up to --give-up-after; any other refusal of a
// whole call stops the import with its reason. A first Ctrl-C stops sending and waits for the
// calls in flight, recording their answers; a second ends the program at once. Either way the
// report holds every birth recorded, and the next run sends the rest.
//
// Memory is bounded by --in-flight x --batch-size births, whatever the length of the file.
class ImportCommand {
 public:
  // Adds the command to `app`.
  explicit ImportCommand(CLI::App& app);

  // Runs the command if it was parsed: its exit status; nullopt otherwise.
  std::optional<int> Run(Client& client, const GlobalOptions& global);

 private:
  CLI::App* command_ = nullptr;
  std::string births_path_;
  std::string report_path_;
  std::string notifying_system_;
  std::string view_ = "child-id";
  int batch_size_ = 1000;
  int in_flight_ = 2;
  double give_up_seconds_ = 600;
};

}  // namespace cir::cli

#endif  // CIR_CLIENT_CLI_IMPORT_COMMAND_H_
