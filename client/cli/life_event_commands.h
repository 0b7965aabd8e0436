#ifndef CIR_CLIENT_CLI_LIFE_EVENT_COMMANDS_H_
#define CIR_CLIENT_CLI_LIFE_EVENT_COMMANDS_H_

#include <optional>
#include <string>
#include <vector>

#include "CLI/CLI.hpp"
#include "cir/client.h"
#include "client/cli/cli_support.h"

namespace cir::cli {

// The life event commands: death, move, correct, supersede-nhs, merge, unmerge, restrict. Each
// sends one request with a request id (--request-id, or a new random one, printed so that the
// call can be retried as it was) and who records it (--recorded-by, or CIR_RECORDED_BY, or the
// user's login name), and prints the record after the change.
class LifeEventCommands {
 public:
  // Adds the commands to `app`.
  explicit LifeEventCommands(CLI::App& app);

  // Runs the command parsed, if it is one of these: its exit status; nullopt otherwise.
  std::optional<int> Run(Client& client, const GlobalOptions& global);

 private:
  // Options every life event takes, added to `command`.
  void AddCommonOptions(CLI::App* command);

  std::string request_id_;
  std::string recorded_by_;

  CLI::App* death_ = nullptr;
  std::string death_child_, death_notice_, death_date_;

  CLI::App* move_ = nullptr;
  std::string move_child_, move_postcode_, move_la_, move_date_;
  std::vector<std::string> move_lines_;

  CLI::App* correct_ = nullptr;
  std::string correct_child_, correct_dob_, correct_sex_;
  int64_t correct_version_ = 0;
  int correct_birth_order_ = 0;
  std::optional<std::string> correct_given_, correct_family_, correct_mother_given_,
      correct_mother_family_;

  CLI::App* supersede_ = nullptr;
  std::string supersede_child_, supersede_nhs_;

  CLI::App* merge_ = nullptr;
  std::string merge_survivor_, merge_retired_;
  bool merge_nhs_superseded_ = false;
  bool merge_override_ = false;

  CLI::App* unmerge_ = nullptr;
  std::string unmerge_retired_;

  CLI::App* restrict_ = nullptr;
  std::string restrict_child_, restrict_objection_, restrict_sensitive_;
};

}  // namespace cir::cli

#endif  // CIR_CLIENT_CLI_LIFE_EVENT_COMMANDS_H_
