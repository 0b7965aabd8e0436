// Feed cursors: what EncodeCursor makes, DecodeCursor reads back exactly; anything else (damaged,
// from elsewhere, cut short, naming an area twice, too long) is refused as CURSOR_INVALID.

#include "feed/feed_cursor.h"

#include <cstdint>
#include <limits>
#include <optional>
#include <string>

#include "absl/strings/ascii.h"
#include "absl/strings/escaping.h"
#include "absl/strings/str_cat.h"
#include "errors/refusal.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"

namespace cir::feed {
namespace {

using ::testing::HasSubstr;

// A cursor as feed_cursor.h writes its grammar down, for `positions_text`, with its check: what
// the registry would make of those positions, had it written them.
std::string ForgedCursor(absl::string_view positions_text) {
  uint32_t hash = 2166136261u;  // FNV-1a, 32 bits
  for (unsigned char c : positions_text) {
    hash ^= c;
    hash *= 16777619u;
  }
  std::string payload(positions_text);
  for (int shift = 24; shift >= 0; shift -= 8) payload.push_back(static_cast<char>(hash >> shift));
  return absl::StrCat("c2", absl::WebSafeBase64Escape(payload));
}

// Expects `cursor` to be refused as a cursor the registry did not issue.
void ExpectInvalid(const std::string& cursor) {
  absl::StatusOr<FeedPositions> decoded = DecodeCursor(cursor);
  ASSERT_FALSE(decoded.ok()) << "accepted \"" << cursor << "\"";
  EXPECT_EQ(decoded.status().code(), absl::StatusCode::kInvalidArgument) << decoded.status();
  EXPECT_EQ(errors::ReasonOf(decoded.status()), v1::CURSOR_INVALID) << decoded.status();
  std::optional<google::rpc::ErrorInfo> info = errors::ErrorInfoOf(decoded.status());
  ASSERT_TRUE(info.has_value());
  EXPECT_EQ(info->metadata().at("field"), "after_cursor");
  EXPECT_THAT(decoded.status().message(), HasSubstr("after_cursor"));
}

TEST(FeedCursorTest, ACursorDecodesToThePositionsItWasMadeFrom) {
  const FeedPositions examples[] = {
      {{"938", 0}},
      {{"938", 42}},
      {{"201", 7}, {"873", 0}, {"938", 1234567}},
      {{"202", std::numeric_limits<uint64_t>::max()}},
  };
  for (const FeedPositions& positions : examples) {
    const std::string cursor = EncodeCursor(positions);
    absl::StatusOr<FeedPositions> decoded = DecodeCursor(cursor);
    ASSERT_TRUE(decoded.ok()) << decoded.status();
    EXPECT_EQ(*decoded, positions);
  }
}

TEST(FeedCursorTest, ACursorIsWrittenAsItsGrammarSays) {
  EXPECT_EQ(EncodeCursor({{"201", 7}, {"938", 42}}), ForgedCursor("201:7,938:42"));
  EXPECT_EQ(EncodeCursor({{"938", 0}}), ForgedCursor("938:0"));
}

TEST(FeedCursorTest, ACursorWithoutItsCheckIsRefused) {
  // Positions alone, as a cursor without the check would hold them: refused, since nothing tells
  // such a cursor from one cut short.
  ExpectInvalid(absl::StrCat("c1", absl::WebSafeBase64Escape("201:7,938:42")));
  ExpectInvalid(absl::StrCat("c2", absl::WebSafeBase64Escape("201:7,938:42")));
}

TEST(FeedCursorTest, ACursorIsMadeOfCharactersSafeInAUrlAndAFileName) {
  const std::string cursor = EncodeCursor({{"201", 7}, {"938", 99}});
  for (char c : cursor) {
    EXPECT_TRUE(absl::ascii_isalnum(static_cast<unsigned char>(c)) || c == '-' || c == '_')
        << "'" << c << "' in " << cursor;
  }
  // Positions that differ make cursors that differ.
  EXPECT_NE(cursor, EncodeCursor({{"201", 7}, {"938", 98}}));
  EXPECT_NE(cursor, EncodeCursor({{"201", 7}}));
}

TEST(FeedCursorTest, ADamagedCursorIsRefused) {
  const FeedPositions positions = {{"201", 7}, {"938", 42}};
  const std::string cursor = EncodeCursor(positions);
  // A character that base64url never uses, in the middle and at the end.
  std::string middle = cursor;
  middle[middle.size() / 2] = '!';
  ExpectInvalid(middle);
  ExpectInvalid(cursor + "=");
  ExpectInvalid(cursor + " ");
  // Every single character replaced by another base64url character.
  const std::string alphabet = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_";
  for (size_t i = 2; i < cursor.size(); ++i) {
    for (char c : alphabet) {
      if (c == cursor[i]) continue;
      std::string damaged = cursor;
      damaged[i] = c;
      absl::StatusOr<FeedPositions> decoded = DecodeCursor(damaged);
      const bool read_as_others = decoded.ok() && *decoded != positions;
      EXPECT_FALSE(read_as_others)
          << "character " << i << " changed to '" << c << "' reads as other positions";
    }
  }
}

TEST(FeedCursorTest, ACursorFromElsewhereIsRefused) {
  ExpectInvalid("");
  ExpectInvalid("not a cursor");
  ExpectInvalid("c1");
  ExpectInvalid("c2");
  ExpectInvalid("c2AAAA");  // too short to hold its check
  ExpectInvalid(ForgedCursor("938:1").replace(0, 2, "c9"));
  ExpectInvalid(ForgedCursor("938:1").substr(2));  // without the version
  ExpectInvalid("9990000018");                     // an identifier pasted in its place
  // A checked cursor of text that is not positions, and one without its check.
  for (const char* text : {"", "938", "938:", ":5", "93:5", "9380:5", "abc:5", "938:-1", "938:1x",
                           "938:1,", ",938:1", "938:18446744073709551616", "938 :1"}) {
    ExpectInvalid(ForgedCursor(text));
    ExpectInvalid(absl::StrCat("c1", absl::WebSafeBase64Escape(text)));
  }
}

TEST(FeedCursorTest, ATruncatedCursorIsRefused) {
  // Sequences of several digits: a cursor cut short must not read as a smaller sequence (which
  // would hand the subscriber events it already has) or as fewer areas.
  const FeedPositions positions = {{"201", 12345}, {"873", 8}, {"938", 987654}};
  const std::string cursor = EncodeCursor(positions);
  for (size_t length = 0; length < cursor.size(); ++length) {
    const std::string cut = cursor.substr(0, length);
    absl::StatusOr<FeedPositions> decoded = DecodeCursor(cut);
    EXPECT_FALSE(decoded.ok()) << "cut to " << length << " of " << cursor.size()
                               << " characters, it reads as a cursor";
    if (!decoded.ok()) {
      EXPECT_EQ(decoded.status().code(), absl::StatusCode::kInvalidArgument);
      EXPECT_EQ(errors::ReasonOf(decoded.status()), v1::CURSOR_INVALID);
    }
  }
}

TEST(FeedCursorTest, ACursorNamingAnAreaTwiceIsRefused) {
  ExpectInvalid(ForgedCursor("938:1,938:2"));
  ExpectInvalid(ForgedCursor("938:1,201:4,938:1"));
  ExpectInvalid(absl::StrCat("c1", absl::WebSafeBase64Escape("938:1,938:2")));
}

TEST(FeedCursorTest, AnOversizedCursorIsRefusedWithoutBeingRead) {
  // Positions for more areas than any request may name, each well-formed.
  std::string text;
  for (int area = 100; area < 1000; ++area) {
    absl::StrAppend(&text, text.empty() ? "" : ",", area, ":", 18446744073709551615u);
  }
  const std::string oversized = ForgedCursor(text);
  ASSERT_GT(oversized.size(), 8192u);
  ExpectInvalid(oversized);
  ExpectInvalid(absl::StrCat("c1", absl::WebSafeBase64Escape(text)));
  ExpectInvalid(std::string(1 << 20, 'A'));
  // The largest cursor a request can need (200 areas at the largest sequence) is read.
  FeedPositions most;
  for (int area = 100; area < 300; ++area) {
    most[absl::StrCat(area)] = std::numeric_limits<uint64_t>::max();
  }
  absl::StatusOr<FeedPositions> decoded = DecodeCursor(EncodeCursor(most));
  ASSERT_TRUE(decoded.ok()) << decoded.status();
  EXPECT_EQ(*decoded, most);
}

}  // namespace
}  // namespace cir::feed
