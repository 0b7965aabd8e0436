#include "client/cli/man_page.h"

#include <vector>

#include "absl/strings/ascii.h"
#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "absl/strings/str_replace.h"
#include "absl/strings/str_split.h"
#include "client/cli/cli_support.h"

namespace cir::cli {
namespace {

// An option's name in bold with its hyphens as minus signs, as man pages write them.
std::string Bold(const std::string& name) {
  return absl::StrCat("\\fB", absl::StrReplaceAll(RoffText(name), {{"-", "\\-"}}), "\\fR");
}

std::string Italic(const std::string& text) { return absl::StrCat("\\fI", RoffText(text), "\\fR"); }

std::vector<const CLI::Option*> Options(const CLI::App& app) {
  return app.get_options([](const CLI::Option*) { return true; });
}

std::string OptionItems(const CLI::App& app, bool positional) {
  std::string items;
  for (const CLI::Option* option : Options(app)) {
    if (option->nonpositional() == positional) continue;
    std::vector<std::string> names;
    for (const std::string& name : option->get_snames()) names.push_back(Bold("-" + name));
    for (const std::string& name : option->get_lnames()) names.push_back(Bold("--" + name));
    std::string head =
        positional ? Italic(option->get_name(true, false)) : absl::StrJoin(names, ", ");
    if (!positional && option->get_expected_max() != 0) {
      std::string type = option->get_type_name();
      type = type.substr(0, type.find(':'));
      absl::StrAppend(&head, " ", Italic(type.empty() ? "VALUE" : type));
    }
    std::string text = option->get_description();
    if (!option->get_default_str().empty()) {
      absl::StrAppend(&text, " (default: ", option->get_default_str(), ")");
    }
    if (option->get_required()) absl::StrAppend(&text, " (required)");
    absl::StrAppend(&items, ".TP\n", head, "\n", RoffText(text), "\n");
  }
  return items;
}

// Preformatted text (a command's notes, whose tables are laid out with spaces).
std::string Preformatted(const std::string& text) {
  if (absl::StripAsciiWhitespace(text).empty()) return "";
  return absl::StrCat(".PP\n.nf\n", RoffText(std::string(absl::StripTrailingAsciiWhitespace(text))),
                      "\n.fi\n");
}

std::string Synopsis(const std::string& program, const std::string& path, const CLI::App& app) {
  std::string synopsis = absl::StrCat(Bold(program), " ", Bold(path));
  const bool has_options = !app.get_options([](const CLI::Option* option) {
                                  return option->nonpositional() && option->get_name() != "--help";
                                }).empty();
  if (has_options) absl::StrAppend(&synopsis, " [", Italic("OPTIONS"), "]");
  if (!app.get_subcommands([](const CLI::App*) { return true; }).empty()) {
    absl::StrAppend(&synopsis, " ", Italic("COMMAND"));
  }
  for (const CLI::Option* option : Options(app)) {
    if (option->nonpositional()) continue;
    const std::string name = Italic(option->get_name(true, false));
    absl::StrAppend(&synopsis, " ", option->get_required() ? name : absl::StrCat("[", name, "]"));
  }
  return synopsis;
}

void Commands(const std::string& program, const std::string& path, const CLI::App& app,
              std::string& page) {
  for (const CLI::App* sub : app.get_subcommands([](const CLI::App*) { return true; })) {
    const std::string sub_path =
        path.empty() ? sub->get_name() : absl::StrCat(path, " ", sub->get_name());
    absl::StrAppend(&page, ".SS ", sub_path, "\n", Synopsis(program, sub_path, *sub), "\n.PP\n",
                    RoffText(sub->get_description()), "\n", OptionItems(*sub, true),
                    OptionItems(*sub, false), Preformatted(sub->get_footer()));
    Commands(program, sub_path, *sub, page);
  }
}

}  // namespace

std::string RoffText(const std::string& text) {
  std::vector<std::string> lines = absl::StrSplit(text, '\n');
  for (std::string& line : lines) {
    line = absl::StrReplaceAll(line, {{"\\", "\\e"}});
    if (absl::StartsWith(line, ".") || absl::StartsWith(line, "'")) line = "\\&" + line;
  }
  return absl::StrJoin(lines, "\n");
}

std::string ManPage(const CLI::App& app, const std::string& version) {
  const std::string program = app.get_name();
  std::string description = app.get_description();
  if (absl::StartsWith(description, program + ": ")) description.erase(0, program.size() + 2);
  std::string page = absl::StrCat(
      ".\\\" Made by `", program, " man` from the program's own help text.\n", ".TH ",
      absl::AsciiStrToUpper(program), " 1 \"\" \"", program, " ", version,
      "\" \"Child Identifier Registry\"\n", ".SH NAME\n", program, " \\- ", RoffText(description),
      "\n", ".SH SYNOPSIS\n", Bold(program), " [", Italic("GLOBAL OPTIONS"), "] ",
      Italic("COMMAND"), " [", Italic("OPTIONS"), "] [", Italic("ARGUMENTS"), "]\n",
      ".SH DESCRIPTION\n", Bold(program), " is the command-line tool of the Child Identifier "
      "Registry: it registers births (one at a time, or a file of them with ", Bold("import"),
      "), resolves children's identifiers, records life events, follows local authorities' feeds "
      "and verifies the audit log.\n",
      ".PP\nGlobal options may come before or after the command. Each command acts as the agency "
      "whose certificate it is given (",
      Bold("--cert"), ", ", Bold("--key"), ", ", Bold("--ca"),
      "), or, without one, as the development agency of the role that may run it.\n",
      ".SH GLOBAL OPTIONS\n", OptionItems(app, false), ".SH COMMANDS\n");
  Commands(program, "", app, page);
  absl::StrAppend(&page, ".SH EXIT STATUS\n");
  for (const ExitStatusMeaning& exit : ExitStatusMeanings()) {
    absl::StrAppend(&page, ".TP\n.B ", exit.status, "\n", RoffText(exit.meaning), "\n");
  }
  absl::StrAppend(&page, ".SH ENVIRONMENT\n");
  for (const EnvironmentVariable& variable : EnvironmentVariables()) {
    absl::StrAppend(&page, ".TP\n.B ", variable.name, "\n", RoffText(variable.meaning), "\n");
  }
  return page;
}

}  // namespace cir::cli
