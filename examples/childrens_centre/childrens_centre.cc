// childrens_centre: follows a local authority's feed of births and move-ins, and processes each
// event exactly once, even when it is killed or the registry restarts.
//
//   childrens_centre --registry registry.example:443 --ca registry-ca.pem \
//       --cert childrens-centre.pem --key childrens-centre.key --la 938 journal.csv
//
// "Processing" an event here is appending its line to JOURNAL, a CSV file:
//   local_authority,sequence,kind,child_id,cursor
//   938,1,BIRTH_REGISTERED,KDMX-4PAR-TWE,c2...
// and making it durable (fdatasync) before the next event is taken. The journal's last complete
// line is the cursor to resume from: the event's effect and the record that it is done are one
// append, so no crash can fall between them. (A centre that processes into a database instead
// stores the cursor in the same transaction as the event's rows, for the same reason.)
//
// On start the program reads the journal (cutting off a line torn by a crash) and subscribes
// after its last line's cursor; with an empty journal, from the first event of each area, or
// from --since YYYY-MM-DD. The registry sends every later event exactly once, in order, so the
// journal gets each event once: none missed, none repeated. The program checks that promise, too:
// each area's events are numbered 1, 2, 3, ... with no gap, and a gap or a repeat stops it.
//
// Heartbeats, which come while there is nothing to send, carry each area's newest sequence; they
// are not events and write nothing. A stream that ends UNAVAILABLE (the registry restarting, or
// closing a connection at its maximum age) is resumed from the journal's cursor after a pause
// that grows while the registry stays away.
//
// Options:
//   --la CODE             a local authority to follow (DfE number); repeat for several. The
//                         journal's cursor covers exactly these: keep one journal per set.
//   --since YYYY-MM-DD    with an empty journal, start from events recorded on or after this day
//   --until-caught-up     exit (0) once a heartbeat shows every event so far processed: for a
//                         scheduled job rather than a service
//
// Exit status: 0 caught up (--until-caught-up); 1 the registry refused the subscription (e.g. a
// cursor older than it keeps, an area the agency may not follow) or broke its promise of order;
// 2 bad usage or an unreadable journal; 3 the journal could not be written.
#include <iostream>
#include <map>
#include <optional>
#include <string>
#include <vector>

#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_split.h"
#include "absl/strings/strip.h"
#include "arguments.h"
#include "cir/client.h"
#include "csv.h"
#include "durable_lines.h"
#include "registry_connection.h"
#include "retry.h"

namespace {

using cir_examples::Arguments;

constexpr char kUsage[] =
    "usage: childrens_centre [connection flags] --la CODE [--la CODE ...] [--since YYYY-MM-DD]\n"
    "                        [--until-caught-up] JOURNAL\n";
constexpr char kJournalHeader[] = "local_authority,sequence,kind,child_id,cursor";

// The journal: the events processed, one durable line each, and where they leave the program.
class Journal {
 public:
  static absl::StatusOr<Journal> Open(const std::string& path) {
    Journal journal;
    absl::Status bad_line;
    bool header_seen = false;
    absl::StatusOr<std::unique_ptr<cir_examples::DurableLines>> file =
        cir_examples::DurableLines::Open(path, [&](absl::string_view line) {
          if (!header_seen) {
            header_seen = true;
            if (line != kJournalHeader) bad_line = absl::InvalidArgumentError("not a journal");
            return;
          }
          absl::StatusOr<std::vector<std::string>> fields = cir_examples::ParseCsvLine(line);
          uint64_t sequence = 0;
          if (!fields.ok() || fields->size() != 5 || !absl::SimpleAtoi((*fields)[1], &sequence)) {
            bad_line = absl::InvalidArgumentError(absl::StrCat("cannot read the line: ", line));
            return;
          }
          journal.last_sequence_[(*fields)[0]] = sequence;
          journal.cursor_ = (*fields)[4];
        });
    if (!file.ok()) return file.status();
    if (!bad_line.ok()) return bad_line;
    journal.file_ = *std::move(file);
    if (!header_seen) {
      absl::Status written = journal.file_->Append(kJournalHeader);
      if (!written.ok()) return written;
    }
    return journal;
  }

  // The cursor after the last event processed; empty before the first.
  const std::string& cursor() const { return cursor_; }

  // OK if `event` is the next of its area: the one after the last processed, when the journal
  // has one of that area. FAILED_PRECONDITION for a repeat or a gap, which the registry promises
  // never to send.
  absl::Status CheckOrder(const cir::v1::FeedEvent& event) const {
    auto last = last_sequence_.find(event.local_authority());
    if (last == last_sequence_.end() || event.sequence() == last->second + 1) {
      return absl::OkStatus();
    }
    return absl::FailedPreconditionError(
        absl::StrCat("area ", event.local_authority(), ": event ", event.sequence(), " after ",
                     last->second, event.sequence() <= last->second ? " (a repeat)" : " (a gap)"));
  }

  // Processes `event`: its line, with its cursor, is on disk when this returns OK.
  absl::Status Process(const cir::v1::FeedEvent& event) {
    absl::string_view kind = cir::v1::FeedEventKind_Name(event.kind());
    absl::ConsumePrefix(&kind, "FEED_EVENT_KIND_");
    absl::Status written = file_->Append(
        cir_examples::CsvLine({event.local_authority(), absl::StrCat(event.sequence()),
                               std::string(kind), event.child_id_display(), event.cursor()}));
    if (!written.ok()) return written;
    last_sequence_[event.local_authority()] = event.sequence();
    cursor_ = event.cursor();
    return absl::OkStatus();
  }

  // Whether every event up to the heads a heartbeat carries has been processed.
  bool CaughtUp(const cir::v1::FeedHeartbeat& heartbeat) const {
    for (const cir::v1::FeedHead& head : heartbeat.heads()) {
      auto last = last_sequence_.find(head.local_authority());
      const uint64_t processed = last == last_sequence_.end() ? 0 : last->second;
      if (processed < head.head_sequence()) return false;
    }
    return true;
  }

 private:
  std::unique_ptr<cir_examples::DurableLines> file_;
  std::map<std::string, uint64_t> last_sequence_;  // by area
  std::string cursor_;
};

// What to subscribe to: the areas, after the journal's cursor, or from the start asked for.
absl::StatusOr<cir::v1::SubscribeRequest> SubscribeRequestFor(const Arguments& arguments,
                                                              const Journal& journal) {
  cir::v1::SubscribeRequest request;
  for (const std::string& area : arguments.Values("la")) request.add_local_authorities(area);
  if (request.local_authorities().empty()) return absl::InvalidArgumentError("--la is required");
  if (!journal.cursor().empty()) {
    request.set_after_cursor(journal.cursor());
  } else if (arguments.Has("since")) {
    std::vector<absl::string_view> parts = absl::StrSplit(arguments.Value("since"), '-');
    int year = 0, month = 0, day = 0;
    if (parts.size() != 3 || !absl::SimpleAtoi(parts[0], &year) ||
        !absl::SimpleAtoi(parts[1], &month) || !absl::SimpleAtoi(parts[2], &day)) {
      return absl::InvalidArgumentError("--since is not YYYY-MM-DD");
    }
    request.mutable_since()->set_year(year);
    request.mutable_since()->set_month(month);
    request.mutable_since()->set_day(day);
  } else {
    request.set_from_beginning(true);
  }
  return request;
}

// Whether a stream that ended with `status` is resumed (from the journal's cursor) rather than
// ending the program: it ended for a reason on the way, not because the request is refused.
bool WorthResubscribing(const absl::Status& status) {
  return cir_examples::WorthRetrying(status) || status.code() == absl::StatusCode::kInternal ||
         status.code() == absl::StatusCode::kUnknown;  // how gRPC reports a connection broken
}

}  // namespace

int main(int argc, char** argv) {
  absl::StatusOr<Arguments> arguments =
      Arguments::Parse(argc, argv,
                       cir_examples::WithConnectionFlags(
                           {{"la", true}, {"since", true}, {"until-caught-up", false}}));
  if (!arguments.ok() || arguments->positional().size() != 1) {
    if (!arguments.ok()) std::cerr << arguments.status().message() << "\n";
    std::cerr << kUsage << cir_examples::kConnectionUsage;
    return 2;
  }
  absl::StatusOr<cir::ClientOptions> options = cir_examples::ClientOptionsFrom(*arguments);
  if (!options.ok()) {
    std::cerr << options.status().message() << "\n";
    return 2;
  }
  const std::string journal_path = arguments->positional()[0];
  absl::StatusOr<Journal> journal = Journal::Open(journal_path);
  if (!journal.ok()) {
    std::cerr << journal_path << ": " << journal.status().message() << "\n";
    return 2;
  }

  cir::Client registry(*options);
  cir_examples::Backoff backoff;
  for (;;) {
    // Each (re)subscription starts after the last event the journal holds.
    absl::StatusOr<cir::v1::SubscribeRequest> request = SubscribeRequestFor(*arguments, *journal);
    if (!request.ok()) {
      std::cerr << request.status().message() << "\n";
      return 2;
    }
    std::unique_ptr<cir::FeedSubscription> feed = registry.Subscribe(*request);
    cir::v1::SubscribeResponse message;
    while (feed->Next(&message)) {
      backoff.Reset();  // the registry answered: the next outage starts with a short pause
      for (const cir::v1::FeedEvent& event : message.events()) {
        absl::Status in_order = journal->CheckOrder(event);
        if (!in_order.ok()) {
          std::cerr << in_order.message() << "\n";
          return 1;
        }
        absl::Status processed = journal->Process(event);
        if (!processed.ok()) {
          std::cerr << processed.message() << "\n";
          return 3;
        }
      }
      if (message.has_heartbeat() && arguments->Has("until-caught-up") &&
          journal->CaughtUp(message.heartbeat())) {
        return 0;
      }
    }
    absl::Status ended = feed->Finish();
    if (!WorthResubscribing(ended)) {
      // OUT_OF_RANGE (CURSOR_OUT_OF_RANGE): the registry no longer keeps the events after the
      // cursor; a person must decide how to catch up (--since, or a fresh journal).
      std::cerr << "the feed refused: " << cir::ErrorReasonNameOf(ended) << ": " << ended.message()
                << "\n";
      return 1;
    }
    const absl::Duration pause = backoff.Next();
    std::cerr << "the feed ended (" << ended.code() << " " << cir::ErrorReasonNameOf(ended)
              << "); resuming from the journal's cursor in " << pause << "\n";
    absl::SleepFor(pause);
  }
}
