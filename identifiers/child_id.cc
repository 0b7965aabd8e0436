#include "identifiers/child_id.h"

#include <openssl/rand.h>

#include <array>
#include <cstdint>
#include <cstdlib>
#include <cstring>

#include "absl/status/status.h"
#include "absl/strings/escaping.h"
#include "absl/strings/str_cat.h"
#include "identifiers/normalize.h"

namespace cir::identifiers {
namespace {

constexpr int kAlphabetSize = 23;
constexpr int kLetterCount = 20;  // the first 20 characters of the alphabet are letters

int AlphabetIndex(char c) {
  size_t at = kChildIdAlphabet.find(c);
  return at == absl::string_view::npos ? -1 : static_cast<int>(at);
}

// Random bytes from OpenSSL's CSPRNG, fetched a block at a time: one call per identifier or so
// rather than one per character.
class RandomBytes {
 public:
  uint32_t Next() {
    if (used_ == kBlock) Refill();
    uint32_t value;
    std::memcpy(&value, buffer_ + used_, sizeof value);
    used_ += sizeof value;
    return value;
  }

 private:
  static constexpr size_t kBlock = 64;
  void Refill() {
    if (RAND_bytes(buffer_, kBlock) != 1) {
      // Without a working CSPRNG no identifier may be issued: identifiers must be unguessable.
      std::abort();
    }
    used_ = 0;
  }
  unsigned char buffer_[kBlock];
  size_t used_ = kBlock;
};

// A uniformly random integer in [0, bound), by rejection sampling.
uint32_t RandomBelow(RandomBytes& random, uint32_t bound) {
  const uint32_t limit = UINT32_MAX - (UINT32_MAX % bound);
  for (;;) {
    uint32_t value = random.Next();
    if (value < limit) return value % bound;
  }
}

}  // namespace

char ChildIdCheckCharacter(absl::string_view first_ten) {
  int sum = 0;
  for (int i = 0; i < kChildIdLength - 1; ++i) sum += (i + 2) * AlphabetIndex(first_ten[i]);
  return kChildIdAlphabet[(kAlphabetSize - sum % kAlphabetSize) % kAlphabetSize];
}

std::string GenerateChildId() {
  std::string id;
  id.reserve(kChildIdLength);
  RandomBytes random;  // fresh each time: nothing of one identifier's randomness is kept
  id.push_back(kChildIdAlphabet[RandomBelow(random, kLetterCount)]);
  for (int i = 1; i < kChildIdLength - 1; ++i) {
    id.push_back(kChildIdAlphabet[RandomBelow(random, kAlphabetSize)]);
  }
  id.push_back(ChildIdCheckCharacter(id));
  return id;
}

absl::StatusOr<std::string> ParseChildId(absl::string_view input) {
  absl::StatusOr<std::string> stripped = StripSeparatorsAndUpperCase(input, "child identifier");
  if (!stripped.ok()) return stripped.status();
  std::string id = *std::move(stripped);
  if (id.empty()) return absl::InvalidArgumentError("child identifier is empty");
  if (id.size() != kChildIdLength) {
    return absl::InvalidArgumentError(absl::StrCat("child identifier must have ", kChildIdLength,
                                                   " characters, got ", id.size()));
  }
  for (char c : id) {
    if (AlphabetIndex(c) < 0) {
      return absl::InvalidArgumentError(absl::StrCat(
          "child identifier may contain only the characters ", kChildIdAlphabet, "; '",
          absl::CHexEscape(absl::string_view(&c, 1)), "' is not one of them"));
    }
  }
  if (AlphabetIndex(id[0]) >= kLetterCount) {
    return absl::InvalidArgumentError("child identifier must start with a letter");
  }
  if (ChildIdCheckCharacter(id) != id[kChildIdLength - 1]) {
    return absl::InvalidArgumentError(
        "child identifier check character is wrong: check it for a mistyped or swapped character");
  }
  return id;
}

std::string FormatChildId(absl::string_view canonical) {
  if (canonical.size() != kChildIdLength) return std::string(canonical);
  return absl::StrCat(canonical.substr(0, 4), "-", canonical.substr(4, 4), "-",
                      canonical.substr(8, 3));
}

}  // namespace cir::identifiers
