#ifndef CIR_FEED_FEED_READER_H_
#define CIR_FEED_FEED_READER_H_

#include <cstddef>
#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "absl/time/civil_time.h"
#include "cir/v1/registry.pb.h"
#include "feed/feed_cursor.h"
#include "storage/child_store.h"

namespace cir::feed {

// Most local authorities one Subscribe names.
inline constexpr int kMaxSubscribedAreas = 200;
// ListEvents page sizes: the default and the most.
inline constexpr int kDefaultPageSize = 100;
inline constexpr int kMaxPageSize = 1000;

// Where a reader of the feed starts.
struct FeedStart {
  enum class Kind { kAfterCursor, kFromBeginning, kSince };
  Kind kind = Kind::kFromBeginning;
  FeedPositions cursor;  // kAfterCursor
  absl::CivilDay since;  // kSince: the first event recorded on or after midnight in England
};

// A Subscribe or ListEvents request, checked: its areas (canonical, each once) and start.
struct FeedRequest {
  std::vector<std::string> areas;
  FeedStart start;
  int page_size = kDefaultPageSize;  // ListEvents
};

absl::StatusOr<FeedRequest> ValidateSubscribe(const v1::SubscribeRequest& request,
                                              absl::CivilDay today);
absl::StatusOr<FeedRequest> ValidateListEvents(const v1::ListEventsRequest& request,
                                               absl::CivilDay today);

// Reads local authorities' feeds for subscribers: events in commit order across areas, each with
// its area's sequence number and the cursor after it, and what the child's restrictions allow as
// they are when read: an event about a child whose parents object to sharing is withheld (its
// sequence number and cursor kept, nothing else), except the sharing-withdrawn event itself, which
// carries the child identifier alone; a sensitive record's events lose address, postcode and the
// areas of a move.
//
// Thread safety: every method may be called from any thread at once.
class FeedReader {
 public:
  explicit FeedReader(storage::ChildStore& store) : store_(store) {}

  // Where a reader of `request.areas` starts, one position per area in that order. A cursor must
  // cover every area (INVALID_ARGUMENT, CURSOR_AREAS_DIFFER) and lie between an area's earliest
  // kept event and its head (OUT_OF_RANGE, CURSOR_OUT_OF_RANGE, naming the area and its earliest
  // sequence): never a silent jump.
  absl::StatusOr<std::vector<storage::AreaPosition>> Start(const FeedRequest& request);

  // Events read after a position.
  struct Batch {
    std::vector<v1::FeedEvent> events;
    bool at_head = false;  // every area was read to its head: nothing more until new commits
  };

  // The events after `positions`, at most about `limit` of them (at least one per area with
  // events), in commit order, with `positions` advanced past them.
  absl::StatusOr<Batch> ReadNext(std::vector<storage::AreaPosition>& positions, size_t limit);

  // Each area's head, now.
  v1::FeedHeartbeat Heartbeat(const std::vector<std::string>& areas);

  // One page of one area's events (ListEvents).
  absl::StatusOr<v1::ListEventsResponse> List(const FeedRequest& request);

 private:
  storage::ChildStore& store_;
};

}  // namespace cir::feed

#endif  // CIR_FEED_FEED_READER_H_
