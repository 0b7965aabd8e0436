#ifndef CIR_AUDIT_MERKLE_TREE_H_
#define CIR_AUDIT_MERKLE_TREE_H_

// The audit log's Merkle tree, as RFC 6962 section 2.1 defines it (SHA-256): its hashes, its root,
// inclusion and consistency proofs, and the checks of both (RFC 9162 sections 2.1.3.2, 2.1.4.2).
//
// Nothing here knows where leaves live. A tree is read through SubtreeHashes, the hashes of its
// perfect subtrees, which a store keeps as TreeFrontier completes them; any root or proof of a
// tree of n leaves then takes O(log^2 n) lookups, however large the tree: at most 64 for a root or
// for each proof element.
//
// Thread safety: the functions are safe to call from any thread, as far as the SubtreeHashes they
// are given is. A TreeFrontier is a value: one thread at a time.

#include <array>
#include <cstdint>
#include <vector>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"
#include "absl/types/span.h"

namespace cir::audit {

// A SHA-256 digest: a leaf's hash, a node's, a root.
using Hash = std::array<uint8_t, 32>;

// SHA-256(0x00 || entry_bytes): the hash of one leaf, the entry's bytes exactly as logged.
Hash LeafHash(absl::string_view entry_bytes);
// SHA-256(0x01 || left || right): the hash of an inner node. The prefixes keep a leaf from ever
// passing for a node (RFC 6962 section 2.1, second preimage resistance).
Hash NodeHash(const Hash& left, const Hash& right);
// SHA-256 of the empty string: the root of the tree of no leaves (RFC 6962 section 2.1).
Hash EmptyTreeRoot();

// `bytes` as a Hash: INVALID_ARGUMENT unless it is exactly 32 bytes.
absl::StatusOr<Hash> HashFromBytes(absl::string_view bytes);

// The hashes of one tree's perfect subtrees: the subtree at `level` L and `index` i holds the 2^L
// leaves [i * 2^L, (i + 1) * 2^L); level 0 is the leaves themselves. A perfect subtree never
// changes once its last leaf is appended, so a store keeps each one as it is completed (see
// TreeFrontier) and answers any root or proof of any size up to its own from them.
class SubtreeHashes {
 public:
  virtual ~SubtreeHashes() = default;

  // The hash of the perfect subtree at (level, index), 0 <= level <= 63. The functions below ask
  // only for subtrees lying wholly within the tree of the size they were given. An error (the
  // store has no such subtree, or cannot read it) is returned unchanged to their caller.
  virtual absl::StatusOr<Hash> Perfect(int level, uint64_t index) const = 0;
};

// The root of the first `size` leaves of `tree`, MTH(D[0:size]): EmptyTreeRoot() for 0.
// Reads at most 64 subtree hashes.
absl::StatusOr<Hash> RootOf(const SubtreeHashes& tree, uint64_t size);

// The inclusion proof of leaf `leaf_index` in the tree of its first `tree_size` leaves, RFC 6962
// section 2.1.1 PATH(leaf_index, D[0:tree_size]): the siblings' hashes from the leaf's up to the
// root's children. Requires leaf_index < tree_size, else INVALID_ARGUMENT.
absl::StatusOr<std::vector<Hash>> InclusionProof(const SubtreeHashes& tree, uint64_t leaf_index,
                                                 uint64_t tree_size);

// The consistency proof that the tree of `new_size` leaves extends the tree of `old_size`, RFC
// 6962 section 2.1.2 PROOF(old_size, D[0:new_size]). Requires old_size <= new_size, else
// INVALID_ARGUMENT; the proof is empty when old_size is 0 or equal to new_size.
absl::StatusOr<std::vector<Hash>> ConsistencyProof(const SubtreeHashes& tree, uint64_t old_size,
                                                   uint64_t new_size);

// Neither verifier authenticates the sizes it is given: only a root does, and a signed checkpoint
// binds each root to its size. Take sizes and roots together from checkpoints whose signatures
// have been checked (checkpoint_signer.h), never a size from one place and a root from another.

// Whether `proof` shows the leaf hashing to `leaf_hash` at `leaf_index` in the tree of `tree_size`
// leaves whose root is `root` (RFC 9162 section 2.1.3.2). OK if it does; DATA_LOSS if it does not
// (the entry, the proof, the index or the root is not what was logged); INVALID_ARGUMENT if
// leaf_index >= tree_size, which no proof can show.
absl::Status VerifyInclusion(const Hash& leaf_hash, uint64_t leaf_index, uint64_t tree_size,
                             absl::Span<const Hash> proof, const Hash& root);

// Whether `proof` shows the tree of `new_size` leaves with root `new_root` to hold, unchanged, the
// tree of `old_size` leaves with root `old_root` (RFC 9162 section 2.1.4.2). OK if it does;
// DATA_LOSS if it does not (the log was truncated or rewritten, or a root or the proof altered);
// INVALID_ARGUMENT if old_size > new_size. From an empty tree (old_size 0) the proof must be empty
// and old_root EmptyTreeRoot(); for equal sizes, the proof empty and the roots equal.
absl::Status VerifyConsistency(uint64_t old_size, uint64_t new_size, const Hash& old_root,
                               const Hash& new_root, absl::Span<const Hash> proof);

// A perfect subtree completed by appending a leaf, with its hash, for the store to keep.
struct CompletedSubtree {
  int level = 0;
  uint64_t index = 0;
  Hash hash{};
  bool operator==(const CompletedSubtree&) const = default;
};

// A tree growing one leaf at a time, holding only its right edge (a "compact range": for each set
// bit L of the size, the hash of one perfect subtree of 2^L leaves, the largest leftmost; at most
// 64 hashes). Each append gives the perfect subtrees it completes, so that a store writes them with
// the leaf in one write and can later answer SubtreeHashes, and a restarted process rebuilds the
// frontier from the right edge it stored (Restore). A verifier rebuilding a log from its entries
// uses one to compare roots with checkpoints as it goes, in constant memory.
class TreeFrontier {
 public:
  // The empty tree.
  TreeFrontier() = default;

  // The frontier of the tree of `size` leaves, from the right edge's perfect subtrees in `stored`
  // (one per set bit of size; at most 64 lookups). The stored hashes are trusted: check Root()
  // against a signed checkpoint if they might not be. Errors from `stored` are returned unchanged.
  static absl::StatusOr<TreeFrontier> Restore(const SubtreeHashes& stored, uint64_t size);

  // Appends the leaf hashing to `leaf_hash` (LeafHash of its entry) at index size(), and returns
  // the perfect subtrees this completes, smallest first: the leaf itself at level 0, then each
  // level up to the highest it completes. OUT_OF_RANGE if the tree already has 2^64 - 1 leaves.
  absl::StatusOr<std::vector<CompletedSubtree>> Append(const Hash& leaf_hash);

  // The number of leaves.
  uint64_t size() const { return size_; }
  // The tree's root, MTH(D[0:size()]): EmptyTreeRoot() while empty.
  Hash Root() const;

 private:
  uint64_t size_ = 0;
  // edge_[L] is the hash of the perfect subtree of level L on the right edge, where bit L of size_
  // is set; other entries are meaningless.
  std::array<Hash, 64> edge_{};
};

}  // namespace cir::audit

#endif  // CIR_AUDIT_MERKLE_TREE_H_
