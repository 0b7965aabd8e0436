#include "storage/store_keys.h"

#include <fcntl.h>
#include <openssl/crypto.h>
#include <openssl/evp.h>
#include <openssl/hmac.h>
#include <openssl/rand.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <cstdio>
#include <cstring>
#include <filesystem>
#include <optional>
#include <system_error>
#include <utility>

#include "absl/strings/escaping.h"
#include "absl/strings/str_cat.h"

namespace cir::storage {
namespace {

constexpr char kMagic[8] = {'C', 'I', 'R', 'D', 'K', 'E', 'Y', '\n'};
constexpr char kVersion = 1;
constexpr size_t kKeyIdBytes = 16;
constexpr size_t kMasterKeyIdBytes = 8;
constexpr size_t kNonceBytes = 12;
constexpr size_t kTagBytes = 16;
// magic, version, key_id, master_key_id: the GCM tag's additional data.
constexpr size_t kAuthenticatedBytes = sizeof(kMagic) + 1 + kKeyIdBytes + kMasterKeyIdBytes;
constexpr size_t kDataKeyFileBytes =
    kAuthenticatedBytes + kNonceBytes + StoreKey::kBytes + kTagBytes;
constexpr absl::string_view kMasterKeyIdLabel = "cir.storage master key id v1";
constexpr size_t kMasterKeyHexDigits = 2 * StoreKey::kBytes;

std::string ErrnoText(int error) {
  return std::error_code(error, std::generic_category()).message();
}

// Closes a file descriptor when it goes out of scope.
class FileDescriptor {
 public:
  explicit FileDescriptor(int fd) : fd_(fd) {}
  ~FileDescriptor() {
    if (fd_ >= 0) ::close(fd_);
  }
  FileDescriptor(const FileDescriptor&) = delete;
  FileDescriptor& operator=(const FileDescriptor&) = delete;
  int get() const { return fd_; }
  // Closes now, reporting close's error (a write the disk refused late).
  int Close() {
    const int result = ::close(fd_);
    fd_ = -1;
    return result;
  }

 private:
  int fd_;
};

// Reads up to `limit` bytes of the open file `fd`, into `out`; errno's value on failure.
std::optional<int> ReadUpTo(int fd, size_t limit, std::string& out) {
  out.resize(limit);
  size_t got = 0;
  while (got < limit) {
    const ssize_t n = ::read(fd, out.data() + got, limit - got);
    if (n < 0 && errno == EINTR) continue;
    if (n < 0) return errno;
    if (n == 0) break;
    got += static_cast<size_t>(n);
  }
  out.resize(got);
  return std::nullopt;
}

// Writes all of `bytes` to `fd`; errno's value on failure.
std::optional<int> WriteAll(int fd, absl::string_view bytes) {
  while (!bytes.empty()) {
    const ssize_t n = ::write(fd, bytes.data(), bytes.size());
    if (n < 0 && errno == EINTR) continue;
    if (n < 0) return errno;
    bytes.remove_prefix(static_cast<size_t>(n));
  }
  return std::nullopt;
}

// The value of the hexadecimal digit `c`; -1 if it is none.
int HexDigitValue(char c) {
  if (c >= '0' && c <= '9') return c - '0';
  if (c >= 'a' && c <= 'f') return c - 'a' + 10;
  if (c >= 'A' && c <= 'F') return c - 'A' + 10;
  return -1;
}

std::string FolderOf(const std::string& path) {
  std::string folder = std::filesystem::path(path).parent_path().string();
  return folder.empty() ? "." : folder;
}

absl::Status SyncFolder(const std::string& folder) {
  FileDescriptor fd(::open(folder.c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC));
  if (fd.get() < 0 || ::fsync(fd.get()) != 0) {
    return absl::FailedPreconditionError(
        absl::StrCat("the folder ", folder, " could not be synced: ", ErrnoText(errno)));
  }
  return absl::OkStatus();
}

// Puts `bytes` at `path` durably and atomically: written to a new temporary file (mode 0600)
// beside it and synced, then moved there, replacing what is there (rename) or, unless `replace`,
// only if nothing is (link: ALREADY_EXISTS otherwise), and the folder synced. `path` holds its
// old contents or `bytes`, whatever happens; a crash may leave the temporary file behind.
absl::Status PutFileAtomically(const std::string& path, absl::string_view bytes, bool replace) {
  std::string temporary = absl::StrCat(path, ".XXXXXX");
  FileDescriptor fd(::mkostemp(temporary.data(), O_CLOEXEC));
  if (fd.get() < 0) {
    return absl::FailedPreconditionError(
        absl::StrCat("no temporary file could be made beside ", path, ": ", ErrnoText(errno)));
  }
  std::optional<int> error = WriteAll(fd.get(), bytes);
  if (!error.has_value() && ::fsync(fd.get()) != 0) error = errno;
  if (!error.has_value() && fd.Close() != 0) error = errno;
  if (!error.has_value()) {
    if (replace) {
      if (::rename(temporary.c_str(), path.c_str()) != 0) error = errno;
    } else if (::link(temporary.c_str(), path.c_str()) != 0) {
      error = errno;
    }
  }
  if (error.has_value() || !replace) ::unlink(temporary.c_str());
  if (error == EEXIST && !replace) {
    return absl::AlreadyExistsError(absl::StrCat(path, " exists already"));
  }
  if (error.has_value()) {
    return absl::FailedPreconditionError(
        absl::StrCat(path, " could not be written: ", ErrnoText(*error)));
  }
  return SyncFolder(FolderOf(path));
}

// The file at `path`, read whole if it has at most `limit` bytes; nullopt if there is none.
absl::StatusOr<std::optional<std::string>> ReadSmallFile(const std::string& path, size_t limit) {
  FileDescriptor fd(::open(path.c_str(), O_RDONLY | O_CLOEXEC));
  if (fd.get() < 0 && errno == ENOENT) return std::nullopt;
  std::string bytes;
  std::optional<int> error = fd.get() < 0 ? errno : ReadUpTo(fd.get(), limit + 1, bytes);
  if (error.has_value()) {
    return absl::FailedPreconditionError(
        absl::StrCat(path, " cannot be read: ", ErrnoText(*error)));
  }
  if (bytes.size() > limit) {
    return absl::DataLossError(absl::StrCat(path, " is longer than a data key file"));
  }
  return bytes;
}

absl::StatusOr<StoreKey> RandomKey() {
  unsigned char bytes[StoreKey::kBytes];
  if (RAND_bytes(bytes, sizeof(bytes)) != 1) {
    return absl::InternalError("OpenSSL's random generator gave no bytes for a key");
  }
  StoreKey key(bytes);
  OPENSSL_cleanse(bytes, sizeof(bytes));
  return key;
}

// master_key_id of the layout.
std::string MasterKeyId(const StoreKey& master_key) {
  unsigned char mac[EVP_MAX_MD_SIZE];
  unsigned int mac_bytes = 0;
  HMAC(EVP_sha256(), master_key.bytes().data(), static_cast<int>(StoreKey::kBytes),
       reinterpret_cast<const unsigned char*>(kMasterKeyIdLabel.data()), kMasterKeyIdLabel.size(),
       mac, &mac_bytes);
  return std::string(reinterpret_cast<const char*>(mac), kMasterKeyIdBytes);
}

// AES-256-GCM under `key`: encrypts (or decrypts) `in` into `out` (as long), with the additional
// data `aad`, producing (or checking) `tag`. False if OpenSSL fails or, decrypting, the tag does
// not match.
bool Gcm(bool encrypt, const StoreKey& key, absl::string_view nonce, absl::string_view aad,
         absl::string_view in, unsigned char* out, unsigned char (&tag)[kTagBytes]) {
  EVP_CIPHER* cipher = EVP_CIPHER_fetch(nullptr, "AES-256-GCM", nullptr);
  EVP_CIPHER_CTX* context = EVP_CIPHER_CTX_new();
  const auto* key_bytes = reinterpret_cast<const unsigned char*>(key.bytes().data());
  const auto* nonce_bytes = reinterpret_cast<const unsigned char*>(nonce.data());
  int n = 0;
  bool ok =
      cipher != nullptr && context != nullptr && nonce.size() == kNonceBytes &&
      EVP_CipherInit_ex2(context, cipher, key_bytes, nonce_bytes, encrypt ? 1 : 0, nullptr) == 1 &&
      EVP_CipherUpdate(context, nullptr, &n, reinterpret_cast<const unsigned char*>(aad.data()),
                       static_cast<int>(aad.size())) == 1 &&
      EVP_CipherUpdate(context, out, &n, reinterpret_cast<const unsigned char*>(in.data()),
                       static_cast<int>(in.size())) == 1 &&
      n == static_cast<int>(in.size());
  if (ok && !encrypt) {
    ok = EVP_CIPHER_CTX_ctrl(context, EVP_CTRL_AEAD_SET_TAG, kTagBytes, tag) == 1;
  }
  int final_bytes = 0;
  ok = ok && EVP_CipherFinal_ex(context, out + n, &final_bytes) == 1 && final_bytes == 0;
  if (ok && encrypt) {
    ok = EVP_CIPHER_CTX_ctrl(context, EVP_CTRL_AEAD_GET_TAG, kTagBytes, tag) == 1;
  }
  EVP_CIPHER_CTX_free(context);
  EVP_CIPHER_free(cipher);
  return ok;
}

// DATA_KEY's bytes: `data_key`, named `key_id`, wrapped under `master_key` with a fresh nonce.
absl::StatusOr<std::string> WrapDataKey(const StoreKey& data_key, absl::string_view key_id,
                                        const StoreKey& master_key) {
  std::string file(kMagic, sizeof(kMagic));
  file.push_back(kVersion);
  absl::StrAppend(&file, key_id, MasterKeyId(master_key));
  unsigned char nonce[kNonceBytes];
  if (RAND_bytes(nonce, sizeof(nonce)) != 1) {
    return absl::InternalError("OpenSSL's random generator gave no nonce to wrap the data key");
  }
  unsigned char wrapped[StoreKey::kBytes];
  unsigned char tag[kTagBytes];
  if (!Gcm(/*encrypt=*/true, master_key,
           absl::string_view(reinterpret_cast<const char*>(nonce), sizeof(nonce)), file,
           data_key.bytes(), wrapped, tag)) {
    return absl::InternalError("OpenSSL could not wrap the data key with AES-256-GCM");
  }
  file.append(reinterpret_cast<const char*>(nonce), sizeof(nonce));
  file.append(reinterpret_cast<const char*>(wrapped), sizeof(wrapped));
  file.append(reinterpret_cast<const char*>(tag), sizeof(tag));
  return file;
}

// The data key in DATA_KEY's bytes `file` (read from `path`), unwrapped with `master_key`.
absl::StatusOr<StoreKey> UnwrapDataKey(absl::string_view file, const StoreKey& master_key,
                                       const std::string& path) {
  if (file.size() != kDataKeyFileBytes ||
      file.substr(0, sizeof(kMagic)) != absl::string_view(kMagic, sizeof(kMagic))) {
    return absl::DataLossError(absl::StrCat(path,
                                            " is not a data key file (it is damaged): "
                                            "restore it from a backup of the store"));
  }
  if (file[sizeof(kMagic)] != kVersion) {
    return absl::FailedPreconditionError(
        absl::StrCat(path, " was written by a later release of the registry"));
  }
  const absl::string_view authenticated = file.substr(0, kAuthenticatedBytes);
  const absl::string_view stored_master_id =
      file.substr(sizeof(kMagic) + 1 + kKeyIdBytes, kMasterKeyIdBytes);
  const std::string given_master_id = MasterKeyId(master_key);
  if (stored_master_id != given_master_id) {
    return absl::PermissionDeniedError(absl::StrCat(
        "the master key does not open this store's data key: ", path,
        " was wrapped under the master key with id ", absl::BytesToHexString(stored_master_id),
        ", and the key given has id ", absl::BytesToHexString(given_master_id)));
  }
  absl::string_view rest = file.substr(kAuthenticatedBytes);
  const absl::string_view nonce = rest.substr(0, kNonceBytes);
  const absl::string_view wrapped = rest.substr(kNonceBytes, StoreKey::kBytes);
  unsigned char tag[kTagBytes];
  std::memcpy(tag, rest.data() + kNonceBytes + StoreKey::kBytes, kTagBytes);
  unsigned char data_key[StoreKey::kBytes];
  const bool opened =
      Gcm(/*encrypt=*/false, master_key, nonce, authenticated, wrapped, data_key, tag);
  if (!opened) {
    OPENSSL_cleanse(data_key, sizeof(data_key));
    return absl::DataLossError(
        absl::StrCat(path,
                     " is damaged: the data key in it does not authenticate under the "
                     "master key that wrapped it; restore it from a backup of the store"));
  }
  StoreKey key(data_key);
  OPENSSL_cleanse(data_key, sizeof(data_key));
  return key;
}

std::string DataKeyPath(const std::string& folder) {
  return (std::filesystem::path(folder) / kDataKeyFileName).string();
}

// Makes a new data key for the empty store in `folder` and its DATA_KEY, unless another open
// made one first (then that one is returned).
absl::StatusOr<StoreKey> CreateDataKey(const std::string& folder, const StoreKey& master_key) {
  if (::mkdir(folder.c_str(), 0700) != 0 && errno != EEXIST) {
    return absl::FailedPreconditionError(
        absl::StrCat("the data folder ", folder, " could not be created: ", ErrnoText(errno)));
  }
  absl::StatusOr<StoreKey> data_key = RandomKey();
  if (!data_key.ok()) return data_key.status();
  unsigned char key_id[kKeyIdBytes];
  if (RAND_bytes(key_id, sizeof(key_id)) != 1) {
    return absl::InternalError("OpenSSL's random generator gave no data key id");
  }
  absl::StatusOr<std::string> file = WrapDataKey(
      *data_key, absl::string_view(reinterpret_cast<const char*>(key_id), sizeof(key_id)),
      master_key);
  if (!file.ok()) return file.status();
  const std::string path = DataKeyPath(folder);
  absl::Status put = PutFileAtomically(path, *file, /*replace=*/false);
  if (absl::IsAlreadyExists(put)) return OpenDataKey(folder, master_key, false);
  if (!put.ok()) return put;
  return data_key;
}

}  // namespace

StoreKey::StoreKey(const unsigned char (&bytes)[kBytes]) { std::memcpy(bytes_, bytes, kBytes); }

StoreKey::~StoreKey() { OPENSSL_cleanse(bytes_, kBytes); }

StoreKey::StoreKey(StoreKey&& other) {
  std::memcpy(bytes_, other.bytes_, kBytes);
  OPENSSL_cleanse(other.bytes_, kBytes);
}

StoreKey& StoreKey::operator=(StoreKey&& other) {
  if (this != &other) {
    std::memcpy(bytes_, other.bytes_, kBytes);
    OPENSSL_cleanse(other.bytes_, kBytes);
  }
  return *this;
}

absl::StatusOr<StoreKey> ReadMasterKeyFile(const std::string& path) {
  const std::string what = absl::StrCat("the master key file ", path);
  FileDescriptor fd(::open(path.c_str(), O_RDONLY | O_CLOEXEC));
  struct stat status;
  if (fd.get() < 0 || ::fstat(fd.get(), &status) != 0) {
    return absl::FailedPreconditionError(absl::StrCat(what, " cannot be read: ", ErrnoText(errno)));
  }
  if (!S_ISREG(status.st_mode)) {
    return absl::FailedPreconditionError(absl::StrCat(what, " is not a regular file"));
  }
  if (status.st_uid != ::geteuid()) {
    return absl::FailedPreconditionError(absl::StrCat(
        what, " is owned by user ", status.st_uid, ", not by the user the server runs as (",
        ::geteuid(), "): give it to that user (chown) and no one else"));
  }
  if ((status.st_mode & (S_IRWXG | S_IRWXO)) != 0) {
    char mode[8];
    std::snprintf(mode, sizeof(mode), "%04o", static_cast<unsigned>(status.st_mode & 07777));
    return absl::FailedPreconditionError(absl::StrCat(
        what, " has mode ", mode,
        ", which gives group or others access to it: make it readable by its owner alone "
        "(chmod 600), and since others could read the key, rotate it"));
  }
  std::string text;
  if (std::optional<int> error = ReadUpTo(fd.get(), kMasterKeyHexDigits + 2, text);
      error.has_value()) {
    return absl::FailedPreconditionError(
        absl::StrCat(what, " cannot be read: ", ErrnoText(*error)));
  }
  bool well_formed = text.size() == kMasterKeyHexDigits ||
                     (text.size() == kMasterKeyHexDigits + 1 && text.back() == '\n');
  unsigned char bytes[StoreKey::kBytes] = {};
  for (size_t i = 0; well_formed && i < StoreKey::kBytes; ++i) {
    const int high = HexDigitValue(text[2 * i]);
    const int low = HexDigitValue(text[2 * i + 1]);
    well_formed = high >= 0 && low >= 0;
    bytes[i] = static_cast<unsigned char>((high << 4) | low);
  }
  OPENSSL_cleanse(text.data(), text.size());
  if (!well_formed) {
    OPENSSL_cleanse(bytes, sizeof(bytes));
    return absl::FailedPreconditionError(
        absl::StrCat(what,
                     " does not hold a master key: 64 hexadecimal digits, optionally "
                     "followed by a newline, and nothing else"));
  }
  StoreKey key(bytes);
  OPENSSL_cleanse(bytes, sizeof(bytes));
  return key;
}

absl::Status WriteNewMasterKeyFile(const std::string& path) {
  absl::StatusOr<StoreKey> key = RandomKey();
  if (!key.ok()) return key.status();
  constexpr char kDigits[] = "0123456789abcdef";
  char text[kMasterKeyHexDigits + 1];
  for (size_t i = 0; i < StoreKey::kBytes; ++i) {
    const auto byte = static_cast<unsigned char>(key->bytes()[i]);
    text[2 * i] = kDigits[byte >> 4];
    text[2 * i + 1] = kDigits[byte & 0xf];
  }
  text[kMasterKeyHexDigits] = '\n';
  absl::Status put =
      PutFileAtomically(path, absl::string_view(text, sizeof(text)), /*replace=*/false);
  OPENSSL_cleanse(text, sizeof(text));
  return put;
}

bool HoldsDataKey(const std::string& folder) {
  std::error_code ignored;
  return std::filesystem::exists(DataKeyPath(folder), ignored);
}

absl::StatusOr<std::string> DataKeyId(const std::string& folder) {
  absl::StatusOr<std::optional<std::string>> file =
      ReadSmallFile(DataKeyPath(folder), kDataKeyFileBytes + 1);
  if (!file.ok()) return file.status();
  if (!file->has_value()) {
    return absl::FailedPreconditionError(absl::StrCat(DataKeyPath(folder), " does not exist"));
  }
  const std::string& bytes = **file;
  if (bytes.size() != kDataKeyFileBytes ||
      bytes.compare(0, sizeof(kMagic), kMagic, sizeof(kMagic)) != 0) {
    return absl::DataLossError(absl::StrCat(DataKeyPath(folder), " is not a data key file"));
  }
  return bytes.substr(sizeof(kMagic) + 1, kKeyIdBytes);
}

absl::StatusOr<StoreKey> OpenDataKey(const std::string& folder, const StoreKey& master_key,
                                     bool create_if_missing) {
  const std::string path = DataKeyPath(folder);
  absl::StatusOr<std::optional<std::string>> file = ReadSmallFile(path, kDataKeyFileBytes);
  if (!file.ok()) return file.status();
  if (file->has_value()) return UnwrapDataKey(**file, master_key, path);
  std::error_code ignored;
  if (std::filesystem::exists(std::filesystem::path(folder) / "CURRENT", ignored)) {
    return absl::FailedPreconditionError(
        absl::StrCat("the store at ", folder, " was written unencrypted (it has no ",
                     kDataKeyFileName, "): it cannot be opened as an encrypted store"));
  }
  if (!create_if_missing) {
    return absl::FailedPreconditionError(
        absl::StrCat(folder,
                     " holds no registry store; check the data folder (is its volume mounted?), "
                     "or create a new store on purpose with --create-if-missing"));
  }
  return CreateDataKey(folder, master_key);
}

absl::Status RewrapDataKey(const std::string& folder, const StoreKey& old_master_key,
                           const StoreKey& new_master_key) {
  const std::string path = DataKeyPath(folder);
  absl::StatusOr<std::optional<std::string>> file = ReadSmallFile(path, kDataKeyFileBytes);
  if (!file.ok()) return file.status();
  if (!file->has_value()) {
    return absl::FailedPreconditionError(
        absl::StrCat(folder, " holds no encrypted store (it has no ", kDataKeyFileName, ")"));
  }
  absl::StatusOr<StoreKey> data_key = UnwrapDataKey(**file, old_master_key, path);
  if (!data_key.ok()) return data_key.status();
  const absl::string_view key_id =
      absl::string_view(**file).substr(sizeof(kMagic) + 1, kKeyIdBytes);
  absl::StatusOr<std::string> rewrapped = WrapDataKey(*data_key, key_id, new_master_key);
  if (!rewrapped.ok()) return rewrapped.status();
  return PutFileAtomically(path, *rewrapped, /*replace=*/true);
}

absl::Status RotateMasterKey(const std::string& folder, const std::string& old_master_key_file,
                             const std::string& new_master_key_file) {
  absl::StatusOr<StoreKey> old_master_key = ReadMasterKeyFile(old_master_key_file);
  if (!old_master_key.ok()) return old_master_key.status();
  absl::StatusOr<StoreKey> new_master_key = ReadMasterKeyFile(new_master_key_file);
  if (!new_master_key.ok()) return new_master_key.status();
  return RewrapDataKey(folder, *old_master_key, *new_master_key);
}

}  // namespace cir::storage
