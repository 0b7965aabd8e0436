#include "client/cli/births_csv.h"

#include "absl/strings/ascii.h"
#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "client/cli/cli_support.h"

namespace cir::cli {
namespace {

bool Blank(const std::string& line) { return absl::StripAsciiWhitespace(line).empty(); }

}  // namespace

const std::vector<BirthsColumn>& BirthsColumns() {
  static const auto* columns = new std::vector<BirthsColumn>{
      {"notification_id", true, "your system's own id of the notification, unique within it"},
      {"date_of_birth", true, "YYYY-MM-DD"},
      {"sex", true, "male, female, indeterminate or not_known"},
      {"postcode", true, "of usual residence"},
      {"local_authority", true, "DfE three-digit number of usual residence, e.g. 938"},
      {"nhs_number", false, "the child's NHS number, if allocated"},
      {"birth_order", false, "1 for a singleton (the default); 1, 2, ... in a multiple birth"},
      {"given_name", false, "if named"},
      {"family_name", false, "if known"},
      {"mother_nhs_number", false, "if known"},
      {"mother_given_name", false, "if notified"},
      {"mother_family_name", false, "if notified"},
      {"address_line_1", false, "address of usual residence without the postcode"},
      {"address_line_2", false, "(address_line_1 to address_line_4)"},
      {"address_line_3", false, ""},
      {"address_line_4", false, ""},
  };
  return *columns;
}

std::string BirthsColumnsHelp() {
  std::string help;
  for (const BirthsColumn& column : BirthsColumns()) {
    absl::StrAppend(&help, "  ", column.name, std::string(20 - std::string(column.name).size(), ' '),
                    column.required ? "required: " : "optional: ", column.meaning, "\n");
  }
  return help;
}

absl::StatusOr<std::unique_ptr<BirthsFile>> BirthsFile::Open(const std::string& path,
                                                             const std::string& notifying_system) {
  std::ifstream in(path);
  std::string header_line;
  if (!in || !std::getline(in, header_line)) {
    return absl::NotFoundError(absl::StrCat("cannot read ", path));
  }
  absl::StatusOr<std::vector<std::string>> header = ParseCsvLine(header_line);
  if (!header.ok()) return header.status();
  std::vector<std::string> required;
  for (const BirthsColumn& column : BirthsColumns()) {
    if (column.required) required.push_back(column.name);
  }
  absl::StatusOr<CsvColumns> columns = CsvColumns::FromHeader(*header, required);
  if (!columns.ok()) {
    return absl::InvalidArgumentError(absl::StrCat(path, ": ", columns.status().message()));
  }
  return std::unique_ptr<BirthsFile>(
      new BirthsFile(std::move(in), *std::move(columns), notifying_system));
}

absl::StatusOr<int64_t> BirthsFile::CountBirths(const std::string& path) {
  std::ifstream in(path);
  if (!in) return absl::NotFoundError(absl::StrCat("cannot read ", path));
  int64_t births = -1;  // the header is not a birth
  for (std::string line; std::getline(in, line);) births += !Blank(line);
  return std::max<int64_t>(births, 0);
}

std::optional<BirthRow> BirthsFile::Next() {
  std::string line;
  while (std::getline(in_, line)) {
    ++line_number_;
    if (Blank(line)) continue;
    BirthRow row;
    row.line_number = line_number_;
    absl::StatusOr<std::vector<std::string>> fields = ParseCsvLine(line);
    if (!fields.ok()) {
      row.birth = fields.status();
      return row;
    }
    row.notification_id = std::string(columns_.Get(*fields, "notification_id"));
    row.birth = BirthFrom(*fields);
    return row;
  }
  return std::nullopt;
}

absl::StatusOr<v1::RegisterBirthRequest> BirthsFile::BirthFrom(
    const std::vector<std::string>& row) const {
  auto get = [&](const char* name) { return std::string(columns_.Get(row, name)); };
  v1::RegisterBirthRequest birth;
  birth.set_notifying_system(notifying_system_);
  birth.set_notification_id(get("notification_id"));
  if (birth.notification_id().empty()) {
    return absl::InvalidArgumentError("the row has no notification_id");
  }
  std::optional<v1::Date> date_of_birth = ParseDate(get("date_of_birth"));
  if (!date_of_birth.has_value()) {
    return absl::InvalidArgumentError("date_of_birth is not YYYY-MM-DD");
  }
  *birth.mutable_date_of_birth() = *date_of_birth;
  std::optional<v1::Sex> sex = ParseSex(get("sex"));
  if (!sex.has_value()) {
    return absl::InvalidArgumentError("sex is not male, female, indeterminate or not_known");
  }
  birth.set_sex(*sex);
  if (const std::string order = get("birth_order"); !order.empty()) {
    int value = 0;
    if (!absl::SimpleAtoi(order, &value)) {
      return absl::InvalidArgumentError("birth_order is not a number");
    }
    birth.set_birth_order(value);
  }
  birth.set_nhs_number(get("nhs_number"));
  birth.set_given_name(get("given_name"));
  birth.set_family_name(get("family_name"));
  birth.set_postcode(get("postcode"));
  birth.set_local_authority(get("local_authority"));
  birth.set_mother_nhs_number(get("mother_nhs_number"));
  birth.set_mother_given_name(get("mother_given_name"));
  birth.set_mother_family_name(get("mother_family_name"));
  for (const char* line :
       {"address_line_1", "address_line_2", "address_line_3", "address_line_4"}) {
    if (std::string value = get(line); !value.empty()) birth.add_address_lines(value);
  }
  return birth;
}

}  // namespace cir::cli
