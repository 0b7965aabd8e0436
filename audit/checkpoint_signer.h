#ifndef CIR_AUDIT_CHECKPOINT_SIGNER_H_
#define CIR_AUDIT_CHECKPOINT_SIGNER_H_

// Signed checkpoints of the audit log: the registry's Ed25519 signature over the tree's size,
// root and time, and its check.
//
// A checkpoint is signed as this text, and only this text (the checkpoint's canonical form):
//
//   checkpoint_text := "cir-audit-checkpoint/v1\n"
//                      decimal(tree_size) "\n"
//                      base64(root) "\n"
//                      decimal(unix_seconds) "\n"
//   decimal       := the number in ASCII digits, no sign, no leading zeros ("0" for zero)
//   base64        := RFC 4648 standard base64 of the 32 root bytes, padded: 44 characters
//   unix_seconds  := the checkpoint's time in whole seconds since 1970-01-01T00:00:00Z
//
// The signature is plain Ed25519 (RFC 8032, no pre-hash, no context) over those bytes: 64 bytes.
// An auditor can check one with the openssl command alone, given the text, the signature and the
// registry's public key (PEM):
//
//   printf 'cir-audit-checkpoint/v1\n%s\n%s\n%s\n' SIZE ROOT_BASE64 SECONDS > cp.txt
//   openssl pkeyutl -verify -pubin -inkey audit-public.pem -rawin -in cp.txt -sigfile cp.sig
//
// where cp.sig holds the 64 signature bytes (from base64: `base64 -d > cp.sig`),
// and can compute a key's id (KeyId below) as
//
//   openssl pkey -pubin -in audit-public.pem -outform DER | tail -c 32 | openssl dgst -sha256
//
// taking the first 16 hex digits.

#include <cstdint>
#include <memory>
#include <mutex>
#include <string>
#include <utility>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"
#include "absl/time/time.h"
#include "audit/merkle_tree.h"

namespace cir::audit {

// What the registry vouches for: the tree of its first `tree_size` entries has `root`, as of
// `time`. The time is UTC in whole seconds, not before the Unix epoch (take the current time as
// absl::FromUnixSeconds(absl::ToUnixSeconds(absl::Now()))); a checkpoint with a fraction of a
// second has no text and can be neither signed nor checked.
struct Checkpoint {
  uint64_t tree_size = 0;
  Hash root{};
  absl::Time time = absl::UnixEpoch();
  bool operator==(const Checkpoint&) const = default;
};

// The checkpoint's canonical text (above), the bytes that are signed. INVALID_ARGUMENT if its time
// is before 1970, infinite or not whole seconds.
absl::StatusOr<std::string> CheckpointText(const Checkpoint& checkpoint);

// The checkpoint a canonical text states. INVALID_ARGUMENT for anything CheckpointText would not
// have written, byte for byte, so that one checkpoint has exactly one text.
absl::StatusOr<Checkpoint> ParseCheckpointText(absl::string_view text);

// An Ed25519 public key that checks checkpoint signatures. A value: copy it freely.
class CheckpointPublicKey {
 public:
  // The key from its 32 raw bytes (RFC 8032); INVALID_ARGUMENT for any other length.
  static absl::StatusOr<CheckpointPublicKey> FromRaw(absl::string_view raw);
  // The key from a PEM "PUBLIC KEY" block (SubjectPublicKeyInfo), as Pem() writes and
  // `openssl pkey -pubout` prints; INVALID_ARGUMENT if it is not one, or not Ed25519.
  static absl::StatusOr<CheckpointPublicKey> FromPem(absl::string_view pem);

  // The 32 raw bytes.
  const std::string& raw() const { return raw_; }
  // The key as a PEM "PUBLIC KEY" block, for auditors and the openssl command.
  const std::string& pem() const { return pem_; }
  // Which key this is, so that checkpoints signed before and after a key rotation can be told
  // apart: the first 8 bytes of SHA-256 of the raw key, in 16 lowercase hex digits.
  const std::string& key_id() const { return key_id_; }

 private:
  CheckpointPublicKey(std::string raw, std::string pem, std::string key_id)
      : raw_(std::move(raw)), pem_(std::move(pem)), key_id_(std::move(key_id)) {}

  std::string raw_;
  std::string pem_;
  std::string key_id_;
};

// Whether `signature` is `key`'s signature of `checkpoint`'s text. OK if it is; DATA_LOSS if it is
// not (the checkpoint's size, root or time was altered, or another key signed it); INVALID_ARGUMENT
// if the signature is not 64 bytes or the checkpoint has no text.
absl::Status VerifyCheckpointSignature(const CheckpointPublicKey& key, const Checkpoint& checkpoint,
                                       absl::string_view signature);

// Signs checkpoints with the registry's Ed25519 private key, read from a PEM file that only its
// owner may read: kept outside the registry's data folder, so that whoever could rewrite the log
// cannot re-sign it.
//
// Thread safety: Sign may be called from any number of threads at once (a timer's, the one
// stopping the server); signatures are made one at a time.
class CheckpointSigner {
 public:
  // Makes a new Ed25519 key and writes it, unencrypted PKCS#8 PEM, to a new file at `path` with
  // mode 0600. ALREADY_EXISTS if `path` exists: a key is never overwritten.
  static absl::Status GenerateKeyFile(const std::string& path);

  // The signer of the Ed25519 private key in the PEM file at `path`. FAILED_PRECONDITION if the
  // file is not a regular file or its group or others have any permission on it (as ssh refuses
  // such a key: chmod 600 it); INVALID_ARGUMENT if it holds no unencrypted Ed25519 private key;
  // NOT_FOUND or PERMISSION_DENIED if it cannot be opened.
  static absl::StatusOr<std::unique_ptr<CheckpointSigner>> FromKeyFile(const std::string& path);

  CheckpointSigner(const CheckpointSigner&) = delete;
  CheckpointSigner& operator=(const CheckpointSigner&) = delete;
  ~CheckpointSigner();

  // The 64-byte Ed25519 signature of the checkpoint's text. INVALID_ARGUMENT if the checkpoint has
  // no text (see Checkpoint); INTERNAL if OpenSSL fails.
  absl::StatusOr<std::string> Sign(const Checkpoint& checkpoint) const;

  // The public half of the key, for verifiers.
  const CheckpointPublicKey& public_key() const { return public_key_; }

 private:
  struct PrivateKey;  // OpenSSL's key, kept out of this header
  CheckpointSigner(std::unique_ptr<PrivateKey> private_key, CheckpointPublicKey public_key);

  mutable std::mutex signing_;  // held while private_key_ signs
  const std::unique_ptr<PrivateKey> private_key_;
  const CheckpointPublicKey public_key_;
};

}  // namespace cir::audit

#endif  // CIR_AUDIT_CHECKPOINT_SIGNER_H_
