#include "client/cli/import_command.h"

#include <signal.h>

#include <algorithm>
#include <atomic>
#include <deque>
#include <iostream>
#include <memory>
#include <random>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "absl/strings/str_replace.h"
#include "absl/synchronization/mutex.h"
#include "client/cli/births_csv.h"
#include "client/cli/import_report.h"
#include "client/cli/progress_bar.h"
#include "client/cli/record_printer.h"

namespace cir::cli {
namespace {

// Requests stay under the registry's 4 MiB limit for a call, whatever the births hold.
constexpr size_t kMaxRequestBytes = 3 << 20;
constexpr absl::Duration kFirstPause = absl::Milliseconds(200);
constexpr absl::Duration kLongestPause = absl::Seconds(10);

// Set by the first Ctrl-C (SIGINT); the second ends the program (SA_RESETHAND).
std::atomic<bool> interrupted{false};
void OnInterrupt(int) { interrupted.store(true); }

enum class BatchState {
  kSending,   // a call is in flight
  kFailed,    // the call failed; not yet decided what to do
  kWaiting,   // to be sent again at retry_at
  kAnswered,  // every birth has its answer
  kAbandoned  // not to be sent again in this run
};

// Consecutive births of the file, sent in one call.
struct Batch {
  std::vector<std::string> ids;       // each birth's notification id
  std::vector<std::string> problems;  // why a row was not sent ("" for the births sent)
  v1::RegisterBirthsRequest request;  // the births sent, in order
  size_t request_bytes = 0;

  // Written by the call's callback, under the mutex, while state is kSending.
  BatchState state = BatchState::kSending;
  absl::StatusOr<v1::RegisterBirthsResponse> answer;

  absl::Time first_failure = absl::InfiniteFuture();
  absl::Time retry_at;
  absl::Duration next_pause = kFirstPause;
};

bool WorthSendingAgain(const absl::Status& status) {
  return status.code() == absl::StatusCode::kUnavailable ||
         status.code() == absl::StatusCode::kDeadlineExceeded ||
         status.code() == absl::StatusCode::kAborted;
}

// The pause before a batch's next attempt: doubling up to kLongestPause, each drawn from the upper
// half of its range so that many importers that lost the registry together do not return at once.
absl::Duration NextPause(Batch& batch) {
  static std::mt19937 random(std::random_device{}());
  const absl::Duration ceiling = batch.next_pause;
  batch.next_pause = std::min(batch.next_pause * 2, kLongestPause);
  return ceiling * std::uniform_real_distribution<double>(0.5, 1.0)(random);
}

// "REASON: message" on one line.
std::string ReasonText(absl::string_view reason, absl::string_view message) {
  return absl::StrReplaceAll(absl::StrCat(reason, ": ", message), {{"\n", " "}, {"\r", " "}});
}

std::string JsonString(absl::string_view text) {
  std::string quoted = "\"";
  for (char c : text) {
    if (c == '"' || c == '\\') {
      absl::StrAppend(&quoted, "\\", std::string(1, c));
    } else if (static_cast<unsigned char>(c) < 0x20) {
      absl::StrAppend(&quoted, absl::StrFormat("\\u%04x", c));
    } else {
      quoted.push_back(c);
    }
  }
  return quoted + "\"";
}

// The report's line for birth `i` of `batch`, `result` being the registry's answer for it (null
// for a row not sent).
ReportLine LineFor(const Batch& batch, size_t i, const v1::RegisterBirthsResult* result) {
  ReportLine line{.notification_id = batch.ids[i]};
  if (result == nullptr) {
    line.result = "refused";
    line.reason = ReasonText("ROW_INVALID", batch.problems[i]);
  } else if (result->has_registered()) {
    const v1::ChildRecord& record = result->registered().record();
    line.result = result->registered().created() ? "created" : "existing";
    line.child_id = record.child_id_display().empty() ? record.child_id() : record.child_id_display();
  } else {
    const v1::BirthRefusal& refusal = result->refused();
    line.result = "refused";
    line.reason = ReasonText(
        refusal.reason() != v1::ERROR_REASON_UNSPECIFIED
            ? v1::ErrorReason_Name(refusal.reason())
            : absl::StatusCodeToString(static_cast<absl::StatusCode>(refusal.code())),
        refusal.message());
  }
  return line;
}

}  // namespace

ImportCommand::ImportCommand(CLI::App& app) {
  command_ = app.add_subcommand(
      "import",
      "register a maternity system's births from a CSV file, in batches, writing each birth's "
      "answer to a report in the file's order; run again with the same report, it goes on where "
      "it stopped");
  command_->add_option("births", births_path_, "the births, a CSV file (columns below)")
      ->required()
      ->check(CLI::ExistingFile);
  command_->add_option("--notifying-system", notifying_system_,
                       "ODS organisation code of the system that notified the births, e.g. RXH01")
      ->required();
  command_->add_option("--report", report_path_,
                       "the report: a line for each birth (notification_id,result,child_id,reason: "
                       "created, existing or refused), appended durably a batch at a time; births "
                       "it records are not sent again (default: the report on standard output, "
                       "not kept)");
  command_->add_option("--batch-size", batch_size_, "births a call (1-10000)")
      ->capture_default_str()
      ->check(CLI::Range(1, 10000));
  command_->add_option("--in-flight", in_flight_, "calls at a time (1-64)")
      ->capture_default_str()
      ->check(CLI::Range(1, 64));
  command_->add_option("--view", view_,
                       "how much of each child's record the registry answers with, shown by "
                       "--format json: child-id, identifiers or full")
      ->capture_default_str()
      ->check(CLI::IsMember({"child-id", "identifiers", "full"}));
  command_
      ->add_option("--give-up-after", give_up_seconds_,
                   "seconds to keep sending a call the registry does not answer (UNAVAILABLE, "
                   "DEADLINE_EXCEEDED, ABORTED) before stopping, exit status 3")
      ->capture_default_str()
      ->check(CLI::PositiveNumber);
  command_->footer(absl::StrCat(
      "BIRTHS.csv has a header row naming its columns, in any order (others are ignored):\n",
      BirthsColumnsHelp(),
      "A row that cannot be read (a bad date, sex or birth order) is not sent and is reported "
      "refused, ROW_INVALID.\n"
      "Exit status: 0 every birth registered, 1 some refused (see the report), 3 stopped before "
      "the end: run the same command again to go on."));
}

std::optional<int> ImportCommand::Run(Client& client, const GlobalOptions& global) {
  if (!command_->parsed()) return std::nullopt;
  const v1::RecordView view = view_ == "full"          ? v1::RECORD_VIEW_FULL
                              : view_ == "identifiers" ? v1::RECORD_VIEW_IDENTIFIERS
                                                       : v1::RECORD_VIEW_CHILD_ID;
  absl::StatusOr<std::unique_ptr<BirthsFile>> births =
      BirthsFile::Open(births_path_, notifying_system_);
  if (!births.ok()) return UsageError(std::string(births.status().message()));
  std::unique_ptr<ImportReport> report;
  if (!report_path_.empty()) {
    absl::StatusOr<std::unique_ptr<ImportReport>> opened = ImportReport::Open(report_path_);
    if (!opened.ok()) return UsageError(std::string(opened.status().message()));
    report = *std::move(opened);
  } else if (!global.json()) {
    report = ImportReport::ToStandardOutput();
  }
  ImportReport::Counts counts = report != nullptr ? report->counts() : ImportReport::Counts{};

  // The report's lines are the file's first births: pass over them, checking each is the same.
  int64_t skipped = 0;
  while (report != nullptr) {
    std::optional<std::string> recorded = report->NextRecordedId();
    if (!recorded.has_value()) break;
    std::optional<BirthRow> row = (*births)->Next();
    if (!row.has_value() || row->notification_id != *recorded) {
      return UsageError(absl::StrCat(
          report_path_, " line ", skipped + 2, " records notification '", *recorded, "' but ",
          row.has_value() ? absl::StrCat("line ", row->line_number, " of ", births_path_,
                                         " is notification '", row->notification_id, "'")
                          : absl::StrCat(births_path_, " has no more births"),
          ": the report is of another file, or the file changed (give a new --report)"));
    }
    ++skipped;
  }

  const bool draw = ShouldDrawProgress(global.progress);
  std::optional<int64_t> total;
  if (draw) {
    if (absl::StatusOr<int64_t> counted = BirthsFile::CountBirths(births_path_); counted.ok()) {
      total = *counted;
    }
  }
  ProgressBar bar("births", total, draw, skipped);
  bar.Update(skipped);

  struct sigaction on_interrupt = {};
  on_interrupt.sa_handler = OnInterrupt;
  on_interrupt.sa_flags = SA_RESETHAND;
  sigemptyset(&on_interrupt.sa_mask);
  sigaction(SIGINT, &on_interrupt, nullptr);

  absl::Mutex mu;
  absl::CondVar changed;
  std::deque<std::unique_ptr<Batch>> batches;
  std::optional<BirthRow> carried;  // read, but too big for the batch before
  bool end_of_file = false;
  bool stopping = false;
  absl::Status why_stopped;
  int64_t done = skipped;

  auto send = [&](Batch* batch) {
    {
      absl::MutexLock lock(&mu);
      batch->state = BatchState::kSending;
    }
    client.RegisterBirthsAsync(
        batch->request,
        [batch, &mu, &changed](absl::StatusOr<v1::RegisterBirthsResponse> answer) {
          absl::MutexLock lock(&mu);
          batch->answer = std::move(answer);
          batch->state = batch->answer.ok() ? BatchState::kAnswered : BatchState::kFailed;
          changed.SignalAll();
        },
        {.timeout = absl::Seconds(global.timeout_seconds), .wait_for_ready = true});
  };
  auto read_batch = [&]() {
    auto batch = std::make_unique<Batch>();
    batch->request.set_view(view);
    while (batch->ids.size() < static_cast<size_t>(batch_size_)) {
      std::optional<BirthRow> row = std::move(carried);
      carried.reset();
      if (!row.has_value()) row = (*births)->Next();
      if (!row.has_value()) {
        end_of_file = true;
        break;
      }
      if (!row->birth.ok()) {
        batch->ids.push_back(row->notification_id);
        batch->problems.emplace_back(row->birth.status().message());
        continue;
      }
      const size_t bytes = row->birth->ByteSizeLong() + 8;
      if (batch->request.births_size() > 0 && batch->request_bytes + bytes > kMaxRequestBytes) {
        carried = std::move(row);
        break;
      }
      batch->request_bytes += bytes;
      batch->ids.push_back(row->notification_id);
      batch->problems.emplace_back();
      *batch->request.add_births() = *std::move(row->birth);
    }
    return batch;
  };

  for (;;) {
    // Read and send batches while there is room.
    while (!stopping && !end_of_file && batches.size() < static_cast<size_t>(in_flight_)) {
      std::unique_ptr<Batch> batch = read_batch();
      if (batch->ids.empty()) break;
      if (batch->request.births_size() == 0) {
        batch->state = BatchState::kAnswered;  // every row refused before sending
        batch->answer = v1::RegisterBirthsResponse();
      } else {
        send(batch.get());
      }
      batches.push_back(std::move(batch));
    }
    if (batches.empty()) break;

    // Wait for an answer, or a pause to end, or the progress to be redrawn.
    std::vector<Batch*> to_send;
    bool in_flight = false;
    {
      absl::MutexLock lock(&mu);
      auto ready = [&] {
        return batches.front()->state == BatchState::kAnswered ||
               std::any_of(batches.begin(), batches.end(),
                           [](const auto& b) { return b->state == BatchState::kFailed; });
      };
      if (!ready()) changed.WaitWithTimeout(&mu, absl::Milliseconds(100));
      if (interrupted.load() && !stopping) {
        stopping = true;
        why_stopped = absl::CancelledError("interrupted");
      }
      const absl::Time now = absl::Now();
      for (const std::unique_ptr<Batch>& batch : batches) {
        if (batch->state == BatchState::kFailed) {
          const absl::Status failure = batch->answer.status();
          if (stopping) {
            batch->state = BatchState::kAbandoned;
          } else if (!WorthSendingAgain(failure)) {
            batch->state = BatchState::kAbandoned;
            stopping = true;
            why_stopped = failure;
          } else {
            batch->first_failure = std::min(batch->first_failure, now);
            if (now - batch->first_failure > absl::Seconds(give_up_seconds_)) {
              batch->state = BatchState::kAbandoned;
              stopping = true;
              why_stopped = failure;
            } else {
              const absl::Duration pause = NextPause(*batch);
              batch->state = BatchState::kWaiting;
              batch->retry_at = now + pause;
              bar.Say(absl::StrCat("a call of ", batch->ids.size(), " births: ",
                                   RefusalText(failure), "; sending it again in ",
                                   absl::FormatDuration(absl::Trunc(pause, absl::Milliseconds(1)))));
            }
          }
        }
        if (batch->state == BatchState::kWaiting) {
          if (stopping) {
            batch->state = BatchState::kAbandoned;
          } else if (now >= batch->retry_at) {
            to_send.push_back(batch.get());
          }
        }
        in_flight = in_flight || batch->state == BatchState::kSending;
      }
    }
    for (Batch* batch : to_send) send(batch);

    // Record the answers, in the file's order.
    while (!batches.empty()) {
      Batch& front = *batches.front();
      {
        absl::MutexLock lock(&mu);
        if (front.state != BatchState::kAnswered) break;
      }
      const v1::RegisterBirthsResponse& answer = *front.answer;
      if (answer.results_size() != front.request.births_size()) {
        stopping = true;
        why_stopped = absl::InternalError(absl::StrCat("the registry answered ",
                                                       answer.results_size(), " births of ",
                                                       front.request.births_size()));
        absl::MutexLock lock(&mu);
        front.state = BatchState::kAbandoned;
        break;
      }
      std::vector<ReportLine> lines;
      int sent = 0;
      for (size_t i = 0; i < front.ids.size(); ++i) {
        const v1::RegisterBirthsResult* result =
            front.problems[i].empty() ? &answer.results(sent++) : nullptr;
        lines.push_back(LineFor(front, i, result));
        if (global.json()) {
          std::cout << "{\"notification_id\":" << JsonString(lines.back().notification_id)
                    << ",\"result\":" << JsonString(lines.back().result)
                    << ",\"child_id\":" << JsonString(lines.back().child_id)
                    << ",\"reason\":" << JsonString(lines.back().reason)
                    << (result != nullptr ? ",\"answer\":" + ToJson(*result) : "") << "}\n";
        }
      }
      if (global.json()) std::cout.flush();
      if (report != nullptr) {
        if (absl::Status written = report->Append(lines); !written.ok()) {
          bar.Finish();
          std::cerr << "error: " << written.message() << "\n";
          return kExitUnfinished;
        }
      }
      for (const ReportLine& line : lines) {
        counts.created += line.result == "created";
        counts.existing += line.result == "existing";
        counts.refused += line.result == "refused";
      }
      done += static_cast<int64_t>(lines.size());
      bar.Update(done);
      batches.pop_front();
    }

    if (stopping) {
      bool waiting_for_answers = false;
      {
        absl::MutexLock lock(&mu);
        for (const std::unique_ptr<Batch>& batch : batches) {
          waiting_for_answers = waiting_for_answers || batch->state == BatchState::kSending;
        }
        waiting_for_answers = waiting_for_answers ||
                              (!batches.empty() && batches.front()->state == BatchState::kAnswered);
      }
      if (!waiting_for_answers) break;
    }
  }
  bar.Finish();
  signal(SIGINT, SIG_DFL);

  const std::string where = report_path_.empty() ? "" : absl::StrCat(" in ", report_path_);
  if (stopping) {
    if (why_stopped.code() != absl::StatusCode::kCancelled) std::cerr << RefusalText(why_stopped) << "\n";
    std::cerr << "import stopped: " << done << " births recorded" << where
              << (report_path_.empty() ? "" : "; run the same command again to go on") << "\n";
    return kExitUnfinished;
  }
  std::cerr << "births: " << counts.created << " created, " << counts.existing << " existing, "
            << counts.refused << " refused" << where << " (" << skipped
            << " recorded before this run)\n";
  return counts.refused > 0 ? kExitRefused : kExitDone;
}

}  // namespace cir::cli
