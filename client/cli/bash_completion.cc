#include "client/cli/bash_completion.h"

#include <map>
#include <set>
#include <vector>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "absl/strings/str_replace.h"
#include "absl/strings/str_split.h"

namespace cir::cli {
namespace {

std::vector<const CLI::App*> Subcommands(const CLI::App& app) {
  return app.get_subcommands([](const CLI::App*) { return true; });
}

std::vector<const CLI::Option*> Options(const CLI::App& app) {
  return app.get_options([](const CLI::Option*) { return true; });
}

bool TakesValue(const CLI::Option& option) { return option.get_expected_max() != 0; }

std::vector<std::string> LongNames(const CLI::App& app) {
  std::vector<std::string> names;
  for (const CLI::Option* option : Options(app)) {
    if (!option->nonpositional()) continue;
    for (const std::string& name : option->get_lnames()) names.push_back("--" + name);
    for (const std::string& name : option->get_snames()) names.push_back("-" + name);
  }
  return names;
}

bool HasPositionals(const CLI::App& app) {
  for (const CLI::Option* option : Options(app)) {
    if (!option->nonpositional()) return true;
  }
  return false;
}

// A shell function's name from the program's: cir-admin -> _cir_admin.
std::string FunctionName(const std::string& program) {
  return "_" + absl::StrReplaceAll(program, {{"-", "_"}});
}

struct Command {
  std::string path;  // "" for the program, "audit verify" for a command of a command
  const CLI::App* app;
};

void Collect(const CLI::App& app, const std::string& path, std::vector<Command>& commands) {
  commands.push_back({path, &app});
  for (const CLI::App* sub : Subcommands(app)) {
    Collect(*sub, path.empty() ? sub->get_name() : absl::StrCat(path, " ", sub->get_name()),
            commands);
  }
}

}  // namespace

std::vector<std::string> ChoicesOf(const CLI::Option& option) {
  const std::string type = option.get_type_name();
  const size_t open = type.find('{');
  const size_t close = type.find('}', open);
  if (open == std::string::npos || close == std::string::npos) return {};
  return absl::StrSplit(type.substr(open + 1, close - open - 1), ',', absl::SkipEmpty());
}

std::string BashCompletion(const CLI::App& app) {
  const std::string program = app.get_name();
  const std::string function = FunctionName(program);
  std::vector<Command> commands;
  Collect(app, "", commands);

  // Options taking a value anywhere (their value is never a command), and their choices.
  std::set<std::string> valued;
  std::map<std::string, std::vector<std::string>> choices;
  for (const Command& command : commands) {
    for (const CLI::Option* option : Options(*command.app)) {
      if (!option->nonpositional() || !TakesValue(*option)) continue;
      for (const std::string& name : option->get_lnames()) {
        valued.insert("--" + name);
        if (std::vector<std::string> set = ChoicesOf(*option); !set.empty()) {
          choices.emplace("--" + name, set);
        }
      }
    }
  }
  // The program's options apply after a command too (but its --help and --version do not).
  std::vector<std::string> global_names;
  for (const std::string& name : LongNames(app)) {
    if (name != "--help" && name != "-h" && name != "--version") global_names.push_back(name);
  }
  const std::string globals = absl::StrJoin(global_names, " ");

  std::string script = absl::StrCat(
      "# bash completion for ", program, ", made by `", program,
      " completion bash` from its own commands and options.\n", function, "() {\n",
      "  local cur=\"${COMP_WORDS[COMP_CWORD]}\" prev=\"${COMP_WORDS[COMP_CWORD-1]}\"\n",
      "  local command=\"\" word i\n", "  local valued=\" ", absl::StrJoin(valued, " "), " \"\n",
      "  for ((i = 1; i < COMP_CWORD; i++)); do\n", "    word=\"${COMP_WORDS[i]}\"\n",
      "    if [[ $valued == *\" $word \"* ]]; then ((i++)); continue; fi\n",
      "    [[ $word == -* ]] && continue\n", "    case \"$command/$word\" in\n");
  for (const Command& command : commands) {
    if (command.path.empty()) continue;
    const size_t space = command.path.rfind(' ');
    const std::string parent = space == std::string::npos ? "" : command.path.substr(0, space);
    absl::StrAppend(&script, "      \"", parent, "/", command.app->get_name(), "\") command=\"",
                    command.path, "\" ;;\n");
  }
  absl::StrAppend(&script, "    esac\n", "  done\n", "  case \"$prev\" in\n");
  for (const auto& [name, set] : choices) {
    absl::StrAppend(&script, "    ", name, ") COMPREPLY=($(compgen -W \"", absl::StrJoin(set, " "),
                    "\" -- \"$cur\")); return ;;\n");
  }
  std::vector<std::string> free_values;
  for (const std::string& name : valued) {
    if (choices.count(name) == 0) free_values.push_back(name);
  }
  if (!free_values.empty()) {
    absl::StrAppend(&script, "    ", absl::StrJoin(free_values, "|"),
                    ") COMPREPLY=($(compgen -f -- \"$cur\")); return ;;\n");
  }
  absl::StrAppend(&script, "  esac\n", "  local words=\"\" files=0\n", "  case \"$command\" in\n");
  for (const Command& command : commands) {
    std::vector<std::string> words;
    for (const CLI::App* sub : Subcommands(*command.app)) words.push_back(sub->get_name());
    std::vector<std::string> options = LongNames(*command.app);
    words.insert(words.end(), options.begin(), options.end());
    absl::StrAppend(&script, "    \"", command.path, "\") words=\"", absl::StrJoin(words, " "),
                    command.path.empty() ? "" : " " + globals, "\"",
                    HasPositionals(*command.app) ? "; files=1" : "", " ;;\n");
  }
  absl::StrAppend(
      &script, "  esac\n", "  COMPREPLY=($(compgen -W \"$words\" -- \"$cur\"))\n",
      "  if [[ $files == 1 && $cur != -* ]]; then COMPREPLY+=($(compgen -f -- \"$cur\")); fi\n",
      "}\n", "complete -o filenames -F ", function, " ", program, "\n");
  return script;
}

}  // namespace cir::cli
