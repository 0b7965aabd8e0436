#ifndef CIR_CLIENT_CLI_BIRTHS_CSV_H_
#define CIR_CLIENT_CLI_BIRTHS_CSV_H_

// A maternity system's births as a CSV file, the columns the worked example examples/maternity
// reads: a header row naming them, in any order, beside any columns of the file's own.
//
//   notification_id     required: the notifying system's own id of the notification
//   date_of_birth       required: YYYY-MM-DD
//   sex                 required: male, female, indeterminate or not_known
//   postcode            required: of usual residence
//   local_authority     required: DfE three-digit number of usual residence, e.g. 938
//   nhs_number, birth_order, given_name, family_name, mother_nhs_number, mother_given_name,
//   mother_family_name, address_line_1 ... address_line_4: optional, may be empty
//
// BirthsFile reads it a row at a time, so a file of any length is read in the same memory.

#include <cstdint>
#include <fstream>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "cir/v1/registry.pb.h"
#include "client/cli/csv.h"

namespace cir::cli {

struct BirthsColumn {
  const char* name;
  bool required;
  const char* meaning;
};
// Every column read, in the order above.
const std::vector<BirthsColumn>& BirthsColumns();
// The columns as --help shows them: a line each.
std::string BirthsColumnsHelp();

// One birth of the file, as read.
struct BirthRow {
  int64_t line_number = 0;  // in the file, the header being line 1
  std::string notification_id;
  // The request for the birth; INVALID_ARGUMENT saying what of the row cannot be read (the
  // registry checks the rest, and says what is wrong).
  absl::StatusOr<v1::RegisterBirthRequest> birth;
};

class BirthsFile {
 public:
  // Opens `path` and reads its header: INVALID_ARGUMENT if it names no required column, NOT_FOUND
  // if the file cannot be read.
  static absl::StatusOr<std::unique_ptr<BirthsFile>> Open(const std::string& path,
                                                          const std::string& notifying_system);
  // The number of births in the file at `path` (lines after the header that are not blank).
  static absl::StatusOr<int64_t> CountBirths(const std::string& path);

  // The next birth (blank lines are passed over); nullopt at the end of the file.
  std::optional<BirthRow> Next();

 private:
  BirthsFile(std::ifstream in, CsvColumns columns, std::string notifying_system)
      : in_(std::move(in)),
        columns_(std::move(columns)),
        notifying_system_(std::move(notifying_system)) {}

  absl::StatusOr<v1::RegisterBirthRequest> BirthFrom(const std::vector<std::string>& row) const;

  std::ifstream in_;
  CsvColumns columns_;
  std::string notifying_system_;
  int64_t line_number_ = 1;
};

}  // namespace cir::cli

#endif  // CIR_CLIENT_CLI_BIRTHS_CSV_H_
