#ifndef CIR_FEED_FEED_CURSOR_H_
#define CIR_FEED_FEED_CURSOR_H_

#include <cstdint>
#include <map>
#include <string>

#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"

namespace cir::feed {

// Where a subscriber stands in the feeds of its local authorities: for each area, the sequence
// number of the last event it has (0 before the first).
using FeedPositions = std::map<std::string, uint64_t>;

// The cursor handed out with each event: opaque to callers, it is
//   cursor    := "c2" base64url-without-padding(positions check)
//   positions := area ":" sequence ("," area ":" sequence)*
//   check     := FNV-1a 32-bit hash of positions (4 bytes, big-endian)
// with areas (three digits) in ascending order and sequences in decimal. The check makes a cursor
// cut short or damaged in a subscriber's keeping a refusal, not other positions (a cursor cut by
// one character would otherwise read as a smaller sequence, and replay events already processed).
// It holds positions, not secrets: a caller can only ever be served what its areas' feeds hold.
std::string EncodeCursor(const FeedPositions& positions);

// INVALID_ARGUMENT (CURSOR_INVALID) for anything EncodeCursor did not make.
absl::StatusOr<FeedPositions> DecodeCursor(absl::string_view cursor);

}  // namespace cir::feed

#endif  // CIR_FEED_FEED_CURSOR_H_
