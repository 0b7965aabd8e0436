#include "audit/checkpoint_signer.h"

#include <gtest/gtest.h>
#include <openssl/evp.h>
#include <openssl/pem.h>
#include <openssl/sha.h>
#include <sys/stat.h>
#include <unistd.h>

#include <fstream>
#include <memory>
#include <sstream>
#include <string>
#include <thread>
#include <utility>
#include <vector>

#include "absl/strings/escaping.h"
#include "absl/strings/match.h"
#include "absl/time/time.h"
#include "tests/testing/temp_dir.h"

namespace cir::audit {
namespace {

// The value of `result`, or T's default after failing the test: a broken library fails the test
// rather than crashing it.
template <typename T>
T ValueOf(absl::StatusOr<T> result) {
  EXPECT_TRUE(result.ok()) << result.status();
  return result.ok() ? *std::move(result) : T();
}

Hash CountingBytes() {
  Hash hash;
  for (size_t i = 0; i < hash.size(); ++i) hash[i] = static_cast<uint8_t>(i);
  return hash;
}

Checkpoint ACheckpoint() {
  return Checkpoint{
      .tree_size = 5, .root = CountingBytes(), .time = absl::FromUnixSeconds(1700000000)};
}

std::string ReadFile(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  std::stringstream contents;
  contents << in.rdbuf();
  return contents.str();
}

void WriteFile(const std::string& path, const std::string& contents, mode_t mode) {
  std::ofstream(path, std::ios::binary) << contents;
  ASSERT_EQ(chmod(path.c_str(), mode), 0);
}

mode_t ModeOf(const std::string& path) {
  struct stat status {};
  EXPECT_EQ(stat(path.c_str(), &status), 0);
  return status.st_mode & 07777;
}

// A signer of a new key in `folder`.
std::unique_ptr<CheckpointSigner> NewSigner(const testing::TempDir& folder,
                                            const std::string& name = "audit-signing.pem") {
  const std::string path = folder.Sub(name);
  absl::Status generated = CheckpointSigner::GenerateKeyFile(path);
  EXPECT_TRUE(generated.ok()) << generated;
  absl::StatusOr<std::unique_ptr<CheckpointSigner>> signer = CheckpointSigner::FromKeyFile(path);
  EXPECT_TRUE(signer.ok()) << signer.status();
  return signer.ok() ? *std::move(signer) : nullptr;
}

// ---- The signed text ----------------------------------------------------------------------------

TEST(CheckpointSignerTest, ACheckpointIsSignedAsItsDocumentedText) {
  absl::StatusOr<std::string> text = CheckpointText(ACheckpoint());
  ASSERT_TRUE(text.ok()) << text.status();
  EXPECT_EQ(*text,
            "cir-audit-checkpoint/v1\n"
            "5\n"
            "AAECAwQFBgcICQoLDA0ODxAREhMUFRYXGBkaGxwdHh8=\n"
            "1700000000\n");
  Checkpoint empty{.tree_size = 0, .root = EmptyTreeRoot(), .time = absl::UnixEpoch()};
  EXPECT_EQ(ValueOf(CheckpointText(empty)),
            "cir-audit-checkpoint/v1\n0\n47DEQpj8HBSa+/TImW+5JCeuQeRkm5NMpJWZG3hSuFU=\n0\n");
}

TEST(CheckpointSignerTest, ATextParsesBackToItsCheckpoint) {
  for (const Checkpoint& checkpoint : {ACheckpoint(), Checkpoint{.tree_size = UINT64_MAX,
                                                      .root = LeafHash("x"),
                                                      .time = absl::FromUnixSeconds(4102444800)}}) {
    absl::StatusOr<Checkpoint> parsed = ParseCheckpointText(ValueOf(CheckpointText(checkpoint)));
    ASSERT_TRUE(parsed.ok()) << parsed.status();
    EXPECT_EQ(*parsed, checkpoint);
  }
}

TEST(CheckpointSignerTest, OnlyTheOneCanonicalTextOfACheckpointParses) {
  const std::string root = "AAECAwQFBgcICQoLDA0ODxAREhMUFRYXGBkaGxwdHh8=";
  const std::vector<std::string> not_canonical = {
      "",
      "cir-audit-checkpoint/v1\n5\n" + root + "\n1700000000",      // no final newline
      "cir-audit-checkpoint/v1\n5\n" + root + "\n1700000000\n\n",  // an extra line
      "cir-audit-checkpoint/v2\n5\n" + root + "\n1700000000\n",    // another version
      "cir-audit-checkpoint/v1\n05\n" + root + "\n1700000000\n",   // a leading zero
      "cir-audit-checkpoint/v1\n+5\n" + root + "\n1700000000\n",   // a sign
      "cir-audit-checkpoint/v1\n 5\n" + root + "\n1700000000\n",   // a space
      "cir-audit-checkpoint/v1\n5\n" + root + "\n-1\n",            // before 1970
      "cir-audit-checkpoint/v1\n18446744073709551616\n" + root + "\n1700000000\n",  // 2^64
      "cir-audit-checkpoint/v1\n5\n" + root.substr(0, 43) + "\n1700000000\n",       // unpadded
      "cir-audit-checkpoint/v1\n5\nAAECAwQFBgcICQoLDA0ODxAREhMUFRYXGBkaGxwdHg==\n1700000000\n",
      "cir-audit-checkpoint/v1\r\n5\r\n" + root + "\r\n1700000000\r\n",
  };
  for (const std::string& text : not_canonical) {
    EXPECT_EQ(ParseCheckpointText(text).status().code(), absl::StatusCode::kInvalidArgument)
        << absl::CEscape(text);
  }
}

TEST(CheckpointSignerTest, ATimeWithoutWholeSecondsSince1970HasNoText) {
  for (absl::Time time : {absl::FromUnixMillis(1700000000001), absl::FromUnixSeconds(-1),
                          absl::InfiniteFuture(), absl::InfinitePast()}) {
    Checkpoint checkpoint = ACheckpoint();
    checkpoint.time = time;
    EXPECT_EQ(CheckpointText(checkpoint).status().code(), absl::StatusCode::kInvalidArgument)
        << time;
  }
}

// ---- Signatures ---------------------------------------------------------------------------------

TEST(CheckpointSignerTest, ASignatureVerifiesWithTheSignersPublicKey) {
  testing::TempDir folder;
  std::unique_ptr<CheckpointSigner> signer = NewSigner(folder);
  ASSERT_NE(signer, nullptr);
  absl::StatusOr<std::string> signature = signer->Sign(ACheckpoint());
  ASSERT_TRUE(signature.ok()) << signature.status();
  EXPECT_EQ(signature->size(), 64u);
  absl::Status verified =
      VerifyCheckpointSignature(signer->public_key(), ACheckpoint(), *signature);
  EXPECT_TRUE(verified.ok()) << verified;
}

TEST(CheckpointSignerTest, ASignatureIsPlainEd25519OverTheTextAsOpenSslChecksIt) {
  testing::TempDir folder;
  std::unique_ptr<CheckpointSigner> signer = NewSigner(folder);
  ASSERT_NE(signer, nullptr);
  const std::string signature = ValueOf(signer->Sign(ACheckpoint()));

  // What an auditor does with OpenSSL alone: the published PEM, the text as documented.
  const std::string pem = signer->public_key().pem();
  BIO* bio = BIO_new_mem_buf(pem.data(), static_cast<int>(pem.size()));
  EVP_PKEY* key = PEM_read_bio_PUBKEY(bio, nullptr, nullptr, nullptr);
  BIO_free(bio);
  ASSERT_NE(key, nullptr);
  const std::string text =
      "cir-audit-checkpoint/v1\n5\nAAECAwQFBgcICQoLDA0ODxAREhMUFRYXGBkaGxwdHh8=\n1700000000\n";
  EVP_MD_CTX* context = EVP_MD_CTX_new();
  ASSERT_EQ(EVP_DigestVerifyInit(context, nullptr, nullptr, nullptr, key), 1);
  EXPECT_EQ(EVP_DigestVerify(context, reinterpret_cast<const unsigned char*>(signature.data()),
                             signature.size(), reinterpret_cast<const unsigned char*>(text.data()),
                             text.size()),
            1);
  EVP_MD_CTX_free(context);
  EVP_PKEY_free(key);
}

TEST(CheckpointSignerTest, ASignatureFailsWithAnotherKey) {
  testing::TempDir folder;
  std::unique_ptr<CheckpointSigner> signer = NewSigner(folder, "old.pem");
  std::unique_ptr<CheckpointSigner> other = NewSigner(folder, "new.pem");
  ASSERT_NE(signer, nullptr);
  ASSERT_NE(other, nullptr);
  EXPECT_NE(signer->public_key().key_id(), other->public_key().key_id());
  const std::string signature = ValueOf(signer->Sign(ACheckpoint()));
  absl::Status verified = VerifyCheckpointSignature(other->public_key(), ACheckpoint(), signature);
  EXPECT_EQ(verified.code(), absl::StatusCode::kDataLoss) << verified;
  EXPECT_TRUE(absl::StrContains(verified.message(), other->public_key().key_id())) << verified;
}

TEST(CheckpointSignerTest, ASignatureFailsWhenTheSizeTheRootOrTheTimeChanges) {
  testing::TempDir folder;
  std::unique_ptr<CheckpointSigner> signer = NewSigner(folder);
  ASSERT_NE(signer, nullptr);
  const std::string signature = ValueOf(signer->Sign(ACheckpoint()));

  Checkpoint larger = ACheckpoint();
  larger.tree_size += 1;
  Checkpoint smaller = ACheckpoint();
  smaller.tree_size -= 1;
  Checkpoint other_root = ACheckpoint();
  other_root.root[31] ^= 0x01;
  Checkpoint later = ACheckpoint();
  later.time += absl::Seconds(1);
  for (const Checkpoint& altered : {larger, smaller, other_root, later}) {
    absl::Status verified = VerifyCheckpointSignature(signer->public_key(), altered, signature);
    EXPECT_EQ(verified.code(), absl::StatusCode::kDataLoss) << verified;
  }
  std::string altered_signature = signature;
  altered_signature[10] ^= 0x01;
  EXPECT_EQ(
      VerifyCheckpointSignature(signer->public_key(), ACheckpoint(), altered_signature).code(),
      absl::StatusCode::kDataLoss);
  EXPECT_EQ(
      VerifyCheckpointSignature(signer->public_key(), ACheckpoint(), signature.substr(1)).code(),
      absl::StatusCode::kInvalidArgument);
}

TEST(CheckpointSignerTest, SigningFromSeveralThreadsAtOnceGivesGoodSignatures) {
  testing::TempDir folder;
  std::unique_ptr<CheckpointSigner> signer = NewSigner(folder);
  ASSERT_NE(signer, nullptr);
  constexpr int kThreads = 4;
  constexpr int kEach = 50;
  std::vector<std::vector<std::string>> signatures(kThreads);
  std::vector<std::thread> threads;
  for (int t = 0; t < kThreads; ++t) {
    threads.emplace_back([&, t] {
      for (int i = 0; i < kEach; ++i) {
        Checkpoint checkpoint = ACheckpoint();
        checkpoint.tree_size = t * kEach + i;
        absl::StatusOr<std::string> signature = signer->Sign(checkpoint);
        signatures[t].push_back(signature.ok() ? *signature : "");
      }
    });
  }
  for (std::thread& thread : threads) thread.join();
  for (int t = 0; t < kThreads; ++t) {
    for (int i = 0; i < kEach; ++i) {
      Checkpoint checkpoint = ACheckpoint();
      checkpoint.tree_size = t * kEach + i;
      EXPECT_TRUE(
          VerifyCheckpointSignature(signer->public_key(), checkpoint, signatures[t][i]).ok());
    }
  }
}

// ---- Public keys --------------------------------------------------------------------------------

TEST(CheckpointSignerTest, APublicKeyReadsBackFromItsPemAndItsRawBytesWithTheSameId) {
  testing::TempDir folder;
  std::unique_ptr<CheckpointSigner> signer = NewSigner(folder);
  ASSERT_NE(signer, nullptr);
  const CheckpointPublicKey& key = signer->public_key();
  EXPECT_EQ(key.raw().size(), 32u);
  EXPECT_TRUE(absl::StartsWith(key.pem(), "-----BEGIN PUBLIC KEY-----\n")) << key.pem();

  // The id is the first 8 bytes of SHA-256 of the raw key, in hex.
  unsigned char digest[SHA256_DIGEST_LENGTH];
  SHA256(reinterpret_cast<const unsigned char*>(key.raw().data()), key.raw().size(), digest);
  EXPECT_EQ(key.key_id(),
            absl::BytesToHexString(absl::string_view(reinterpret_cast<char*>(digest), 8)));

  absl::StatusOr<CheckpointPublicKey> from_pem = CheckpointPublicKey::FromPem(key.pem());
  ASSERT_TRUE(from_pem.ok()) << from_pem.status();
  absl::StatusOr<CheckpointPublicKey> from_raw = CheckpointPublicKey::FromRaw(key.raw());
  ASSERT_TRUE(from_raw.ok()) << from_raw.status();
  for (const CheckpointPublicKey& copy : {*from_pem, *from_raw}) {
    EXPECT_EQ(copy.raw(), key.raw());
    EXPECT_EQ(copy.pem(), key.pem());
    EXPECT_EQ(copy.key_id(), key.key_id());
  }
}

TEST(CheckpointSignerTest, SomethingElseIsNotTakenForAPublicKey) {
  EXPECT_EQ(CheckpointPublicKey::FromRaw(std::string(31, 'k')).status().code(),
            absl::StatusCode::kInvalidArgument);
  EXPECT_EQ(CheckpointPublicKey::FromPem("not a key").status().code(),
            absl::StatusCode::kInvalidArgument);
  EVP_PKEY* ec = EVP_PKEY_Q_keygen(nullptr, nullptr, "EC", "P-256");
  ASSERT_NE(ec, nullptr);
  BIO* bio = BIO_new(BIO_s_mem());
  ASSERT_EQ(PEM_write_bio_PUBKEY(bio, ec), 1);
  char* data = nullptr;
  const long size = BIO_get_mem_data(bio, &data);
  const std::string ec_pem(data, size);
  BIO_free(bio);
  EVP_PKEY_free(ec);
  absl::StatusOr<CheckpointPublicKey> key = CheckpointPublicKey::FromPem(ec_pem);
  EXPECT_EQ(key.status().code(), absl::StatusCode::kInvalidArgument);
  EXPECT_TRUE(absl::StrContains(key.status().message(), "not Ed25519")) << key.status();
}

// ---- Key files ----------------------------------------------------------------------------------

TEST(CheckpointSignerTest, AGeneratedKeyFileIsItsOwnersAloneAndNeverOverwritten) {
  testing::TempDir folder;
  const std::string path = folder.Sub("audit-signing.pem");
  ASSERT_TRUE(CheckpointSigner::GenerateKeyFile(path).ok());
  EXPECT_EQ(ModeOf(path) & 077, 0u);
  EXPECT_NE(ModeOf(path) & S_IRUSR, 0u);
  EXPECT_TRUE(absl::StartsWith(ReadFile(path), "-----BEGIN PRIVATE KEY-----\n"));
  const std::string first_key = ReadFile(path);
  EXPECT_EQ(CheckpointSigner::GenerateKeyFile(path).code(), absl::StatusCode::kAlreadyExists);
  EXPECT_EQ(ReadFile(path), first_key);
}

TEST(CheckpointSignerTest, AKeyFileThatOthersMayReadIsRefused) {
  testing::TempDir folder;
  const std::string path = folder.Sub("audit-signing.pem");
  ASSERT_TRUE(CheckpointSigner::GenerateKeyFile(path).ok());
  for (mode_t mode : {0640, 0604, 0644, 0620, 0602, 0610, 0601}) {
    ASSERT_EQ(chmod(path.c_str(), mode), 0);
    absl::StatusOr<std::unique_ptr<CheckpointSigner>> signer = CheckpointSigner::FromKeyFile(path);
    EXPECT_EQ(signer.status().code(), absl::StatusCode::kFailedPrecondition) << std::oct << mode;
    EXPECT_TRUE(absl::StrContains(signer.status().message(), "chmod 600")) << signer.status();
  }
  ASSERT_EQ(chmod(path.c_str(), 0400), 0);
  EXPECT_TRUE(CheckpointSigner::FromKeyFile(path).ok());
}

TEST(CheckpointSignerTest, AKeyFileOwnedByAnotherUserIsRefused) {
  // Giving the file to another user (chown) needs root: run unprivileged, this
  // test cannot make the case it checks, and says so rather than pass. CI and
  // scripts/test run as root here.
  if (geteuid() != 0) GTEST_SKIP() << "only root can give a file to another user";
  testing::TempDir folder;
  const std::string path = folder.Sub("audit-signing.pem");
  ASSERT_TRUE(CheckpointSigner::GenerateKeyFile(path).ok());
  ASSERT_EQ(chown(path.c_str(), 65534, 65534), 0);
  absl::StatusOr<std::unique_ptr<CheckpointSigner>> signer = CheckpointSigner::FromKeyFile(path);
  EXPECT_EQ(signer.status().code(), absl::StatusCode::kFailedPrecondition);
  EXPECT_TRUE(absl::StrContains(signer.status().message(), "is owned by user 65534"))
      << signer.status();
}

TEST(CheckpointSignerTest, AFileWithoutAnEd25519PrivateKeyIsRefused) {
  testing::TempDir folder;
  EXPECT_EQ(CheckpointSigner::FromKeyFile(folder.Sub("missing.pem")).status().code(),
            absl::StatusCode::kNotFound);
  EXPECT_EQ(CheckpointSigner::FromKeyFile(folder.path().string()).status().code(),
            absl::StatusCode::kFailedPrecondition);

  WriteFile(folder.Sub("garbage.pem"), "not a key\n", 0600);
  EXPECT_EQ(CheckpointSigner::FromKeyFile(folder.Sub("garbage.pem")).status().code(),
            absl::StatusCode::kInvalidArgument);

  EVP_PKEY* ec = EVP_PKEY_Q_keygen(nullptr, nullptr, "EC", "P-256");
  ASSERT_NE(ec, nullptr);
  BIO* bio = BIO_new(BIO_s_mem());
  ASSERT_EQ(PEM_write_bio_PrivateKey(bio, ec, nullptr, nullptr, 0, nullptr, nullptr), 1);
  char* data = nullptr;
  const long size = BIO_get_mem_data(bio, &data);
  WriteFile(folder.Sub("ec.pem"), std::string(data, size), 0600);
  BIO_free(bio);
  EVP_PKEY_free(ec);
  absl::StatusOr<std::unique_ptr<CheckpointSigner>> signer =
      CheckpointSigner::FromKeyFile(folder.Sub("ec.pem"));
  EXPECT_EQ(signer.status().code(), absl::StatusCode::kInvalidArgument);
  EXPECT_TRUE(absl::StrContains(signer.status().message(), "not Ed25519")) << signer.status();
}

TEST(CheckpointSignerTest, AKeyReloadedFromItsFileSignsAsTheSameKey) {
  testing::TempDir folder;
  std::unique_ptr<CheckpointSigner> signer = NewSigner(folder);
  ASSERT_NE(signer, nullptr);
  absl::StatusOr<std::unique_ptr<CheckpointSigner>> reloaded =
      CheckpointSigner::FromKeyFile(folder.Sub("audit-signing.pem"));
  ASSERT_TRUE(reloaded.ok()) << reloaded.status();
  EXPECT_EQ((*reloaded)->public_key().key_id(), signer->public_key().key_id());
  EXPECT_TRUE(VerifyCheckpointSignature(signer->public_key(), ACheckpoint(),
                                        ValueOf((*reloaded)->Sign(ACheckpoint())))
                  .ok());
}

}  // namespace
}  // namespace cir::audit
