#include "client/cli/csv.h"

#include "absl/strings/ascii.h"
#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"

namespace cir::cli {

absl::StatusOr<std::vector<std::string>> ParseCsvLine(absl::string_view line) {
  if (absl::EndsWith(line, "\r")) line.remove_suffix(1);
  std::vector<std::string> fields(1);
  bool in_quotes = false;
  for (size_t i = 0; i < line.size(); ++i) {
    const char c = line[i];
    if (!in_quotes) {
      if (c == ',') {
        fields.emplace_back();
      } else if (c == '"' && fields.back().empty()) {
        in_quotes = true;
      } else {
        fields.back().push_back(c);
      }
    } else if (c != '"') {
      fields.back().push_back(c);
    } else if (i + 1 < line.size() && line[i + 1] == '"') {
      fields.back().push_back('"');
      ++i;
    } else {
      in_quotes = false;
    }
  }
  if (in_quotes) return absl::InvalidArgumentError("a quoted field is not closed on its line");
  return fields;
}

std::string CsvLine(const std::vector<std::string>& fields) {
  std::string line;
  for (size_t i = 0; i < fields.size(); ++i) {
    if (i > 0) line.push_back(',');
    const std::string& field = fields[i];
    const bool quote = field.find_first_of(",\"\r\n") != std::string::npos ||
                       (!field.empty() && (absl::ascii_isspace(field.front()) ||
                                           absl::ascii_isspace(field.back())));
    if (!quote) {
      line.append(field);
      continue;
    }
    line.push_back('"');
    for (char c : field) {
      if (c == '"') line.push_back('"');
      line.push_back(c);
    }
    line.push_back('"');
  }
  return line;
}

absl::StatusOr<CsvColumns> CsvColumns::FromHeader(const std::vector<std::string>& header,
                                                  const std::vector<std::string>& required) {
  CsvColumns columns;
  for (size_t i = 0; i < header.size(); ++i) {
    const std::string name(absl::StripAsciiWhitespace(header[i]));
    if (!columns.index_.emplace(name, i).second) {
      return absl::InvalidArgumentError(absl::StrCat("the header names column ", name, " twice"));
    }
  }
  for (const std::string& name : required) {
    if (!columns.Has(name)) {
      return absl::InvalidArgumentError(absl::StrCat("the header has no column ", name));
    }
  }
  return columns;
}

int CsvColumns::IndexOf(const std::string& name) const {
  auto found = index_.find(name);
  return found == index_.end() ? -1 : static_cast<int>(found->second);
}

absl::string_view CsvColumns::Get(const std::vector<std::string>& row,
                                  const std::string& name) const {
  auto found = index_.find(name);
  if (found == index_.end() || found->second >= row.size()) return "";
  return row[found->second];
}

}  // namespace cir::cli
