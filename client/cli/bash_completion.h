#ifndef CIR_CLIENT_CLI_BASH_COMPLETION_H_
#define CIR_CLIENT_CLI_BASH_COMPLETION_H_

// `cir completion bash`: a bash completion script made from the tool's own commands and options,
// so that it never lags behind them. It completes command names (and an audit command's own),
// each command's options with the global ones, an option's choices where it has a fixed set
// (--format, --view, ...), and file names for other values and arguments.

#include <string>

#include "CLI/CLI.hpp"

namespace cir::cli {

// The script for `app`, whose name is the program's.
std::string BashCompletion(const CLI::App& app);

// The choices an option's value is checked against ("{a,b,c}" in its type name); empty if free.
std::vector<std::string> ChoicesOf(const CLI::Option& option);

}  // namespace cir::cli

#endif  // CIR_CLIENT_CLI_BASH_COMPLETION_H_
