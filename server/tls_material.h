#ifndef CIR_SERVER_TLS_MATERIAL_H_
#define CIR_SERVER_TLS_MATERIAL_H_

#include <memory>
#include <mutex>
#include <string>

#include "absl/base/thread_annotations.h"
#include "absl/status/statusor.h"
#include "absl/time/time.h"
#include "grpcpp/security/auth_metadata_processor.h"
#include "grpcpp/security/server_credentials.h"

namespace cir::server {

// The files an operator gives the server for mutual TLS.
struct TlsFiles {
  std::string ca_bundle;      // PEM: every CA that issues agencies' client certificates
  std::string certificate;    // PEM: the server's certificate (chain)
  std::string private_key;    // PEM: its private key
  std::string crl_directory;  // a folder of PEM CRLs: a current one from every CA in the bundle
};

// The server's mutual TLS: checks the operator's files, and serves a checked copy to gRPC, which
// watches it and takes a new certificate, CA bundle or CRL without a restart.
//
// Why a copy. gRPC 1.51 checks a client certificate against the CRLs of a folder only when its
// issuer has one there: a CA without a CRL is accepted, revoked certificates and all. So the
// registry refuses to start, and refuses a reload, unless every CA in the bundle has a CRL that it
// signed and that is current (its next update still ahead). Only files that pass are copied into
// a private folder of the server's (CRLs under the names OpenSSL's hashed-folder lookup expects),
// and only that folder is what gRPC reads. gRPC re-reads the CRL folder only when it rebuilds its
// TLS context, which it does when a watched file changes, so each copy also changes the CA
// bundle's copy (a comment line counting the copies). gRPC reloads only with both its root and
// identity watches set (without the root watch every handshake fails).
//
// Thread safety: every method may be called from any thread at once.
class TlsMaterial {
 public:
  // Checks `files` and stages them in a new private folder under `staging_parent` (the system's
  // temporary folder when empty); gRPC looks for changes every `refresh`.
  static absl::StatusOr<std::unique_ptr<TlsMaterial>> Open(TlsFiles files,
                                                           std::string staging_parent,
                                                           absl::Duration refresh);
  ~TlsMaterial();  // removes the staged copy

  // Credentials that require and verify a client certificate against the staged bundle and CRLs
  // and run `authenticator` on every call.
  std::shared_ptr<grpc::ServerCredentials> ServerCredentials(
      std::shared_ptr<grpc::AuthMetadataProcessor> authenticator) const;

  // If any of the operator's files changed since last staged: checks them all again and stages
  // them (gRPC takes them within `refresh`). A check that fails keeps what was staged before, and
  // says why. Cheap when nothing changed: a stat of each file.
  absl::Status RefreshIfChanged();

  const std::string& staging_folder() const { return staging_; }

 private:
  TlsMaterial(TlsFiles files, std::string staging, absl::Duration refresh);
  absl::Status CheckAndStage() ABSL_EXCLUSIVE_LOCKS_REQUIRED(mutex_);
  std::string StampOfFiles() const;

  const TlsFiles files_;
  const std::string staging_;
  const absl::Duration refresh_;
  std::mutex mutex_;  // std::mutex, which ThreadSanitizer sees (Debian's Abseil is uninstrumented)
  std::string stamp_ ABSL_GUARDED_BY(mutex_);
  int generation_ ABSL_GUARDED_BY(mutex_) = 0;
};

}  // namespace cir::server

#endif  // CIR_SERVER_TLS_MATERIAL_H_
