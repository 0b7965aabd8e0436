#include "audit/merkle_tree.h"

#include <openssl/sha.h>

#include <algorithm>
#include <bit>
#include <cstdlib>
#include <cstring>
#include <string>
#include <utility>

#include "absl/strings/str_cat.h"

namespace cir::audit {
namespace {

constexpr uint8_t kLeafPrefix = 0x00;
constexpr uint8_t kNodePrefix = 0x01;

Hash Sha256(const uint8_t* data, size_t size) {
  Hash hash;
  // OpenSSL's one-shot SHA-256 needs no allocation and cannot fail with a working library; a
  // null answer means a broken installation, and no hash is better than a wrong one.
  if (SHA256(data, size, hash.data()) == nullptr) std::abort();
  return hash;
}

// The largest power of two below n, for n >= 2: where RFC 6962 splits a tree of n leaves.
uint64_t SplitPoint(uint64_t n) { return std::bit_floor(n - 1); }

// MTH(D[begin:end]) for a range that RFC 6962's recursion reaches: begin is a multiple of the
// smallest power of two not below end - begin, so the range is a run of perfect subtrees, one per
// set bit of its length, largest first. Reads one subtree hash per set bit (at most 64).
absl::StatusOr<Hash> RangeHash(const SubtreeHashes& tree, uint64_t begin, uint64_t end) {
  const uint64_t length = end - begin;
  if (length == 0) return EmptyTreeRoot();
  std::array<Hash, 64> parts;
  int count = 0;
  uint64_t offset = begin;
  for (int level = 63; level >= 0; --level) {
    if (((length >> level) & 1) == 0) continue;
    absl::StatusOr<Hash> part = tree.Perfect(level, offset >> level);
    if (!part.ok()) return part.status();
    parts[count++] = *part;
    offset += uint64_t{1} << level;
  }
  // The smaller subtrees on the right join first: MTH splits at the largest power of two.
  Hash hash = parts[count - 1];
  for (int i = count - 2; i >= 0; --i) hash = NodeHash(parts[i], hash);
  return hash;
}

absl::Status ProofFails(absl::string_view what) { return absl::DataLossError(what); }

}  // namespace

Hash LeafHash(absl::string_view entry_bytes) {
  std::string prefixed;
  prefixed.reserve(1 + entry_bytes.size());
  prefixed.push_back(static_cast<char>(kLeafPrefix));
  prefixed.append(entry_bytes.data(), entry_bytes.size());
  return Sha256(reinterpret_cast<const uint8_t*>(prefixed.data()), prefixed.size());
}

Hash NodeHash(const Hash& left, const Hash& right) {
  std::array<uint8_t, 1 + 2 * sizeof(Hash)> prefixed;
  prefixed[0] = kNodePrefix;
  std::memcpy(prefixed.data() + 1, left.data(), left.size());
  std::memcpy(prefixed.data() + 1 + left.size(), right.data(), right.size());
  return Sha256(prefixed.data(), prefixed.size());
}

Hash EmptyTreeRoot() {
  const uint8_t nothing = 0;
  return Sha256(&nothing, 0);
}

absl::StatusOr<Hash> HashFromBytes(absl::string_view bytes) {
  Hash hash;
  if (bytes.size() != hash.size()) {
    return absl::InvalidArgumentError(
        absl::StrCat("a hash is ", hash.size(), " bytes, not ", bytes.size()));
  }
  std::memcpy(hash.data(), bytes.data(), hash.size());
  return hash;
}

absl::StatusOr<Hash> RootOf(const SubtreeHashes& tree, uint64_t size) {
  return RangeHash(tree, 0, size);
}

absl::StatusOr<std::vector<Hash>> InclusionProof(const SubtreeHashes& tree, uint64_t leaf_index,
                                                 uint64_t tree_size) {
  if (leaf_index >= tree_size) {
    return absl::InvalidArgumentError(
        absl::StrCat("leaf ", leaf_index, " is not in a tree of ", tree_size, " leaves"));
  }
  // Walk down from the root to the leaf, taking the sibling of each subtree entered; the proof
  // lists them from the leaf up.
  std::vector<Hash> proof;
  uint64_t begin = 0;
  uint64_t end = tree_size;
  while (end - begin > 1) {
    const uint64_t middle = begin + SplitPoint(end - begin);
    absl::StatusOr<Hash> sibling =
        leaf_index < middle ? RangeHash(tree, middle, end) : RangeHash(tree, begin, middle);
    if (!sibling.ok()) return sibling.status();
    proof.push_back(*sibling);
    if (leaf_index < middle) {
      end = middle;
    } else {
      begin = middle;
    }
  }
  std::reverse(proof.begin(), proof.end());
  return proof;
}

absl::StatusOr<std::vector<Hash>> ConsistencyProof(const SubtreeHashes& tree, uint64_t old_size,
                                                   uint64_t new_size) {
  if (old_size > new_size) {
    return absl::InvalidArgumentError(
        absl::StrCat("a tree of ", new_size, " leaves cannot extend one of ", old_size));
  }
  if (old_size == 0 || old_size == new_size) return std::vector<Hash>();
  // SUBPROOF(m, D[begin:end], whole) walked from the top: while the old tree ends inside the range,
  // split it and keep the half the old tree's end is not in; `whole` stays true while the range
  // starts at leaf 0, where the verifier already knows the old tree's root.
  std::vector<Hash> siblings;
  uint64_t begin = 0;
  uint64_t end = new_size;
  bool whole = true;
  while (old_size < end) {
    const uint64_t middle = begin + SplitPoint(end - begin);
    absl::StatusOr<Hash> sibling =
        old_size <= middle ? RangeHash(tree, middle, end) : RangeHash(tree, begin, middle);
    if (!sibling.ok()) return sibling.status();
    siblings.push_back(*sibling);
    if (old_size <= middle) {
      end = middle;
    } else {
      begin = middle;
      whole = false;
    }
  }
  // Now the range is D[begin:old_size]: SUBPROOF(m, D[m], false) is {MTH(D[m])}, then the
  // siblings from the deepest up.
  std::vector<Hash> proof;
  proof.reserve(siblings.size() + 1);
  if (!whole) {
    absl::StatusOr<Hash> subtree = RangeHash(tree, begin, end);
    if (!subtree.ok()) return subtree.status();
    proof.push_back(*subtree);
  }
  proof.insert(proof.end(), siblings.rbegin(), siblings.rend());
  return proof;
}

absl::Status VerifyInclusion(const Hash& leaf_hash, uint64_t leaf_index, uint64_t tree_size,
                             absl::Span<const Hash> proof, const Hash& root) {
  if (leaf_index >= tree_size) {
    return absl::InvalidArgumentError(
        absl::StrCat("leaf ", leaf_index, " is not in a tree of ", tree_size, " leaves"));
  }
  // fn is the node's index at its level, sn the last node's; the proof climbs while they differ.
  uint64_t fn = leaf_index;
  uint64_t sn = tree_size - 1;
  Hash r = leaf_hash;
  for (const Hash& p : proof) {
    if (sn == 0) return ProofFails("inclusion proof is longer than the tree is deep");
    if ((fn & 1) == 1 || fn == sn) {
      r = NodeHash(p, r);
      // A last node without a right sibling rises unchanged through the levels above it.
      while ((fn & 1) == 0 && fn != 0) {
        fn >>= 1;
        sn >>= 1;
      }
    } else {
      r = NodeHash(r, p);
    }
    fn >>= 1;
    sn >>= 1;
  }
  if (sn != 0) return ProofFails("inclusion proof is shorter than the tree is deep");
  if (r != root) {
    return ProofFails(
        "inclusion proof does not lead to the root: the entry, its index, the proof or the root "
        "is not what the log holds");
  }
  return absl::OkStatus();
}

absl::Status VerifyConsistency(uint64_t old_size, uint64_t new_size, const Hash& old_root,
                               const Hash& new_root, absl::Span<const Hash> proof) {
  if (old_size > new_size) {
    return absl::InvalidArgumentError(
        absl::StrCat("a tree of ", new_size, " leaves cannot extend one of ", old_size));
  }
  if (old_size == 0) {
    if (!proof.empty()) return ProofFails("consistency proof from the empty tree must be empty");
    if (old_root != EmptyTreeRoot()) {
      return ProofFails("the root of the empty tree is not SHA-256 of nothing");
    }
    return absl::OkStatus();
  }
  if (old_size == new_size) {
    if (!proof.empty()) return ProofFails("consistency proof between equal sizes must be empty");
    if (old_root != new_root) return ProofFails("two roots of the same size differ");
    return absl::OkStatus();
  }
  if (proof.empty()) return ProofFails("consistency proof is empty");

  // When the old tree is perfect its root is the proof's implied first element.
  const bool old_is_perfect = std::has_single_bit(old_size);
  const Hash& first = old_is_perfect ? old_root : proof[0];
  absl::Span<const Hash> rest = old_is_perfect ? proof : proof.subspan(1);

  uint64_t fn = old_size - 1;
  uint64_t sn = new_size - 1;
  while ((fn & 1) == 1) {
    fn >>= 1;
    sn >>= 1;
  }
  Hash fr = first;  // climbs to the old root
  Hash sr = first;  // climbs to the new root
  for (const Hash& c : rest) {
    if (sn == 0) return ProofFails("consistency proof is longer than the tree is deep");
    if ((fn & 1) == 1 || fn == sn) {
      fr = NodeHash(c, fr);
      sr = NodeHash(c, sr);
      while ((fn & 1) == 0 && fn != 0) {
        fn >>= 1;
        sn >>= 1;
      }
    } else {
      sr = NodeHash(sr, c);
    }
    fn >>= 1;
    sn >>= 1;
  }
  if (sn != 0) return ProofFails("consistency proof is shorter than the tree is deep");
  if (fr != old_root) {
    return ProofFails(absl::StrCat("the tree of ", new_size,
                                   " leaves does not hold the old tree of ", old_size,
                                   ": its first ", old_size, " leaves have another root"));
  }
  if (sr != new_root) {
    return ProofFails(absl::StrCat("consistency proof does not lead to the root of ", new_size,
                                   " leaves: the proof or the new root was altered"));
  }
  return absl::OkStatus();
}

absl::StatusOr<TreeFrontier> TreeFrontier::Restore(const SubtreeHashes& stored, uint64_t size) {
  TreeFrontier frontier;
  uint64_t offset = 0;
  for (int level = 63; level >= 0; --level) {
    if (((size >> level) & 1) == 0) continue;
    absl::StatusOr<Hash> hash = stored.Perfect(level, offset >> level);
    if (!hash.ok()) return hash.status();
    frontier.edge_[level] = *hash;
    offset += uint64_t{1} << level;
  }
  frontier.size_ = size;
  return frontier;
}

absl::StatusOr<std::vector<CompletedSubtree>> TreeFrontier::Append(const Hash& leaf_hash) {
  if (size_ == UINT64_MAX) {
    return absl::OutOfRangeError("the tree holds 2^64 - 1 leaves and can take no more");
  }
  const uint64_t index = size_;
  std::vector<CompletedSubtree> completed;
  completed.push_back(CompletedSubtree{0, index, leaf_hash});
  // Like adding one to a binary number: each set low bit is a left neighbour to join, the carry
  // a larger perfect subtree completed.
  Hash hash = leaf_hash;
  int level = 0;
  while (((size_ >> level) & 1) == 1) {
    hash = NodeHash(edge_[level], hash);
    ++level;
    completed.push_back(CompletedSubtree{level, index >> level, hash});
  }
  edge_[level] = hash;
  ++size_;
  return completed;
}

Hash TreeFrontier::Root() const {
  if (size_ == 0) return EmptyTreeRoot();
  const int lowest = std::countr_zero(size_);
  Hash root = edge_[lowest];
  for (int level = lowest + 1; level < 64; ++level) {
    if (((size_ >> level) & 1) == 1) root = NodeHash(edge_[level], root);
  }
  return root;
}

}  // namespace cir::audit
