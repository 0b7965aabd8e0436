#ifndef CIR_CLIENT_CLI_IMPORT_REPORT_H_
#define CIR_CLIENT_CLI_IMPORT_REPORT_H_

// The report of `cir import`: what the registry answered for each birth of a births file, in the
// file's order, as CSV:
//
//   notification_id,result,child_id,reason
//   N-0001,created,KDMX-4PAR-TWE,          this notification registered the child
//   N-0002,existing,CMCX-CTWC-M3N,         another notification had registered the same birth
//   N-0003,refused,,FIELD_INVALID: ...     refused: the reason, then the registry's message
//
// The report is the import's progress: its complete lines are the births answered, which are the
// file's first births, so a run started again with the same report skips that many births of the
// file (checking that each names the notification its line does) and sends the rest. Lines are
// appended a batch at a time and made durable (fdatasync) before the next batch is written; a line
// torn by a crash is cut off when the report is opened, and its birth sent again. A birth sent but
// not yet recorded is sent again too: the registry knows a notification by its notifying system
// and id, and answers a repeat with the same child.
//
// One writer, one thread. Memory does not grow with the report's length.

#include <cstdint>
#include <fstream>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "absl/status/statusor.h"

namespace cir::cli {

struct ReportLine {
  std::string notification_id;
  std::string result;  // created, existing or refused
  std::string child_id;
  std::string reason;  // refused only: "REASON: message"
};

class ImportReport {
 public:
  static constexpr char kHeader[] = "notification_id,result,child_id,reason";

  struct Counts {
    int64_t created = 0;
    int64_t existing = 0;
    int64_t refused = 0;
    int64_t total() const { return created + existing + refused; }
  };

  // Opens the report at `path`, creating it (with its header) if missing: counts the lines there
  // and cuts off a torn last line. INVALID_ARGUMENT if it is not a report; UNAVAILABLE if it
  // cannot be read or written.
  static absl::StatusOr<std::unique_ptr<ImportReport>> Open(const std::string& path);
  // A report written to standard output as it goes: nothing recorded before, nothing synced.
  static std::unique_ptr<ImportReport> ToStandardOutput();

  ~ImportReport();
  ImportReport(const ImportReport&) = delete;
  ImportReport& operator=(const ImportReport&) = delete;

  // The lines recorded before this run, and all lines since.
  int64_t recorded_before() const { return recorded_before_; }
  const Counts& counts() const { return counts_; }

  // The notification id of the next line recorded before this run, read again in order from the
  // start; nullopt after the last.
  std::optional<std::string> NextRecordedId();

  // Appends `lines` and returns once they are on disk (UNAVAILABLE if not: stop, and let the next
  // run cut off what is torn).
  absl::Status Append(const std::vector<ReportLine>& lines);

 private:
  ImportReport(std::string path, int fd, bool durable)
      : path_(std::move(path)), fd_(fd), durable_(durable) {}
  void Count(const std::string& result);

  const std::string path_;
  const int fd_;
  const bool durable_;
  int64_t recorded_before_ = 0;
  Counts counts_;
  std::ifstream recorded_;
  int64_t recorded_read_ = 0;
};

}  // namespace cir::cli

#endif  // CIR_CLIENT_CLI_IMPORT_REPORT_H_
