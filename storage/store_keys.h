#ifndef CIR_STORAGE_STORE_KEYS_H_
#define CIR_STORAGE_STORE_KEYS_H_

// The keys of an encrypted store. Every file of the store is encrypted under its data key
// (storage/aes_ctr_encryption.h): 32 random bytes made with the store and never changed. The data
// key is kept in the data folder, in the file DATA_KEY, wrapped (AES-256-GCM) under the master
// key, which is kept apart, in a file only the server's user can read. Rotating the master key
// re-wraps the data key (DATA_KEY is replaced; the store's files are left as they are). A copy
// of the data folder, DATA_KEY with it, stays encrypted and opens with the master key that
// wrapped its DATA_KEY.
//
// The master key file: the key's 32 bytes as 64 hexadecimal digits, optionally followed by one
// newline, nothing else; a regular file owned by the server's (effective) user, with no
// permission for group or others (0600 or 0400). Text, so that `openssl rand -hex 32` (under
// umask 077) makes one and secret stores that carry text can hold it. A symbolic link is
// followed; the file it names is checked.
//
// DATA_KEY (93 bytes):
//
//   data_key_file := magic version key_id master_key_id nonce wrapped_key tag
//   magic         := "CIRDKEY\n"                                               8 bytes
//   version       := 0x01                                                      1 byte
//   key_id        := 16 random bytes naming the data key, kept by every re-wrap
//   master_key_id := HMAC-SHA256(master key, "cir.storage master key id v1"), its first 8 bytes:
//                    which master key wrapped the data key, so that a wrong master key is told
//                    apart from a damaged file
//   nonce         := 12 random bytes, new at every wrap
//   wrapped_key   := the data key encrypted with AES-256-GCM under the master key (32 bytes)
//   tag           := the GCM tag (16 bytes), whose additional data is every byte before nonce
//
// Written atomically: a temporary file in the data folder, synced, moved to DATA_KEY (link when
// creating, so an existing DATA_KEY is never replaced by a new key; rename when re-wrapping),
// then the folder synced.

#include <string>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"

namespace cir::storage {

// The name of the data key file in the data folder.
inline constexpr char kDataKeyFileName[] = "DATA_KEY";

// 32 bytes of key material, wiped from memory when destroyed. Movable, not copyable.
class StoreKey {
 public:
  static constexpr size_t kBytes = 32;

  explicit StoreKey(const unsigned char (&bytes)[kBytes]);
  ~StoreKey();
  StoreKey(StoreKey&& other);
  StoreKey& operator=(StoreKey&& other);
  StoreKey(const StoreKey&) = delete;
  StoreKey& operator=(const StoreKey&) = delete;

  absl::string_view bytes() const {
    return absl::string_view(reinterpret_cast<const char*>(bytes_), kBytes);
  }

 private:
  unsigned char bytes_[kBytes];
};

// The master key in the file at `path` (format above). FAILED_PRECONDITION, naming the file and
// what is wrong with it, if it cannot be read, is not a regular file, is not owned by this
// process's effective user, gives group or others any permission, or is not 64 hex digits.
absl::StatusOr<StoreKey> ReadMasterKeyFile(const std::string& path);

// Writes a new master key (32 bytes from OpenSSL's generator) to a new file at `path`, mode 0600,
// durably (the file and its folder synced). ALREADY_EXISTS if `path` exists: a master key is
// never overwritten, since the stores it wraps would be lost with it.
absl::Status WriteNewMasterKeyFile(const std::string& path);

// Whether the folder `folder` holds a data key file: it is an encrypted store's (or its
// creation began).
bool HoldsDataKey(const std::string& folder);

// The key_id in the DATA_KEY of `folder` (16 bytes): which data key it wraps, whatever master key
// wraps it. FAILED_PRECONDITION if it cannot be read; DATA_LOSS if it is not a data key file.
absl::StatusOr<std::string> DataKeyId(const std::string& folder);

// The data key of the store in `folder`, unwrapped with `master_key`.
//
// A folder without DATA_KEY: with `create_if_missing`, and if no database is in it yet (no
// CURRENT file), creates the folder if it is missing (mode 0700, its parent must exist) and a new
// data key, wrapped under `master_key`. Otherwise FAILED_PRECONDITION: a database without
// DATA_KEY was written unencrypted, and without create_if_missing a folder without a store is
// refused rather than started afresh (a data volume that failed to mount).
//
// PERMISSION_DENIED if DATA_KEY was wrapped under another master key ("the master key does not
// open this store's data key"); DATA_LOSS if DATA_KEY is damaged; FAILED_PRECONDITION if it
// cannot be read or written.
absl::StatusOr<StoreKey> OpenDataKey(const std::string& folder, const StoreKey& master_key,
                                     bool create_if_missing);

// Re-wraps the data key of the store in `folder` under `new_master_key`, which alone opens the
// store from then on. The store's files are not touched; it may be open meanwhile (its data key
// does not change). DATA_KEY is wrapped under the one key or the other whatever happens. The
// errors of OpenDataKey for `old_master_key`.
absl::Status RewrapDataKey(const std::string& folder, const StoreKey& old_master_key,
                           const StoreKey& new_master_key);

// RewrapDataKey with the master keys in two files (read as ReadMasterKeyFile does): master key
// rotation, as an operator runs it once the new file is in place.
absl::Status RotateMasterKey(const std::string& folder, const std::string& old_master_key_file,
                             const std::string& new_master_key_file);

}  // namespace cir::storage

#endif  // CIR_STORAGE_STORE_KEYS_H_
