#include "storage/aes_ctr_encryption.h"

#include <openssl/crypto.h>
#include <openssl/evp.h>
#include <openssl/hmac.h>
#include <openssl/rand.h>

#include <algorithm>
#include <array>
#include <atomic>
#include <cstring>
#include <utility>

#include "absl/status/status.h"
#include "absl/strings/str_cat.h"

namespace cir::storage {
namespace {

constexpr char kMagic[8] = {'C', 'I', 'R', 'A', 'E', 'S', 'C', 'T'};
constexpr size_t kVersionOffset = 8;
constexpr unsigned char kVersion = 1;
// The bytes of the prefix that carry anything: magic to key check.
constexpr size_t kHeaderBytes =
    AesCtrEncryptionProvider::kKeyCheckOffset + AesCtrEncryptionProvider::kKeyCheckBytes;
constexpr absl::string_view kKeyCheckLabel = "cir.storage data key check v1";
constexpr size_t kBlockBytes = 16;
// The most bytes one EVP update takes (its length is an int).
constexpr size_t kMaxUpdateBytes = size_t{1} << 30;

using Counter = std::array<unsigned char, kBlockBytes>;

// counter(n) of the layout: `iv` as a 128-bit big-endian integer plus `block`, modulo 2^128.
Counter CounterAt(const Counter& iv, uint64_t block) {
  Counter counter = iv;
  uint64_t carry = block;
  for (int i = kBlockBytes - 1; i >= 0 && carry != 0; --i) {
    const uint64_t sum = counter[i] + (carry & 0xff);
    counter[i] = static_cast<unsigned char>(sum);
    carry = (carry >> 8) + (sum >> 8);
  }
  return counter;
}

// The OpenSSL context this thread last used, and the CtrCipher it was keyed by.
struct ThreadContext {
  uint64_t cipher_id = 0;  // CtrCipher::id_; 0 for none
  EVP_CIPHER_CTX* context = nullptr;
  ~ThreadContext() { EVP_CIPHER_CTX_free(context); }
};
thread_local ThreadContext thread_context;
std::atomic<uint64_t> next_cipher_id{1};

}  // namespace

// AES-256-CTR under one key, for any number of threads at once. An EVP_CIPHER_CTX serves one
// thread at a time, so each thread encrypts with a context of its own, kept in a thread-local
// slot: copied from the one keyed when the key was given (the cipher fetched once, the key
// expanded once) at the thread's first call, and reused by its later calls, which then neither
// allocate, nor expand the key, nor take a lock. The slot holds one context: a thread that
// alternates between two stores (tests do) copies the other's key in again at each switch. A
// thread's context is freed, and wiped, when the thread ends; until then it holds the key's
// schedule, as the store holds the key while it is open.
class CtrCipher {
 public:
  static absl::StatusOr<std::shared_ptr<const CtrCipher>> Create(absl::string_view key) {
    EVP_CIPHER* cipher = EVP_CIPHER_fetch(nullptr, "AES-256-CTR", nullptr);
    if (cipher == nullptr) return absl::InternalError("OpenSSL has no AES-256-CTR");
    EVP_CIPHER_CTX* keyed = EVP_CIPHER_CTX_new();
    if (keyed == nullptr ||
        EVP_EncryptInit_ex2(keyed, cipher, reinterpret_cast<const unsigned char*>(key.data()),
                            nullptr, nullptr) != 1) {
      EVP_CIPHER_CTX_free(keyed);
      EVP_CIPHER_free(cipher);
      return absl::InternalError("OpenSSL could not key AES-256-CTR");
    }
    return std::shared_ptr<const CtrCipher>(new CtrCipher(cipher, keyed));
  }

  ~CtrCipher() {
    EVP_CIPHER_CTX_free(keyed_);
    EVP_CIPHER_free(cipher_);
  }
  CtrCipher(const CtrCipher&) = delete;
  CtrCipher& operator=(const CtrCipher&) = delete;

  // XORs data[0, size) with the keystream of the file whose IV is `iv`, from file position
  // `offset` on.
  rocksdb::Status Apply(const Counter& iv, uint64_t offset, char* data, size_t size) const {
    if (size == 0) return rocksdb::Status::OK();
    EVP_CIPHER_CTX* context = ThisThreadsContext();
    if (context == nullptr) {
      return rocksdb::Status::MemoryLimit("no memory for an AES-256-CTR context");
    }
    const Counter counter = CounterAt(iv, offset / kBlockBytes);
    bool ok = EVP_EncryptInit_ex2(context, nullptr, nullptr, counter.data(), nullptr) == 1;
    // An offset inside a block: the keystream of the block's bytes before it is skipped.
    if (const size_t skip = offset % kBlockBytes; ok && skip != 0) {
      unsigned char skipped[kBlockBytes] = {};
      int written = 0;
      ok = EVP_EncryptUpdate(context, skipped, &written, skipped, static_cast<int>(skip)) == 1;
      OPENSSL_cleanse(skipped, sizeof(skipped));
    }
    auto* bytes = reinterpret_cast<unsigned char*>(data);
    while (ok && size > 0) {
      const int chunk = static_cast<int>(std::min(size, kMaxUpdateBytes));
      int written = 0;
      ok = EVP_EncryptUpdate(context, bytes, &written, bytes, chunk) == 1 && written == chunk;
      bytes += chunk;
      size -= chunk;
    }
    return ok ? rocksdb::Status::OK() : rocksdb::Status::IOError("AES-256-CTR failed in OpenSSL");
  }

 private:
  CtrCipher(EVP_CIPHER* cipher, EVP_CIPHER_CTX* keyed)
      : id_(next_cipher_id.fetch_add(1)), cipher_(cipher), keyed_(keyed) {}

  // This thread's context, keyed with this cipher's key; null for want of memory.
  EVP_CIPHER_CTX* ThisThreadsContext() const {
    ThreadContext& mine = thread_context;
    if (mine.cipher_id == id_) return mine.context;
    mine.cipher_id = 0;
    if (mine.context == nullptr) mine.context = EVP_CIPHER_CTX_new();
    // keyed_ is only read, by any number of threads at once.
    if (mine.context == nullptr || EVP_CIPHER_CTX_copy(mine.context, keyed_) != 1) return nullptr;
    mine.cipher_id = id_;
    return mine.context;
  }

  const uint64_t id_;  // never reused, so a thread's slot cannot mistake another cipher for this
  EVP_CIPHER* const cipher_;
  EVP_CIPHER_CTX* const keyed_;  // never used to encrypt: copied into each thread's slot
};

namespace {

// The cipher stream of one file: its IV and the store's cipher. In CTR encrypting and decrypting
// are the same XOR, done for the whole range at once rather than block by block.
//
// RocksDB makes a file's stream on one thread and uses and destroys it on others, handing it over
// under its own locks, which a ThreadSanitizer build cannot see inside the uninstrumented library.
// Each use acquires on entry and releases on exit, and the destructor acquires, so that the
// hand-off is one our code shows: construction before every use, every use before destruction.
class AesCtrCipherStream final : public rocksdb::BlockAccessCipherStream {
 public:
  AesCtrCipherStream(std::shared_ptr<const CtrCipher> cipher, const Counter& iv)
      : cipher_(std::move(cipher)), iv_(iv) {
    uses_.store(0, std::memory_order_release);
  }
  ~AesCtrCipherStream() override { uses_.load(std::memory_order_acquire); }

  size_t BlockSize() override { return kBlockBytes; }

  rocksdb::Status Encrypt(uint64_t file_offset, char* data, size_t data_size) override {
    return Apply(file_offset, data, data_size);
  }
  rocksdb::Status Decrypt(uint64_t file_offset, char* data, size_t data_size) override {
    return Apply(file_offset, data, data_size);
  }

 protected:
  // The block-by-block path of the base class, unused since Encrypt and Decrypt are overridden.
  void AllocateScratch(std::string&) override {}
  rocksdb::Status EncryptBlock(uint64_t block_index, char* data, char*) override {
    return Apply(block_index * kBlockBytes, data, kBlockBytes);
  }
  rocksdb::Status DecryptBlock(uint64_t block_index, char* data, char*) override {
    return Apply(block_index * kBlockBytes, data, kBlockBytes);
  }

 private:
  rocksdb::Status Apply(uint64_t file_offset, char* data, size_t data_size) {
    uses_.load(std::memory_order_acquire);
    rocksdb::Status applied = cipher_->Apply(iv_, file_offset, data, data_size);
    uses_.fetch_add(1, std::memory_order_release);
    return applied;
  }

  const std::shared_ptr<const CtrCipher> cipher_;
  const Counter iv_;
  std::atomic<uint64_t> uses_;  // orders the stream's construction, uses and destruction (above)
};

}  // namespace

absl::StatusOr<std::shared_ptr<AesCtrEncryptionProvider>> AesCtrEncryptionProvider::Create(
    absl::string_view data_key) {
  if (data_key.size() != kDataKeyBytes) {
    return absl::InvalidArgumentError(
        absl::StrCat("a data key has ", kDataKeyBytes, " bytes, not ", data_key.size()));
  }
  absl::StatusOr<std::shared_ptr<const CtrCipher>> cipher = CtrCipher::Create(data_key);
  if (!cipher.ok()) return cipher.status();
  unsigned char mac[EVP_MAX_MD_SIZE];
  unsigned int mac_bytes = 0;
  if (HMAC(EVP_sha256(), data_key.data(), static_cast<int>(data_key.size()),
           reinterpret_cast<const unsigned char*>(kKeyCheckLabel.data()), kKeyCheckLabel.size(),
           mac, &mac_bytes) == nullptr ||
      mac_bytes < kKeyCheckBytes) {
    return absl::InternalError("OpenSSL could not compute the data key's check");
  }
  std::string key_check(reinterpret_cast<const char*>(mac), kKeyCheckBytes);
  return std::shared_ptr<AesCtrEncryptionProvider>(
      new AesCtrEncryptionProvider(*std::move(cipher), std::move(key_check)));
}

class AesCtrEncryptionProvider::Use {
 public:
  explicit Use(const AesCtrEncryptionProvider& provider) : provider_(provider) {
    provider_.uses_.load(std::memory_order_acquire);
  }
  ~Use() { provider_.uses_.fetch_add(1, std::memory_order_release); }
  Use(const Use&) = delete;
  Use& operator=(const Use&) = delete;

 private:
  const AesCtrEncryptionProvider& provider_;
};

AesCtrEncryptionProvider::AesCtrEncryptionProvider(std::shared_ptr<const CtrCipher> cipher,
                                                   std::string key_check)
    : cipher_(std::move(cipher)), key_check_(std::move(key_check)) {
  uses_.store(0, std::memory_order_release);
}

AesCtrEncryptionProvider::~AesCtrEncryptionProvider() { uses_.load(std::memory_order_acquire); }

rocksdb::Status AesCtrEncryptionProvider::CreateNewPrefix(const std::string& fname, char* prefix,
                                                          size_t prefix_length) const {
  const Use use(*this);
  if (prefix_length < kHeaderBytes) {
    return rocksdb::Status::InvalidArgument(fname, "the encryption prefix is too short");
  }
  std::memset(prefix, 0, prefix_length);
  std::memcpy(prefix, kMagic, sizeof(kMagic));
  prefix[kVersionOffset] = static_cast<char>(kVersion);
  if (RAND_bytes(reinterpret_cast<unsigned char*>(prefix + kIvOffset), kIvBytes) != 1) {
    return rocksdb::Status::IOError(fname, "OpenSSL gave no random bytes for the file's IV");
  }
  std::memcpy(prefix + kKeyCheckOffset, key_check_.data(), kKeyCheckBytes);
  return rocksdb::Status::OK();
}

rocksdb::Status AesCtrEncryptionProvider::CreateCipherStream(
    const std::string& fname, const rocksdb::EnvOptions& /*options*/, rocksdb::Slice& prefix,
    std::unique_ptr<rocksdb::BlockAccessCipherStream>* result) {
  const Use use(*this);
  if (prefix.size() < kHeaderBytes) {
    return rocksdb::Status::Corruption(fname, "is too short to hold the store's encryption header");
  }
  if (std::memcmp(prefix.data(), kMagic, sizeof(kMagic)) != 0) {
    return rocksdb::Status::Corruption(
        fname, "does not start with the store's encryption header (was it written unencrypted?)");
  }
  if (static_cast<unsigned char>(prefix[kVersionOffset]) != kVersion) {
    return rocksdb::Status::NotSupported(
        fname, "is encrypted in a later format than this release of the registry reads");
  }
  if (CRYPTO_memcmp(prefix.data() + kKeyCheckOffset, key_check_.data(), kKeyCheckBytes) != 0) {
    return rocksdb::Status::InvalidArgument(
        fname, "was encrypted under another data key: the key given is the wrong key for it");
  }
  Counter iv;
  std::memcpy(iv.data(), prefix.data() + kIvOffset, kIvBytes);
  *result = std::make_unique<AesCtrCipherStream>(cipher_, iv);
  return rocksdb::Status::OK();
}

rocksdb::Status AesCtrEncryptionProvider::AddCipher(const std::string& /*descriptor*/,
                                                    const char* /*cipher*/, size_t /*len*/,
                                                    bool /*for_write*/) {
  return rocksdb::Status::NotSupported("the store's data key is given when its provider is made");
}

}  // namespace cir::storage
