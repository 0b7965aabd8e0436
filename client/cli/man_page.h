#ifndef CIR_CLIENT_CLI_MAN_PAGE_H_
#define CIR_CLIENT_CLI_MAN_PAGE_H_

// `cir man`: the manual page, in roff (man(7) macros), made from the same text as --help: the
// program's description, its global options, each command with its arguments, options and notes,
// the exit statuses (cli_support's table) and the environment variables it reads. The build
// writes it to build/cir.1 and installs it as share/man/man1/cir.1.

#include <string>

#include "CLI/CLI.hpp"

namespace cir::cli {

// The page for `app`, whose name is the program's, at `version`.
std::string ManPage(const CLI::App& app, const std::string& version);

// `text` as roff running text: backslashes escaped, a line that would start with a control
// character ('.' or '\'') protected.
std::string RoffText(const std::string& text);

}  // namespace cir::cli

#endif  // CIR_CLIENT_CLI_MAN_PAGE_H_
