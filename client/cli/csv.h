#ifndef CIR_CLIENT_CLI_CSV_H_
#define CIR_CLIENT_CLI_CSV_H_

// CSV as spreadsheets save it (RFC 4180), one record a line:
//
//   line   := field ( "," field )* [ "\r" ]
//   field  := plain | '"' ( any character but '"' | '""' )* '"'
//
// A field is quoted when written only if it holds a comma, a quote, a line break, or a space at
// either end. A record spanning lines (a line break inside quotes) is not read: none of the
// files the tool reads has one.

#include <map>
#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"

namespace cir::cli {

// The fields of one line (without its "\n"); INVALID_ARGUMENT if a quoted field is not closed.
absl::StatusOr<std::vector<std::string>> ParseCsvLine(absl::string_view line);

// The line of `fields`, without its "\n".
std::string CsvLine(const std::vector<std::string>& fields);

// The columns of a file, found by name in its header row: in any order, beside columns of the
// file's own.
class CsvColumns {
 public:
  // INVALID_ARGUMENT naming a column of `required` the header lacks, or a column named twice.
  static absl::StatusOr<CsvColumns> FromHeader(const std::vector<std::string>& header,
                                               const std::vector<std::string>& required);

  bool Has(const std::string& name) const { return index_.count(name) > 0; }
  // The column's position; -1 if the header has no such column.
  int IndexOf(const std::string& name) const;
  // The row's value in the named column; "" if there is no such column or the row is short.
  absl::string_view Get(const std::vector<std::string>& row, const std::string& name) const;

 private:
  std::map<std::string, size_t> index_;
};

}  // namespace cir::cli

#endif  // CIR_CLIENT_CLI_CSV_H_
