#include "feed/feed_reader.h"

#include <algorithm>
#include <limits>
#include <map>
#include <optional>
#include <utility>

#include "absl/container/flat_hash_map.h"
#include "absl/strings/str_cat.h"
#include "absl/time/clock.h"
#include "errors/refusal.h"
#include "identifiers/child_id.h"
#include "identifiers/local_authority.h"
#include "registry/birth_validation.h"
#include "registry/field_validation.h"
#include "registry/record_mapping.h"
#include "registry/status_macros.h"

namespace cir::feed {
namespace {

using storage::AreaPosition;
using storage::StoredChild;
using storage::StoredFeedEvent;

absl::StatusOr<std::string> AreaField(absl::string_view input, absl::string_view field) {
  if (input.empty()) {
    return errors::InvalidField(field, "required; a DfE three-digit local authority number",
                                v1::FIELD_REQUIRED);
  }
  absl::StatusOr<std::string> area = identifiers::ParseLocalAuthority(input);
  if (!area.ok()) return registry::FieldError(field, area.status());
  return area;
}

// The start of a Subscribe or ListEvents request, which share its fields.
template <typename Request>
absl::StatusOr<FeedStart> ValidateStart(const Request& request, absl::CivilDay today) {
  FeedStart start;
  switch (request.start_case()) {
    case Request::kAfterCursor: {
      start.kind = FeedStart::Kind::kAfterCursor;
      CIR_ASSIGN_OR_RETURN(start.cursor, DecodeCursor(request.after_cursor()));
      return start;
    }
    case Request::kFromBeginning:
      if (!request.from_beginning()) break;
      start.kind = FeedStart::Kind::kFromBeginning;
      return start;
    case Request::kSince: {
      start.kind = FeedStart::Kind::kSince;
      CIR_ASSIGN_OR_RETURN(start.since,
                           registry::ValidateCalendarDate(request.since(), "since", today));
      return start;
    }
    default:
      break;
  }
  return errors::InvalidField(
      "after_cursor",
      "required; say where to start: after_cursor (the cursor of the last event processed), "
      "from_beginning, or since (a date)",
      v1::FIELD_REQUIRED);
}

// The restrictions an event is read under: the child's, and its survivor's if it was merged.
struct Restrictions {
  bool objection = false;
  bool sensitive = false;
};

v1::FeedEvent ToFeedEvent(const StoredFeedEvent& stored, Restrictions restrictions) {
  v1::FeedEvent event;
  event.set_local_authority(stored.local_authority());
  event.set_sequence(stored.area_sequence());
  event.set_recorded_at_unix_micros(stored.recorded_at_unix_micros());
  if (restrictions.objection && stored.kind() != v1::FEED_EVENT_KIND_SHARING_WITHDRAWN) {
    event.set_kind(v1::FEED_EVENT_KIND_WITHHELD);
    return event;
  }
  event.set_kind(static_cast<v1::FeedEventKind>(stored.kind()));
  event.set_child_id(stored.child_id());
  event.set_child_id_display(identifiers::FormatChildId(stored.child_id()));
  event.set_record_version(stored.child_version());
  registry::ToDate(stored.effective_date(), event.mutable_effective_date());
  event.set_made_by(stored.made_by());
  event.set_other_child_id(stored.other_child_id());
  if (stored.kind() == v1::FEED_EVENT_KIND_SHARING_WITHDRAWN) return event;
  if (!restrictions.sensitive) {
    event.set_moved_from_local_authority(stored.moved_from());
    event.set_moved_to_local_authority(stored.moved_to());
  }
  if (!stored.has_child()) return event;
  const storage::StoredCentreView& view = stored.child();
  v1::CentreChild* child = event.mutable_child();
  child->set_given_name(view.given_name());
  child->set_family_name(view.family_name());
  registry::ToDate(view.date_of_birth(), child->mutable_date_of_birth());
  child->set_sex(static_cast<v1::Sex>(view.sex()));
  if (restrictions.sensitive) {
    child->set_restricted(true);
  } else {
    child->mutable_address_lines()->CopyFrom(view.address_lines());
    child->set_postcode(view.postcode());
  }
  child->set_mother_given_name(view.mother_given_name());
  child->set_mother_family_name(view.mother_family_name());
  child->set_birth_order(view.birth_order());
  child->set_status(static_cast<v1::RecordStatus>(view.status()));
  child->set_death_kind(static_cast<v1::DeathKind>(view.death_kind()));
  if (view.has_date_of_death()) {
    registry::ToDate(view.date_of_death(), child->mutable_date_of_death());
  }
  return event;
}

// The restrictions of every child `events` are about, as the records say now.
absl::StatusOr<absl::flat_hash_map<std::string, Restrictions>> ReadRestrictions(
    storage::ChildStore& store, const std::vector<const StoredFeedEvent*>& events) {
  std::vector<std::string> ids;
  absl::flat_hash_map<std::string, Restrictions> restrictions;
  for (const StoredFeedEvent* event : events) {
    if (restrictions.emplace(event->child_id(), Restrictions{}).second) {
      ids.push_back(event->child_id());
    }
  }
  std::vector<absl::StatusOr<std::optional<StoredChild>>> children = store.GetChildren(ids);
  std::vector<std::string> survivors;
  std::vector<std::string> merged;
  for (size_t i = 0; i < children.size(); ++i) {
    if (!children[i].ok()) return children[i].status();
    if (!children[i]->has_value()) {
      return errors::Refusal(absl::StatusCode::kInternal, v1::INTERNAL_ERROR,
                             "a feed event names a child that is not stored");
    }
    const StoredChild& child = **children[i];
    restrictions[ids[i]] = {child.sharing_objection(), child.sensitive()};
    if (child.status() == v1::RECORD_STATUS_MERGED) {
      survivors.push_back(child.merged_into());
      merged.push_back(ids[i]);
    }
  }
  // A retired record's events follow its survivor's restrictions too (set there since).
  std::vector<absl::StatusOr<std::optional<StoredChild>>> surviving = store.GetChildren(survivors);
  for (size_t i = 0; i < surviving.size(); ++i) {
    if (!surviving[i].ok()) return surviving[i].status();
    if (!surviving[i]->has_value()) continue;
    Restrictions& r = restrictions[merged[i]];
    r.objection |= (*surviving[i])->sharing_objection();
    r.sensitive |= (*surviving[i])->sensitive();
  }
  return restrictions;
}

absl::Status OutOfRange(const std::string& area, uint64_t earliest, absl::string_view why) {
  return errors::Refusal(
      absl::StatusCode::kOutOfRange, v1::CURSOR_OUT_OF_RANGE,
      absl::StrCat("after_cursor: for local authority ", area, ", ", why,
                   "; the earliest event it can serve is sequence ", earliest,
                   " (start from_beginning to get it, and check for what was missed)"),
      {{"field", "after_cursor"},
       {"local_authority", area},
       {"earliest_sequence", absl::StrCat(earliest)}});
}

}  // namespace

absl::StatusOr<FeedRequest> ValidateSubscribe(const v1::SubscribeRequest& request,
                                              absl::CivilDay today) {
  FeedRequest feed;
  if (request.local_authorities().empty()) {
    return errors::InvalidField("local_authorities",
                                "required; the DfE three-digit numbers of the areas to follow",
                                v1::FIELD_REQUIRED);
  }
  if (request.local_authorities_size() > kMaxSubscribedAreas) {
    return errors::InvalidField("local_authorities",
                                absl::StrCat("at most ", kMaxSubscribedAreas, " per stream, got ",
                                             request.local_authorities_size()));
  }
  for (const std::string& input : request.local_authorities()) {
    CIR_ASSIGN_OR_RETURN(std::string area, AreaField(input, "local_authorities"));
    if (std::find(feed.areas.begin(), feed.areas.end(), area) != feed.areas.end()) {
      return errors::InvalidField("local_authorities", "names an area twice");
    }
    feed.areas.push_back(std::move(area));
  }
  CIR_ASSIGN_OR_RETURN(feed.start, ValidateStart(request, today));
  return feed;
}

absl::StatusOr<FeedRequest> ValidateListEvents(const v1::ListEventsRequest& request,
                                               absl::CivilDay today) {
  FeedRequest feed;
  CIR_ASSIGN_OR_RETURN(std::string area, AreaField(request.local_authority(), "local_authority"));
  feed.areas.push_back(std::move(area));
  if (request.page_size() < 0 || request.page_size() > kMaxPageSize) {
    return errors::InvalidField(
        "page_size",
        absl::StrCat("must be 1 to ", kMaxPageSize, " (0 or unset means ", kDefaultPageSize, ")"));
  }
  feed.page_size = request.page_size() == 0 ? kDefaultPageSize : request.page_size();
  CIR_ASSIGN_OR_RETURN(feed.start, ValidateStart(request, today));
  return feed;
}

absl::StatusOr<std::vector<AreaPosition>> FeedReader::Start(const FeedRequest& request) {
  std::vector<AreaPosition> positions;
  for (const std::string& area : request.areas) positions.push_back({area, 0});
  // Each area's earliest kept event and head, from one read of no events.
  CIR_ASSIGN_OR_RETURN(std::vector<storage::AreaFeedPage> bounds,
                       store_.ReadAreaFeeds(positions, 0));
  for (size_t i = 0; i < positions.size(); ++i) {
    const std::string& area = positions[i].local_authority;
    const uint64_t earliest = bounds[i].earliest;
    const uint64_t head = bounds[i].head;
    switch (request.start.kind) {
      case FeedStart::Kind::kFromBeginning:
        positions[i].after_sequence = earliest - 1;
        break;
      case FeedStart::Kind::kSince: {
        CIR_ASSIGN_OR_RETURN(
            positions[i].after_sequence,
            store_.AreaSequenceBefore(area, registry::StartOfDayInEngland(request.start.since)));
        positions[i].after_sequence = std::max(positions[i].after_sequence, earliest - 1);
        break;
      }
      case FeedStart::Kind::kAfterCursor: {
        auto it = request.start.cursor.find(area);
        if (it == request.start.cursor.end()) {
          return errors::Refusal(
              absl::StatusCode::kInvalidArgument, v1::CURSOR_AREAS_DIFFER,
              absl::StrCat("after_cursor: does not cover local authority ", area,
                           "; resume with a cursor from a stream of the same areas, and follow a "
                           "new area from_beginning on a stream of its own"),
              {{"field", "after_cursor"}, {"local_authority", area}});
        }
        if (it->second + 1 < earliest) {
          return OutOfRange(area, earliest, "the events after this cursor are no longer kept");
        }
        if (it->second > head) {
          return OutOfRange(area, earliest,
                            absl::StrCat("the cursor is beyond the newest event (", head,
                                         "), so it was not issued by this registry's feed"));
        }
        positions[i].after_sequence = it->second;
        break;
      }
    }
  }
  return positions;
}

absl::StatusOr<FeedReader::Batch> FeedReader::ReadNext(std::vector<AreaPosition>& positions,
                                                       size_t limit) {
  if (positions.empty()) return Batch{{}, true};
  const size_t per_area = std::max<size_t>(1, limit / positions.size());
  CIR_ASSIGN_OR_RETURN(std::vector<storage::AreaFeedPage> pages,
                       store_.ReadAreaFeeds(positions, per_area));
  // An area whose page is full may have more events before the others' later ones: only events
  // up to the earliest such page's last are in commit order for sure.
  uint64_t cutoff = std::numeric_limits<uint64_t>::max();
  bool at_head = true;
  for (const storage::AreaFeedPage& page : pages) {
    if (page.events.size() == per_area) {
      cutoff = std::min(cutoff, page.events.back().event_sequence());
      at_head = at_head && page.events.back().area_sequence() >= page.head;
    }
  }
  struct Next {
    uint64_t event_sequence;
    size_t area;
    const StoredFeedEvent* event;
  };
  std::vector<Next> next;
  std::vector<const StoredFeedEvent*> events;
  for (size_t a = 0; a < pages.size(); ++a) {
    uint64_t expected = positions[a].after_sequence + 1;
    for (const StoredFeedEvent& event : pages[a].events) {
      if (event.area_sequence() != expected) {
        // Retention removed events this reader had not yet read.
        return OutOfRange(positions[a].local_authority, pages[a].earliest,
                          "the events after this position are no longer kept");
      }
      ++expected;
      if (event.event_sequence() > cutoff) {
        at_head = false;  // left for the next read
        break;
      }
      next.push_back({event.event_sequence(), a, &event});
      events.push_back(&event);
    }
  }
  // Commit order, and within one change the order its events were written in.
  std::sort(next.begin(), next.end(), [](const Next& x, const Next& y) {
    return std::make_pair(x.event_sequence, x.event->place_in_change()) <
           std::make_pair(y.event_sequence, y.event->place_in_change());
  });
  CIR_ASSIGN_OR_RETURN(auto restrictions, ReadRestrictions(store_, events));
  FeedPositions cursor;
  for (const AreaPosition& position : positions) {
    cursor[position.local_authority] = position.after_sequence;
  }
  Batch batch;
  batch.at_head = at_head;
  std::vector<v1::FeedEvent>& out = batch.events;
  out.reserve(next.size());
  for (const Next& n : next) {
    v1::FeedEvent event = ToFeedEvent(*n.event, restrictions[n.event->child_id()]);
    positions[n.area].after_sequence = n.event->area_sequence();
    cursor[positions[n.area].local_authority] = n.event->area_sequence();
    event.set_cursor(EncodeCursor(cursor));
    out.push_back(std::move(event));
  }
  return batch;
}

v1::FeedHeartbeat FeedReader::Heartbeat(const std::vector<std::string>& areas) {
  v1::FeedHeartbeat heartbeat;
  std::vector<uint64_t> heads = store_.AreaHeads(areas);
  for (size_t i = 0; i < areas.size(); ++i) {
    v1::FeedHead* head = heartbeat.add_heads();
    head->set_local_authority(areas[i]);
    head->set_head_sequence(heads[i]);
  }
  heartbeat.set_sent_at_unix_micros(absl::ToUnixMicros(absl::Now()));
  return heartbeat;
}

absl::StatusOr<v1::ListEventsResponse> FeedReader::List(const FeedRequest& request) {
  CIR_ASSIGN_OR_RETURN(std::vector<AreaPosition> positions, Start(request));
  CIR_ASSIGN_OR_RETURN(Batch batch, ReadNext(positions, static_cast<size_t>(request.page_size)));
  v1::ListEventsResponse response;
  for (v1::FeedEvent& event : batch.events) *response.add_events() = std::move(event);
  response.set_next_cursor(
      EncodeCursor({{positions[0].local_authority, positions[0].after_sequence}}));
  // The head as read now: at_head if nothing after the page was committed before this read.
  const uint64_t head = std::max(store_.AreaHeads(request.areas)[0], positions[0].after_sequence);
  response.set_head_sequence(head);
  response.set_at_head(positions[0].after_sequence >= head);
  return response;
}

}  // namespace cir::feed
