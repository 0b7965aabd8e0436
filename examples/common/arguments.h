#ifndef CIR_EXAMPLES_COMMON_ARGUMENTS_H_
#define CIR_EXAMPLES_COMMON_ARGUMENTS_H_

// Command lines as the examples read them: positional arguments, "--name VALUE" or "--name=VALUE"
// for a flag that takes a value, "--name" alone for a switch. A flag that was not declared is an
// error, so that a mistyped flag is never silently ignored. Header-only, like everything in
// examples/common/, so that an example builds from its own folder and this one.

#include <iterator>
#include <map>
#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "absl/strings/match.h"
#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/string_view.h"

namespace cir_examples {

struct FlagSpec {
  std::string name;  // without the leading "--"
  bool takes_value;
};

class Arguments {
 public:
  static absl::StatusOr<Arguments> Parse(int argc, char** argv,
                                         const std::vector<FlagSpec>& flags) {
    Arguments parsed;
    for (int i = 1; i < argc; ++i) {
      absl::string_view arg = argv[i];
      if (!absl::StartsWith(arg, "--")) {
        parsed.positional_.emplace_back(arg);
        continue;
      }
      arg.remove_prefix(2);
      std::string name(arg.substr(0, arg.find('=')));
      const FlagSpec* spec = nullptr;
      for (const FlagSpec& flag : flags) {
        if (flag.name == name) spec = &flag;
      }
      if (spec == nullptr) return absl::InvalidArgumentError(absl::StrCat("unknown flag --", name));
      if (!spec->takes_value) {
        if (name.size() != arg.size()) {
          return absl::InvalidArgumentError(absl::StrCat("--", name, " takes no value"));
        }
        parsed.values_.emplace(name, "");
      } else if (name.size() != arg.size()) {
        parsed.values_.emplace(name, std::string(arg.substr(name.size() + 1)));
      } else if (i + 1 < argc) {
        parsed.values_.emplace(name, argv[++i]);
      } else {
        return absl::InvalidArgumentError(absl::StrCat("--", name, " needs a value"));
      }
    }
    return parsed;
  }

  bool Has(absl::string_view name) const { return values_.count(std::string(name)) > 0; }
  // The flag's last value, or `fallback` if it was not given.
  std::string Value(absl::string_view name, absl::string_view fallback = "") const {
    auto [first, last] = values_.equal_range(std::string(name));
    return first == last ? std::string(fallback) : std::prev(last)->second;
  }
  // Every value of a flag that may be given more than once, in order.
  std::vector<std::string> Values(absl::string_view name) const {
    std::vector<std::string> all;
    auto [first, last] = values_.equal_range(std::string(name));
    for (auto it = first; it != last; ++it) all.push_back(it->second);
    return all;
  }
  // The flag's value as a whole number in [low, high], or `fallback` if it was not given.
  absl::StatusOr<int> Number(absl::string_view name, int fallback, int low, int high) const {
    if (!Has(name)) return fallback;
    int number = 0;
    if (!absl::SimpleAtoi(Value(name), &number) || number < low || number > high) {
      return absl::InvalidArgumentError(
          absl::StrCat("--", name, " must be a whole number from ", low, " to ", high));
    }
    return number;
  }
  const std::vector<std::string>& positional() const { return positional_; }

 private:
  std::multimap<std::string, std::string> values_;  // equal names keep their command-line order
  std::vector<std::string> positional_;
};

}  // namespace cir_examples

#endif  // CIR_EXAMPLES_COMMON_ARGUMENTS_H_
