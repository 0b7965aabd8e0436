#include "tests/testing/test_pki.h"

#include <arpa/inet.h>
#include <openssl/asn1.h>
#include <openssl/bio.h>
#include <openssl/bn.h>
#include <openssl/evp.h>
#include <openssl/pem.h>
#include <openssl/x509.h>
#include <openssl/x509_vfy.h>
#include <openssl/x509v3.h>
#include <sys/stat.h>

#include <cstdio>
#include <fstream>
#include <memory>
#include <sstream>
#include <string>
#include <utility>
#include <vector>

#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "tests/testing/temp_dir.h"

namespace cir::testing {
namespace {

using ::testing::ElementsAre;
using ::testing::IsEmpty;
using ::testing::MatchesRegex;

template <auto Free>
struct FreeWith {
  template <typename T>
  void operator()(T* object) const {
    Free(object);
  }
};
template <typename T, auto Free>
using Owned = std::unique_ptr<T, FreeWith<Free>>;

using Certificate = Owned<X509, X509_free>;
using Crl = Owned<X509_CRL, X509_CRL_free>;
using Store = Owned<X509_STORE, X509_STORE_free>;

constexpr char kMaternityUri[] = "spiffe://registry.test/agency/maternity-1";
constexpr char kSchoolUri[] = "spiffe://registry.test/agency/school-1";

Owned<BIO, BIO_free> MemoryBio(const std::string& text) {
  return Owned<BIO, BIO_free>(BIO_new_mem_buf(text.data(), static_cast<int>(text.size())));
}

Certificate ParseCertificate(const std::string& pem) {
  return Certificate(PEM_read_bio_X509(MemoryBio(pem).get(), nullptr, nullptr, nullptr));
}

Crl ParseCrl(const std::string& pem) {
  return Crl(PEM_read_bio_X509_CRL(MemoryBio(pem).get(), nullptr, nullptr, nullptr));
}

// OpenSSL's words for a verification result, "ok" for X509_V_OK: what the tests compare, so that
// a failure reads as a reason rather than a number.
std::string Reason(int verification_error) {
  return X509_verify_cert_error_string(verification_error);
}

// A store trusting the root of `ca` alone.
Store StoreTrusting(const TestCertificateAuthority& ca) {
  Store store(X509_STORE_new());
  Certificate root = ParseCertificate(ca.certificate_pem());
  EXPECT_EQ(X509_STORE_add_cert(store.get(), root.get()), 1);
  return store;
}

// Has `store` check every certificate against the CRL of its issuer.
void CheckCrls(X509_STORE* store) { X509_STORE_set_flags(store, X509_V_FLAG_CRL_CHECK); }

// Verifies the certificate `pem` with `store` for `purpose` (X509_PURPOSE_SSL_CLIENT or
// X509_PURPOSE_SSL_SERVER), now: Reason(X509_V_OK) or the reason it fails.
std::string Verify(X509_STORE* store, const std::string& pem,
                   int purpose = X509_PURPOSE_SSL_CLIENT) {
  Certificate certificate = ParseCertificate(pem);
  if (certificate == nullptr) return "not a PEM certificate";
  Owned<X509_STORE_CTX, X509_STORE_CTX_free> context(X509_STORE_CTX_new());
  if (X509_STORE_CTX_init(context.get(), store, certificate.get(), nullptr) != 1 ||
      X509_STORE_CTX_set_purpose(context.get(), purpose) != 1) {
    return "verification could not start";
  }
  if (X509_verify_cert(context.get()) == 1) return Reason(X509_V_OK);
  const int error = X509_STORE_CTX_get_error(context.get());
  return error == X509_V_OK ? "verification failed without a reason" : Reason(error);
}

// The names of `type` (GEN_URI, GEN_DNS, GEN_IPADD) in the certificate's SANs, in order; IP
// addresses as text.
std::vector<std::string> SubjectAltNames(X509* certificate, int type) {
  Owned<GENERAL_NAMES, GENERAL_NAMES_free> names(static_cast<GENERAL_NAMES*>(
      X509_get_ext_d2i(certificate, NID_subject_alt_name, nullptr, nullptr)));
  std::vector<std::string> found;
  for (int i = 0; i < sk_GENERAL_NAME_num(names.get()); ++i) {
    int name_type = 0;
    const auto* value = static_cast<const ASN1_STRING*>(
        GENERAL_NAME_get0_value(sk_GENERAL_NAME_value(names.get(), i), &name_type));
    if (name_type != type) continue;
    const unsigned char* bytes = ASN1_STRING_get0_data(value);
    const int length = ASN1_STRING_length(value);
    if (type != GEN_IPADD) {
      found.emplace_back(reinterpret_cast<const char*>(bytes), length);
      continue;
    }
    char text[INET6_ADDRSTRLEN] = {};
    inet_ntop(length == 4 ? AF_INET : AF_INET6, bytes, text, sizeof text);
    found.emplace_back(text);
  }
  return found;
}

bool HasCriticalExtension(X509* certificate, int nid) {
  const int index = X509_get_ext_by_NID(certificate, nid, -1);
  return index >= 0 && X509_EXTENSION_get_critical(X509_get_ext(certificate, index)) == 1;
}

std::string ReadFile(const std::string& path) {
  std::ifstream in(path);
  std::stringstream contents;
  contents << in.rdbuf();
  return contents.str();
}

class TestCertificateAuthorityTest : public ::testing::Test {
 protected:
  PemCertificate IssueClient(const std::string& uri) {
    CertificateSpec spec;
    spec.common_name = "agency";
    spec.uri_sans = {uri};
    return ca_.Issue(spec);
  }

  TestCertificateAuthority ca_ = TestCertificateAuthority::Create("Registry Test CA");
};

TEST_F(TestCertificateAuthorityTest, AClientCertificateChainsToTheRoot) {
  PemCertificate client = IssueClient(kMaternityUri);
  Store store = StoreTrusting(ca_);

  EXPECT_EQ(Verify(store.get(), client.certificate_pem), Reason(X509_V_OK));
}

TEST_F(TestCertificateAuthorityTest, AClientCertificateDoesNotChainToAnotherRoot) {
  PemCertificate client = IssueClient(kMaternityUri);
  // The same name as the issuer's: only the key tells them apart.
  TestCertificateAuthority other = TestCertificateAuthority::Create("Registry Test CA");
  Store store = StoreTrusting(other);

  EXPECT_EQ(Verify(store.get(), client.certificate_pem),
            Reason(X509_V_ERR_UNABLE_TO_GET_ISSUER_CERT_LOCALLY));
}

TEST_F(TestCertificateAuthorityTest, AServerCertificateIsForServersAndAClientOneForClients) {
  CertificateSpec spec;
  spec.common_name = "registry";
  spec.dns_sans = {"localhost"};
  spec.ip_sans = {"127.0.0.1"};
  spec.server = true;
  PemCertificate server = ca_.Issue(spec);
  PemCertificate client = IssueClient(kMaternityUri);
  Store store = StoreTrusting(ca_);

  EXPECT_EQ(Verify(store.get(), server.certificate_pem, X509_PURPOSE_SSL_SERVER),
            Reason(X509_V_OK));
  EXPECT_EQ(Verify(store.get(), server.certificate_pem, X509_PURPOSE_SSL_CLIENT),
            Reason(X509_V_ERR_INVALID_PURPOSE));
  EXPECT_EQ(Verify(store.get(), client.certificate_pem, X509_PURPOSE_SSL_SERVER),
            Reason(X509_V_ERR_INVALID_PURPOSE));
}

TEST_F(TestCertificateAuthorityTest, ACertificateCarriesExactlyTheSansItWasGiven) {
  CertificateSpec spec;
  spec.common_name = "two agencies";
  spec.uri_sans = {kMaternityUri, kSchoolUri};
  spec.dns_sans = {"localhost"};
  spec.ip_sans = {"127.0.0.1", "::1"};
  Certificate certificate = ParseCertificate(ca_.Issue(spec).certificate_pem);
  ASSERT_NE(certificate, nullptr);

  EXPECT_THAT(SubjectAltNames(certificate.get(), GEN_URI), ElementsAre(kMaternityUri, kSchoolUri));
  EXPECT_THAT(SubjectAltNames(certificate.get(), GEN_DNS), ElementsAre("localhost"));
  EXPECT_THAT(SubjectAltNames(certificate.get(), GEN_IPADD), ElementsAre("127.0.0.1", "::1"));
  EXPECT_FALSE(HasCriticalExtension(certificate.get(), NID_subject_alt_name));
}

TEST_F(TestCertificateAuthorityTest, ACertificateGivenNoSansHasNoSanExtension) {
  CertificateSpec spec;
  spec.common_name = "nameless";
  Certificate certificate = ParseCertificate(ca_.Issue(spec).certificate_pem);
  ASSERT_NE(certificate, nullptr);

  EXPECT_LT(X509_get_ext_by_NID(certificate.get(), NID_subject_alt_name, -1), 0);
  EXPECT_THAT(SubjectAltNames(certificate.get(), GEN_URI), IsEmpty());
}

TEST_F(TestCertificateAuthorityTest, ACertificateWithAnEmptySubjectHasCriticalSans) {
  CertificateSpec spec;
  spec.uri_sans = {kMaternityUri};
  PemCertificate issued = ca_.Issue(spec);
  Certificate certificate = ParseCertificate(issued.certificate_pem);
  ASSERT_NE(certificate, nullptr);

  EXPECT_EQ(X509_NAME_entry_count(X509_get_subject_name(certificate.get())), 0);
  EXPECT_TRUE(HasCriticalExtension(certificate.get(), NID_subject_alt_name));
  Store store = StoreTrusting(ca_);
  EXPECT_EQ(Verify(store.get(), issued.certificate_pem), Reason(X509_V_OK));
}

TEST_F(TestCertificateAuthorityTest, TheRootIsAVersion3CaForCertificatesAndCrls) {
  Certificate root = ParseCertificate(ca_.certificate_pem());
  ASSERT_NE(root, nullptr);

  EXPECT_EQ(X509_get_version(root.get()), X509_VERSION_3);
  EXPECT_EQ(X509_check_issued(root.get(), root.get()), X509_V_OK);
  EXPECT_EQ(X509_check_ca(root.get()), 1);
  EXPECT_TRUE(HasCriticalExtension(root.get(), NID_basic_constraints));
  EXPECT_TRUE(HasCriticalExtension(root.get(), NID_key_usage));
  EXPECT_EQ(X509_get_key_usage(root.get()), static_cast<uint32_t>(KU_KEY_CERT_SIGN | KU_CRL_SIGN));
  EXPECT_NE(X509_get0_subject_key_id(root.get()), nullptr);
  EXPECT_EQ(X509_get_signature_nid(root.get()), NID_ecdsa_with_SHA256);
  char group[32] = {};
  EXPECT_EQ(EVP_PKEY_get_group_name(X509_get0_pubkey(root.get()), group, sizeof group, nullptr), 1);
  EXPECT_STREQ(group, "prime256v1");
}

TEST_F(TestCertificateAuthorityTest, ALeafIsAVersion3EndEntityCertificateOfTheRoot) {
  PemCertificate client = IssueClient(kMaternityUri);
  Certificate leaf = ParseCertificate(client.certificate_pem);
  Certificate root = ParseCertificate(ca_.certificate_pem());
  ASSERT_NE(leaf, nullptr);
  ASSERT_NE(root, nullptr);

  EXPECT_EQ(X509_get_version(leaf.get()), X509_VERSION_3);
  EXPECT_EQ(X509_check_ca(leaf.get()), 0);
  EXPECT_TRUE(HasCriticalExtension(leaf.get(), NID_basic_constraints));
  EXPECT_TRUE(HasCriticalExtension(leaf.get(), NID_key_usage));
  EXPECT_EQ(X509_get_key_usage(leaf.get()), static_cast<uint32_t>(KU_DIGITAL_SIGNATURE));
  EXPECT_EQ(X509_get_extended_key_usage(leaf.get()), static_cast<uint32_t>(XKU_SSL_CLIENT));
  ASSERT_NE(X509_get0_subject_key_id(leaf.get()), nullptr);
  ASSERT_NE(X509_get0_authority_key_id(leaf.get()), nullptr);
  EXPECT_EQ(ASN1_OCTET_STRING_cmp(X509_get0_authority_key_id(leaf.get()),
                                  X509_get0_subject_key_id(root.get())),
            0);
  EXPECT_EQ(X509_get_signature_nid(leaf.get()), NID_ecdsa_with_SHA256);
}

TEST_F(TestCertificateAuthorityTest, TheKeyIssuedIsTheCertificatesKey) {
  PemCertificate client = IssueClient(kMaternityUri);
  Certificate leaf = ParseCertificate(client.certificate_pem);
  Owned<EVP_PKEY, EVP_PKEY_free> key(
      PEM_read_bio_PrivateKey(MemoryBio(client.private_key_pem).get(), nullptr, nullptr, nullptr));
  ASSERT_NE(leaf, nullptr);
  ASSERT_NE(key, nullptr);

  EXPECT_EQ(X509_check_private_key(leaf.get(), key.get()), 1);
}

TEST_F(TestCertificateAuthorityTest, EachCertificateHasItsOwnPositiveSixteenByteSerial) {
  Certificate first = ParseCertificate(IssueClient(kMaternityUri).certificate_pem);
  Certificate second = ParseCertificate(IssueClient(kMaternityUri).certificate_pem);
  ASSERT_NE(first, nullptr);
  ASSERT_NE(second, nullptr);

  EXPECT_NE(
      ASN1_INTEGER_cmp(X509_get0_serialNumber(first.get()), X509_get0_serialNumber(second.get())),
      0);
  for (X509* certificate : {first.get(), second.get()}) {
    Owned<BIGNUM, BN_free> serial(ASN1_INTEGER_to_BN(X509_get0_serialNumber(certificate), nullptr));
    ASSERT_NE(serial, nullptr);
    EXPECT_FALSE(BN_is_negative(serial.get()));
    EXPECT_EQ(BN_num_bytes(serial.get()), 16);
  }
}

TEST_F(TestCertificateAuthorityTest, AnExpiredCertificateFailsVerification) {
  CertificateSpec spec;
  spec.uri_sans = {kMaternityUri};
  spec.not_before_offset = -absl::Hours(48);
  spec.valid_for = absl::Hours(24);
  PemCertificate expired = ca_.Issue(spec);
  Store store = StoreTrusting(ca_);

  EXPECT_EQ(Verify(store.get(), expired.certificate_pem), Reason(X509_V_ERR_CERT_HAS_EXPIRED));
}

TEST_F(TestCertificateAuthorityTest, ACertificateValidFromTomorrowIsNotYetValid) {
  CertificateSpec spec;
  spec.uri_sans = {kMaternityUri};
  spec.not_before_offset = absl::Hours(24);
  PemCertificate future = ca_.Issue(spec);
  Store store = StoreTrusting(ca_);

  EXPECT_EQ(Verify(store.get(), future.certificate_pem), Reason(X509_V_ERR_CERT_NOT_YET_VALID));
}

TEST_F(TestCertificateAuthorityTest, ARevokedCertificateFailsWhenTheCrlIsChecked) {
  PemCertificate revoked = IssueClient(kMaternityUri);
  PemCertificate kept = IssueClient(kSchoolUri);
  ca_.Revoke(revoked);
  Crl crl = ParseCrl(ca_.CrlPem());
  ASSERT_NE(crl, nullptr);
  Store store = StoreTrusting(ca_);
  ASSERT_EQ(X509_STORE_add_crl(store.get(), crl.get()), 1);

  EXPECT_EQ(Verify(store.get(), revoked.certificate_pem), Reason(X509_V_OK))
      << "without X509_V_FLAG_CRL_CHECK the CRL is not consulted";
  CheckCrls(store.get());
  EXPECT_EQ(Verify(store.get(), revoked.certificate_pem), Reason(X509_V_ERR_CERT_REVOKED));
  EXPECT_EQ(Verify(store.get(), kept.certificate_pem), Reason(X509_V_OK));
}

TEST_F(TestCertificateAuthorityTest, ACrlSignedBeforeARevocationDoesNotListIt) {
  PemCertificate client = IssueClient(kMaternityUri);
  Crl before = ParseCrl(ca_.CrlPem());
  ca_.Revoke(client);
  ASSERT_NE(before, nullptr);
  Store store = StoreTrusting(ca_);
  ASSERT_EQ(X509_STORE_add_crl(store.get(), before.get()), 1);
  CheckCrls(store.get());

  EXPECT_EQ(Verify(store.get(), client.certificate_pem), Reason(X509_V_OK));
}

TEST_F(TestCertificateAuthorityTest, TheCrlIsAVersion2CrlOfTheRoot) {
  PemCertificate revoked = IssueClient(kMaternityUri);
  Crl before = ParseCrl(ca_.CrlPem());
  ca_.Revoke(revoked);
  ca_.Revoke(revoked);
  Crl crl = ParseCrl(ca_.CrlPem());
  Certificate root = ParseCertificate(ca_.certificate_pem());
  Certificate leaf = ParseCertificate(revoked.certificate_pem);
  ASSERT_NE(before, nullptr);
  ASSERT_NE(crl, nullptr);
  ASSERT_NE(root, nullptr);
  ASSERT_NE(leaf, nullptr);

  EXPECT_EQ(X509_CRL_get_version(crl.get()), X509_CRL_VERSION_2);
  EXPECT_EQ(X509_CRL_verify(crl.get(), X509_get0_pubkey(root.get())), 1);
  EXPECT_EQ(X509_NAME_cmp(X509_CRL_get_issuer(crl.get()), X509_get_subject_name(root.get())), 0);
  EXPECT_EQ(X509_CRL_get_signature_nid(crl.get()), NID_ecdsa_with_SHA256);

  Owned<ASN1_INTEGER, ASN1_INTEGER_free> number_before(static_cast<ASN1_INTEGER*>(
      X509_CRL_get_ext_d2i(before.get(), NID_crl_number, nullptr, nullptr)));
  Owned<ASN1_INTEGER, ASN1_INTEGER_free> number(static_cast<ASN1_INTEGER*>(
      X509_CRL_get_ext_d2i(crl.get(), NID_crl_number, nullptr, nullptr)));
  ASSERT_NE(number_before, nullptr);
  ASSERT_NE(number, nullptr);
  EXPECT_EQ(ASN1_INTEGER_get(number_before.get()), 1);
  EXPECT_EQ(ASN1_INTEGER_get(number.get()), 2) << "revoking the same certificate twice is once";

  Owned<AUTHORITY_KEYID, AUTHORITY_KEYID_free> authority_key_id(static_cast<AUTHORITY_KEYID*>(
      X509_CRL_get_ext_d2i(crl.get(), NID_authority_key_identifier, nullptr, nullptr)));
  ASSERT_NE(authority_key_id, nullptr);
  ASSERT_NE(authority_key_id->keyid, nullptr);
  EXPECT_EQ(ASN1_OCTET_STRING_cmp(authority_key_id->keyid, X509_get0_subject_key_id(root.get())),
            0);

  int days = 0;
  int seconds = 0;
  ASSERT_EQ(ASN1_TIME_diff(&days, &seconds, nullptr, X509_CRL_get0_lastUpdate(crl.get())), 1);
  EXPECT_EQ(days, 0);
  // Times in a CRL are whole seconds, so "now" may have moved on a second, either way, from when
  // it was made.
  EXPECT_GE(seconds, -3600 - 60);
  EXPECT_LE(seconds, -3600 + 2);
  ASSERT_EQ(ASN1_TIME_diff(&days, &seconds, nullptr, X509_CRL_get0_nextUpdate(crl.get())), 1);
  EXPECT_GE(days * 86400 + seconds, 86400 - 60);
  EXPECT_LE(days * 86400 + seconds, 86400 + 2);

  STACK_OF(X509_REVOKED)* entries = X509_CRL_get_REVOKED(crl.get());
  ASSERT_EQ(sk_X509_REVOKED_num(entries), 1);
  EXPECT_EQ(ASN1_INTEGER_cmp(X509_REVOKED_get0_serialNumber(sk_X509_REVOKED_value(entries, 0)),
                             X509_get0_serialNumber(leaf.get())),
            0);
}

TEST_F(TestCertificateAuthorityTest, TheCrlHashFileNameIsTheSubjectHashWithSuffixR0) {
  Certificate root = ParseCertificate(ca_.certificate_pem());
  ASSERT_NE(root, nullptr);

  EXPECT_THAT(ca_.CrlHashFileName(), MatchesRegex("[0-9a-f]{8}\\.r0"));
  char expected[16] = {};
  std::snprintf(expected, sizeof expected, "%08lx.r0",
                X509_NAME_hash_ex(X509_get_subject_name(root.get()), nullptr, nullptr, nullptr));
  EXPECT_EQ(ca_.CrlHashFileName(), expected);
}

TEST_F(TestCertificateAuthorityTest, AHashedDirectoryFindsTheCrlUnderCrlHashFileName) {
  PemCertificate revoked = IssueClient(kMaternityUri);
  PemCertificate kept = IssueClient(kSchoolUri);
  ca_.Revoke(revoked);
  TempDir dir;
  WritePem(dir.Sub("crl/" + ca_.CrlHashFileName()), ca_.CrlPem(), /*secret=*/false);
  Store store = StoreTrusting(ca_);
  X509_LOOKUP* lookup = X509_STORE_add_lookup(store.get(), X509_LOOKUP_hash_dir());
  ASSERT_NE(lookup, nullptr);
  ASSERT_EQ(X509_LOOKUP_add_dir(lookup, dir.Sub("crl").c_str(), X509_FILETYPE_PEM), 1);
  CheckCrls(store.get());

  EXPECT_EQ(Verify(store.get(), revoked.certificate_pem), Reason(X509_V_ERR_CERT_REVOKED));
  EXPECT_EQ(Verify(store.get(), kept.certificate_pem), Reason(X509_V_OK));
}

TEST_F(TestCertificateAuthorityTest, AHashedDirectoryFindsNoCrlUnderAnotherName) {
  PemCertificate client = IssueClient(kMaternityUri);
  TempDir dir;
  WritePem(dir.Sub("crl/ca.crl.pem"), ca_.CrlPem(), /*secret=*/false);
  Store store = StoreTrusting(ca_);
  X509_LOOKUP* lookup = X509_STORE_add_lookup(store.get(), X509_LOOKUP_hash_dir());
  ASSERT_NE(lookup, nullptr);
  ASSERT_EQ(X509_LOOKUP_add_dir(lookup, dir.Sub("crl").c_str(), X509_FILETYPE_PEM), 1);
  CheckCrls(store.get());

  EXPECT_EQ(Verify(store.get(), client.certificate_pem), Reason(X509_V_ERR_UNABLE_TO_GET_CRL));
}

TEST_F(TestCertificateAuthorityTest, RevokingACertificateOfAnotherAuthorityAborts) {
  TestCertificateAuthority other = TestCertificateAuthority::Create("Other Test CA");
  CertificateSpec spec;
  spec.uri_sans = {kMaternityUri};
  PemCertificate foreign = other.Issue(spec);

  EXPECT_DEATH(ca_.Revoke(foreign), "did not issue");
}

TEST_F(TestCertificateAuthorityTest, AnIpSanThatIsNotAnAddressAborts) {
  CertificateSpec spec;
  spec.ip_sans = {"localhost"};

  EXPECT_DEATH(ca_.Issue(spec), "not an IP address");
}

TEST_F(TestCertificateAuthorityTest, AMovedAuthorityGoesOnIssuingAndRevoking) {
  const std::string root_pem = ca_.certificate_pem();
  TestCertificateAuthority moved = std::move(ca_);
  PemCertificate client = moved.Issue(CertificateSpec{.uri_sans = {kMaternityUri}});
  moved.Revoke(client);
  ca_ = std::move(moved);
  Crl crl = ParseCrl(ca_.CrlPem());
  ASSERT_NE(crl, nullptr);
  Store store = StoreTrusting(ca_);
  ASSERT_EQ(X509_STORE_add_crl(store.get(), crl.get()), 1);
  CheckCrls(store.get());

  EXPECT_EQ(ca_.certificate_pem(), root_pem);
  EXPECT_EQ(Verify(store.get(), client.certificate_pem), Reason(X509_V_ERR_CERT_REVOKED));
}

TEST(WritePemTest, WritesAKeyReadableByItsOwnerAlone) {
  TempDir dir;
  const std::string path = dir.Sub("keys/agency.key");
  WritePem(path, "first", /*secret=*/false);
  WritePem(path, "key", /*secret=*/true);

  struct stat status {};
  ASSERT_EQ(stat(path.c_str(), &status), 0);
  EXPECT_EQ(status.st_mode & 0777, 0600u);
  EXPECT_EQ(ReadFile(path), "key");
}

TEST(WritePemTest, WritesACertificateReadableByAll) {
  TempDir dir;
  const std::string path = dir.Sub("ca.pem");
  WritePem(path, "certificate", /*secret=*/false);

  struct stat status {};
  ASSERT_EQ(stat(path.c_str(), &status), 0);
  EXPECT_EQ(status.st_mode & 0777, 0644u);
  EXPECT_EQ(ReadFile(path), "certificate");
}

}  // namespace
}  // namespace cir::testing
