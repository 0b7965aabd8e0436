#ifndef CIR_EXAMPLES_COMMON_CSV_H_
#define CIR_EXAMPLES_COMMON_CSV_H_

// CSV as RFC 4180 writes it and spreadsheets save it, one record per line: fields separated by
// commas; a field holding a comma, a quote or a leading or trailing space is quoted, a quote inside
// it doubled. A line ending "\r\n" reads as one ending "\n". A record spanning lines (a newline
// inside a quoted field) is not read: no field these examples read holds one.

#include <map>
#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "absl/strings/string_view.h"

namespace cir_examples {

// The fields of one line.
inline absl::StatusOr<std::vector<std::string>> ParseCsvLine(absl::string_view line) {
  if (!line.empty() && line.back() == '\r') line.remove_suffix(1);
  std::vector<std::string> fields(1);
  bool quoted = false;
  for (size_t i = 0; i < line.size(); ++i) {
    const char c = line[i];
    if (quoted) {
      if (c != '"') {
        fields.back().push_back(c);
      } else if (i + 1 < line.size() && line[i + 1] == '"') {
        fields.back().push_back('"');
        ++i;
      } else {
        quoted = false;
      }
    } else if (c == ',') {
      fields.emplace_back();
    } else if (c == '"' && fields.back().empty()) {
      quoted = true;
    } else {
      fields.back().push_back(c);
    }
  }
  if (quoted) return absl::InvalidArgumentError("a quoted field is not closed");
  return fields;
}

// One field as it is written: quoted only when it has to be.
inline std::string CsvField(absl::string_view field) {
  const bool needs_quotes = field.find_first_of(",\"\r\n") != absl::string_view::npos ||
                            (!field.empty() && (field.front() == ' ' || field.back() == ' '));
  if (!needs_quotes) return std::string(field);
  std::string quoted = "\"";
  for (char c : field) {
    if (c == '"') quoted.push_back('"');
    quoted.push_back(c);
  }
  quoted.push_back('"');
  return quoted;
}

// A line of fields, without its newline.
inline std::string CsvLine(const std::vector<std::string>& fields) {
  return absl::StrJoin(fields, ",", [](std::string* out, const std::string& field) {
    out->append(CsvField(field));
  });
}

// A file's columns, found by name in its header row, so that the columns may come in any order
// and a file may carry columns of its own beside them.
class CsvColumns {
 public:
  // The columns of `header`; INVALID_ARGUMENT naming a required column that is missing, or a
  // column named twice.
  static absl::StatusOr<CsvColumns> FromHeader(const std::vector<std::string>& header,
                                               const std::vector<std::string>& required) {
    CsvColumns columns;
    for (size_t i = 0; i < header.size(); ++i) {
      if (!columns.index_.emplace(header[i], i).second) {
        return absl::InvalidArgumentError(absl::StrCat("column ", header[i], " is named twice"));
      }
    }
    for (const std::string& name : required) {
      if (!columns.Has(name)) {
        return absl::InvalidArgumentError(absl::StrCat("the header has no column ", name));
      }
    }
    return columns;
  }

  bool Has(const std::string& name) const { return index_.count(name) > 0; }
  // The row's value in the named column; "" if the file has no such column or the row is short.
  const std::string& Get(const std::vector<std::string>& row, const std::string& name) const {
    static const std::string* const kEmpty = new std::string();
    auto found = index_.find(name);
    if (found == index_.end() || found->second >= row.size()) return *kEmpty;
    return row[found->second];
  }

 private:
  std::map<std::string, size_t> index_;
};

}  // namespace cir_examples

#endif  // CIR_EXAMPLES_COMMON_CSV_H_
