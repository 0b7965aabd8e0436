#ifndef CIR_CLIENT_CLI_FEED_COMMANDS_H_
#define CIR_CLIENT_CLI_FEED_COMMANDS_H_

#include <optional>
#include <string>
#include <vector>

#include "CLI/CLI.hpp"
#include "cir/client.h"
#include "client/cli/cli_support.h"

namespace cir::cli {

// The feed commands:
//   cir watch --la 938 [--la 201 ...] [--from CURSOR | --from-start | --since DATE]
//             [--max-events N]
// follows the areas' feed, printing each event as it arrives (with --json, one JSON object a
// line: events and heartbeats) and, at the end, the cursor to resume from;
//   cir events --la 938 [--after CURSOR | --from-start | --since DATE] [--page-size N]
// prints one page and the cursor of the next.
class FeedCommands {
 public:
  explicit FeedCommands(CLI::App& app);

  // Runs the command parsed, if it is one of these: its exit status; nullopt otherwise.
  std::optional<int> Run(Client& client, const GlobalOptions& global);

 private:
  int Watch(Client& client, const GlobalOptions& global);
  int Events(Client& client, const GlobalOptions& global);

  CLI::App* watch_ = nullptr;
  std::vector<std::string> watch_areas_;
  std::string watch_cursor_, watch_since_;
  bool watch_from_start_ = false;
  int64_t watch_max_events_ = 0;

  CLI::App* events_ = nullptr;
  std::string events_area_, events_cursor_, events_since_;
  bool events_from_start_ = false;
  int events_page_size_ = 0;
};

}  // namespace cir::cli

#endif  // CIR_CLIENT_CLI_FEED_COMMANDS_H_
