#include "audit/merkle_tree.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>
#include <openssl/sha.h>

#include <algorithm>
#include <array>
#include <bit>
#include <map>
#include <string>
#include <utility>
#include <vector>

#include "absl/strings/escaping.h"
#include "absl/strings/str_cat.h"
#include "absl/types/span.h"

namespace cir::audit {
namespace {

// The value of `result`, or T's default after failing the test: a broken library fails the test
// rather than crashing it.
template <typename T>
T ValueOf(absl::StatusOr<T> result) {
  EXPECT_TRUE(result.ok()) << result.status();
  return result.ok() ? *std::move(result) : T();
}

// ---- RFC 6962 section 2.1, written straight from its definitions --------------------------------
// Independent of the code under test: hashes are made here from SHA-256 alone.

Hash Sha256Of(const std::string& bytes) {
  Hash hash;
  SHA256(reinterpret_cast<const unsigned char*>(bytes.data()), bytes.size(), hash.data());
  return hash;
}

std::string BytesOf(const Hash& hash) { return std::string(hash.begin(), hash.end()); }

Hash HashFromHex(absl::string_view hex) {
  const std::string bytes = absl::HexStringToBytes(hex);
  Hash hash{};
  std::copy(bytes.begin(), bytes.end(), hash.begin());
  return hash;
}

using Entries = std::vector<std::string>;

// The largest power of two smaller than n (n > 1).
size_t Split(size_t n) {
  size_t k = 1;
  while (k * 2 < n) k *= 2;
  return k;
}

Entries Slice(const Entries& entries, size_t begin, size_t end) {
  return Entries(entries.begin() + begin, entries.begin() + end);
}

// MTH(D[n]).
Hash Mth(const Entries& d) {
  if (d.empty()) return Sha256Of("");
  if (d.size() == 1) return Sha256Of(std::string(1, '\0') + d[0]);
  const size_t k = Split(d.size());
  return Sha256Of("\x01" + BytesOf(Mth(Slice(d, 0, k))) + BytesOf(Mth(Slice(d, k, d.size()))));
}

// PATH(m, D[n]).
std::vector<Hash> Path(size_t m, const Entries& d) {
  if (d.size() <= 1) return {};
  const size_t k = Split(d.size());
  std::vector<Hash> path;
  if (m < k) {
    path = Path(m, Slice(d, 0, k));
    path.push_back(Mth(Slice(d, k, d.size())));
  } else {
    path = Path(m - k, Slice(d, k, d.size()));
    path.push_back(Mth(Slice(d, 0, k)));
  }
  return path;
}

// SUBPROOF(m, D[n], b).
std::vector<Hash> Subproof(size_t m, const Entries& d, bool b) {
  if (m == d.size()) return b ? std::vector<Hash>() : std::vector<Hash>{Mth(d)};
  const size_t k = Split(d.size());
  std::vector<Hash> proof;
  if (m <= k) {
    proof = Subproof(m, Slice(d, 0, k), b);
    proof.push_back(Mth(Slice(d, k, d.size())));
  } else {
    proof = Subproof(m - k, Slice(d, k, d.size()), false);
    proof.push_back(Mth(Slice(d, 0, k)));
  }
  return proof;
}

// PROOF(m, D[n]).
std::vector<Hash> Proof(size_t m, const Entries& d) { return Subproof(m, d, true); }

// ---- A store of perfect subtrees, filled as a store would be ------------------------------------

// Keeps every perfect subtree a TreeFrontier hands over, as the registry's store will.
class StoredSubtrees : public SubtreeHashes {
 public:
  absl::StatusOr<Hash> Perfect(int level, uint64_t index) const override {
    auto found = hashes_.find({level, index});
    if (found == hashes_.end()) {
      return absl::NotFoundError(absl::StrCat("no subtree ", level, "/", index));
    }
    return found->second;
  }
  void Keep(const std::vector<CompletedSubtree>& completed) {
    for (const CompletedSubtree& subtree : completed) {
      hashes_[{subtree.level, subtree.index}] = subtree.hash;
    }
  }
  size_t count() const { return hashes_.size(); }

 private:
  std::map<std::pair<int, uint64_t>, Hash> hashes_;
};

Entries NumberedEntries(size_t n) {
  Entries entries;
  for (size_t i = 0; i < n; ++i) entries.push_back(absl::StrCat("audit entry ", i));
  return entries;
}

// A log of `entries`: its frontier and the store its appends filled.
struct Log {
  TreeFrontier frontier;
  StoredSubtrees store;
};

Log LogOf(const Entries& entries) {
  Log log;
  for (const std::string& entry : entries) {
    absl::StatusOr<std::vector<CompletedSubtree>> completed = log.frontier.Append(LeafHash(entry));
    EXPECT_TRUE(completed.ok()) << completed.status();
    if (completed.ok()) log.store.Keep(*completed);
  }
  return log;
}

Hash Flipped(Hash hash, size_t byte) {
  hash[byte % hash.size()] ^= 0x01;
  return hash;
}

constexpr size_t kLargestSmallTree = 70;

// ---- Hashes and roots ---------------------------------------------------------------------------

TEST(MerkleTreeTest, TheEmptyTreeHasTheRootRfc6962Gives) {
  const Hash expected =
      HashFromHex("e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855");
  EXPECT_EQ(EmptyTreeRoot(), expected);
  StoredSubtrees nothing;
  absl::StatusOr<Hash> root = RootOf(nothing, 0);
  ASSERT_TRUE(root.ok()) << root.status();
  EXPECT_EQ(*root, expected);
  EXPECT_EQ(TreeFrontier().Root(), expected);
}

TEST(MerkleTreeTest, LeavesAndNodesAreHashedWithTheirRfc6962Prefixes) {
  EXPECT_EQ(LeafHash(""),
            HashFromHex("6e340b9cffb37a989ca544e6bb780a2c78901d3fb33738768511a30617afa01d"));
  EXPECT_EQ(LeafHash("entry"), Sha256Of(std::string("\x00", 1) + "entry"));
  const Hash left = LeafHash("left");
  const Hash right = LeafHash("right");
  EXPECT_EQ(NodeHash(left, right), Sha256Of("\x01" + BytesOf(left) + BytesOf(right)));
  EXPECT_NE(NodeHash(left, right), NodeHash(right, left));
}

TEST(MerkleTreeTest, TheEightLeafExampleTreeHasItsKnownRoots) {
  // Roots of the first 1..8 of these leaves, computed independently of this code (Python's
  // hashlib over RFC 6962's definition); they are also Certificate Transparency's test vectors.
  const Entries inputs = {absl::HexStringToBytes(""),
                          absl::HexStringToBytes("00"),
                          absl::HexStringToBytes("10"),
                          absl::HexStringToBytes("2021"),
                          absl::HexStringToBytes("3031"),
                          absl::HexStringToBytes("40414243"),
                          absl::HexStringToBytes("5051525354555657"),
                          absl::HexStringToBytes("606162636465666768696a6b6c6d6e6f")};
  const std::vector<std::string> roots = {
      "6e340b9cffb37a989ca544e6bb780a2c78901d3fb33738768511a30617afa01d",
      "fac54203e7cc696cf0dfcb42c92a1d9dbaf70ad9e621f4bd8d98662f00e3c125",
      "aeb6bcfe274b70a14fb067a5e5578264db0fa9b51af5e0ba159158f329e06e77",
      "d37ee418976dd95753c1c73862b9398fa2a2cf9b4ff0fdfe8b30cd95209614b7",
      "4e3bbb1f7b478dcfe71fb631631519a3bca12c9aefca1612bfce4c13a86264d4",
      "76e67dadbcdf1e10e1b74ddc608abd2f98dfb16fbce75277b5232a127f2087ef",
      "ddb89be403809e325750d3d263cd78929c2942b7942a34b77e122c9594a74c8c",
      "5dc9da79a70659a9ad559cb701ded9a2ab9d823aad2f4960cfe370eff4604328"};
  Log log = LogOf(inputs);
  for (size_t size = 1; size <= inputs.size(); ++size) {
    absl::StatusOr<Hash> root = RootOf(log.store, size);
    ASSERT_TRUE(root.ok()) << root.status();
    EXPECT_EQ(absl::BytesToHexString(BytesOf(*root)), roots[size - 1]) << "size " << size;
  }
}

TEST(MerkleTreeTest, RootsOfEverySizeTo64AndSomeLargerOnesMatchTheRfcDefinition) {
  const Entries entries = NumberedEntries(1025);
  Log log = LogOf(entries);
  std::vector<size_t> sizes;
  for (size_t size = 1; size <= 64; ++size) sizes.push_back(size);
  for (size_t size : {65, 100, 127, 128, 129, 255, 256, 257, 1000, 1024, 1025}) {
    sizes.push_back(size);
  }
  TreeFrontier growing;
  size_t appended = 0;
  for (size_t size : sizes) {
    const Hash expected = Mth(Slice(entries, 0, size));
    absl::StatusOr<Hash> root = RootOf(log.store, size);
    ASSERT_TRUE(root.ok()) << root.status();
    EXPECT_EQ(*root, expected) << "size " << size;
    while (appended < size) ASSERT_TRUE(growing.Append(LeafHash(entries[appended++])).ok());
    EXPECT_EQ(growing.Root(), expected) << "size " << size;
  }
}

TEST(MerkleTreeTest, EachAppendHandsOverEveryPerfectSubtreeItCompletesOnceSmallestFirst) {
  const Entries entries = NumberedEntries(kLargestSmallTree);
  TreeFrontier frontier;
  size_t handed_over = 0;
  for (uint64_t index = 0; index < entries.size(); ++index) {
    absl::StatusOr<std::vector<CompletedSubtree>> completed =
        frontier.Append(LeafHash(entries[index]));
    ASSERT_TRUE(completed.ok()) << completed.status();
    // Leaf `index` completes one subtree for each trailing one bit of `index`, plus itself.
    ASSERT_EQ(completed->size(), 1 + std::countr_one(index)) << "leaf " << index;
    for (int level = 0; level < static_cast<int>(completed->size()); ++level) {
      const CompletedSubtree& subtree = (*completed)[level];
      EXPECT_EQ(subtree.level, level);
      EXPECT_EQ(subtree.index, index >> level);
      const size_t begin = subtree.index << level;
      EXPECT_EQ(subtree.hash, Mth(Slice(entries, begin, begin + (size_t{1} << level))))
          << "subtree " << level << "/" << subtree.index;
    }
    handed_over += completed->size();
  }
  // Every perfect subtree of 70 leaves: 70 + 35 + 17 + 8 + 4 + 2 + 1.
  EXPECT_EQ(handed_over, 137u);
}

// ---- Inclusion proofs ---------------------------------------------------------------------------

TEST(MerkleTreeTest, EveryInclusionProofInTreesOfUpTo70LeavesIsRfc6962sPathAndVerifies) {
  const Entries entries = NumberedEntries(kLargestSmallTree);
  Log log = LogOf(entries);
  for (uint64_t size = 1; size <= kLargestSmallTree; ++size) {
    const Entries tree = Slice(entries, 0, size);
    const Hash root = Mth(tree);
    for (uint64_t index = 0; index < size; ++index) {
      absl::StatusOr<std::vector<Hash>> proof = InclusionProof(log.store, index, size);
      ASSERT_TRUE(proof.ok()) << proof.status();
      EXPECT_EQ(*proof, Path(index, tree)) << "leaf " << index << " of " << size;
      EXPECT_TRUE(VerifyInclusion(LeafHash(entries[index]), index, size, *proof, root).ok())
          << "leaf " << index << " of " << size;
    }
  }
}

// Checks that `verified` is a refusal of a proof, not of its arguments.
void ExpectProofFails(const absl::Status& verified, const std::string& what) {
  EXPECT_EQ(verified.code(), absl::StatusCode::kDataLoss) << what << ": " << verified;
}

TEST(MerkleTreeTest, AnInclusionProofFailsWhenAByteOfTheProofTheLeafOrTheRootChanges) {
  const Entries entries = NumberedEntries(kLargestSmallTree);
  Log log = LogOf(entries);
  for (uint64_t size = 1; size <= kLargestSmallTree; ++size) {
    const Hash root = Mth(Slice(entries, 0, size));
    for (uint64_t index = 0; index < size; ++index) {
      const std::string at = absl::StrCat("leaf ", index, " of ", size);
      const Hash leaf = LeafHash(entries[index]);
      const std::vector<Hash> proof = ValueOf(InclusionProof(log.store, index, size));
      for (size_t element = 0; element < proof.size(); ++element) {
        std::vector<Hash> altered = proof;
        altered[element] = Flipped(altered[element], index + element);
        ExpectProofFails(VerifyInclusion(leaf, index, size, altered, root),
                         absl::StrCat(at, ", element ", element, " altered"));
      }
      ExpectProofFails(VerifyInclusion(Flipped(leaf, index), index, size, proof, root),
                       at + ", leaf altered");
      ExpectProofFails(VerifyInclusion(leaf, index, size, proof, Flipped(root, size)),
                       at + ", root altered");
      ExpectProofFails(VerifyInclusion(LeafHash(entries[index] + " "), index, size, proof, root),
                       at + ", entry altered");
    }
  }
}

TEST(MerkleTreeTest, AnInclusionProofFailsForAnyOtherIndex) {
  const Entries entries = NumberedEntries(kLargestSmallTree + 1);
  Log log = LogOf(entries);
  for (uint64_t size = 1; size <= kLargestSmallTree; ++size) {
    const Hash root = Mth(Slice(entries, 0, size));
    for (uint64_t index = 0; index < size; ++index) {
      const Hash leaf = LeafHash(entries[index]);
      const std::vector<Hash> proof = ValueOf(InclusionProof(log.store, index, size));
      for (uint64_t other = 0; other < size; ++other) {
        if (other == index) continue;
        ExpectProofFails(VerifyInclusion(leaf, other, size, proof, root),
                         absl::StrCat("leaf ", index, " of ", size, " claimed at ", other));
      }
      EXPECT_EQ(VerifyInclusion(leaf, size, size, proof, root).code(),
                absl::StatusCode::kInvalidArgument);
    }
  }
}

TEST(MerkleTreeTest, AnInclusionProofFailsWithAnElementDroppedOrAdded) {
  const Entries entries = NumberedEntries(kLargestSmallTree);
  Log log = LogOf(entries);
  for (uint64_t size = 1; size <= kLargestSmallTree; ++size) {
    const Hash root = Mth(Slice(entries, 0, size));
    for (uint64_t index = 0; index < size; ++index) {
      const std::string at = absl::StrCat("leaf ", index, " of ", size);
      const Hash leaf = LeafHash(entries[index]);
      const std::vector<Hash> proof = ValueOf(InclusionProof(log.store, index, size));
      for (size_t element = 0; element < proof.size(); ++element) {
        std::vector<Hash> shorter = proof;
        shorter.erase(shorter.begin() + element);
        ExpectProofFails(VerifyInclusion(leaf, index, size, shorter, root),
                         absl::StrCat(at, ", element ", element, " dropped"));
      }
      std::vector<Hash> longer = proof;
      longer.push_back(root);
      ExpectProofFails(VerifyInclusion(leaf, index, size, longer, root), at + ", element added");
    }
  }
}

// ---- Consistency proofs -------------------------------------------------------------------------

TEST(MerkleTreeTest, EveryConsistencyProofBetweenSizesUpTo70IsRfc6962sProofAndVerifies) {
  const Entries entries = NumberedEntries(kLargestSmallTree);
  Log log = LogOf(entries);
  for (uint64_t new_size = 1; new_size <= kLargestSmallTree; ++new_size) {
    const Entries tree = Slice(entries, 0, new_size);
    const Hash new_root = Mth(tree);
    for (uint64_t old_size = 1; old_size <= new_size; ++old_size) {
      const Hash old_root = Mth(Slice(entries, 0, old_size));
      absl::StatusOr<std::vector<Hash>> proof = ConsistencyProof(log.store, old_size, new_size);
      ASSERT_TRUE(proof.ok()) << proof.status();
      if (old_size < new_size) {
        EXPECT_EQ(*proof, Proof(old_size, tree)) << old_size << " to " << new_size;
      } else {
        EXPECT_TRUE(proof->empty());
      }
      EXPECT_TRUE(VerifyConsistency(old_size, new_size, old_root, new_root, *proof).ok())
          << old_size << " to " << new_size;
    }
  }
}

TEST(MerkleTreeTest, AConsistencyProofFailsWhenAByteOfTheProofOrEitherRootChanges) {
  const Entries entries = NumberedEntries(kLargestSmallTree);
  Log log = LogOf(entries);
  for (uint64_t new_size = 1; new_size <= kLargestSmallTree; ++new_size) {
    const Hash new_root = Mth(Slice(entries, 0, new_size));
    for (uint64_t old_size = 1; old_size <= new_size; ++old_size) {
      const std::string at = absl::StrCat(old_size, " to ", new_size);
      const Hash old_root = Mth(Slice(entries, 0, old_size));
      const std::vector<Hash> proof = ValueOf(ConsistencyProof(log.store, old_size, new_size));
      for (size_t element = 0; element < proof.size(); ++element) {
        std::vector<Hash> altered = proof;
        altered[element] = Flipped(altered[element], old_size + element);
        ExpectProofFails(VerifyConsistency(old_size, new_size, old_root, new_root, altered),
                         absl::StrCat(at, ", element ", element, " altered"));
      }
      ExpectProofFails(
          VerifyConsistency(old_size, new_size, Flipped(old_root, new_size), new_root, proof),
          at + ", old root altered");
      ExpectProofFails(
          VerifyConsistency(old_size, new_size, old_root, Flipped(new_root, old_size), proof),
          at + ", new root altered");
    }
  }
}

TEST(MerkleTreeTest, AConsistencyProofFailsWithAnElementDroppedOrAdded) {
  const Entries entries = NumberedEntries(kLargestSmallTree);
  Log log = LogOf(entries);
  for (uint64_t new_size = 1; new_size <= kLargestSmallTree; ++new_size) {
    const Hash new_root = Mth(Slice(entries, 0, new_size));
    for (uint64_t old_size = 1; old_size <= new_size; ++old_size) {
      const std::string at = absl::StrCat(old_size, " to ", new_size);
      const Hash old_root = Mth(Slice(entries, 0, old_size));
      const std::vector<Hash> proof = ValueOf(ConsistencyProof(log.store, old_size, new_size));
      for (size_t element = 0; element < proof.size(); ++element) {
        std::vector<Hash> shorter = proof;
        shorter.erase(shorter.begin() + element);
        ExpectProofFails(VerifyConsistency(old_size, new_size, old_root, new_root, shorter),
                         absl::StrCat(at, ", element ", element, " dropped"));
      }
      std::vector<Hash> longer = proof;
      longer.push_back(new_root);
      ExpectProofFails(VerifyConsistency(old_size, new_size, old_root, new_root, longer),
                       at + ", element added");
    }
  }
}

// A proof does not vouch for the sizes: a checkpoint's signature binds each size to its root. So
// what a forged log could offer is another size's root, as a replayed checkpoint holds it.
TEST(MerkleTreeTest, AConsistencyProofFailsAgainstTheRootOfAnyOtherSize) {
  const Entries entries = NumberedEntries(kLargestSmallTree + 1);
  Log log = LogOf(entries);
  std::vector<Hash> roots;
  for (uint64_t size = 0; size <= kLargestSmallTree + 1; ++size) {
    roots.push_back(Mth(Slice(entries, 0, size)));
  }
  for (uint64_t new_size = 1; new_size <= kLargestSmallTree; ++new_size) {
    for (uint64_t old_size = 1; old_size <= new_size; ++old_size) {
      const std::vector<Hash> proof = ValueOf(ConsistencyProof(log.store, old_size, new_size));
      for (uint64_t other = 0; other < roots.size(); ++other) {
        const std::string at =
            absl::StrCat(old_size, " to ", new_size, " with the root of ", other);
        if (other != old_size) {
          ExpectProofFails(
              VerifyConsistency(old_size, new_size, roots[other], roots[new_size], proof),
              at + " as the old root");
        }
        if (other != new_size) {
          ExpectProofFails(
              VerifyConsistency(old_size, new_size, roots[old_size], roots[other], proof),
              at + " as the new root");
        }
      }
    }
  }
}

// The sizes say how deep the tree is, so a proof that stops below the top of the tree they
// describe shows nothing, even where its hashes lead to the root given.
TEST(MerkleTreeTest, AProofStoppingBelowTheTopOfTheTreeItsSizesDescribeFails) {
  const Entries entries = NumberedEntries(8);
  Log log = LogOf(entries);
  const Hash root_of_4 = ValueOf(RootOf(log.store, 4));
  const Hash root_of_8 = log.frontier.Root();

  // Leaf 0's proof in the tree of 4 leads to its root, but a tree of 8 is a level deeper.
  const std::vector<Hash> inclusion = ValueOf(InclusionProof(log.store, 0, 4));
  EXPECT_TRUE(VerifyInclusion(LeafHash(entries[0]), 0, 4, inclusion, root_of_4).ok());
  ExpectProofFails(VerifyInclusion(LeafHash(entries[0]), 0, 8, inclusion, root_of_4),
                   "leaf 0 of 4 claimed of 8");

  // The proof that 8 leaves extend 4 leads to the root of 8, but a tree of 16 is a level deeper.
  const std::vector<Hash> consistency = ValueOf(ConsistencyProof(log.store, 4, 8));
  EXPECT_TRUE(VerifyConsistency(4, 8, root_of_4, root_of_8, consistency).ok());
  ExpectProofFails(VerifyConsistency(4, 16, root_of_4, root_of_8, consistency),
                   "4 to 8 claimed as 4 to 16");
}

TEST(MerkleTreeTest, EveryTreeIsConsistentWithTheEmptyTreeOnlyThroughAnEmptyProof) {
  const Entries entries = NumberedEntries(5);
  Log log = LogOf(entries);
  absl::StatusOr<std::vector<Hash>> proof = ConsistencyProof(log.store, 0, 5);
  ASSERT_TRUE(proof.ok()) << proof.status();
  EXPECT_TRUE(proof->empty());
  const Hash root = Mth(entries);
  EXPECT_TRUE(VerifyConsistency(0, 5, EmptyTreeRoot(), root, {}).ok());
  EXPECT_TRUE(VerifyConsistency(0, 0, EmptyTreeRoot(), EmptyTreeRoot(), {}).ok());
  ExpectProofFails(VerifyConsistency(0, 5, EmptyTreeRoot(), root, {root}), "a proof element");
  ExpectProofFails(VerifyConsistency(0, 5, root, root, {}), "an old root that is not empty's");
}

// ---- What tampering with a stored log shows -----------------------------------------------------

TEST(MerkleTreeTest, ALogTruncatedAndRegrownFailsConsistencyWithTheOldSignedRoot) {
  const Entries original = NumberedEntries(15);
  const Hash signed_root = Mth(original);  // as a checkpoint kept elsewhere holds it

  // The last five entries are cut off and others written in their place, and more after them.
  Entries rewritten = Slice(original, 0, 10);
  for (int i = 0; i < 10; ++i) rewritten.push_back(absl::StrCat("forged entry ", i));
  Log log = LogOf(rewritten);
  absl::StatusOr<std::vector<Hash>> proof = ConsistencyProof(log.store, 15, 20);
  ASSERT_TRUE(proof.ok()) << proof.status();
  ExpectProofFails(VerifyConsistency(15, 20, signed_root, log.frontier.Root(), *proof),
                   "truncated and regrown log");

  // The untouched log still proves it holds the signed tree.
  Entries honest = original;
  for (int i = 0; i < 5; ++i) honest.push_back(absl::StrCat("later entry ", i));
  Log honest_log = LogOf(honest);
  EXPECT_TRUE(VerifyConsistency(15, 20, signed_root, honest_log.frontier.Root(),
                                ValueOf(ConsistencyProof(honest_log.store, 15, 20)))
                  .ok());
}

TEST(MerkleTreeTest, ALogTruncatedBelowASignedSizeCannotProveItHoldsThatTree) {
  Log log = LogOf(NumberedEntries(10));
  EXPECT_EQ(ConsistencyProof(log.store, 15, 10).status().code(),
            absl::StatusCode::kInvalidArgument);
  // Nor can its store be made to answer for leaves it no longer has.
  EXPECT_EQ(ConsistencyProof(log.store, 10, 15).status().code(), absl::StatusCode::kNotFound);
  EXPECT_EQ(RootOf(log.store, 15).status().code(), absl::StatusCode::kNotFound);
}

TEST(MerkleTreeTest, ALogWithTwoEntriesSwappedFailsConsistencyWithTheOldSignedRoot) {
  const Entries original = NumberedEntries(20);
  const Hash signed_root = Mth(Slice(original, 0, 15));

  Entries swapped = original;
  std::swap(swapped[3], swapped[4]);
  Log log = LogOf(swapped);
  EXPECT_NE(ValueOf(RootOf(log.store, 15)), signed_root);
  absl::StatusOr<std::vector<Hash>> proof = ConsistencyProof(log.store, 15, 20);
  ASSERT_TRUE(proof.ok()) << proof.status();
  ExpectProofFails(VerifyConsistency(15, 20, signed_root, log.frontier.Root(), *proof),
                   "log with entries 3 and 4 swapped");
  // An inclusion proof from the swapped log places neither entry where the signed tree has it.
  for (uint64_t index : {3, 4}) {
    ExpectProofFails(VerifyInclusion(LeafHash(original[index]), index, 15,
                                     ValueOf(InclusionProof(log.store, index, 15)), signed_root),
                     absl::StrCat("entry ", index, " of the swapped log"));
  }
}

// ---- The frontier after a restart ---------------------------------------------------------------

TEST(MerkleTreeTest, AFrontierRestoredFromTheStoreContinuesWithIdenticalRootsAndSubtrees) {
  const Entries entries = NumberedEntries(100);
  for (uint64_t restart_at = 0; restart_at <= kLargestSmallTree; ++restart_at) {
    Log log = LogOf(Slice(entries, 0, restart_at));
    absl::StatusOr<TreeFrontier> restored = TreeFrontier::Restore(log.store, restart_at);
    ASSERT_TRUE(restored.ok()) << restored.status();
    EXPECT_EQ(restored->size(), restart_at);
    EXPECT_EQ(restored->Root(), log.frontier.Root()) << "restored at " << restart_at;
    for (uint64_t index = restart_at; index < entries.size(); ++index) {
      absl::StatusOr<std::vector<CompletedSubtree>> from_restored =
          restored->Append(LeafHash(entries[index]));
      absl::StatusOr<std::vector<CompletedSubtree>> from_original =
          log.frontier.Append(LeafHash(entries[index]));
      ASSERT_TRUE(from_restored.ok() && from_original.ok());
      EXPECT_EQ(*from_restored, *from_original)
          << "restored at " << restart_at << ", leaf " << index;
      EXPECT_EQ(restored->Root(), log.frontier.Root())
          << "restored at " << restart_at << ", leaf " << index;
    }
    EXPECT_EQ(restored->Root(), Mth(entries));
  }
}

TEST(MerkleTreeTest, RestoringAFrontierReadsOnlyTheRightEdgeAndPassesOnAMissingSubtree) {
  Log log = LogOf(NumberedEntries(13));  // 13 = 8 + 4 + 1
  // A store keeping only the right edge of 13 leaves: 8/0 at level 3, 4/2 at level 2, leaf 12.
  class RightEdgeOnly : public SubtreeHashes {
   public:
    explicit RightEdgeOnly(const SubtreeHashes& all) : all_(all) {}
    absl::StatusOr<Hash> Perfect(int level, uint64_t index) const override {
      const bool on_edge =
          (level == 3 && index == 0) || (level == 2 && index == 2) || (level == 0 && index == 12);
      if (!on_edge) return absl::NotFoundError("not kept");
      return all_.Perfect(level, index);
    }

   private:
    const SubtreeHashes& all_;
  } right_edge(log.store);
  absl::StatusOr<TreeFrontier> restored = TreeFrontier::Restore(right_edge, 13);
  ASSERT_TRUE(restored.ok()) << restored.status();
  EXPECT_EQ(restored->Root(), log.frontier.Root());
  EXPECT_EQ(TreeFrontier::Restore(right_edge, 14).status().code(), absl::StatusCode::kNotFound);
}

// ---- Trees of any size, and input out of range --------------------------------------------------

// A tree of up to 2^64 - 1 leaves, all the same, so that every perfect subtree of one level has
// the same hash and any of them is computed at once. Counts lookups and checks that each one
// lies wholly within the tree.
class UniformTree : public SubtreeHashes {
 public:
  explicit UniformTree(uint64_t size) : size_(size) {
    by_level_[0] = LeafHash("the same entry");
    for (int level = 1; level < 64; ++level) {
      by_level_[level] = NodeHash(by_level_[level - 1], by_level_[level - 1]);
    }
  }
  absl::StatusOr<Hash> Perfect(int level, uint64_t index) const override {
    ++lookups_;
    EXPECT_TRUE(level >= 0 && level < 64) << level;
    EXPECT_LT(index, size_ >> level) << "subtree " << level << "/" << index << " beyond the tree";
    return by_level_[level];
  }
  int TakeLookups() { return std::exchange(lookups_, 0); }

 private:
  uint64_t size_;
  std::array<Hash, 64> by_level_;
  mutable int lookups_ = 0;
};

TEST(MerkleTreeTest, ProofsInTheLargestTreesTakeFewLookupsAndVerify) {
  const uint64_t largest = UINT64_MAX;
  UniformTree tree(largest);
  const std::vector<uint64_t> sizes = {largest, largest - 1, (uint64_t{1} << 63) + 1,
                                       uint64_t{1} << 63, (uint64_t{1} << 40) + 12345};
  const Hash leaf = LeafHash("the same entry");
  for (uint64_t size : sizes) {
    absl::StatusOr<Hash> root = RootOf(tree, size);
    ASSERT_TRUE(root.ok()) << root.status();
    EXPECT_LE(tree.TakeLookups(), 64);
    for (uint64_t index : {uint64_t{0}, size / 3, size / 2 + 7, size - 1}) {
      absl::StatusOr<std::vector<Hash>> proof = InclusionProof(tree, index, size);
      ASSERT_TRUE(proof.ok()) << proof.status();
      EXPECT_LE(tree.TakeLookups(), 64 * 64);
      EXPECT_LE(proof->size(), 64u);
      EXPECT_TRUE(VerifyInclusion(leaf, index, size, *proof, *root).ok())
          << "leaf " << index << " of " << size;
    }
    for (uint64_t old_size : {uint64_t{1}, size / 3, size / 2 + 7, size - 1}) {
      absl::StatusOr<std::vector<Hash>> proof = ConsistencyProof(tree, old_size, size);
      ASSERT_TRUE(proof.ok()) << proof.status();
      EXPECT_LE(tree.TakeLookups(), 64 * 64);
      absl::StatusOr<Hash> old_root = RootOf(tree, old_size);
      ASSERT_TRUE(old_root.ok()) << old_root.status();
      tree.TakeLookups();
      EXPECT_TRUE(VerifyConsistency(old_size, size, *old_root, *root, *proof).ok())
          << old_size << " to " << size;
    }
  }
}

TEST(MerkleTreeTest, AFrontierOfTheLargestTreeRefusesAnotherLeaf) {
  UniformTree tree(UINT64_MAX);
  absl::StatusOr<TreeFrontier> full = TreeFrontier::Restore(tree, UINT64_MAX);
  ASSERT_TRUE(full.ok()) << full.status();
  EXPECT_EQ(tree.TakeLookups(), 64);
  EXPECT_EQ(full->Root(), ValueOf(RootOf(tree, UINT64_MAX)));
  EXPECT_EQ(full->Append(LeafHash("one too many")).status().code(), absl::StatusCode::kOutOfRange);
  EXPECT_EQ(full->size(), UINT64_MAX);
}

TEST(MerkleTreeTest, RequestsOutsideTheTreeAreRefusedAsInvalid) {
  Log log = LogOf(NumberedEntries(4));
  const Hash root = log.frontier.Root();
  EXPECT_EQ(InclusionProof(log.store, 4, 4).status().code(), absl::StatusCode::kInvalidArgument);
  EXPECT_EQ(InclusionProof(log.store, 0, 0).status().code(), absl::StatusCode::kInvalidArgument);
  EXPECT_EQ(InclusionProof(log.store, UINT64_MAX, UINT64_MAX).status().code(),
            absl::StatusCode::kInvalidArgument);
  EXPECT_EQ(ConsistencyProof(log.store, 4, 3).status().code(), absl::StatusCode::kInvalidArgument);
  EXPECT_EQ(VerifyInclusion(LeafHash("x"), 0, 0, {}, root).code(),
            absl::StatusCode::kInvalidArgument);
  EXPECT_EQ(VerifyConsistency(4, 3, root, root, {}).code(), absl::StatusCode::kInvalidArgument);
}

TEST(MerkleTreeTest, AStoresErrorIsPassedOnUnchanged) {
  class Unreadable : public SubtreeHashes {
   public:
    absl::StatusOr<Hash> Perfect(int, uint64_t) const override {
      return absl::UnavailableError("disk gone");
    }
  } unreadable;
  EXPECT_EQ(RootOf(unreadable, 3).status(), absl::UnavailableError("disk gone"));
  EXPECT_EQ(InclusionProof(unreadable, 1, 3).status(), absl::UnavailableError("disk gone"));
  EXPECT_EQ(ConsistencyProof(unreadable, 1, 3).status(), absl::UnavailableError("disk gone"));
  EXPECT_EQ(TreeFrontier::Restore(unreadable, 3).status(), absl::UnavailableError("disk gone"));
}

TEST(MerkleTreeTest, OnlyThirtyTwoBytesMakeAHash) {
  const Hash leaf = LeafHash("entry");
  absl::StatusOr<Hash> hash = HashFromBytes(BytesOf(leaf));
  ASSERT_TRUE(hash.ok()) << hash.status();
  EXPECT_EQ(*hash, leaf);
  EXPECT_EQ(HashFromBytes(BytesOf(leaf).substr(1)).status().code(),
            absl::StatusCode::kInvalidArgument);
  EXPECT_EQ(HashFromBytes(BytesOf(leaf) + "x").status().code(), absl::StatusCode::kInvalidArgument);
}

}  // namespace
}  // namespace cir::audit
