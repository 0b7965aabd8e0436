// maternity: sends a maternity system's birth notifications to the registry from a CSV file, and
// records the identifier each child got. It may be killed at any moment, and the registry may
// restart under it: started again with the same files, it ends with every birth recorded once.
//
//   maternity --registry registry.example:443 --ca registry-ca.pem --cert maternity.pem \
//       --key maternity.key --notifying-system RXH01 births.csv results.csv
//
// BIRTHS.csv has a header row naming its columns, in any order (other columns are ignored):
//   notification_id    required: this system's own id of the notification, unique within it
//   date_of_birth      required: YYYY-MM-DD
//   sex                required: male, female, indeterminate or not_known
//   postcode           required: of usual residence
//   local_authority    required: DfE three-digit number of usual residence, e.g. 938
//   nhs_number, birth_order, given_name, family_name, mother_nhs_number, mother_given_name,
//   mother_family_name, address_line_1 ... address_line_4: optional, may be empty
//
// RESULTS.csv gets a line for each birth once the registry has answered it, appended and made
// durable (fdatasync) before the next birth is sent:
//   notification_id,result,child_id,detail
//   N-0001,created,KDMX-4PAR-TWE,            this notification registered the child
//   N-0002,existing,CMCX-CTWC-M3N,           another notification had registered the same birth
//   N-0003,refused,,FIELD_INVALID: ...       the registry refused it: the reason, then its message
//
// Why nothing is lost or sent twice: on start the program reads RESULTS.csv and skips every birth
// already recorded there (a line torn by a crash is cut off and its birth sent again). A birth
// registered but not yet recorded when the program died is simply sent again, with the same
// notification id and details, and the registry, which knows a notification by its notifying
// system and notification id, answers with the same child as the first time. So never edit a row
// once sent: the registry refuses a notification id reused with other details. To send a refused
// birth again once its row is corrected, delete its line from RESULTS.csv.
//
// Calls wait for the registry while it cannot be reached (wait_for_ready), each within a deadline,
// and are retried with growing pauses on every transient failure (UNAVAILABLE, including
// WRITE_OUTCOME_UNKNOWN, and the like), always with the same notification id: a restart of the
// registry in the middle of a run is ridden out.
//
// Exit status: 0 every birth is recorded as registered; 1 every birth is recorded, some refused
// (this run or an earlier one); 2 bad usage or unreadable files; 3 the run stopped before the end
// (the registry was unreachable for --give-up-after, or refused the program itself, e.g. a
// notifying system the agency may not use): run it again to go on.
#include <fstream>
#include <iostream>
#include <optional>
#include <set>
#include <string>
#include <thread>
#include <vector>

#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_split.h"
#include "arguments.h"
#include "cir/client.h"
#include "csv.h"
#include "durable_lines.h"
#include "registry_connection.h"
#include "retry.h"

namespace {

using cir_examples::Arguments;
using cir_examples::CsvColumns;

constexpr char kUsage[] =
    "usage: maternity [connection flags] --notifying-system ODS_CODE [--give-up-after SECONDS]\n"
    "                 BIRTHS.csv RESULTS.csv\n";
constexpr char kResultsHeader[] = "notification_id,result,child_id,detail";
const std::vector<std::string> kRequiredColumns = {"notification_id", "date_of_birth", "sex",
                                                   "postcode", "local_authority"};
// Each call's deadline: long enough to wait out a registry restarting (wait_for_ready).
constexpr absl::Duration kCallTimeout = absl::Seconds(20);

// RESULTS.csv: what the registry answered for each birth sent, one durable line each.
class ResultsFile {
 public:
  static absl::StatusOr<ResultsFile> Open(const std::string& path) {
    ResultsFile results;
    absl::Status bad_line;
    bool header_seen = false;
    absl::StatusOr<std::unique_ptr<cir_examples::DurableLines>> file =
        cir_examples::DurableLines::Open(path, [&](absl::string_view line) {
          if (!header_seen) {
            header_seen = true;
            if (line != kResultsHeader) bad_line = absl::InvalidArgumentError("not a results file");
            return;
          }
          absl::StatusOr<std::vector<std::string>> fields = cir_examples::ParseCsvLine(line);
          if (!fields.ok() || fields->size() != 4) {
            bad_line = absl::InvalidArgumentError(absl::StrCat("cannot read the line: ", line));
            return;
          }
          results.recorded_.insert((*fields)[0]);
          if ((*fields)[1] == "refused") ++results.refused_;
        });
    if (!file.ok()) return file.status();
    if (!bad_line.ok()) return bad_line;
    results.file_ = *std::move(file);
    if (!header_seen) {
      absl::Status written = results.file_->Append(kResultsHeader);
      if (!written.ok()) return written;
    }
    return results;
  }

  bool Recorded(const std::string& notification_id) const {
    return recorded_.count(notification_id) > 0;
  }
  // Appends the birth's line; it is on disk when this returns OK.
  absl::Status Record(const std::string& notification_id, const std::string& result,
                      const std::string& child_id, const std::string& detail) {
    absl::Status written =
        file_->Append(cir_examples::CsvLine({notification_id, result, child_id, detail}));
    if (!written.ok()) return written;
    recorded_.insert(notification_id);
    if (result == "refused") ++refused_;
    return absl::OkStatus();
  }
  int refused() const { return refused_; }

 private:
  std::unique_ptr<cir_examples::DurableLines> file_;
  std::set<std::string> recorded_;
  int refused_ = 0;
};

std::optional<cir::v1::Date> ParseDate(absl::string_view text) {
  std::vector<absl::string_view> parts = absl::StrSplit(text, '-');
  cir::v1::Date date;
  int year = 0, month = 0, day = 0;
  if (parts.size() != 3 || parts[0].size() != 4 || !absl::SimpleAtoi(parts[0], &year) ||
      !absl::SimpleAtoi(parts[1], &month) || !absl::SimpleAtoi(parts[2], &day)) {
    return std::nullopt;
  }
  date.set_year(year);
  date.set_month(month);
  date.set_day(day);
  return date;
}

std::optional<cir::v1::Sex> ParseSex(absl::string_view text) {
  if (text == "male") return cir::v1::SEX_MALE;
  if (text == "female") return cir::v1::SEX_FEMALE;
  if (text == "indeterminate") return cir::v1::SEX_INDETERMINATE;
  if (text == "not_known") return cir::v1::SEX_NOT_KNOWN;
  return std::nullopt;
}

// The birth on one row as the registry's request; INVALID_ARGUMENT for a value this program cannot
// put into the request (the registry checks everything else, and says what is wrong).
absl::StatusOr<cir::v1::RegisterBirthRequest> BirthFromRow(const CsvColumns& columns,
                                                           const std::vector<std::string>& row,
                                                           const std::string& notifying_system) {
  auto get = [&](const std::string& name) -> const std::string& { return columns.Get(row, name); };
  cir::v1::RegisterBirthRequest birth;
  birth.set_notifying_system(notifying_system);
  birth.set_notification_id(get("notification_id"));
  std::optional<cir::v1::Date> date_of_birth = ParseDate(get("date_of_birth"));
  if (!date_of_birth.has_value()) {
    return absl::InvalidArgumentError("date_of_birth is not YYYY-MM-DD");
  }
  *birth.mutable_date_of_birth() = *date_of_birth;
  std::optional<cir::v1::Sex> sex = ParseSex(get("sex"));
  if (!sex.has_value()) {
    return absl::InvalidArgumentError("sex is not male, female, indeterminate or not_known");
  }
  birth.set_sex(*sex);
  if (!get("birth_order").empty()) {
    int order = 0;
    if (!absl::SimpleAtoi(get("birth_order"), &order)) {
      return absl::InvalidArgumentError("birth_order is not a number");
    }
    birth.set_birth_order(order);
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
    if (!get(line).empty()) birth.add_address_lines(get(line));
  }
  return birth;
}

// Sends one birth until the registry answers it, or `give_up` passes: every transient failure is
// retried after a pause, with the same request, so with the same notification id.
absl::StatusOr<cir::v1::RegisterBirthResponse> Register(cir::Client& registry,
                                                        const cir::v1::RegisterBirthRequest& birth,
                                                        absl::Time give_up) {
  cir_examples::Backoff backoff;
  for (;;) {
    cir::CallOptions call;
    call.timeout = kCallTimeout;
    call.wait_for_ready = true;
    absl::StatusOr<cir::v1::RegisterBirthResponse> answer = registry.RegisterBirth(birth, call);
    if (answer.ok() || !cir_examples::WorthRetrying(answer.status())) return answer;
    const absl::Duration pause = backoff.Next();
    if (absl::Now() + pause > give_up) return answer.status();
    std::cerr << "notification " << birth.notification_id() << ": " << answer.status().code() << " "
              << cir::ErrorReasonNameOf(answer.status()) << "; sending it again in " << pause
              << "\n";
    absl::SleepFor(pause);
  }
}

// Whether a refusal is about this birth alone (record it and go on to the next), rather than about
// every birth the program would send (stop: access refused, a fault inside the registry).
bool RefusesThisBirthAlone(const absl::Status& refusal) {
  switch (refusal.code()) {
    case absl::StatusCode::kInvalidArgument:
    case absl::StatusCode::kAlreadyExists:
    case absl::StatusCode::kFailedPrecondition:
    case absl::StatusCode::kNotFound:
    case absl::StatusCode::kOutOfRange:
    case absl::StatusCode::kResourceExhausted:  // REQUEST_TOO_LARGE: WorthRetrying took the rest
      return true;
    default:
      return false;
  }
}

std::string RefusalDetail(const absl::Status& refusal) {
  const std::string reason = cir::ErrorReasonNameOf(refusal);
  return absl::StrCat(reason.empty() ? absl::StatusCodeToString(refusal.code()) : reason, ": ",
                      refusal.message());
}

// Sends one birth not yet recorded, or a row this program could not read, and records the
// outcome: the child, or the refusal. An error means the run must stop (nothing is recorded, so
// the birth is sent again by the next run).
absl::Status SendAndRecord(cir::Client& registry, ResultsFile& results, const std::string& id,
                           const absl::StatusOr<cir::v1::RegisterBirthRequest>& birth,
                           absl::Time give_up) {
  if (!birth.ok()) {
    return results.Record(id, "refused", "",
                          absl::StrCat("ROW_INVALID: ", birth.status().message()));
  }
  absl::StatusOr<cir::v1::RegisterBirthResponse> answer = Register(registry, *birth, give_up);
  if (answer.ok()) {
    return results.Record(id, answer->created() ? "created" : "existing",
                          answer->record().child_id_display(), "");
  }
  if (RefusesThisBirthAlone(answer.status())) {
    return results.Record(id, "refused", "", RefusalDetail(answer.status()));
  }
  return absl::Status(answer.status().code(), RefusalDetail(answer.status()));
}

}  // namespace

int main(int argc, char** argv) {
  absl::StatusOr<Arguments> arguments = Arguments::Parse(
      argc, argv,
      cir_examples::WithConnectionFlags({{"notifying-system", true}, {"give-up-after", true}}));
  if (!arguments.ok() || arguments->positional().size() != 2 ||
      !arguments->Has("notifying-system")) {
    if (!arguments.ok()) std::cerr << arguments.status().message() << "\n";
    std::cerr << kUsage << cir_examples::kConnectionUsage;
    return 2;
  }
  absl::StatusOr<cir::ClientOptions> options = cir_examples::ClientOptionsFrom(*arguments);
  absl::StatusOr<int> give_up_seconds = arguments->Number("give-up-after", 600, 1, 86400);
  if (!options.ok() || !give_up_seconds.ok()) {
    std::cerr << (options.ok() ? give_up_seconds.status() : options.status()).message() << "\n";
    return 2;
  }
  const std::string births_path = arguments->positional()[0];
  const std::string results_path = arguments->positional()[1];

  std::ifstream births(births_path);
  std::string line;
  if (!births || !std::getline(births, line)) {
    std::cerr << births_path << ": cannot be read\n";
    return 2;
  }
  absl::StatusOr<std::vector<std::string>> header = cir_examples::ParseCsvLine(line);
  absl::StatusOr<CsvColumns> columns =
      header.ok() ? CsvColumns::FromHeader(*header, kRequiredColumns) : header.status();
  if (!columns.ok()) {
    std::cerr << births_path << ": " << columns.status().message() << "\n";
    return 2;
  }
  absl::StatusOr<ResultsFile> results = ResultsFile::Open(results_path);
  if (!results.ok()) {
    std::cerr << results_path << ": " << results.status().message() << "\n";
    return 2;
  }

  cir::Client registry(*options);
  int sent = 0, skipped = 0;
  for (int row_number = 2; std::getline(births, line); ++row_number) {
    if (line.empty() || line == "\r") continue;
    // A row that cannot be read, or names no notification, cannot be recorded: fix the file.
    absl::StatusOr<std::vector<std::string>> row = cir_examples::ParseCsvLine(line);
    if (!row.ok() || columns->Get(*row, "notification_id").empty()) {
      std::cerr << births_path << " row " << row_number << ": "
                << (row.ok() ? "no notification_id" : row.status().message()) << "\n";
      return 2;
    }
    const std::string id = columns->Get(*row, "notification_id");
    if (results->Recorded(id)) {  // answered before: by this run, or by one that was cut short
      ++skipped;
      continue;
    }
    absl::Status sent_and_recorded = SendAndRecord(
        registry, *results, id, BirthFromRow(*columns, *row, arguments->Value("notifying-system")),
        absl::Now() + absl::Seconds(*give_up_seconds));
    if (!sent_and_recorded.ok()) {
      std::cerr << "stopping at notification " << id << ": " << sent_and_recorded.message() << "\n";
      return 3;
    }
    ++sent;
  }
  std::cerr << "sent " << sent << " births (" << skipped << " recorded before); "
            << results->refused() << " refused in all\n";
  return results->refused() > 0 ? 1 : 0;
}
