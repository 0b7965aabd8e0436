#include "tests/testing/whole_feed.h"

namespace cir::testing {

absl::StatusOr<std::vector<v1::FeedEvent>> WholeFeed(Client& client, const std::string& area) {
  std::vector<v1::FeedEvent> events;
  v1::ListEventsRequest request;
  request.set_local_authority(area);
  request.set_from_beginning(true);
  request.set_page_size(1000);
  for (;;) {
    absl::StatusOr<v1::ListEventsResponse> page = client.ListEvents(request);
    if (!page.ok()) return page.status();
    for (const v1::FeedEvent& event : page->events()) events.push_back(event);
    if (page->at_head()) return events;
    request.set_after_cursor(page->next_cursor());
  }
}

}  // namespace cir::testing
