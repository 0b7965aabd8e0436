#include "feed/feed_cursor.h"

#include <vector>

#include "absl/strings/ascii.h"
#include "absl/strings/escaping.h"
#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_split.h"
#include "errors/refusal.h"

namespace cir::feed {
namespace {

constexpr absl::string_view kCursorVersion = "c2";
constexpr size_t kCheckBytes = 4;
// Far more than any request names (at most 200 areas of 3 digits and a 20-digit sequence).
constexpr size_t kMaxCursorBytes = 8192;

absl::Status Invalid(absl::string_view why) {
  return errors::Refusal(
      absl::StatusCode::kInvalidArgument, v1::CURSOR_INVALID,
      absl::StrCat("after_cursor: ", why, "; pass a cursor exactly as the registry gave it"),
      {{"field", "after_cursor"}});
}

bool IsArea(absl::string_view area) {
  return area.size() == 3 && absl::ascii_isdigit(area[0]) && absl::ascii_isdigit(area[1]) &&
         absl::ascii_isdigit(area[2]);
}

// FNV-1a, 32 bits: every change of one byte changes it.
uint32_t Check(absl::string_view text) {
  uint32_t hash = 2166136261u;
  for (unsigned char c : text) {
    hash ^= c;
    hash *= 16777619u;
  }
  return hash;
}

std::string CheckBytes(absl::string_view text) {
  const uint32_t check = Check(text);
  std::string bytes(kCheckBytes, '\0');
  for (size_t i = 0; i < kCheckBytes; ++i) {
    bytes[i] = static_cast<char>((check >> (8 * (kCheckBytes - 1 - i))) & 0xff);
  }
  return bytes;
}

}  // namespace

std::string EncodeCursor(const FeedPositions& positions) {
  std::string text;
  for (const auto& [area, sequence] : positions) {
    absl::StrAppend(&text, text.empty() ? "" : ",", area, ":", sequence);
  }
  return absl::StrCat(kCursorVersion,
                      absl::WebSafeBase64Escape(absl::StrCat(text, CheckBytes(text))));
}

absl::StatusOr<FeedPositions> DecodeCursor(absl::string_view cursor) {
  if (cursor.size() > kMaxCursorBytes)
    return Invalid("is longer than any cursor the registry makes");
  if (!absl::ConsumePrefix(&cursor, kCursorVersion)) return Invalid("is not a feed cursor");
  std::string text;
  // Only the one spelling EncodeCursor makes (no padding, spaces or stray bits).
  if (!absl::WebSafeBase64Unescape(cursor, &text) || absl::WebSafeBase64Escape(text) != cursor) {
    return Invalid("is damaged");
  }
  if (text.size() < kCheckBytes ||
      CheckBytes(absl::string_view(text).substr(0, text.size() - kCheckBytes)) !=
          absl::string_view(text).substr(text.size() - kCheckBytes)) {
    return Invalid("is damaged or incomplete");
  }
  text.resize(text.size() - kCheckBytes);
  if (text.empty()) return Invalid("is damaged");
  FeedPositions positions;
  for (absl::string_view pair : absl::StrSplit(text, ',')) {
    std::vector<absl::string_view> parts = absl::StrSplit(pair, ':');
    uint64_t sequence = 0;
    if (parts.size() != 2 || !IsArea(parts[0]) || !absl::SimpleAtoi(parts[1], &sequence) ||
        !positions.emplace(std::string(parts[0]), sequence).second) {
      return Invalid("is damaged");
    }
  }
  return positions;
}

}  // namespace cir::feed
