#include "audit/checkpoint_signer.h"

#include <errno.h>
#include <fcntl.h>
#include <openssl/bio.h>
#include <openssl/crypto.h>
#include <openssl/err.h>
#include <openssl/evp.h>
#include <openssl/pem.h>
#include <openssl/sha.h>
#include <sys/stat.h>
#include <unistd.h>

#include <climits>
#include <cstdio>
#include <vector>

#include "absl/strings/escaping.h"
#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_split.h"

namespace cir::audit {
namespace {

constexpr absl::string_view kTextHeader = "cir-audit-checkpoint/v1";
constexpr size_t kPublicKeySize = 32;
constexpr size_t kSignatureSize = 64;
// A PEM Ed25519 key is about 120 bytes; anything much larger is not one.
constexpr off_t kLargestKeyFile = 16 * 1024;

struct FreePkey {
  void operator()(EVP_PKEY* key) const { EVP_PKEY_free(key); }
};
struct FreeBio {
  void operator()(BIO* bio) const { BIO_free(bio); }
};
struct FreeMdContext {
  void operator()(EVP_MD_CTX* context) const { EVP_MD_CTX_free(context); }
};
using Pkey = std::unique_ptr<EVP_PKEY, FreePkey>;
using Bio = std::unique_ptr<BIO, FreeBio>;
using MdContext = std::unique_ptr<EVP_MD_CTX, FreeMdContext>;

const unsigned char* Bytes(absl::string_view text) {
  return reinterpret_cast<const unsigned char*>(text.data());
}

// Takes OpenSSL's queued errors off this thread (so they mislead no later OpenSSL call, gRPC's
// included) and describes them.
std::string TakeOpenSslErrors() {
  std::string description;
  for (unsigned long code = ERR_get_error(); code != 0; code = ERR_get_error()) {
    char text[256];
    ERR_error_string_n(code, text, sizeof(text));
    absl::StrAppend(&description, description.empty() ? "" : "; ", text);
  }
  return description.empty() ? "no detail from OpenSSL" : description;
}

// A read-only memory BIO over `bytes`, which must outlive it.
Bio ReadingBio(absl::string_view bytes) {
  if (bytes.size() > INT_MAX) return nullptr;
  return Bio(BIO_new_mem_buf(bytes.data(), static_cast<int>(bytes.size())));
}

// What a memory BIO holds.
std::string Contents(BIO* bio) {
  char* data = nullptr;
  const long size = BIO_get_mem_data(bio, &data);
  return size > 0 ? std::string(data, static_cast<size_t>(size)) : std::string();
}

Pkey RawPublicKey(absl::string_view raw) {
  return Pkey(EVP_PKEY_new_raw_public_key(EVP_PKEY_ED25519, nullptr, Bytes(raw), raw.size()));
}

// Refuses to ask anyone for a pass phrase: the registry runs unattended, and its key file is
// unencrypted, protected by its permissions.
int NoPassPhrase(char*, int, int, void*) { return -1; }

absl::StatusOr<CheckpointPublicKey> PublicHalf(EVP_PKEY* key) {
  std::string raw(kPublicKeySize, '\0');
  size_t size = raw.size();
  if (EVP_PKEY_get_raw_public_key(key, reinterpret_cast<unsigned char*>(raw.data()), &size) != 1 ||
      size != kPublicKeySize) {
    return absl::InternalError(
        absl::StrCat("cannot read the public half of an Ed25519 key: ", TakeOpenSslErrors()));
  }
  return CheckpointPublicKey::FromRaw(raw);
}

// An open file, closed when it goes out of scope.
class OpenFile {
 public:
  explicit OpenFile(int fd) : fd_(fd) {}
  OpenFile(const OpenFile&) = delete;
  OpenFile& operator=(const OpenFile&) = delete;
  ~OpenFile() {
    if (fd_ >= 0) close(fd_);
  }
  int fd() const { return fd_; }

 private:
  const int fd_;
};

// The whole of the key file at `path`, after checking that only its owner has any access to it.
// Opened first and checked through the open file, so the file checked is the file read.
absl::StatusOr<std::string> ReadPrivateKeyFile(const std::string& path) {
  const OpenFile file(open(path.c_str(), O_RDONLY | O_CLOEXEC));
  if (file.fd() < 0) {
    return absl::ErrnoToStatus(errno, absl::StrCat("cannot open the audit signing key ", path));
  }
  struct stat status;
  if (fstat(file.fd(), &status) != 0) {
    return absl::ErrnoToStatus(errno, absl::StrCat("cannot examine the audit signing key ", path));
  }
  if (!S_ISREG(status.st_mode)) {
    return absl::FailedPreconditionError(
        absl::StrCat("the audit signing key ", path, " is not a regular file"));
  }
  if (status.st_uid != geteuid()) {
    return absl::FailedPreconditionError(
        absl::StrCat("the audit signing key ", path, " is owned by user ", status.st_uid,
                     ", not by the user the server runs as (", geteuid(),
                     "): give it to that user (chown) and no one else"));
  }
  if ((status.st_mode & (S_IRWXG | S_IRWXO)) != 0) {
    char mode[8];
    std::snprintf(mode, sizeof(mode), "%04o", static_cast<unsigned>(status.st_mode & 07777));
    return absl::FailedPreconditionError(
        absl::StrCat("the audit signing key ", path, " has mode ", mode,
                     ": its group or other users may use it, so it is refused; only its owner may "
                     "read it (chmod 600 ",
                     path, ")"));
  }
  if (status.st_size > kLargestKeyFile) {
    return absl::InvalidArgumentError(
        absl::StrCat("the audit signing key ", path, " is too large to be an Ed25519 key"));
  }
  std::string contents(static_cast<size_t>(status.st_size), '\0');
  size_t done = 0;
  while (done < contents.size()) {
    const ssize_t got = read(file.fd(), contents.data() + done, contents.size() - done);
    if (got < 0 && errno == EINTR) continue;
    if (got <= 0) {
      const int error = got < 0 ? errno : EIO;  // EIO: the file shrank while being read
      OPENSSL_cleanse(contents.data(), contents.size());
      return absl::ErrnoToStatus(error, absl::StrCat("cannot read the audit signing key ", path));
    }
    done += static_cast<size_t>(got);
  }
  return contents;
}

// Writes all of `bytes` to `fd` and makes it durable.
absl::Status WriteDurably(int fd, absl::string_view bytes) {
  while (!bytes.empty()) {
    const ssize_t written = write(fd, bytes.data(), bytes.size());
    if (written < 0 && errno == EINTR) continue;
    if (written <= 0) return absl::ErrnoToStatus(written < 0 ? errno : EIO, "cannot write");
    bytes.remove_prefix(static_cast<size_t>(written));
  }
  if (fsync(fd) != 0) return absl::ErrnoToStatus(errno, "cannot sync");
  return absl::OkStatus();
}

}  // namespace

absl::StatusOr<std::string> CheckpointText(const Checkpoint& checkpoint) {
  if (checkpoint.time == absl::InfinitePast() || checkpoint.time == absl::InfiniteFuture()) {
    return absl::InvalidArgumentError("a checkpoint's time must be finite");
  }
  const int64_t seconds = absl::ToUnixSeconds(checkpoint.time);
  if (seconds < 0) {
    return absl::InvalidArgumentError("a checkpoint's time must not be before 1970");
  }
  if (absl::FromUnixSeconds(seconds) != checkpoint.time) {
    return absl::InvalidArgumentError("a checkpoint's time must be whole seconds");
  }
  const absl::string_view root(reinterpret_cast<const char*>(checkpoint.root.data()),
                               checkpoint.root.size());
  return absl::StrCat(kTextHeader, "\n", checkpoint.tree_size, "\n", absl::Base64Escape(root), "\n",
                      seconds, "\n");
}

absl::StatusOr<Checkpoint> ParseCheckpointText(absl::string_view text) {
  const absl::Status not_canonical = absl::InvalidArgumentError(
      absl::StrCat("not a checkpoint's text: expected \"", kTextHeader,
                   "\\n<size>\\n<base64 root>\\n<unix seconds>\\n\" exactly"));
  // Four lines, each ending in a newline: five pieces, the last empty.
  const std::vector<absl::string_view> lines = absl::StrSplit(text, '\n');
  if (lines.size() != 5 || lines[0] != kTextHeader || !lines[4].empty()) return not_canonical;
  Checkpoint checkpoint;
  int64_t seconds = 0;
  std::string root;
  if (!absl::SimpleAtoi(lines[1], &checkpoint.tree_size) || !absl::SimpleAtoi(lines[3], &seconds) ||
      !absl::Base64Unescape(lines[2], &root)) {
    return not_canonical;
  }
  absl::StatusOr<Hash> root_hash = HashFromBytes(root);
  if (!root_hash.ok()) return not_canonical;
  checkpoint.root = *root_hash;
  checkpoint.time = absl::FromUnixSeconds(seconds);
  // Lenient parsing above (signs, spaces, leading zeros, unpadded base64) is undone here: only
  // the one text this checkpoint has is accepted.
  absl::StatusOr<std::string> canonical = CheckpointText(checkpoint);
  if (!canonical.ok() || *canonical != text) return not_canonical;
  return checkpoint;
}

absl::StatusOr<CheckpointPublicKey> CheckpointPublicKey::FromRaw(absl::string_view raw) {
  if (raw.size() != kPublicKeySize) {
    return absl::InvalidArgumentError(
        absl::StrCat("an Ed25519 public key is ", kPublicKeySize, " bytes, not ", raw.size()));
  }
  Pkey key = RawPublicKey(raw);
  Bio pem(BIO_new(BIO_s_mem()));
  if (key == nullptr || pem == nullptr || PEM_write_bio_PUBKEY(pem.get(), key.get()) != 1) {
    return absl::InternalError(
        absl::StrCat("cannot encode an Ed25519 public key: ", TakeOpenSslErrors()));
  }
  Hash digest;
  SHA256(Bytes(raw), raw.size(), digest.data());
  std::string key_id =
      absl::BytesToHexString(absl::string_view(reinterpret_cast<const char*>(digest.data()), 8));
  return CheckpointPublicKey(std::string(raw), Contents(pem.get()), std::move(key_id));
}

absl::StatusOr<CheckpointPublicKey> CheckpointPublicKey::FromPem(absl::string_view pem) {
  Bio bio = ReadingBio(pem);
  Pkey key(bio == nullptr ? nullptr : PEM_read_bio_PUBKEY(bio.get(), nullptr, nullptr, nullptr));
  if (key == nullptr) {
    return absl::InvalidArgumentError(absl::StrCat("not a PEM public key: ", TakeOpenSslErrors()));
  }
  if (!EVP_PKEY_is_a(key.get(), "ED25519")) {
    return absl::InvalidArgumentError(
        absl::StrCat("the public key is ", EVP_PKEY_get0_type_name(key.get()), ", not Ed25519"));
  }
  return PublicHalf(key.get());
}

absl::Status VerifyCheckpointSignature(const CheckpointPublicKey& key, const Checkpoint& checkpoint,
                                       absl::string_view signature) {
  if (signature.size() != kSignatureSize) {
    return absl::InvalidArgumentError(
        absl::StrCat("an Ed25519 signature is ", kSignatureSize, " bytes, not ", signature.size()));
  }
  absl::StatusOr<std::string> text = CheckpointText(checkpoint);
  if (!text.ok()) return text.status();
  Pkey public_key = RawPublicKey(key.raw());
  MdContext context(EVP_MD_CTX_new());
  if (public_key == nullptr || context == nullptr ||
      EVP_DigestVerifyInit(context.get(), nullptr, nullptr, nullptr, public_key.get()) != 1) {
    return absl::InternalError(
        absl::StrCat("cannot set up Ed25519 verification: ", TakeOpenSslErrors()));
  }
  const int verified = EVP_DigestVerify(context.get(), Bytes(signature), signature.size(),
                                        Bytes(*text), text->size());
  // Whatever OpenSSL queued about a bad signature is not news: the answer below says it.
  ERR_clear_error();
  if (verified != 1) {
    return absl::DataLossError(absl::StrCat(
        "the signature of the checkpoint of ", checkpoint.tree_size, " entries at ",
        absl::ToUnixSeconds(checkpoint.time), " is not key ", key.key_id(),
        "'s: the checkpoint's size, root or time was altered, or another key signed it"));
  }
  return absl::OkStatus();
}

struct CheckpointSigner::PrivateKey {
  Pkey key;
};

CheckpointSigner::CheckpointSigner(std::unique_ptr<PrivateKey> private_key,
                                   CheckpointPublicKey public_key)
    : private_key_(std::move(private_key)), public_key_(std::move(public_key)) {}

CheckpointSigner::~CheckpointSigner() = default;

absl::Status CheckpointSigner::GenerateKeyFile(const std::string& path) {
  Pkey key(EVP_PKEY_Q_keygen(nullptr, nullptr, "ED25519"));
  // Secure memory: the PEM is cleansed when freed.
  Bio pem(BIO_new(BIO_s_secmem()));
  if (key == nullptr || pem == nullptr ||
      PEM_write_bio_PrivateKey(pem.get(), key.get(), nullptr, nullptr, 0, nullptr, nullptr) != 1) {
    return absl::InternalError(absl::StrCat("cannot make an Ed25519 key: ", TakeOpenSslErrors()));
  }
  char* data = nullptr;
  const long size = BIO_get_mem_data(pem.get(), &data);
  if (size <= 0) return absl::InternalError("cannot make an Ed25519 key: its PEM is empty");

  // O_EXCL: never replace a key (or follow a link) that is already there.
  const int fd = open(path.c_str(), O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0600);
  if (fd < 0) {
    return absl::ErrnoToStatus(errno, absl::StrCat("cannot create the audit signing key ", path));
  }
  absl::Status written = WriteDurably(fd, absl::string_view(data, static_cast<size_t>(size)));
  if (close(fd) != 0 && written.ok()) written = absl::ErrnoToStatus(errno, "cannot close");
  if (!written.ok()) {
    unlink(path.c_str());
    return absl::Status(written.code(), absl::StrCat("cannot write the audit signing key ", path,
                                                     ": ", written.message()));
  }
  return absl::OkStatus();
}

absl::StatusOr<std::unique_ptr<CheckpointSigner>> CheckpointSigner::FromKeyFile(
    const std::string& path) {
  absl::StatusOr<std::string> contents = ReadPrivateKeyFile(path);
  if (!contents.ok()) return contents.status();
  Bio bio = ReadingBio(*contents);
  Pkey key(bio == nullptr ? nullptr
                          : PEM_read_bio_PrivateKey(bio.get(), nullptr, NoPassPhrase, nullptr));
  OPENSSL_cleanse(contents->data(), contents->size());
  if (key == nullptr) {
    return absl::InvalidArgumentError(
        absl::StrCat("the audit signing key ", path,
                     " holds no unencrypted PEM private key: ", TakeOpenSslErrors()));
  }
  if (!EVP_PKEY_is_a(key.get(), "ED25519")) {
    return absl::InvalidArgumentError(absl::StrCat("the audit signing key ", path, " is ",
                                                   EVP_PKEY_get0_type_name(key.get()),
                                                   ", not Ed25519"));
  }
  absl::StatusOr<CheckpointPublicKey> public_key = PublicHalf(key.get());
  if (!public_key.ok()) return public_key.status();
  auto private_key = std::make_unique<PrivateKey>();
  private_key->key = std::move(key);
  return std::unique_ptr<CheckpointSigner>(
      new CheckpointSigner(std::move(private_key), *std::move(public_key)));
}

absl::StatusOr<std::string> CheckpointSigner::Sign(const Checkpoint& checkpoint) const {
  absl::StatusOr<std::string> text = CheckpointText(checkpoint);
  if (!text.ok()) return text.status();
  std::string signature(kSignatureSize, '\0');
  size_t size = signature.size();
  std::lock_guard<std::mutex> lock(signing_);
  MdContext context(EVP_MD_CTX_new());
  if (context == nullptr ||
      EVP_DigestSignInit(context.get(), nullptr, nullptr, nullptr, private_key_->key.get()) != 1 ||
      EVP_DigestSign(context.get(), reinterpret_cast<unsigned char*>(signature.data()), &size,
                     Bytes(*text), text->size()) != 1 ||
      size != kSignatureSize) {
    return absl::InternalError(absl::StrCat("cannot sign the checkpoint: ", TakeOpenSslErrors()));
  }
  return signature;
}

}  // namespace cir::audit
