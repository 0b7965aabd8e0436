#include "client/cli/batch_resolve_command.h"

#include <fstream>
#include <limits>
#include <iostream>

#include "absl/strings/ascii.h"
#include "absl/strings/match.h"
#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "client/cli/csv.h"
#include "client/cli/progress_bar.h"
#include "client/cli/record_printer.h"

namespace cir::cli {
namespace {

constexpr int kPerCall = 10000;

std::string OutcomeName(v1::BatchResolveResult::Outcome outcome) {
  switch (outcome) {
    case v1::BatchResolveResult::OUTCOME_FOUND:
      return "found";
    case v1::BatchResolveResult::OUTCOME_NOT_FOUND:
      return "not-found";
    case v1::BatchResolveResult::OUTCOME_INVALID:
      return "invalid";
    default:
      return "unknown";
  }
}

// The identifiers of a file, one a line or one a CSV row, read as they are needed.
class IdentifierReader {
 public:
  IdentifierReader(std::istream& in, bool csv, int column) : in_(in), csv_(csv), column_(column) {}

  // The next identifier; nullopt at the end. Blank lines are passed over.
  std::optional<std::string> Next() {
    for (std::string line; std::getline(in_, line);) {
      std::string value = line;
      if (csv_) {
        absl::StatusOr<std::vector<std::string>> fields = ParseCsvLine(line);
        value = fields.ok() && static_cast<size_t>(column_) < fields->size()
                    ? (*fields)[column_]
                    : (fields.ok() ? "" : line);
      }
      absl::string_view trimmed = absl::StripAsciiWhitespace(value);
      if (!trimmed.empty()) return std::string(trimmed);
    }
    return std::nullopt;
  }

 private:
  std::istream& in_;
  const bool csv_;
  const int column_;
};

}  // namespace

BatchResolveCommand::BatchResolveCommand(CLI::App& app) {
  command_ = app.add_subcommand(
      "batch-resolve",
      "resolve a file of identifiers, one a line or a column of a CSV file (up to 10,000 per "
      "call; longer files are sent in several calls); prints one result a line, in order");
  command_->add_option("file", path_, "the file, or - for standard input")->required();
  command_->add_option("--input", input_,
                       "lines (one identifier a line) or csv (a column of a CSV file with a "
                       "header row); default: csv for a file named *.csv, lines otherwise")
      ->check(CLI::IsMember({"lines", "csv"}));
  command_->add_option("--column", column_,
                       "the CSV column holding the identifiers: its name in the header, or its "
                       "number from 1 (default: the first); implies --input csv");
  command_->add_flag("--no-header", no_header_, "the CSV file has no header row");
  command_->footer(
      "Output: text (identifier, outcome, child identifier, tab-separated), --format json (each "
      "result as JSON) or --format csv (identifier,outcome,child_id,matched_former,error).");
}

std::optional<int> BatchResolveCommand::Run(Client& client, const GlobalOptions& global) {
  if (!command_->parsed()) return std::nullopt;
  std::ifstream file;
  std::istream* in = &std::cin;
  if (path_ != "-") {
    file.open(path_);
    if (!file) return UsageError(absl::StrCat("cannot read ", path_));
    in = &file;
  }
  const bool csv = input_.empty()
                       ? !column_.empty() || absl::EndsWithIgnoreCase(path_, ".csv")
                       : input_ == "csv";
  int column = 0;
  if (csv && !no_header_) {
    std::string header_line;
    std::getline(*in, header_line);
    absl::StatusOr<std::vector<std::string>> header = ParseCsvLine(header_line);
    if (!header.ok()) return UsageError(absl::StrCat(path_, ": ", header.status().message()));
    if (!column_.empty() && !absl::SimpleAtoi(column_, &column)) {
      absl::StatusOr<CsvColumns> columns = CsvColumns::FromHeader(*header, {column_});
      if (!columns.ok()) return UsageError(absl::StrCat(path_, ": ", columns.status().message()));
      column = columns->IndexOf(column_) + 1;
    }
    column = std::max(column, 1) - 1;
  } else if (csv && !column_.empty()) {
    if (!absl::SimpleAtoi(column_, &column) || column < 1) {
      return UsageError("without a header row, --column is the column's number from 1");
    }
    column -= 1;
  }

  const bool draw = ShouldDrawProgress(global.progress);
  std::optional<int64_t> total;
  if (draw && path_ != "-") {
    std::ifstream counting(path_);
    IdentifierReader counter(counting, csv, column);
    if (csv && !no_header_) counting.ignore(std::numeric_limits<std::streamsize>::max(), '\n');
    int64_t n = 0;
    while (counter.Next().has_value()) ++n;
    total = n;
  }
  ProgressBar bar("identifiers", total, draw);

  IdentifierReader reader(*in, csv, column);
  const CallOptions call{.timeout = absl::Seconds(global.timeout_seconds)};
  int64_t found = 0, not_found = 0, invalid = 0, done = 0;
  if (global.csv()) std::cout << CsvLine({"identifier", "outcome", "child_id", "matched_former", "error"}) << "\n";
  for (;;) {
    v1::BatchResolveRequest request;
    while (request.identifiers_size() < kPerCall) {
      std::optional<std::string> identifier = reader.Next();
      if (!identifier.has_value()) break;
      request.add_identifiers(*std::move(identifier));
    }
    if (request.identifiers().empty()) break;
    absl::StatusOr<v1::BatchResolveResponse> response = client.BatchResolve(request, call);
    if (!response.ok()) {
      bar.Finish();
      return Fail(response.status());
    }
    for (int i = 0; i < response->results_size(); ++i) {
      const v1::BatchResolveResult& result = response->results(i);
      const std::string& identifier = request.identifiers(i);
      const bool is_found = result.outcome() == v1::BatchResolveResult::OUTCOME_FOUND;
      if (global.json()) {
        std::cout << ToJson(result) << "\n";
      } else if (global.csv()) {
        std::cout << CsvLine({identifier, OutcomeName(result.outcome()),
                              is_found ? result.record().child_id_display() : "",
                              result.matched_former() ? "true" : "false", result.error()})
                  << "\n";
      } else if (is_found) {
        std::cout << identifier << "\tfound\t" << result.record().child_id_display()
                  << (result.matched_former() ? "\t(former)" : "") << "\n";
      } else {
        std::cout << identifier << "\t" << OutcomeName(result.outcome())
                  << (result.error().empty() ? "" : "\t") << result.error() << "\n";
      }
      found += is_found;
      not_found += result.outcome() == v1::BatchResolveResult::OUTCOME_NOT_FOUND;
      invalid += result.outcome() == v1::BatchResolveResult::OUTCOME_INVALID;
    }
    done += response->results_size();
    bar.Update(done);
  }
  bar.Finish();
  if (done == 0) return UsageError("the file holds no identifiers");
  if (!global.json()) {
    std::cerr << found << " found, " << not_found << " not found, " << invalid << " invalid\n";
  }
  return kExitDone;
}

}  // namespace cir::cli
