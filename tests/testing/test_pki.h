#ifndef CIR_TESTS_TESTING_TEST_PKI_H_
#define CIR_TESTS_TESTING_TEST_PKI_H_

#include <memory>
#include <string>
#include <vector>

#include "absl/time/time.h"

namespace cir::testing {

// A certificate and its private key, both PEM (the key unencrypted, PKCS#8).
struct PemCertificate {
  std::string certificate_pem;
  std::string private_key_pem;
};

// What a certificate issued by a TestCertificateAuthority says. Every field may be left at its
// default; the SANs may be empty or several, so that tests can make certificates the registry
// must refuse.
struct CertificateSpec {
  // The subject's CN. Empty: the subject is empty (the SANs, then critical, name it alone).
  std::string common_name;
  // URI SANs; an agency is named by one: spiffe://registry.test/agency/<id>.
  std::vector<std::string> uri_sans;
  // DNS SANs, e.g. {"localhost"} for a server.
  std::vector<std::string> dns_sans;
  // IP address SANs, IPv4 or IPv6 text, e.g. {"127.0.0.1", "::1"}.
  std::vector<std::string> ip_sans;
  // notBefore is now + not_before_offset (negative: in the past); notAfter is notBefore +
  // valid_for. An expired certificate: not_before_offset = -48h, valid_for = 24h.
  absl::Duration valid_for = absl::Hours(24);
  absl::Duration not_before_offset = -absl::Minutes(5);
  // extendedKeyUsage serverAuth if true, clientAuth if false.
  bool server = false;
};

// A certificate authority for tests, made in memory with OpenSSL: a self-signed EC P-256 root
// that issues leaf certificates and signs CRLs listing those it has revoked. Nothing is written
// to disk unless a test writes it (WritePem).
//
// The root: X.509 v3, basicConstraints CA:TRUE and keyUsage keyCertSign, cRLSign (both
// critical), a subjectKeyIdentifier, valid from 7 days ago for 10 years. A leaf: X.509 v3, an EC
// P-256 key of its own, basicConstraints CA:FALSE and keyUsage digitalSignature (both critical),
// extendedKeyUsage, subject and authority key identifiers, the SANs of its CertificateSpec and a
// random positive 16-byte serial. Everything is signed with ECDSA over SHA-256.
//
// Any OpenSSL failure, or a request that cannot be met (an IP SAN that is not an address, a
// certificate to revoke that this authority did not issue), prints what failed and aborts the
// process: test code, but never a silent failure.
//
// Movable, not copyable; a moved-from authority may only be destroyed or assigned to. Not safe
// for concurrent use without external synchronisation.
class TestCertificateAuthority {
 public:
  // A new root whose subject is CN=`common_name`, with a key of its own.
  static TestCertificateAuthority Create(const std::string& common_name);

  TestCertificateAuthority(TestCertificateAuthority&&) noexcept;
  TestCertificateAuthority& operator=(TestCertificateAuthority&&) noexcept;
  ~TestCertificateAuthority();

  // The root certificate, PEM: what a trust bundle holds.
  const std::string& certificate_pem() const;

  // A new leaf certificate and its key, as `spec` says.
  PemCertificate Issue(const CertificateSpec& spec) const;

  // Lists `certificate` (issued by this authority; aborts otherwise) in every CRL signed from now
  // on, revoked now. Revoking it again changes nothing.
  void Revoke(const PemCertificate& certificate);

  // A v2 CRL, PEM, signed by this authority, listing every certificate revoked so far: lastUpdate
  // an hour ago, nextUpdate a day from now, a crlNumber (one more than the number of revocations)
  // and an authorityKeyIdentifier.
  std::string CrlPem() const;

  // The file name under which OpenSSL's hashed-directory lookup (X509_LOOKUP_hash_dir) finds this
  // authority's CRL: "<hash of the subject name, 8 hex digits>.r0". Authorities with the same
  // common name share the hash: give each of a test's authorities a name of its own.
  std::string CrlHashFileName() const;

 private:
  struct State;
  explicit TestCertificateAuthority(std::unique_ptr<State> state);

  std::unique_ptr<State> state_;
};

// Writes `pem` to `path`, replacing any file there and creating missing parent folders, with
// mode 0600 if `secret` (private keys) and 0644 otherwise. A test's PKI folder holds, say,
// ca.pem, server.pem and server.key, <agency>.pem and <agency>.key, and
// crl/<CrlHashFileName()>. Aborts if the file cannot be written.
void WritePem(const std::string& path, const std::string& pem, bool secret);

}  // namespace cir::testing

#endif  // CIR_TESTS_TESTING_TEST_PKI_H_
