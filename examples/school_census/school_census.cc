// school_census: a school system's two jobs with the registry.
//
//   school_census link   [connection flags] LINKS.csv RESULTS.csv
//   school_census census [connection flags] [--batch-size N] [--in-flight N] [--progress]
//                        UPNS.csv OUT.csv
//
// link: gives children their UPNs when they start school. LINKS.csv has a header row with the
// columns nhs_number and upn (others are ignored). Each NHS number is resolved to its child
// (BatchResolve, a thousand at a time) and the UPN linked to the child (LinkUpn). RESULTS.csv
// gets a line per row:
//   nhs_number,upn,outcome,child_id,detail
// with outcome linked, replaced_temporary, kept_as_former, unchanged (the child had it already),
// not_found (no child has the NHS number) or refused (detail: the reason and message, e.g.
// UPN_HELD_BY_ANOTHER_CHILD). Linking is idempotent by its effect, so a failed call is simply
// made again, and a run cut short is simply run again: rows linked before answer "unchanged".
//
// census: resolves a file of UPNs, e.g. a census return, to the registry's children. UPNS.csv has
// a header row with a column upn (others are ignored). The UPNs are sent in batches (--batch-size,
// default 1,000; the registry takes up to 10,000) with several batches in flight at once
// (--in-flight, default 4), and OUT.csv is written in input order, one line per UPN:
//   upn,outcome,child_id,nhs_number,current_upn,detail
// outcome found (current_upn differs from upn when upn is a former UPN of the child), not_found
// (a well-formed UPN of no child), or invalid (detail says what is wrong). OUT.csv is written
// under a temporary name and renamed once complete: a file named OUT.csv is always a whole census.
// A progress bar is drawn on standard error when it is a terminal (or with --progress).
//
// Calls wait for the registry while it cannot be reached (wait_for_ready), each within a
// deadline, and transient failures are retried with growing pauses, so a restart of the registry
// is ridden out.
//
// Exit status: 0 done, every row linked or resolved; 1 done, some rows not linked, not found or
// invalid; 2 bad usage or unreadable files; 3 the run stopped before the end.
#include <unistd.h>

#include <condition_variable>
#include <cstdio>
#include <fstream>
#include <iostream>
#include <map>
#include <mutex>
#include <optional>
#include <string>
#include <vector>

#include "absl/strings/str_cat.h"
#include "absl/time/clock.h"
#include "arguments.h"
#include "cir/client.h"
#include "csv.h"
#include "registry_connection.h"
#include "retry.h"

namespace {

using cir_examples::Arguments;
using cir_examples::CsvColumns;
using cir_examples::CsvLine;

constexpr char kUsage[] =
    "usage: school_census link   [connection flags] LINKS.csv RESULTS.csv\n"
    "       school_census census [connection flags] [--batch-size N] [--in-flight N] "
    "[--progress]\n"
    "                            UPNS.csv OUT.csv\n";
// How long one call may wait for the registry (wait_for_ready) and take.
constexpr absl::Duration kCallTimeout = absl::Seconds(30);
// How long a call is retried before the run stops.
constexpr absl::Duration kGiveUpAfter = absl::Minutes(10);

// A CSV file read row by row after its header.
class CsvReader {
 public:
  static absl::StatusOr<std::unique_ptr<CsvReader>> Open(const std::string& path,
                                                         const std::vector<std::string>& required) {
    auto reader = std::unique_ptr<CsvReader>(new CsvReader(path));
    std::string line;
    if (!reader->in_ || !std::getline(reader->in_, line)) {
      return absl::NotFoundError(absl::StrCat(path, ": cannot be read"));
    }
    absl::StatusOr<std::vector<std::string>> header = cir_examples::ParseCsvLine(line);
    if (!header.ok()) return header.status();
    absl::StatusOr<CsvColumns> columns = CsvColumns::FromHeader(*header, required);
    if (!columns.ok())
      return absl::InvalidArgumentError(absl::StrCat(path, ": ", columns.status().message()));
    reader->columns_ = *std::move(columns);
    return reader;
  }

  // The next non-empty row, std::nullopt at the end; INVALID_ARGUMENT for a row that is not CSV.
  absl::StatusOr<std::optional<std::vector<std::string>>> Next() {
    std::string line;
    while (std::getline(in_, line)) {
      ++row_number_;
      if (line.empty() || line == "\r") continue;
      absl::StatusOr<std::vector<std::string>> row = cir_examples::ParseCsvLine(line);
      if (!row.ok()) {
        return absl::InvalidArgumentError(
            absl::StrCat(path_, " row ", row_number_, ": ", row.status().message()));
      }
      return std::optional<std::vector<std::string>>(*std::move(row));
    }
    return std::optional<std::vector<std::string>>();
  }
  const CsvColumns& columns() const { return columns_; }

 private:
  explicit CsvReader(const std::string& path) : path_(path), in_(path) {}
  std::string path_;
  std::ifstream in_;
  CsvColumns columns_;
  int row_number_ = 1;
};

// The rows of a CSV file after its header.
int64_t CountRows(const std::string& path) {
  std::ifstream in(path);
  std::string line;
  int64_t rows = -1;  // the header is not a row
  while (std::getline(in, line)) {
    if (!line.empty() && line != "\r") ++rows;
  }
  return rows < 0 ? 0 : rows;
}

std::string Detail(const absl::Status& refusal) {
  const std::string reason = cir::ErrorReasonNameOf(refusal);
  return absl::StrCat(reason.empty() ? absl::StatusCodeToString(refusal.code()) : reason, ": ",
                      refusal.message());
}

// Makes a call until it is answered or refused, retrying transient failures after a pause.
template <typename Call>
auto WithRetries(Call call) -> decltype(call()) {
  cir_examples::Backoff backoff;
  const absl::Time give_up = absl::Now() + kGiveUpAfter;
  for (;;) {
    auto answer = call();
    if (answer.ok() || !cir_examples::WorthRetrying(answer.status())) return answer;
    const absl::Duration pause = backoff.Next();
    if (absl::Now() + pause > give_up) return answer;
    std::cerr << Detail(answer.status()) << "; trying again in " << pause << "\n";
    absl::SleepFor(pause);
  }
}

cir::CallOptions Patient() {
  cir::CallOptions call;
  call.timeout = kCallTimeout;
  call.wait_for_ready = true;
  return call;
}

// ---- link ---------------------------------------------------------------------------------------

std::string OutcomeName(cir::v1::LinkUpnResponse::Outcome outcome) {
  switch (outcome) {
    case cir::v1::LinkUpnResponse::OUTCOME_LINKED:
      return "linked";
    case cir::v1::LinkUpnResponse::OUTCOME_REPLACED_TEMPORARY:
      return "replaced_temporary";
    case cir::v1::LinkUpnResponse::OUTCOME_KEPT_AS_FORMER:
      return "kept_as_former";
    case cir::v1::LinkUpnResponse::OUTCOME_UNCHANGED:
      return "unchanged";
    default:
      return "unknown";
  }
}

// Links one batch of rows: resolves their NHS numbers in one call, then links each UPN. False if
// the run must stop.
bool LinkBatch(cir::Client& registry, const std::vector<std::vector<std::string>>& rows,
               const CsvColumns& columns, std::ofstream& results, int& not_linked) {
  cir::v1::BatchResolveRequest lookup;
  lookup.set_view(cir::v1::RECORD_VIEW_CHILD_ID);  // the child's identifier is all a link needs
  for (const std::vector<std::string>& row : rows)
    lookup.add_identifiers(columns.Get(row, "nhs_number"));
  absl::StatusOr<cir::v1::BatchResolveResponse> children =
      WithRetries([&] { return registry.BatchResolve(lookup, Patient()); });
  if (!children.ok()) {
    std::cerr << "stopping: " << Detail(children.status()) << "\n";
    return false;
  }
  for (size_t i = 0; i < rows.size(); ++i) {
    const std::string& nhs_number = columns.Get(rows[i], "nhs_number");
    const std::string& upn = columns.Get(rows[i], "upn");
    const cir::v1::BatchResolveResult& child = children->results(static_cast<int>(i));
    if (child.outcome() != cir::v1::BatchResolveResult::OUTCOME_FOUND) {
      const bool invalid = child.outcome() == cir::v1::BatchResolveResult::OUTCOME_INVALID;
      results << CsvLine({nhs_number, upn, invalid ? "refused" : "not_found", "",
                          invalid ? "FIELD_INVALID: nhs_number: " + child.error() : ""})
              << "\n";
      ++not_linked;
      continue;
    }
    cir::v1::LinkUpnRequest link;
    link.set_child_id(child.record().child_id());
    link.set_upn(upn);
    absl::StatusOr<cir::v1::LinkUpnResponse> linked =
        WithRetries([&] { return registry.LinkUpn(link, Patient()); });
    if (linked.ok()) {
      results << CsvLine({nhs_number, upn, OutcomeName(linked->outcome()),
                          linked->record().child_id_display(), ""})
              << "\n";
    } else if (linked.status().code() == absl::StatusCode::kPermissionDenied ||
               linked.status().code() == absl::StatusCode::kUnauthenticated ||
               cir_examples::WorthRetrying(linked.status())) {
      std::cerr << "stopping: " << Detail(linked.status()) << "\n";
      return false;
    } else {  // about this row alone: a UPN held by another child, a malformed UPN, ...
      results << CsvLine({nhs_number, upn, "refused", "", Detail(linked.status())}) << "\n";
      ++not_linked;
    }
  }
  return true;
}

int Link(cir::Client& registry, const std::string& links_path, const std::string& results_path) {
  absl::StatusOr<std::unique_ptr<CsvReader>> links =
      CsvReader::Open(links_path, {"nhs_number", "upn"});
  if (!links.ok()) {
    std::cerr << links.status().message() << "\n";
    return 2;
  }
  std::ofstream results(results_path, std::ios::trunc);
  results << "nhs_number,upn,outcome,child_id,detail\n";
  int not_linked = 0;
  for (bool more = true; more;) {
    std::vector<std::vector<std::string>> batch;
    while (batch.size() < 1000) {
      absl::StatusOr<std::optional<std::vector<std::string>>> row = (*links)->Next();
      if (!row.ok()) {
        std::cerr << row.status().message() << "\n";
        return 2;
      }
      if (!row->has_value()) {
        more = false;
        break;
      }
      batch.push_back(**std::move(row));
    }
    if (!batch.empty() && !LinkBatch(registry, batch, (*links)->columns(), results, not_linked)) {
      return 3;
    }
  }
  results.close();
  if (!results) {
    std::cerr << results_path << ": cannot be written\n";
    return 3;
  }
  return not_linked > 0 ? 1 : 0;
}

// ---- census -------------------------------------------------------------------------------------

// A bar on standard error, redrawn in place at most ten times a second:
//   [##############----------------]  47%  9,400 of 20,000 UPNs
class ProgressBar {
 public:
  ProgressBar(bool enabled, int64_t total) : enabled_(enabled), total_(total) {}

  void Update(int64_t done) {
    if (!enabled_ || (done < total_ && absl::Now() - last_drawn_ < absl::Milliseconds(100))) return;
    last_drawn_ = absl::Now();
    constexpr int kWidth = 30;
    const int64_t percent = total_ > 0 ? done * 100 / total_ : 100;
    const int filled = static_cast<int>(percent * kWidth / 100);
    std::cerr << "\r[" << std::string(filled, '#') << std::string(kWidth - filled, '-') << "] "
              << (percent < 100 ? (percent < 10 ? "  " : " ") : "") << percent << "%  "
              << WithCommas(done) << " of " << WithCommas(total_) << " UPNs" << std::flush;
  }
  void Finish() {
    if (enabled_) std::cerr << "\n";
  }

 private:
  static std::string WithCommas(int64_t n) {
    std::string digits = absl::StrCat(n);
    for (int at = static_cast<int>(digits.size()) - 3; at > 0; at -= 3) digits.insert(at, ",");
    return digits;
  }
  bool enabled_;
  int64_t total_;
  absl::Time last_drawn_ = absl::InfinitePast();
};

// OUT.csv's line for one UPN and what the registry answered for it.
std::string CensusLine(const std::string& upn, const cir::v1::BatchResolveResult& result) {
  switch (result.outcome()) {
    case cir::v1::BatchResolveResult::OUTCOME_FOUND:
      if (result.matched_kind() != cir::v1::IDENTIFIER_KIND_UPN) {  // an NHS number, say
        return CsvLine({upn, "invalid", "", "", "", "not a UPN"});
      }
      return CsvLine({upn, "found", result.record().child_id_display(),
                      result.record().nhs_number(), result.record().upn(), ""});
    case cir::v1::BatchResolveResult::OUTCOME_NOT_FOUND:
      return CsvLine({upn, "not_found", "", "", "", ""});
    default:
      return CsvLine({upn, "invalid", "", "", "", result.error()});
  }
}

// The census: batches read from the input as calls complete, at most `in_flight` of them sent
// and not yet written, and written strictly in input order. Calls complete on gRPC's threads,
// which only hand their answers to this thread; this thread alone reads, sends and writes.
class Census {
 public:
  Census(cir::Client& registry, int batch_size, int in_flight)
      : registry_(registry), batch_size_(batch_size), in_flight_(in_flight) {}
  // Waits for the calls still in flight (a run that stopped early leaves some): their callbacks
  // use this object.
  ~Census() {
    std::unique_lock<std::mutex> lock(mu_);
    changed_.wait(lock, [&] { return outstanding_ == 0; });
  }

  // Resolves every row of `upns` into `out`; the number of UPNs not found or invalid, or the
  // status that stopped the run.
  absl::StatusOr<int64_t> Run(CsvReader& upns, std::ostream& out, ProgressBar& progress) {
    out << "upn,outcome,child_id,nhs_number,current_upn,detail\n";
    int64_t next_to_send = 0, next_to_write = 0, written_upns = 0, not_found = 0;
    bool input_done = false;
    std::map<int64_t, std::vector<std::string>> sent;  // each batch's UPNs, until written
    for (;;) {
      // Keep the window full: batch i is sent only once batch i - in_flight has been written,
      // so that at most in_flight batches are ever held in memory.
      while (!input_done && next_to_send < next_to_write + in_flight_) {
        std::vector<std::string> batch;
        while (static_cast<int>(batch.size()) < batch_size_) {
          absl::StatusOr<std::optional<std::vector<std::string>>> row = upns.Next();
          if (!row.ok()) return row.status();
          if (!row->has_value()) {
            input_done = true;
            break;
          }
          batch.push_back(upns.columns().Get(**row, "upn"));
        }
        if (batch.empty()) break;
        Send(next_to_send, batch);
        sent.emplace(next_to_send++, std::move(batch));
      }
      if (next_to_write == next_to_send) return not_found;  // all sent, all written

      // Wait for the next batch in order; send again any that failed in the meantime.
      absl::StatusOr<cir::v1::BatchResolveResponse> answer = Await(next_to_write);
      if (!answer.ok()) {
        if (!cir_examples::WorthRetrying(answer.status()) || absl::Now() > give_up_) {
          return answer.status();
        }
        const absl::Duration pause = backoff_.Next();
        std::cerr << "\nbatch " << next_to_write << ": " << Detail(answer.status())
                  << "; sending it again in " << pause << "\n";
        absl::SleepFor(pause);
        Send(next_to_write, sent[next_to_write]);
        continue;
      }
      backoff_.Reset();
      give_up_ = absl::Now() + kGiveUpAfter;
      const std::vector<std::string>& batch = sent[next_to_write];
      for (size_t i = 0; i < batch.size(); ++i) {
        const cir::v1::BatchResolveResult& result = answer->results(static_cast<int>(i));
        if (result.outcome() != cir::v1::BatchResolveResult::OUTCOME_FOUND) ++not_found;
        out << CensusLine(batch[i], result) << "\n";
      }
      written_upns += static_cast<int64_t>(batch.size());
      sent.erase(next_to_write++);
      progress.Update(written_upns);
    }
  }

 private:
  void Send(int64_t index, const std::vector<std::string>& upns) {
    cir::v1::BatchResolveRequest request;
    for (const std::string& upn : upns) request.add_identifiers(upn);
    request.set_view(cir::v1::RECORD_VIEW_IDENTIFIERS);  // identifiers, not names or addresses
    {
      std::lock_guard<std::mutex> lock(mu_);
      ++outstanding_;
    }
    const size_t expected = upns.size();
    registry_.BatchResolveAsync(
        request,
        [this, index, expected](absl::StatusOr<cir::v1::BatchResolveResponse> answer) {
          if (answer.ok() && static_cast<size_t>(answer->results_size()) != expected) {
            answer = absl::InternalError("the registry answered a batch with too few results");
          }
          std::lock_guard<std::mutex> lock(mu_);
          answered_.emplace(index, std::move(answer));
          --outstanding_;
          changed_.notify_all();
        },
        Patient());
  }

  absl::StatusOr<cir::v1::BatchResolveResponse> Await(int64_t index) {
    std::unique_lock<std::mutex> lock(mu_);
    changed_.wait(lock, [&] { return answered_.count(index) > 0; });
    auto answer = std::move(answered_.at(index));
    answered_.erase(index);
    return answer;
  }

  cir::Client& registry_;
  const int batch_size_;
  const int in_flight_;
  cir_examples::Backoff backoff_;
  absl::Time give_up_ = absl::Now() + kGiveUpAfter;
  std::mutex mu_;
  std::condition_variable changed_;
  // Answers that came back and are not yet written, by batch.
  std::map<int64_t, absl::StatusOr<cir::v1::BatchResolveResponse>> answered_;  // guarded by mu_
  int outstanding_ = 0;  // calls sent and not yet answered; guarded by mu_
};

int RunCensus(cir::Client& registry, const Arguments& arguments, const std::string& upns_path,
              const std::string& out_path) {
  absl::StatusOr<int> batch_size = arguments.Number("batch-size", 1000, 1, 10000);
  absl::StatusOr<int> in_flight = arguments.Number("in-flight", 4, 1, 64);
  if (!batch_size.ok() || !in_flight.ok()) {
    std::cerr << (batch_size.ok() ? in_flight.status() : batch_size.status()).message() << "\n";
    return 2;
  }
  absl::StatusOr<std::unique_ptr<CsvReader>> upns = CsvReader::Open(upns_path, {"upn"});
  if (!upns.ok()) {
    std::cerr << upns.status().message() << "\n";
    return 2;
  }
  const std::string partial_path = out_path + ".partial";
  std::ofstream out(partial_path, std::ios::trunc);
  if (!out) {
    std::cerr << partial_path << ": cannot be written\n";
    return 2;
  }
  const bool draw = arguments.Has("progress") || isatty(STDERR_FILENO);
  ProgressBar progress(draw, draw ? CountRows(upns_path) : 0);
  progress.Update(0);
  Census census(registry, *batch_size, *in_flight);
  absl::StatusOr<int64_t> not_found = census.Run(**upns, out, progress);
  progress.Finish();
  if (!not_found.ok()) {
    std::cerr << "stopping: " << Detail(not_found.status()) << "\n";
    return 3;
  }
  out.close();
  if (!out || std::rename(partial_path.c_str(), out_path.c_str()) != 0) {
    std::cerr << out_path << ": cannot be written\n";
    return 3;
  }
  return *not_found > 0 ? 1 : 0;
}

}  // namespace

int main(int argc, char** argv) {
  absl::StatusOr<Arguments> arguments =
      Arguments::Parse(argc, argv,
                       cir_examples::WithConnectionFlags(
                           {{"batch-size", true}, {"in-flight", true}, {"progress", false}}));
  if (!arguments.ok() || arguments->positional().size() != 3 ||
      (arguments->positional()[0] != "link" && arguments->positional()[0] != "census")) {
    if (!arguments.ok()) std::cerr << arguments.status().message() << "\n";
    std::cerr << kUsage << cir_examples::kConnectionUsage;
    return 2;
  }
  absl::StatusOr<cir::ClientOptions> options = cir_examples::ClientOptionsFrom(*arguments);
  if (!options.ok()) {
    std::cerr << options.status().message() << "\n";
    return 2;
  }
  cir::Client registry(*options);
  const std::vector<std::string>& files = arguments->positional();
  if (files[0] == "link") return Link(registry, files[1], files[2]);
  return RunCensus(registry, *arguments, files[1], files[2]);
}
