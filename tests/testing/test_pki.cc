#include "tests/testing/test_pki.h"

#include <fcntl.h>
#include <openssl/asn1.h>
#include <openssl/bio.h>
#include <openssl/bn.h>
#include <openssl/ec.h>
#include <openssl/err.h>
#include <openssl/evp.h>
#include <openssl/objects.h>
#include <openssl/pem.h>
#include <openssl/rand.h>
#include <openssl/x509.h>
#include <openssl/x509v3.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <ctime>
#include <filesystem>
#include <string_view>
#include <system_error>
#include <utility>

#include "absl/strings/str_format.h"
#include "absl/time/clock.h"
#include "absl/time/time.h"

namespace cir::testing {
namespace {

// std::unique_ptr for OpenSSL objects, each freed by its own function.
template <auto Free>
struct FreeWith {
  template <typename T>
  void operator()(T* object) const {
    Free(object);
  }
};
template <typename T, auto Free>
using Owned = std::unique_ptr<T, FreeWith<Free>>;

using Key = Owned<EVP_PKEY, EVP_PKEY_free>;
using Certificate = Owned<X509, X509_free>;
using Time = Owned<ASN1_TIME, ASN1_TIME_free>;
using Integer = Owned<ASN1_INTEGER, ASN1_INTEGER_free>;

// Lifetimes of the root, and the serial number's size.
constexpr absl::Duration kRootNotBeforeOffset = -absl::Hours(24 * 7);
constexpr absl::Duration kRootValidFor = absl::Hours(24 * 3650);
constexpr int kSerialBytes = 16;

// Says what failed, with OpenSSL's queue of errors, and aborts.
[[noreturn]] void Fail(std::string_view what) {
  std::fprintf(stderr, "test PKI: %.*s\n", static_cast<int>(what.size()), what.data());
  ERR_print_errors_fp(stderr);
  std::fflush(stderr);
  std::abort();
}

// OpenSSL reports failure as a result of 0 or less, or as a null pointer: callers compare.
void Require(bool ok, std::string_view what) {
  if (!ok) Fail(absl::StrFormat("%s failed", what));
}
template <typename T>
T* Require(T* object, std::string_view what) {
  Require(object != nullptr, what);
  return object;
}

std::time_t Now() { return absl::ToTimeT(absl::Now()); }

Key NewKey() { return Key(Require(EVP_EC_gen("P-256"), "generating an EC P-256 key")); }

// Sets `time` (or, if null, a new ASN1_TIME it returns) to `now` + `offset`.
ASN1_TIME* SetTime(ASN1_TIME* time, std::time_t now, absl::Duration offset) {
  return Require(X509_time_adj_ex(time, 0, absl::ToInt64Seconds(offset), &now), "setting a time");
}

// A random serial of kSerialBytes: the top bit clear (positive), the next one set (so that none
// of the bytes is a leading zero DER would drop).
void SetRandomSerial(X509* certificate) {
  unsigned char bytes[kSerialBytes];
  Require(RAND_bytes(bytes, sizeof bytes) == 1, "drawing a random serial");
  bytes[0] = (bytes[0] & 0x7f) | 0x40;
  Owned<BIGNUM, BN_free> serial(Require(BN_bin2bn(bytes, sizeof bytes, nullptr), "BN_bin2bn"));
  Require(BN_to_ASN1_INTEGER(serial.get(), X509_get_serialNumber(certificate)),
          "setting the serial number");
}

// An unsigned X.509 v3 certificate for `key`, subject CN=`common_name` (none if empty), issued
// by `issuer` (or by itself if null), valid from now + `not_before_offset` for `valid_for`.
Certificate NewCertificate(EVP_PKEY* key, const std::string& common_name, X509* issuer,
                           absl::Duration not_before_offset, absl::Duration valid_for) {
  Require(valid_for > absl::ZeroDuration(), "a validity period longer than zero");
  Certificate certificate(Require(X509_new(), "X509_new"));
  X509* x = certificate.get();
  Require(X509_set_version(x, X509_VERSION_3) == 1, "setting the version");
  SetRandomSerial(x);
  if (!common_name.empty()) {
    Require(X509_NAME_add_entry_by_NID(X509_get_subject_name(x), NID_commonName, MBSTRING_UTF8,
                                       reinterpret_cast<const unsigned char*>(common_name.data()),
                                       static_cast<int>(common_name.size()), -1, 0) == 1,
            "setting the common name");
  }
  X509* signer = issuer != nullptr ? issuer : x;
  Require(X509_set_issuer_name(x, X509_get_subject_name(signer)) == 1, "setting the issuer");
  const std::time_t now = Now();
  SetTime(X509_getm_notBefore(x), now, not_before_offset);
  SetTime(X509_getm_notAfter(x), now, not_before_offset + valid_for);
  Require(X509_set_pubkey(x, key) == 1, "setting the public key");
  return certificate;
}

// Adds the extension `nid`, its value written as in openssl.cnf, to `certificate`, issued by
// `issuer` (the two are one for the root).
void AddExtension(X509* certificate, X509* issuer, int nid, const char* value) {
  X509V3_CTX context;
  X509V3_set_ctx(&context, issuer, certificate, nullptr, nullptr, 0);
  const std::string what = absl::StrFormat("adding %s = %s", OBJ_nid2sn(nid), value);
  Owned<X509_EXTENSION, X509_EXTENSION_free> extension(
      Require(X509V3_EXT_nconf_nid(nullptr, &context, nid, value), what));
  Require(X509_add_ext(certificate, extension.get(), -1) == 1, what);
}

// Appends a name of `type` (GEN_URI, GEN_DNS, GEN_IPADD) holding `value` to `names`.
void AppendName(GENERAL_NAMES* names, int type, Owned<ASN1_STRING, ASN1_STRING_free> value) {
  Owned<GENERAL_NAME, GENERAL_NAME_free> name(Require(GENERAL_NAME_new(), "GENERAL_NAME_new"));
  GENERAL_NAME_set0_value(name.get(), type, value.release());
  Require(sk_GENERAL_NAME_push(names, name.get()) > 0, "adding a subject alternative name");
  name.release();
}

Owned<ASN1_STRING, ASN1_STRING_free> Ia5String(const std::string& text) {
  Owned<ASN1_STRING, ASN1_STRING_free> string(Require(ASN1_IA5STRING_new(), "ASN1_IA5STRING_new"));
  Require(ASN1_STRING_set(string.get(), text.data(), static_cast<int>(text.size())) == 1,
          "ASN1_STRING_set");
  return string;
}

// Adds the SANs of `spec`, if it has any: critical when the subject is empty (RFC 5280 4.2.1.6).
void AddSubjectAltNames(X509* certificate, const CertificateSpec& spec) {
  Owned<GENERAL_NAMES, GENERAL_NAMES_free> names(Require(GENERAL_NAMES_new(), "GENERAL_NAMES_new"));
  for (const std::string& uri : spec.uri_sans) AppendName(names.get(), GEN_URI, Ia5String(uri));
  for (const std::string& dns : spec.dns_sans) AppendName(names.get(), GEN_DNS, Ia5String(dns));
  for (const std::string& ip : spec.ip_sans) {
    Owned<ASN1_STRING, ASN1_STRING_free> address(a2i_IPADDRESS(ip.c_str()));
    if (address == nullptr) Fail(absl::StrFormat("IP SAN \"%s\" is not an IP address", ip));
    AppendName(names.get(), GEN_IPADD, std::move(address));
  }
  if (sk_GENERAL_NAME_num(names.get()) == 0) return;
  const int critical = spec.common_name.empty() ? 1 : 0;
  Require(X509_add1_ext_i2d(certificate, NID_subject_alt_name, names.get(), critical,
                            X509V3_ADD_DEFAULT) == 1,
          "adding the subject alternative names");
}

void Sign(X509* certificate, EVP_PKEY* key) {
  Require(X509_sign(certificate, key, EVP_sha256()) > 0, "signing a certificate");
}

// What `write` writes to a memory BIO.
template <typename Write>
std::string WriteToString(Write write, std::string_view what) {
  Owned<BIO, BIO_free> bio(Require(BIO_new(BIO_s_mem()), "BIO_new"));
  Require(write(bio.get()) == 1, what);
  char* data = nullptr;
  const long size = BIO_get_mem_data(bio.get(), &data);
  Require(size > 0 && data != nullptr, what);
  return std::string(data, static_cast<size_t>(size));
}

std::string CertificatePem(X509* certificate) {
  return WriteToString([&](BIO* bio) { return PEM_write_bio_X509(bio, certificate); },
                       "writing a certificate as PEM");
}

std::string PrivateKeyPem(EVP_PKEY* key) {
  return WriteToString(
      [&](BIO* bio) {
        return PEM_write_bio_PrivateKey(bio, key, nullptr, nullptr, 0, nullptr, nullptr);
      },
      "writing a private key as PEM");
}

Certificate ParseCertificate(const std::string& pem) {
  Owned<BIO, BIO_free> bio(
      Require(BIO_new_mem_buf(pem.data(), static_cast<int>(pem.size())), "BIO_new_mem_buf"));
  return Certificate(Require(PEM_read_bio_X509(bio.get(), nullptr, nullptr, nullptr),
                             "reading a PEM certificate"));
}

// One revoked certificate: its serial, and when it was revoked.
struct Revocation {
  Integer serial;
  std::time_t revoked_at;
};

}  // namespace

struct TestCertificateAuthority::State {
  Key key;
  Certificate certificate;
  std::string certificate_pem;
  std::vector<Revocation> revocations;  // in the order revoked, each serial once
};

TestCertificateAuthority::TestCertificateAuthority(std::unique_ptr<State> state)
    : state_(std::move(state)) {}
TestCertificateAuthority::TestCertificateAuthority(TestCertificateAuthority&&) noexcept = default;
TestCertificateAuthority& TestCertificateAuthority::operator=(TestCertificateAuthority&&) noexcept =
    default;
TestCertificateAuthority::~TestCertificateAuthority() = default;

TestCertificateAuthority TestCertificateAuthority::Create(const std::string& common_name) {
  Require(!common_name.empty(), "naming the certificate authority (an empty common name)");
  auto state = std::make_unique<State>();
  state->key = NewKey();
  state->certificate = NewCertificate(state->key.get(), common_name, /*issuer=*/nullptr,
                                      kRootNotBeforeOffset, kRootValidFor);
  X509* root = state->certificate.get();
  AddExtension(root, root, NID_basic_constraints, "critical,CA:TRUE");
  AddExtension(root, root, NID_key_usage, "critical,keyCertSign,cRLSign");
  AddExtension(root, root, NID_subject_key_identifier, "hash");
  Sign(root, state->key.get());
  state->certificate_pem = CertificatePem(root);
  return TestCertificateAuthority(std::move(state));
}

const std::string& TestCertificateAuthority::certificate_pem() const {
  return state_->certificate_pem;
}

PemCertificate TestCertificateAuthority::Issue(const CertificateSpec& spec) const {
  X509* root = state_->certificate.get();
  Key key = NewKey();
  Certificate certificate =
      NewCertificate(key.get(), spec.common_name, root, spec.not_before_offset, spec.valid_for);
  X509* leaf = certificate.get();
  AddExtension(leaf, root, NID_basic_constraints, "critical,CA:FALSE");
  AddExtension(leaf, root, NID_key_usage, "critical,digitalSignature");
  AddExtension(leaf, root, NID_ext_key_usage, spec.server ? "serverAuth" : "clientAuth");
  AddExtension(leaf, root, NID_subject_key_identifier, "hash");
  AddExtension(leaf, root, NID_authority_key_identifier, "keyid:always");
  AddSubjectAltNames(leaf, spec);
  Sign(leaf, state_->key.get());
  return PemCertificate{CertificatePem(leaf), PrivateKeyPem(key.get())};
}

void TestCertificateAuthority::Revoke(const PemCertificate& certificate) {
  Certificate revoked = ParseCertificate(certificate.certificate_pem);
  if (X509_check_issued(state_->certificate.get(), revoked.get()) != X509_V_OK ||
      X509_verify(revoked.get(), state_->key.get()) != 1) {
    Fail("revoking a certificate this authority did not issue");
  }
  const ASN1_INTEGER* serial = X509_get0_serialNumber(revoked.get());
  for (const Revocation& earlier : state_->revocations) {
    if (ASN1_INTEGER_cmp(earlier.serial.get(), serial) == 0) return;
  }
  state_->revocations.push_back(
      Revocation{Integer(Require(ASN1_INTEGER_dup(serial), "copying a serial")), Now()});
}

std::string TestCertificateAuthority::CrlPem() const {
  X509* root = state_->certificate.get();
  Owned<X509_CRL, X509_CRL_free> crl(Require(X509_CRL_new(), "X509_CRL_new"));
  Require(X509_CRL_set_version(crl.get(), X509_CRL_VERSION_2) == 1, "setting the CRL version");
  Require(X509_CRL_set_issuer_name(crl.get(), X509_get_subject_name(root)) == 1,
          "setting the CRL issuer");
  const std::time_t now = Now();
  Time last_update(SetTime(nullptr, now, -absl::Hours(1)));
  Time next_update(SetTime(nullptr, now, absl::Hours(24)));
  Require(X509_CRL_set1_lastUpdate(crl.get(), last_update.get()) == 1, "setting lastUpdate");
  Require(X509_CRL_set1_nextUpdate(crl.get(), next_update.get()) == 1, "setting nextUpdate");

  for (const Revocation& revocation : state_->revocations) {
    Owned<X509_REVOKED, X509_REVOKED_free> entry(Require(X509_REVOKED_new(), "X509_REVOKED_new"));
    Time revoked_at(SetTime(nullptr, revocation.revoked_at, absl::ZeroDuration()));
    Require(X509_REVOKED_set_serialNumber(entry.get(), revocation.serial.get()) == 1,
            "setting a revoked serial");
    Require(X509_REVOKED_set_revocationDate(entry.get(), revoked_at.get()) == 1,
            "setting a revocation date");
    Require(X509_CRL_add0_revoked(crl.get(), entry.get()) == 1, "listing a revoked certificate");
    entry.release();
  }
  Require(X509_CRL_sort(crl.get()) == 1, "sorting the CRL");

  Integer crl_number(Require(ASN1_INTEGER_new(), "ASN1_INTEGER_new"));
  Require(ASN1_INTEGER_set_int64(crl_number.get(),
                                 static_cast<int64_t>(state_->revocations.size()) + 1) == 1,
          "setting the CRL number");
  Require(X509_CRL_add1_ext_i2d(crl.get(), NID_crl_number, crl_number.get(), 0,
                                X509V3_ADD_DEFAULT) == 1,
          "adding the CRL number");
  X509V3_CTX context;
  X509V3_set_ctx(&context, root, nullptr, nullptr, crl.get(), 0);
  Owned<X509_EXTENSION, X509_EXTENSION_free> authority_key_id(
      Require(X509V3_EXT_nconf_nid(nullptr, &context, NID_authority_key_identifier, "keyid:always"),
              "making the CRL's authority key identifier"));
  Require(X509_CRL_add_ext(crl.get(), authority_key_id.get(), -1) == 1,
          "adding the CRL's authority key identifier");

  Require(X509_CRL_sign(crl.get(), state_->key.get(), EVP_sha256()) > 0, "signing the CRL");
  return WriteToString([&](BIO* bio) { return PEM_write_bio_X509_CRL(bio, crl.get()); },
                       "writing the CRL as PEM");
}

std::string TestCertificateAuthority::CrlHashFileName() const {
  int ok = 0;
  const unsigned long hash =
      X509_NAME_hash_ex(X509_get_subject_name(state_->certificate.get()), nullptr, nullptr, &ok);
  Require(ok == 1, "hashing the authority's name");
  return absl::StrFormat("%08lx.r0", hash);
}

void WritePem(const std::string& path, const std::string& pem, bool secret) {
  const auto fail = [&path](std::string_view step) {
    Fail(absl::StrFormat("%s %s: %s", step, path, std::strerror(errno)));
  };
  const std::filesystem::path parent = std::filesystem::path(path).parent_path();
  if (!parent.empty()) {
    std::error_code error;
    std::filesystem::create_directories(parent, error);
    if (error) Fail(absl::StrFormat("creating the folder of %s: %s", path, error.message()));
  }
  const mode_t mode = secret ? 0600 : 0644;
  const int fd = open(path.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, mode);
  if (fd < 0) fail("opening");
  // The mode asked for whatever the umask, or the mode of a file already there; set before the
  // contents go in, so a key is never readable by others.
  if (fchmod(fd, mode) != 0) fail("setting the mode of");
  size_t written = 0;
  while (written < pem.size()) {
    const ssize_t n = write(fd, pem.data() + written, pem.size() - written);
    if (n < 0 && errno == EINTR) continue;
    if (n <= 0) fail("writing");
    written += static_cast<size_t>(n);
  }
  if (close(fd) != 0) fail("closing");
}

}  // namespace cir::testing
