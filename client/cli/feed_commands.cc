#include "client/cli/feed_commands.h"

#include <iostream>

#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "absl/strings/str_join.h"
#include "absl/strings/strip.h"
#include "client/cli/record_printer.h"

namespace cir::cli {
namespace {

// Sets the start of a Subscribe or ListEvents request from the options; false on bad usage.
template <typename Request>
bool SetStart(Request& request, const std::string& cursor, bool from_start,
              const std::string& since) {
  const int given = !cursor.empty() + from_start + !since.empty();
  if (given != 1) return false;
  if (!cursor.empty()) {
    request.set_after_cursor(cursor);
  } else if (from_start) {
    request.set_from_beginning(true);
  } else {
    std::optional<v1::Date> date = ParseDate(since);
    if (!date.has_value()) return false;
    *request.mutable_since() = *date;
  }
  return true;
}

std::string KindName(v1::FeedEventKind kind) {
  absl::string_view name = v1::FeedEventKind_Name(kind);
  absl::ConsumePrefix(&name, "FEED_EVENT_KIND_");
  return std::string(name);
}

// One event as a line for people: area, sequence, kind, child, and what a centre needs.
std::string EventLine(const v1::FeedEvent& event) {
  std::string line = absl::StrFormat("%s #%d %s", event.local_authority(), event.sequence(),
                                     KindName(event.kind()));
  if (!event.child_id_display().empty()) absl::StrAppend(&line, " ", event.child_id_display());
  if (!event.other_child_id().empty())
    absl::StrAppend(&line, " (with ", event.other_child_id(), ")");
  if (event.has_child()) {
    const v1::CentreChild& child = event.child();
    std::vector<std::string> name;
    for (const std::string& part : {child.given_name(), child.family_name()}) {
      if (!part.empty()) name.push_back(part);
    }
    absl::StrAppend(&line, " ", name.empty() ? "(unnamed)" : absl::StrJoin(name, " "));
    absl::StrAppend(&line,
                    absl::StrFormat(" born %04d-%02d-%02d", child.date_of_birth().year(),
                                    child.date_of_birth().month(), child.date_of_birth().day()));
    if (child.restricted()) {
      absl::StrAppend(&line, " (address restricted)");
    } else if (!child.postcode().empty()) {
      absl::StrAppend(&line, " at ", absl::StrJoin(child.address_lines(), ", "),
                      child.address_lines().empty() ? "" : ", ", child.postcode());
    }
  }
  if (!event.moved_from_local_authority().empty() && event.kind() == v1::FEED_EVENT_KIND_MOVED_IN) {
    absl::StrAppend(&line, " from ", event.moved_from_local_authority());
  }
  if (!event.moved_to_local_authority().empty() && event.kind() == v1::FEED_EVENT_KIND_MOVED_OUT) {
    absl::StrAppend(&line, " to ", event.moved_to_local_authority());
  }
  return line;
}

}  // namespace

FeedCommands::FeedCommands(CLI::App& app) {
  watch_ = app.add_subcommand(
      "watch", "follow local authorities' feeds, printing events as they arrive (Ctrl-C ends)");
  watch_->add_option("--la", watch_areas_, "a DfE local authority number (repeat for more)")
      ->required();
  watch_->add_option("--from", watch_cursor_, "resume after this cursor");
  watch_->add_flag("--from-start", watch_from_start_, "start from each area's first event");
  watch_->add_option("--since", watch_since_, "start from events recorded on or after YYYY-MM-DD");
  watch_->add_option("--max-events", watch_max_events_, "stop after this many events")
      ->check(CLI::PositiveNumber);

  events_ = app.add_subcommand("events", "print one page of a local authority's feed");
  events_->add_option("--la", events_area_, "the DfE local authority number")->required();
  events_->add_option("--after", events_cursor_, "the events after this cursor");
  events_->add_flag("--from-start", events_from_start_, "from the area's first event");
  events_->add_option("--since", events_since_, "from events recorded on or after YYYY-MM-DD");
  events_->add_option("--page-size", events_page_size_, "events per page, 1-1000 (default 100)");
}

std::optional<int> FeedCommands::Run(Client& client, const GlobalOptions& global) {
  if (watch_->parsed()) return Watch(client, global);
  if (events_->parsed()) return Events(client, global);
  return std::nullopt;
}

int FeedCommands::Watch(Client& client, const GlobalOptions& global) {
  v1::SubscribeRequest request;
  for (const std::string& area : watch_areas_) request.add_local_authorities(area);
  if (!SetStart(request, watch_cursor_, watch_from_start_, watch_since_)) {
    return UsageError("give exactly one of --from CURSOR, --from-start, --since YYYY-MM-DD");
  }
  std::unique_ptr<FeedSubscription> subscription = client.Subscribe(request);
  std::string last_cursor = watch_cursor_;
  int64_t received = 0;
  v1::SubscribeResponse message;
  while (subscription->Next(&message)) {
    if (message.events().empty()) {
      if (global.json()) std::cout << ToJson(message) << std::endl;
      continue;
    }
    for (const v1::FeedEvent& event : message.events()) {
      // One event a line, so that a line printed is an event processed.
      last_cursor = event.cursor();
      if (global.json()) {
        v1::SubscribeResponse one;  // a line per event, in the form of the stream's messages
        *one.add_events() = event;
        std::cout << ToJson(one) << std::endl;
      } else {
        // The cursor on every line, so that a watch ended any way (Ctrl-C) can be resumed.
        std::cout << EventLine(event) << "  [" << event.cursor() << "]" << std::endl;
      }
      if (watch_max_events_ > 0 && ++received >= watch_max_events_) break;
    }
    if (watch_max_events_ > 0 && received >= watch_max_events_) {
      subscription->Cancel();
      break;
    }
  }
  absl::Status ended = subscription->Finish();
  if (!last_cursor.empty()) std::cerr << "resume with --from " << last_cursor << "\n";
  if (ended.ok() || (watch_max_events_ > 0 && received >= watch_max_events_)) return 0;
  return Fail(ended);
}

int FeedCommands::Events(Client& client, const GlobalOptions& global) {
  v1::ListEventsRequest request;
  request.set_local_authority(events_area_);
  request.set_page_size(events_page_size_);
  if (!SetStart(request, events_cursor_, events_from_start_, events_since_)) {
    return UsageError("give exactly one of --after CURSOR, --from-start, --since YYYY-MM-DD");
  }
  absl::StatusOr<v1::ListEventsResponse> page =
      client.ListEvents(request, {.timeout = absl::Seconds(global.timeout_seconds)});
  if (!page.ok()) return Fail(page.status());
  if (global.json()) {
    std::cout << ToJson(*page) << "\n";
    return 0;
  }
  for (const v1::FeedEvent& event : page->events()) std::cout << EventLine(event) << "\n";
  std::cerr << page->events_size() << " events; head " << page->head_sequence()
            << (page->at_head() ? " (up to date)" : " (more to fetch)") << "\nnext: --after "
            << page->next_cursor() << "\n";
  return 0;
}

}  // namespace cir::cli
