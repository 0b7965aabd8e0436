#include "server/tls_material.h"

#include <openssl/bio.h>
#include <openssl/err.h>
#include <openssl/pem.h>
#include <openssl/x509.h>
#include <sys/stat.h>

#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <map>
#include <memory>
#include <set>
#include <sstream>
#include <utility>
#include <vector>

#include "absl/status/status.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "grpcpp/security/tls_certificate_provider.h"
#include "grpcpp/security/tls_credentials_options.h"

namespace cir::server {
namespace {

namespace fs = std::filesystem;

struct X509Free {
  void operator()(X509* certificate) const { X509_free(certificate); }
};
struct X509CrlFree {
  void operator()(X509_CRL* crl) const { X509_CRL_free(crl); }
};
struct EvpPkeyFree {
  void operator()(EVP_PKEY* key) const { EVP_PKEY_free(key); }
};
struct BioFree {
  void operator()(BIO* bio) const { BIO_free(bio); }
};
using Certificate = std::unique_ptr<X509, X509Free>;
using Crl = std::unique_ptr<X509_CRL, X509CrlFree>;

absl::StatusOr<std::string> ReadFile(const std::string& path, absl::string_view what) {
  std::ifstream file(path, std::ios::binary);
  if (!file) return absl::NotFoundError(absl::StrCat(what, " ", path, ": cannot be read"));
  std::stringstream text;
  text << file.rdbuf();
  return text.str();
}

std::unique_ptr<BIO, BioFree> MemoryBio(const std::string& pem) {
  return std::unique_ptr<BIO, BioFree>(BIO_new_mem_buf(pem.data(), static_cast<int>(pem.size())));
}

std::vector<Certificate> ParseCertificates(const std::string& pem) {
  std::vector<Certificate> certificates;
  auto bio = MemoryBio(pem);
  while (X509* certificate = PEM_read_bio_X509(bio.get(), nullptr, nullptr, nullptr)) {
    certificates.emplace_back(certificate);
  }
  ERR_clear_error();  // the end of the input reads as an error
  return certificates;
}

std::vector<Crl> ParseCrls(const std::string& pem) {
  std::vector<Crl> crls;
  auto bio = MemoryBio(pem);
  while (X509_CRL* crl = PEM_read_bio_X509_CRL(bio.get(), nullptr, nullptr, nullptr)) {
    crls.emplace_back(crl);
  }
  ERR_clear_error();
  return crls;
}

std::string NameOf(const X509_NAME* name) {
  char buffer[256];
  X509_NAME_oneline(name, buffer, sizeof(buffer));
  return buffer;
}

// Writes `contents` to `path` whole or not at all: a temporary file renamed over it.
absl::Status WriteAtomically(const std::string& path, const std::string& contents, bool secret) {
  const std::string temporary = path + ".new";
  {
    std::ofstream file(temporary, std::ios::binary | std::ios::trunc);
    if (!file) return absl::InternalError(absl::StrCat("cannot write ", temporary));
    if (secret) ::chmod(temporary.c_str(), 0600);
    file << contents;
    if (!file.flush()) return absl::InternalError(absl::StrCat("cannot write ", temporary));
  }
  std::error_code error;
  fs::rename(temporary, path, error);
  if (error)
    return absl::InternalError(absl::StrCat("cannot rename ", temporary, ": ", error.message()));
  return absl::OkStatus();
}

// A current CRL from `ca` among `crls`: issued under its name, signed with its key, and with its
// next update still ahead.
bool HasCurrentCrl(X509* ca, const std::vector<std::pair<std::string, Crl>>& crls) {
  EVP_PKEY* key = X509_get0_pubkey(ca);
  for (const auto& [file, crl] : crls) {
    if (X509_NAME_cmp(X509_CRL_get_issuer(crl.get()), X509_get_subject_name(ca)) != 0) continue;
    if (key == nullptr || X509_CRL_verify(crl.get(), key) != 1) continue;
    const ASN1_TIME* next_update = X509_CRL_get0_nextUpdate(crl.get());
    if (next_update == nullptr || X509_cmp_time(next_update, nullptr) <= 0) continue;
    return true;
  }
  ERR_clear_error();
  return false;
}

long long StatStamp(const std::string& path) {
  struct stat info {};
  if (::stat(path.c_str(), &info) != 0) return -1;
  return static_cast<long long>(info.st_mtim.tv_sec) * 1000000000LL + info.st_mtim.tv_nsec +
         static_cast<long long>(info.st_size) * 7 + static_cast<long long>(info.st_ino) * 13;
}

}  // namespace

absl::StatusOr<std::unique_ptr<TlsMaterial>> TlsMaterial::Open(TlsFiles files,
                                                               std::string staging_parent,
                                                               absl::Duration refresh) {
  if (files.ca_bundle.empty() || files.certificate.empty() || files.private_key.empty() ||
      files.crl_directory.empty()) {
    return absl::InvalidArgumentError(
        "mutual TLS needs a CA bundle, the server's certificate and key, and a CRL folder");
  }
  if (staging_parent.empty()) {
    const char* tmp = std::getenv("TMPDIR");
    staging_parent = tmp != nullptr && *tmp != '\0' ? tmp : "/tmp";
  }
  std::string pattern = staging_parent + "/cir-server-tls-XXXXXX";
  if (::mkdtemp(pattern.data()) == nullptr) {
    return absl::InternalError(absl::StrCat("cannot make a private folder in ", staging_parent));
  }
  std::unique_ptr<TlsMaterial> material(new TlsMaterial(std::move(files), pattern, refresh));
  std::error_code error;
  fs::create_directory(material->staging_ + "/crl", error);
  std::lock_guard<std::mutex> lock(material->mutex_);
  material->stamp_ = material->StampOfFiles();
  absl::Status staged = material->CheckAndStage();
  if (!staged.ok()) return staged;
  return material;
}

TlsMaterial::TlsMaterial(TlsFiles files, std::string staging, absl::Duration refresh)
    : files_(std::move(files)), staging_(std::move(staging)), refresh_(refresh) {}

TlsMaterial::~TlsMaterial() {
  std::error_code error;
  fs::remove_all(staging_, error);
}

std::string TlsMaterial::StampOfFiles() const {
  std::string stamp =
      absl::StrCat(StatStamp(files_.ca_bundle), "/", StatStamp(files_.certificate), "/",
                   StatStamp(files_.private_key), "/", StatStamp(files_.crl_directory));
  std::error_code error;
  std::set<std::string> names;
  for (const auto& entry : fs::directory_iterator(files_.crl_directory, error)) {
    names.insert(entry.path().string());
  }
  for (const std::string& name : names) absl::StrAppend(&stamp, "/", name, "=", StatStamp(name));
  return stamp;
}

absl::Status TlsMaterial::CheckAndStage() {
  absl::StatusOr<std::string> bundle = ReadFile(files_.ca_bundle, "CA bundle");
  if (!bundle.ok()) return bundle.status();
  std::vector<Certificate> cas = ParseCertificates(*bundle);
  if (cas.empty()) {
    return absl::InvalidArgumentError(
        absl::StrCat("CA bundle ", files_.ca_bundle, ": holds no PEM certificate"));
  }
  absl::StatusOr<std::string> certificate = ReadFile(files_.certificate, "server certificate");
  if (!certificate.ok()) return certificate.status();
  absl::StatusOr<std::string> key = ReadFile(files_.private_key, "server private key");
  if (!key.ok()) return key.status();
  std::vector<Certificate> chain = ParseCertificates(*certificate);
  auto key_bio = MemoryBio(*key);
  std::unique_ptr<EVP_PKEY, EvpPkeyFree> private_key(
      PEM_read_bio_PrivateKey(key_bio.get(), nullptr, nullptr, nullptr));
  if (chain.empty() || private_key == nullptr ||
      X509_check_private_key(chain.front().get(), private_key.get()) != 1) {
    ERR_clear_error();
    return absl::InvalidArgumentError(
        absl::StrCat("server certificate ", files_.certificate, " and key ", files_.private_key,
                     ": need a PEM certificate and the PEM private key that matches it"));
  }

  std::vector<std::pair<std::string, Crl>> crls;
  std::error_code error;
  std::set<std::string> crl_files;
  for (const auto& entry : fs::directory_iterator(files_.crl_directory, error)) {
    if (entry.is_regular_file()) crl_files.insert(entry.path().string());
  }
  if (error) {
    return absl::NotFoundError(
        absl::StrCat("CRL folder ", files_.crl_directory, ": cannot be read: ", error.message()));
  }
  for (const std::string& file : crl_files) {
    absl::StatusOr<std::string> pem = ReadFile(file, "CRL");
    if (!pem.ok()) return pem.status();
    std::vector<Crl> in_file = ParseCrls(*pem);
    if (in_file.empty()) {
      return absl::InvalidArgumentError(
          absl::StrCat("CRL folder: ", file, " holds no PEM CRL; keep only CRLs there"));
    }
    for (Crl& crl : in_file) crls.emplace_back(file, std::move(crl));
  }
  for (const Certificate& ca : cas) {
    if (!HasCurrentCrl(ca.get(), crls)) {
      return absl::FailedPreconditionError(absl::StrCat(
          "CRL folder ", files_.crl_directory, ": no current CRL signed by the CA \"",
          NameOf(X509_get_subject_name(ca.get())),
          "\"; without one its revoked certificates would be accepted, so the registry does not "
          "take this TLS material. Add the CA's CRL (PEM), or remove the CA from the bundle"));
    }
  }

  // Stage: CRLs first (each under the name OpenSSL's hashed lookup finds), then the key and
  // certificate, then the bundle, whose change makes gRPC rebuild its context and so read them.
  std::set<std::string> staged_crls;
  std::map<unsigned long, int> per_hash;
  for (const auto& [file, crl] : crls) {
    const unsigned long hash =
        X509_NAME_hash_ex(X509_CRL_get_issuer(crl.get()), nullptr, nullptr, nullptr);
    const std::string name = absl::StrFormat("%s/crl/%08lx.r%d", staging_, hash, per_hash[hash]++);
    auto out = std::unique_ptr<BIO, BioFree>(BIO_new(BIO_s_mem()));
    PEM_write_bio_X509_CRL(out.get(), crl.get());
    char* data = nullptr;
    const long size = BIO_get_mem_data(out.get(), &data);
    absl::Status written = WriteAtomically(name, std::string(data, size), false);
    if (!written.ok()) return written;
    staged_crls.insert(name);
  }
  for (const auto& entry : fs::directory_iterator(staging_ + "/crl", error)) {
    if (!staged_crls.contains(entry.path().string())) fs::remove(entry.path(), error);
  }
  absl::Status written = WriteAtomically(staging_ + "/server.key", *key, true);
  if (written.ok()) written = WriteAtomically(staging_ + "/server.pem", *certificate, false);
  if (written.ok()) {
    written = WriteAtomically(staging_ + "/ca.pem",
                              absl::StrCat("# staged copy ", ++generation_, "\n", *bundle), false);
  }
  return written;
}

std::shared_ptr<grpc::ServerCredentials> TlsMaterial::ServerCredentials(
    std::shared_ptr<grpc::AuthMetadataProcessor> authenticator) const {
  auto provider = std::make_shared<grpc::experimental::FileWatcherCertificateProvider>(
      staging_ + "/server.key", staging_ + "/server.pem", staging_ + "/ca.pem",
      static_cast<unsigned int>(std::max<int64_t>(1, absl::ToInt64Seconds(refresh_))));
  grpc::experimental::TlsServerCredentialsOptions options(provider);
  options.watch_root_certs();
  options.watch_identity_key_cert_pairs();
  options.set_cert_request_type(GRPC_SSL_REQUEST_AND_REQUIRE_CLIENT_CERTIFICATE_AND_VERIFY);
  options.set_crl_directory(staging_ + "/crl");
  std::shared_ptr<grpc::ServerCredentials> credentials =
      grpc::experimental::TlsServerCredentials(options);
  credentials->SetAuthMetadataProcessor(std::move(authenticator));
  return credentials;
}

absl::Status TlsMaterial::RefreshIfChanged() {
  std::lock_guard<std::mutex> lock(mutex_);
  std::string stamp = StampOfFiles();
  if (stamp == stamp_) return absl::OkStatus();
  stamp_ = std::move(stamp);  // a change that fails is not checked again until it changes again
  return CheckAndStage();
}

}  // namespace cir::server
