#ifndef CIR_STORAGE_AES_CTR_ENCRYPTION_H_
#define CIR_STORAGE_AES_CTR_ENCRYPTION_H_

// Encryption at rest of every file RocksDB writes for the store: AES-256-CTR (OpenSSL) under the
// store's data key (storage/store_keys.h), plugged into RocksDB's encrypted file system
// (rocksdb::NewEncryptedFS). That file system writes a prefix, made here, at the start of every
// file it creates, and passes every byte written or read after it through the file's cipher
// stream, made here from the prefix.
//
// An encrypted file:
//
//   file       := prefix ciphertext
//   prefix     := magic version reserved iv key_check zeros         (kPrefixBytes = 4096)
//   magic      := "CIRAESCT"                                         bytes 0-7
//   version    := 0x01                                               byte 8
//   reserved   := 0x00 x 7                                           bytes 9-15
//   iv         := 16 bytes from RAND_bytes, new for every file       bytes 16-31
//   key_check  := HMAC-SHA256(data key, "cir.storage data key check v1"), its first 16 bytes,
//                 the same in every file of a store                  bytes 32-47
//   zeros      := 0x00 to the end of the prefix (a whole page, so that the contents after it
//                 keep the page alignment RocksDB gives them)
//   ciphertext := the contents, the byte at file position p (counted from the start of the file,
//                 prefix included, as RocksDB's encrypted file system counts) XORed with byte
//                 p % 16 of AES-256(data key, counter(p / 16)), where counter(n) is iv read as a
//                 128-bit big-endian integer plus n, modulo 2^128 (OpenSSL's CTR counter).
//
// A random 128-bit IV per file keeps the keystreams of two files apart (they would meet only if
// two IVs fell within a file's length in blocks of each other). The key check tells a file
// written under another data key from one of this store before a byte of it is decrypted: the
// file is refused, the error naming a wrong data key. CTR does not authenticate the contents;
// RocksDB's checksums of blocks, log records and the manifest, computed over the plaintext,
// catch a changed byte.

#include <atomic>
#include <cstdint>
#include <memory>
#include <string>

#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"
#include "rocksdb/env_encryption.h"

namespace cir::storage {

class CtrCipher;  // AES-256-CTR under one key, safe for concurrent use (aes_ctr_encryption.cc)

// The EncryptionProvider of an encrypted store: one data key, one IV per file (layout above).
//
// Thread safety: every method, and every method of the cipher streams it makes, may be called
// from any thread, concurrently (RocksDB reads one table file from several threads at once). A
// stream's Encrypt and Decrypt take no lock, and allocate nothing once the calling thread has
// made its first call: they use the thread's own OpenSSL context, keyed with the data key once,
// set the file's counter and run one EVP update over the data (and, when the offset falls inside
// a 16-byte block, a first update of fewer than 16 bytes to skip the keystream before it). On
// this machine (AES-NI) that is about 0.6 us for a 4 KiB block, 0.1 us above OpenSSL's bare
// update, with two threads on one file as fast each as one alone.
class AesCtrEncryptionProvider final : public rocksdb::EncryptionProvider {
 public:
  static constexpr size_t kDataKeyBytes = 32;
  static constexpr size_t kPrefixBytes = 4096;
  static constexpr size_t kIvOffset = 16;
  static constexpr size_t kIvBytes = 16;
  static constexpr size_t kKeyCheckOffset = 32;
  static constexpr size_t kKeyCheckBytes = 16;

  // A provider for the store whose data key is `data_key` (kDataKeyBytes bytes). INVALID_ARGUMENT
  // for a key of another length; INTERNAL if OpenSSL cannot give AES-256-CTR.
  static absl::StatusOr<std::shared_ptr<AesCtrEncryptionProvider>> Create(
      absl::string_view data_key);

  static const char* kClassName() { return "CirAes256CtrEncryptionProvider"; }
  const char* Name() const override { return kClassName(); }

  size_t GetPrefixLength() const override { return kPrefixBytes; }

  // Writes a new file's prefix (a fresh IV) into prefix[0, prefix_length).
  rocksdb::Status CreateNewPrefix(const std::string& fname, char* prefix,
                                  size_t prefix_length) const override;

  // The cipher stream of the file whose prefix is `prefix`. Corruption if the prefix is short or
  // not this format's; InvalidArgument if its key check is not the data key's (the file was
  // written under another key); NotSupported for a later version of the format.
  rocksdb::Status CreateCipherStream(
      const std::string& fname, const rocksdb::EnvOptions& options, rocksdb::Slice& prefix,
      std::unique_ptr<rocksdb::BlockAccessCipherStream>* result) override;

  // NotSupported: the one data key is given to Create.
  rocksdb::Status AddCipher(const std::string& descriptor, const char* cipher, size_t len,
                            bool for_write) override;

  ~AesCtrEncryptionProvider() override;

 private:
  AesCtrEncryptionProvider(std::shared_ptr<const CtrCipher> cipher, std::string key_check);

  // Marks one use of the provider, on any thread: see uses_.
  class Use;

  const std::shared_ptr<const CtrCipher> cipher_;  // shared with every stream made
  const std::string key_check_;                    // kKeyCheckBytes
  // RocksDB hands the provider to its own threads under locks ThreadSanitizer cannot see inside
  // the uninstrumented library: each use acquires on entry and releases on exit, and the
  // construction releases and the destruction acquires, so the ordering is one our code shows.
  mutable std::atomic<uint64_t> uses_;
};

}  // namespace cir::storage

#endif  // CIR_STORAGE_AES_CTR_ENCRYPTION_H_
