#include "identifiers/child_id.h"

#include <set>

#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "identifiers/identifier.h"
#include "identifiers/nhs_number.h"
#include "identifiers/upn.h"

namespace cir::identifiers {
namespace {

using ::testing::HasSubstr;

// A valid identifier built from any ten characters of the alphabet (first a letter).
std::string WithCheck(std::string first_ten) {
  return first_ten + ChildIdCheckCharacter(first_ten);
}

TEST(ChildId, GeneratedIdentifiersAreValidElevenCharactersStartingWithALetter) {
  for (int i = 0; i < 1000; ++i) {
    std::string id = GenerateChildId();
    ASSERT_EQ(id.size(), 11u);
    EXPECT_TRUE(ParseChildId(id).ok()) << id;
    EXPECT_NE(kChildIdAlphabet.substr(0, 20).find(id[0]), absl::string_view::npos) << id;
  }
}

TEST(ChildId, IdentifiersIssuedInBulkAreUnique) {
  std::set<std::string> seen;
  for (int i = 0; i < 200000; ++i) seen.insert(GenerateChildId());
  EXPECT_EQ(seen.size(), 200000u);
}

TEST(ChildId, EveryCharacterOfTheAlphabetAppearsInEveryPayloadPosition) {
  // Uniformity, coarsely: nothing about position or order constrains the characters drawn.
  std::vector<std::set<char>> seen(11);
  for (int i = 0; i < 20000; ++i) {
    std::string id = GenerateChildId();
    for (int p = 0; p < 10; ++p) seen[p].insert(id[p]);
  }
  EXPECT_EQ(seen[0].size(), 20u);  // letters only
  for (int p = 1; p < 10; ++p) EXPECT_EQ(seen[p].size(), 23u) << "position " << p;
}

TEST(ChildId, TheAlphabetHasNoLookAlikeCharacters) {
  for (char c : std::string("0O1I")) {
    EXPECT_EQ(kChildIdAlphabet.find(c), absl::string_view::npos) << c;
  }
  // Of each pair of characters easily read as one another, at most one is in the alphabet.
  for (const char* pair : {"2Z", "5S", "6G", "8B", "9Q", "UV", "1L", "1T"}) {
    bool first = kChildIdAlphabet.find(pair[0]) != absl::string_view::npos;
    bool second = kChildIdAlphabet.find(pair[1]) != absl::string_view::npos;
    EXPECT_FALSE(first && second) << pair;
  }
}

// Detection depends only on the position changed and the two characters involved (the weighted
// sum is linear), so trying every character pair at every position is an exhaustive proof.
TEST(ChildId, DetectsEverySingleCharacterSubstitutionExhaustively) {
  int tried = 0;
  for (int position = 0; position < kChildIdLength; ++position) {
    for (char original : kChildIdAlphabet) {
      std::string base = "KDMX4PARTW";
      // For the check position, vary the tenth character until the check comes out `original`.
      int varied = position < kChildIdLength - 1 ? position : 9;
      std::string id;
      for (char filler : kChildIdAlphabet) {
        base[varied] = position < kChildIdLength - 1 ? original : filler;
        id = WithCheck(base);
        if (position < kChildIdLength - 1 || id[position] == original) break;
      }
      if (id[position] != original || !ParseChildId(id).ok()) continue;  // digit first: no id
      for (char replacement : kChildIdAlphabet) {
        if (replacement == original) continue;
        std::string mistyped = id;
        mistyped[position] = replacement;
        EXPECT_FALSE(ParseChildId(mistyped).ok()) << id << " -> " << mistyped;
        ++tried;
      }
    }
  }
  // First position: 20 letters; nine payload positions and the check: 23 characters; each with
  // every other character of the alphabet in its place.
  EXPECT_EQ(tried, 20 * 22 + 10 * 23 * 22);
}

TEST(ChildId, DetectsEveryAdjacentTranspositionExhaustively) {
  int tried = 0;
  for (int position = 0; position + 1 < kChildIdLength; ++position) {
    for (char a : kChildIdAlphabet) {
      for (char b : kChildIdAlphabet) {
        if (a == b) continue;
        std::string base = "KDMX4PARTW";
        std::string id;
        if (position + 1 < kChildIdLength - 1) {
          base[position] = a;
          base[position + 1] = b;
          id = WithCheck(base);
        } else {
          // Swapping the last payload character with the check: choose the payload character `a`
          // and keep only those bases whose check comes out as `b`.
          base[position] = a;
          id = WithCheck(base);
          if (id[position + 1] != b) continue;
        }
        if (!ParseChildId(id).ok()) continue;  // first character a digit: not an identifier
        std::string swapped = id;
        std::swap(swapped[position], swapped[position + 1]);
        EXPECT_FALSE(ParseChildId(swapped).ok()) << id << " -> " << swapped;
        ++tried;
      }
    }
  }
  // The first pair needs a letter first (20 x 22), the eight pairs inside the payload take any two
  // different characters (23 x 22 each), and for the last payload character against the check,
  // each of the 22 other characters comes out as the check exactly once.
  EXPECT_EQ(tried, 20 * 22 + 8 * 23 * 22 + 22);
}

TEST(ChildId, TranspositionWithTheCheckCharacterIsDetectedForEveryPair) {
  // Exhaustive over every (last payload, check) pair: vary the ninth character so that every
  // check character value arises with every tenth character.
  int tried = 0;
  for (char ninth : kChildIdAlphabet) {
    for (char tenth : kChildIdAlphabet) {
      std::string base = "KDMX4PAR";
      base.push_back(ninth);
      base.push_back(tenth);
      std::string id = WithCheck(base);
      if (id[9] == id[10]) continue;
      std::string swapped = id;
      std::swap(swapped[9], swapped[10]);
      EXPECT_FALSE(ParseChildId(swapped).ok()) << id << " -> " << swapped;
      ++tried;
    }
  }
  // Every ordered pair of different characters: the check takes each value for each tenth
  // character exactly once as the ninth runs through the alphabet.
  EXPECT_EQ(tried, 23 * 22);
}

TEST(ChildId, IsReadCaseInsensitivelyAndWithSeparators) {
  const std::string valid = WithCheck("KDMX4PARTW");
  std::string display = FormatChildId(valid);
  EXPECT_EQ(display.size(), 13u);
  EXPECT_EQ(display[4], '-');
  EXPECT_EQ(display[9], '-');
  std::string lower = display;
  for (char& c : lower) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  EXPECT_EQ(*ParseChildId(lower), valid);
  EXPECT_EQ(*ParseChildId(valid.substr(0, 4) + " " + valid.substr(4)), valid);
}

TEST(ChildId, RejectsMalformedInputWithAPreciseMessage) {
  EXPECT_THAT(ParseChildId("").status().message(), HasSubstr("empty"));
  EXPECT_THAT(ParseChildId("KDMX4PART").status().message(), HasSubstr("11 characters"));
  EXPECT_THAT(ParseChildId("KDMX4PARTW0").status().message(), HasSubstr("'0'"));
  EXPECT_THAT(ParseChildId(WithCheck("3DMX4PARTW")).status().message(),
              HasSubstr("start with a letter"));
}

TEST(ChildId, IsNeverMistakenForAnNhsNumberOrAUpn) {
  for (int i = 0; i < 2000; ++i) {
    std::string id = GenerateChildId();
    EXPECT_FALSE(ParseNhsNumber(id).ok());
    EXPECT_FALSE(ParseUpn(id).ok());
    absl::StatusOr<Identifier> detected = ParseAnyIdentifier(FormatChildId(id));
    ASSERT_TRUE(detected.ok());
    EXPECT_EQ(detected->kind, IdentifierKind::kChildId);
  }
}

TEST(AnyIdentifier, DetectsEachKindByItsShape) {
  EXPECT_EQ(ParseAnyIdentifier("999 000 0018")->kind, IdentifierKind::kNhsNumber);
  EXPECT_EQ(ParseAnyIdentifier("b801200005001")->kind, IdentifierKind::kUpn);
  EXPECT_THAT(ParseAnyIdentifier("12345").status().message(), HasSubstr("5 characters"));
}

}  // namespace
}  // namespace cir::identifiers
