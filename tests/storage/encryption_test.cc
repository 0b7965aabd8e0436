// Encryption at rest: the cipher streams of AesCtrEncryptionProvider, the master and data keys of
// store_keys, and the store written through them. The proof that no child's details reach the
// disk in the clear greps every byte of the data folder; the same grep of a store written
// unencrypted must find them, which shows the grep able to fail.

#include <openssl/evp.h>
#include <sys/stat.h>
#include <unistd.h>

#include <array>
#include <filesystem>
#include <fstream>
#include <map>
#include <memory>
#include <random>
#include <sstream>
#include <string>
#include <thread>
#include <vector>

#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "identifiers/child_id.h"
#include "rocksdb/env_encryption.h"
#include "storage/aes_ctr_encryption.h"
#include "storage/rocksdb_child_store.h"
#include "storage/store_keys.h"
#include "tests/storage/fictional_store.h"
#include "tests/storage/store_testing.h"
#include "tests/testing/fault_injection_fs.h"
#include "tests/testing/fictional_children.h"
#include "tests/testing/temp_dir.h"

namespace cir::storage {
namespace {

using testing::AppendEvent;
using testing::Child;
using testing::FictionalChild;
using testing::FictionalChildren;
using testing::FilesUnder;
using ::testing::HasSubstr;
using ::testing::Not;
using testing::RegisterAll;
using testing::RunUnit;
using testing::StoreOptions;

// `n` reproducible pseudo-random bytes.
std::string Bytes(size_t n, uint32_t seed) {
  std::mt19937 random(seed);
  std::string bytes(n, '\0');
  for (char& c : bytes) c = static_cast<char>(random());
  return bytes;
}

std::string ReadWhole(const std::filesystem::path& path) {
  std::ifstream in(path, std::ios::binary);
  std::stringstream bytes;
  bytes << in.rdbuf();
  return bytes.str();
}

void WriteWhole(const std::string& path, const std::string& bytes, mode_t mode) {
  std::ofstream(path, std::ios::binary | std::ios::trunc) << bytes;
  ASSERT_EQ(::chmod(path.c_str(), mode), 0);
}

// ---- the cipher streams --------------------------------------------------------------------

// RocksDB's encrypted file system counts file positions from the start of the file, prefix
// included: a file's contents start here.
constexpr uint64_t kContentStart = AesCtrEncryptionProvider::kPrefixBytes;

std::shared_ptr<AesCtrEncryptionProvider> Provider(const std::string& data_key) {
  absl::StatusOr<std::shared_ptr<AesCtrEncryptionProvider>> provider =
      AesCtrEncryptionProvider::Create(data_key);
  EXPECT_TRUE(provider.ok()) << provider.status();
  return provider.ok() ? *provider : nullptr;
}

std::string NewPrefix(AesCtrEncryptionProvider& provider) {
  std::string prefix(provider.GetPrefixLength(), '\0');
  rocksdb::Status made = provider.CreateNewPrefix("000001.sst", prefix.data(), prefix.size());
  EXPECT_TRUE(made.ok()) << made.ToString();
  return prefix;
}

rocksdb::Status OpenStream(AesCtrEncryptionProvider& provider, const std::string& prefix,
                           std::unique_ptr<rocksdb::BlockAccessCipherStream>* stream) {
  rocksdb::Slice slice(prefix);
  return provider.CreateCipherStream("000001.sst", rocksdb::EnvOptions(), slice, stream);
}

std::unique_ptr<rocksdb::BlockAccessCipherStream> Stream(AesCtrEncryptionProvider& provider,
                                                         const std::string& prefix) {
  std::unique_ptr<rocksdb::BlockAccessCipherStream> stream;
  rocksdb::Status opened = OpenStream(provider, prefix, &stream);
  EXPECT_TRUE(opened.ok()) << opened.ToString();
  return stream;
}

std::string Encrypted(rocksdb::BlockAccessCipherStream& stream, uint64_t offset,
                      std::string bytes) {
  EXPECT_TRUE(stream.Encrypt(offset, bytes.data(), bytes.size()).ok());
  return bytes;
}

std::string Decrypted(rocksdb::BlockAccessCipherStream& stream, uint64_t offset,
                      std::string bytes) {
  EXPECT_TRUE(stream.Decrypt(offset, bytes.data(), bytes.size()).ok());
  return bytes;
}

const std::string kDataKey = Bytes(32, 1);

TEST(AesCtrEncryptionTest, AWrittenBlockReadsBackAtAnyOffsetAndLength) {
  std::shared_ptr<AesCtrEncryptionProvider> provider = Provider(kDataKey);
  std::unique_ptr<rocksdb::BlockAccessCipherStream> stream =
      Stream(*provider, NewPrefix(*provider));
  const std::string plain = Bytes(1000, 2);
  const std::string cipher = Encrypted(*stream, kContentStart, plain);
  EXPECT_NE(cipher, plain);
  for (size_t start : {0, 1, 5, 15, 16, 17, 31, 32, 100, 511, 999}) {
    for (size_t length : {0, 1, 2, 15, 16, 17, 33, 257, 1000}) {
      if (start + length > plain.size()) continue;
      EXPECT_EQ(Decrypted(*stream, kContentStart + start, cipher.substr(start, length)),
                plain.substr(start, length))
          << "from " << start << ", " << length << " bytes";
    }
  }
}

TEST(AesCtrEncryptionTest, AppendsOfAnyLengthsWriteWhatOneAppendWould) {
  std::shared_ptr<AesCtrEncryptionProvider> provider = Provider(kDataKey);
  std::unique_ptr<rocksdb::BlockAccessCipherStream> stream =
      Stream(*provider, NewPrefix(*provider));
  const std::string plain = Bytes(777, 3);
  std::string pieces;
  size_t at = 0;
  for (size_t length : {1, 7, 16, 3, 29, 64, 100, 5}) {
    pieces += Encrypted(*stream, kContentStart + at, plain.substr(at, length));
    at += length;
  }
  pieces += Encrypted(*stream, kContentStart + at, plain.substr(at));
  EXPECT_EQ(pieces, Encrypted(*stream, kContentStart, plain));
}

// The keystream, computed apart from the provider: AES-256 of each counter block, the counter
// counted as a 128-bit big-endian integer.
std::string ReferenceKeystream(const std::string& key, std::array<unsigned char, 16> counter,
                               size_t blocks) {
  EVP_CIPHER_CTX* context = EVP_CIPHER_CTX_new();
  EXPECT_EQ(
      EVP_EncryptInit_ex2(context, EVP_aes_256_ecb(),
                          reinterpret_cast<const unsigned char*>(key.data()), nullptr, nullptr),
      1);
  EVP_CIPHER_CTX_set_padding(context, 0);
  std::string keystream(blocks * 16, '\0');
  for (size_t i = 0; i < blocks; ++i) {
    int written = 0;
    EXPECT_EQ(EVP_EncryptUpdate(context, reinterpret_cast<unsigned char*>(&keystream[i * 16]),
                                &written, counter.data(), 16),
              1);
    for (int b = 15; b >= 0 && ++counter[b] == 0; --b) {
    }
  }
  EVP_CIPHER_CTX_free(context);
  return keystream;
}

TEST(AesCtrEncryptionTest, TheKeystreamIsAesOfTheIvPlusTheBlockIndexCarriedAcross128Bits) {
  std::shared_ptr<AesCtrEncryptionProvider> provider = Provider(kDataKey);
  std::string prefix = NewPrefix(*provider);
  // An IV 264 blocks below 2^128: the contents start at block 256 (the prefix's 4096 bytes), so
  // the counter wraps through all 128 bits 8 blocks into them.
  std::array<unsigned char, 16> iv;
  iv.fill(0xff);
  iv[14] = 0xfe;
  iv[15] = 0xf8;
  prefix.replace(AesCtrEncryptionProvider::kIvOffset, 16, reinterpret_cast<const char*>(iv.data()),
                 16);
  std::unique_ptr<rocksdb::BlockAccessCipherStream> stream = Stream(*provider, prefix);
  std::array<unsigned char, 16> first_counter;
  first_counter.fill(0xff);
  first_counter[15] = 0xf8;  // iv + 256
  const std::string keystream = ReferenceKeystream(kDataKey, first_counter, 32);
  EXPECT_EQ(Encrypted(*stream, kContentStart, std::string(512, '\0')), keystream);
  // And read back from inside the blocks on either side of the wrap.
  const std::string plain = Bytes(512, 4);
  const std::string cipher = Encrypted(*stream, kContentStart, plain);
  for (size_t start : {120, 127, 128, 129, 135, 200}) {
    EXPECT_EQ(Decrypted(*stream, kContentStart + start, cipher.substr(start, 50)),
              plain.substr(start, 50))
        << "from " << start;
  }
}

TEST(AesCtrEncryptionTest, TwoFilesGetDifferentIvs) {
  std::shared_ptr<AesCtrEncryptionProvider> provider = Provider(kDataKey);
  const std::string first = NewPrefix(*provider);
  const std::string second = NewPrefix(*provider);
  const size_t iv_at = AesCtrEncryptionProvider::kIvOffset;
  EXPECT_NE(first.substr(iv_at, 16), second.substr(iv_at, 16));
  EXPECT_NE(first.substr(iv_at, 16), std::string(16, '\0'));
  const std::string plain = Bytes(256, 5);
  EXPECT_NE(Encrypted(*Stream(*provider, first), kContentStart, plain),
            Encrypted(*Stream(*provider, second), kContentStart, plain));
}

TEST(AesCtrEncryptionTest, AFileWrittenUnderAnotherDataKeyIsRefusedAsTheWrongKey) {
  std::shared_ptr<AesCtrEncryptionProvider> writer = Provider(kDataKey);
  std::shared_ptr<AesCtrEncryptionProvider> reader = Provider(Bytes(32, 99));
  std::unique_ptr<rocksdb::BlockAccessCipherStream> stream;
  rocksdb::Status opened = OpenStream(*reader, NewPrefix(*writer), &stream);
  EXPECT_TRUE(opened.IsInvalidArgument()) << opened.ToString();
  EXPECT_THAT(opened.ToString(), HasSubstr("encrypted under another data key"));
  EXPECT_THAT(opened.ToString(), HasSubstr("wrong key"));
  EXPECT_EQ(stream, nullptr);
}

TEST(AesCtrEncryptionTest, AFileWithoutTheHeaderIsRefused) {
  std::shared_ptr<AesCtrEncryptionProvider> provider = Provider(kDataKey);
  std::unique_ptr<rocksdb::BlockAccessCipherStream> stream;
  rocksdb::Status plain = OpenStream(*provider, std::string(4096, 'x'), &stream);
  EXPECT_TRUE(plain.IsCorruption()) << plain.ToString();
  EXPECT_THAT(plain.ToString(), HasSubstr("encryption header"));
  rocksdb::Status short_file = OpenStream(*provider, NewPrefix(*provider).substr(0, 40), &stream);
  EXPECT_TRUE(short_file.IsCorruption()) << short_file.ToString();
}

TEST(AesCtrEncryptionTest, ADataKeyOfAnotherLengthIsRefused) {
  EXPECT_EQ(AesCtrEncryptionProvider::Create(Bytes(16, 6)).status().code(),
            absl::StatusCode::kInvalidArgument);
  EXPECT_EQ(AesCtrEncryptionProvider::Create("").status().code(),
            absl::StatusCode::kInvalidArgument);
}

TEST(AesCtrEncryptionTest, OneFileReadsCorrectlyFromManyThreadsAtOnce) {
  std::shared_ptr<AesCtrEncryptionProvider> provider = Provider(kDataKey);
  std::unique_ptr<rocksdb::BlockAccessCipherStream> stream =
      Stream(*provider, NewPrefix(*provider));
  const std::string plain = Bytes(64 << 10, 7);
  const std::string cipher = Encrypted(*stream, kContentStart, plain);
  std::vector<std::thread> readers;
  std::vector<int> wrong(8, 0);
  for (int t = 0; t < 8; ++t) {
    readers.emplace_back([&, t] {
      std::mt19937 random(t);
      for (int i = 0; i < 2000; ++i) {
        const size_t start = random() % plain.size();
        const size_t length = random() % std::min<size_t>(plain.size() - start, 5000);
        std::string part = cipher.substr(start, length);
        if (!stream->Decrypt(kContentStart + start, part.data(), part.size()).ok() ||
            part != plain.substr(start, length)) {
          ++wrong[t];
        }
      }
    });
  }
  for (std::thread& reader : readers) reader.join();
  for (int t = 0; t < 8; ++t) EXPECT_EQ(wrong[t], 0) << "reader " << t;
}

// ---- the keys ------------------------------------------------------------------------------

class StoreKeysTest : public ::testing::Test {
 protected:
  cir::testing::TempDir dir_;
};

TEST_F(StoreKeysTest, ANewMasterKeyFileIsForItsOwnerAloneAndReadsBack) {
  const std::string path = dir_.Sub("master.key");
  ASSERT_TRUE(WriteNewMasterKeyFile(path).ok());
  struct stat status;
  ASSERT_EQ(::stat(path.c_str(), &status), 0);
  EXPECT_EQ(status.st_mode & 07777, 0600u);
  EXPECT_EQ(status.st_uid, ::geteuid());
  const std::string text = ReadWhole(path);
  EXPECT_EQ(text.size(), 65u);
  EXPECT_EQ(text.find_first_not_of("0123456789abcdef"), 64u);
  absl::StatusOr<StoreKey> key = ReadMasterKeyFile(path);
  ASSERT_TRUE(key.ok()) << key.status();
  ASSERT_TRUE(WriteNewMasterKeyFile(dir_.Sub("other.key")).ok());
  absl::StatusOr<StoreKey> other = ReadMasterKeyFile(dir_.Sub("other.key"));
  ASSERT_TRUE(other.ok()) << other.status();
  EXPECT_NE(key->bytes(), other->bytes());
}

TEST_F(StoreKeysTest, AMasterKeyFileIsNeverOverwritten) {
  const std::string path = dir_.Sub("master.key");
  ASSERT_TRUE(WriteNewMasterKeyFile(path).ok());
  const std::string first = ReadWhole(path);
  EXPECT_EQ(WriteNewMasterKeyFile(path).code(), absl::StatusCode::kAlreadyExists);
  EXPECT_EQ(ReadWhole(path), first);
}

TEST_F(StoreKeysTest, AMasterKeyFileOthersCanReadIsRefused) {
  const std::string path = dir_.Sub("master.key");
  ASSERT_TRUE(WriteNewMasterKeyFile(path).ok());
  for (mode_t mode : {0640, 0604, 0644, 0620, 0602, 0610}) {
    ASSERT_EQ(::chmod(path.c_str(), mode), 0);
    absl::StatusOr<StoreKey> key = ReadMasterKeyFile(path);
    EXPECT_EQ(key.status().code(), absl::StatusCode::kFailedPrecondition) << std::oct << mode;
    EXPECT_THAT(key.status().message(), HasSubstr("gives group or others access"));
    EXPECT_THAT(key.status().message(), HasSubstr("chmod 600"));
  }
  ASSERT_EQ(::chmod(path.c_str(), 0400), 0);
  EXPECT_TRUE(ReadMasterKeyFile(path).ok());
}

TEST_F(StoreKeysTest, AMasterKeyFileOwnedByAnotherUserIsRefused) {
  // Giving the file to another user (chown) needs root: run unprivileged, this test cannot make
  // the case it checks, and says so rather than pass. CI and scripts/test run as root here.
  if (::geteuid() != 0) GTEST_SKIP() << "only root can give a file to another user";
  const std::string path = dir_.Sub("master.key");
  ASSERT_TRUE(WriteNewMasterKeyFile(path).ok());
  ASSERT_EQ(::chown(path.c_str(), 65534, 65534), 0);
  absl::StatusOr<StoreKey> key = ReadMasterKeyFile(path);
  EXPECT_EQ(key.status().code(), absl::StatusCode::kFailedPrecondition);
  EXPECT_THAT(key.status().message(), HasSubstr("is owned by user 65534"));
}

TEST_F(StoreKeysTest, AMasterKeyFileThatIsNotSixtyFourHexDigitsIsRefusedWithoutQuotingIt) {
  const std::string path = dir_.Sub("master.key");
  const std::string digits = std::string(64, 'a');
  for (const std::string& text : {std::string("secret"), digits.substr(1), digits + "\n\n",
                                  digits + "a", std::string(63, 'a') + "g", digits + " "}) {
    WriteWhole(path, text, 0600);
    absl::StatusOr<StoreKey> key = ReadMasterKeyFile(path);
    EXPECT_EQ(key.status().code(), absl::StatusCode::kFailedPrecondition) << text;
    EXPECT_THAT(key.status().message(), HasSubstr("64 hexadecimal digits"));
    EXPECT_THAT(key.status().message(), Not(HasSubstr("aaaa")));
    EXPECT_THAT(key.status().message(), Not(HasSubstr("secret")));
  }
  WriteWhole(path, std::string(64, 'A'), 0600);
  EXPECT_TRUE(ReadMasterKeyFile(path).ok());
}

TEST_F(StoreKeysTest, TheDataKeyIsKeptWrappedAndOpensOnlyWithItsMasterKey) {
  ASSERT_TRUE(WriteNewMasterKeyFile(dir_.Sub("a.key")).ok());
  ASSERT_TRUE(WriteNewMasterKeyFile(dir_.Sub("b.key")).ok());
  absl::StatusOr<StoreKey> a = ReadMasterKeyFile(dir_.Sub("a.key"));
  absl::StatusOr<StoreKey> b = ReadMasterKeyFile(dir_.Sub("b.key"));
  ASSERT_TRUE(a.ok() && b.ok());
  const std::string folder = dir_.Sub("db");
  EXPECT_EQ(OpenDataKey(folder, *a, /*create_if_missing=*/false).status().code(),
            absl::StatusCode::kFailedPrecondition);
  absl::StatusOr<StoreKey> made = OpenDataKey(folder, *a, /*create_if_missing=*/true);
  ASSERT_TRUE(made.ok()) << made.status();
  EXPECT_TRUE(HoldsDataKey(folder));
  const std::string file = ReadWhole(std::filesystem::path(folder) / kDataKeyFileName);
  EXPECT_EQ(file.size(), 93u);
  EXPECT_EQ(file.find(std::string(made->bytes())), std::string::npos);
  absl::StatusOr<StoreKey> again = OpenDataKey(folder, *a, /*create_if_missing=*/true);
  ASSERT_TRUE(again.ok()) << again.status();
  EXPECT_EQ(again->bytes(), made->bytes());
  absl::StatusOr<StoreKey> wrong = OpenDataKey(folder, *b, /*create_if_missing=*/true);
  EXPECT_EQ(wrong.status().code(), absl::StatusCode::kPermissionDenied);
  EXPECT_THAT(wrong.status().message(), HasSubstr("the master key does not open this store's "
                                                  "data key"));
}

TEST_F(StoreKeysTest, ADamagedDataKeyFileIsDataLoss) {
  ASSERT_TRUE(WriteNewMasterKeyFile(dir_.Sub("a.key")).ok());
  absl::StatusOr<StoreKey> a = ReadMasterKeyFile(dir_.Sub("a.key"));
  ASSERT_TRUE(a.ok());
  const std::string folder = dir_.Sub("db");
  ASSERT_TRUE(OpenDataKey(folder, *a, /*create_if_missing=*/true).ok());
  const std::string path = (std::filesystem::path(folder) / kDataKeyFileName).string();
  std::string file = ReadWhole(path);
  file[60] ^= 1;  // inside the wrapped key
  WriteWhole(path, file, 0600);
  absl::StatusOr<StoreKey> opened = OpenDataKey(folder, *a, /*create_if_missing=*/false);
  EXPECT_EQ(opened.status().code(), absl::StatusCode::kDataLoss);
  EXPECT_THAT(opened.status().message(), HasSubstr("is damaged"));
}

// ---- the store -----------------------------------------------------------------------------

class EncryptedStoreTest : public ::testing::Test {
 protected:
  std::string NewMasterKey(const std::string& name) {
    const std::string path = dir_.Sub(name);
    EXPECT_TRUE(WriteNewMasterKeyFile(path).ok());
    return path;
  }

  RocksDbStoreOptions Options(const std::string& master_key_file) {
    RocksDbStoreOptions options = StoreOptions(dir_.Sub("db"));
    options.encryption = StoreEncryption{master_key_file};
    return options;
  }

  std::unique_ptr<ChildStore> Open(const RocksDbStoreOptions& options) {
    absl::StatusOr<std::unique_ptr<ChildStore>> store = RocksDbChildStore::Open(options);
    EXPECT_TRUE(store.ok()) << store.status();
    return store.ok() ? *std::move(store) : nullptr;
  }

  cir::testing::TempDir dir_;
};

// The details of the fictional children that the grep looks for. Names shorter than 8 bytes
// ("Ada", "Mary") are left out: random ciphertext would hold a given 3-byte string about once in
// 16 MiB; the family name, shared by child and mother, stands for the names.
std::vector<std::string> DetailsToLookFor(const std::vector<FictionalChild>& children) {
  std::vector<std::string> details = {"Lovelace-Test", "RH12 1AA", "1 Fictional Street",
                                      cir::testing::FictionalMotherNhsNumber()};
  for (const FictionalChild& child : children) {
    details.push_back(child.child_id);
    details.push_back(child.nhs_number);
    details.push_back(child.upn);
  }
  return details;
}

// What the grep of a data folder found: each detail found, as "<detail> in <file>", and the
// names of the files looked at.
struct FolderScan {
  std::vector<std::string> details_found;
  std::vector<std::string> file_names;
};

// Registers children through a store over `options`, opened twice (so that the first opening's
// log is replayed into table files at the second), with memtables small enough that both
// openings also flush and compact, then greps every file of its data folder for their details.
FolderScan RegisterThenGrep(RocksDbStoreOptions options) {
  options.memtable_bytes = 64 << 10;
  std::vector<FictionalChild> registered;
  for (int opening = 0; opening < 2; ++opening) {
    absl::StatusOr<std::unique_ptr<ChildStore>> store = RocksDbChildStore::Open(options);
    EXPECT_TRUE(store.ok()) << store.status();
    if (!store.ok()) return {};
    for (int unit = 0; unit < 20; ++unit) {
      std::vector<FictionalChild> children =
          FictionalChildren(50, static_cast<int>(registered.size()));
      EXPECT_TRUE(RunUnit(**store, RegisterAll(children)).ok());
      registered.insert(registered.end(), children.begin(), children.end());
    }
  }
  FolderScan scan;
  const std::vector<std::string> details = DetailsToLookFor(registered);
  for (const auto& [path, bytes] : FilesUnder(options.path)) {
    scan.file_names.push_back(std::filesystem::path(path).filename().string());
    for (const std::string& detail : details) {
      if (bytes.find(detail) != std::string::npos) {
        scan.details_found.push_back(detail + " in " + path);
      }
    }
  }
  return scan;
}

bool AnyNamed(const std::vector<std::string>& names, absl::string_view start,
              absl::string_view end = "") {
  for (const std::string& name : names) {
    if (absl::StartsWith(name, start) && absl::EndsWith(name, end)) return true;
  }
  return false;
}

TEST_F(EncryptedStoreTest, NoFictionalChildsDetailAppearsInAnyByteOfTheDataFolder) {
  const FolderScan scan = RegisterThenGrep(Options(NewMasterKey("a.key")));
  EXPECT_THAT(scan.details_found, ::testing::IsEmpty());
  const std::vector<std::string>& names = scan.file_names;
  // Every kind of file RocksDB writes was looked at: tables, write-ahead log, manifest, options.
  EXPECT_TRUE(AnyNamed(names, "", ".sst"));
  EXPECT_TRUE(AnyNamed(names, "", ".log"));
  EXPECT_TRUE(AnyNamed(names, "MANIFEST-"));
  EXPECT_TRUE(AnyNamed(names, "OPTIONS-"));
  EXPECT_TRUE(AnyNamed(names, "CURRENT"));
  EXPECT_TRUE(AnyNamed(names, kDataKeyFileName));
  // And RocksDB's info log is not written at all.
  EXPECT_FALSE(AnyNamed(names, "LOG"));
}

// The control: the same grep of a store written unencrypted finds the children's details.
TEST_F(EncryptedStoreTest, TheGrepFindsTheDetailsInAStoreWrittenUnencrypted) {
  const FolderScan scan = RegisterThenGrep(StoreOptions(dir_.Sub("db")));
  EXPECT_THAT(scan.details_found, Not(::testing::IsEmpty()));
  EXPECT_FALSE(AnyNamed(scan.file_names, "LOG"));
}

TEST_F(EncryptedStoreTest, TheWrongMasterKeyRefusesToOpenWithAClearError) {
  ASSERT_NE(Open(Options(NewMasterKey("a.key"))), nullptr);
  RocksDbStoreOptions wrong = Options(NewMasterKey("b.key"));
  wrong.create_if_missing = false;
  absl::StatusOr<std::unique_ptr<ChildStore>> store = RocksDbChildStore::Open(wrong);
  EXPECT_EQ(store.status().code(), absl::StatusCode::kPermissionDenied);
  EXPECT_THAT(store.status().message(),
              HasSubstr("the master key does not open this store's data key"));
}

TEST_F(EncryptedStoreTest, AFolderHoldingAnotherStoresDataKeyIsRefusedAsTheWrongKey) {
  const std::string master_key = NewMasterKey("a.key");
  ASSERT_NE(Open(Options(master_key)), nullptr);
  RocksDbStoreOptions other = Options(master_key);
  other.path = dir_.Sub("other");
  ASSERT_NE(Open(other), nullptr);
  const std::filesystem::path data_key = std::filesystem::path(dir_.Sub("db")) / kDataKeyFileName;
  std::filesystem::copy_file(std::filesystem::path(other.path) / kDataKeyFileName, data_key,
                             std::filesystem::copy_options::overwrite_existing);
  absl::StatusOr<std::unique_ptr<ChildStore>> store = RocksDbChildStore::Open(Options(master_key));
  EXPECT_FALSE(store.ok());
  EXPECT_THAT(store.status().message(), HasSubstr("encrypted under another data key"));
}

TEST_F(EncryptedStoreTest, RotatingTheMasterKeyRewrapsAndTheStoreOpensWithTheNewKeyOnly) {
  const std::string old_key = NewMasterKey("old.key");
  const std::vector<FictionalChild> children = FictionalChildren(10);
  {
    std::unique_ptr<ChildStore> store = Open(Options(old_key));
    ASSERT_NE(store, nullptr);
    ASSERT_TRUE(RunUnit(*store, RegisterAll(children)).ok());
  }
  std::map<std::string, std::string> before = FilesUnder(dir_.Sub("db"));
  const std::string new_key = NewMasterKey("new.key");
  ASSERT_TRUE(RotateMasterKey(dir_.Sub("db"), old_key, new_key).ok());
  std::map<std::string, std::string> after = FilesUnder(dir_.Sub("db"));
  const std::string data_key = (std::filesystem::path(dir_.Sub("db")) / kDataKeyFileName).string();
  EXPECT_NE(before[data_key], after[data_key]);
  before.erase(data_key);
  after.erase(data_key);
  EXPECT_EQ(before, after) << "rotation rewrote the store's files";

  RocksDbStoreOptions with_new = Options(new_key);
  with_new.create_if_missing = false;
  {
    std::unique_ptr<ChildStore> store = Open(with_new);
    ASSERT_NE(store, nullptr);
    absl::StatusOr<std::optional<StoredChild>> child = store->GetChild(children[3].child_id);
    ASSERT_TRUE(child.ok()) << child.status();
    ASSERT_TRUE(child->has_value());
    EXPECT_EQ((*child)->nhs_number(), children[3].nhs_number);
  }
  absl::StatusOr<std::unique_ptr<ChildStore>> with_old = RocksDbChildStore::Open(Options(old_key));
  EXPECT_EQ(with_old.status().code(), absl::StatusCode::kPermissionDenied);
}

TEST_F(EncryptedStoreTest, AStoreCreatedEncryptedIsRefusedWithoutItsMasterKey) {
  ASSERT_NE(Open(Options(NewMasterKey("a.key"))), nullptr);
  absl::StatusOr<std::unique_ptr<ChildStore>> store =
      RocksDbChildStore::Open(StoreOptions(dir_.Sub("db")));
  EXPECT_EQ(store.status().code(), absl::StatusCode::kFailedPrecondition);
  EXPECT_THAT(store.status().message(), HasSubstr("is encrypted"));
}

TEST_F(EncryptedStoreTest, AStoreWrittenUnencryptedIsNotOpenedAsEncrypted) {
  ASSERT_NE(Open(StoreOptions(dir_.Sub("db"))), nullptr);
  absl::StatusOr<std::unique_ptr<ChildStore>> store =
      RocksDbChildStore::Open(Options(NewMasterKey("a.key")));
  EXPECT_EQ(store.status().code(), absl::StatusCode::kFailedPrecondition);
  EXPECT_THAT(store.status().message(), HasSubstr("written unencrypted"));
  EXPECT_FALSE(HoldsDataKey(dir_.Sub("db")));
}

TEST_F(EncryptedStoreTest, AMissingEncryptedStoreIsNotCreatedWithoutCreateIfMissing) {
  RocksDbStoreOptions options = Options(NewMasterKey("a.key"));
  options.create_if_missing = false;
  absl::StatusOr<std::unique_ptr<ChildStore>> store = RocksDbChildStore::Open(options);
  EXPECT_EQ(store.status().code(), absl::StatusCode::kFailedPrecondition);
  EXPECT_FALSE(std::filesystem::exists(dir_.Sub("db")));
}

TEST_F(EncryptedStoreTest, EveryUnitAcknowledgedBeforeAPowerCutIsFoundAfterIt) {
  const std::string master_key = NewMasterKey("a.key");
  ASSERT_NE(Open(Options(master_key)), nullptr);  // the store exists, durably, before the cut

  auto fs = std::make_shared<cir::testing::FaultInjectionFs>();
  RocksDbStoreOptions options = Options(master_key);
  options.file_system = fs;
  std::unique_ptr<ChildStore> store = Open(options);
  ASSERT_NE(store, nullptr);
  std::vector<FictionalChild> acknowledged;
  for (int i = 0; i < 100; ++i) {
    std::vector<FictionalChild> children = FictionalChildren(3, 3 * i);
    if (RunUnit(*store, RegisterAll(children)).ok()) {
      acknowledged.insert(acknowledged.end(), children.begin(), children.end());
    }
  }
  fs->CutPower();
  EXPECT_FALSE(RunUnit(*store, RegisterAll(FictionalChildren(3, 900))).ok());
  store.reset();
  fs->DropUnsyncedData();

  RocksDbStoreOptions reopen = Options(master_key);
  reopen.create_if_missing = false;
  store = Open(reopen);
  ASSERT_NE(store, nullptr);
  ASSERT_EQ(acknowledged.size(), 300u);
  for (const FictionalChild& child : acknowledged) {
    absl::StatusOr<std::optional<StoredChild>> found = store->GetChild(child.child_id);
    ASSERT_TRUE(found.ok()) << found.status();
    EXPECT_TRUE(found->has_value()) << child.child_id;
  }
}

}  // namespace
}  // namespace cir::storage
