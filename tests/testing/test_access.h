#ifndef CIR_TESTS_TESTING_TEST_ACCESS_H_
#define CIR_TESTS_TESTING_TEST_ACCESS_H_

#include <string>

namespace cir::testing {

// The trust domain of the tests' agencies: spiffe://registry.test/agency/<id>.
inline constexpr char kTestTrustDomain[] = "registry.test";
// The agency that a plaintext test server acts as: every role, every local authority code
// (201-999) and the notifying systems the tests name (RXH01, RXH02, RYJ02, CIRBENCH,
// RACER0-RACER31).
inline constexpr char kTestAgency[] = "registry-tests";
// The person and purpose that test clients send (the roles that act for a person need them).
inline constexpr char kTestEndUser[] = "test-user-1";
inline constexpr char kTestPurpose[] = "DIRECT_CARE";

// An access configuration (access/access_config.proto, text) holding kTestAgency and then
// `more_agencies` (agency { ... } blocks), for the tests' servers.
std::string TestAccessConfig(const std::string& more_agencies = "");

// Writes a master key file at `path` (64 random hex digits, mode 0600) unless one is there;
// false if it could not.
bool WriteMasterKeyFile(const std::string& path);

// Writes an Ed25519 private key (PEM, mode 0600) at `path` unless one is there, for the audit
// log's checkpoints; false if it could not.
bool WriteSigningKeyFile(const std::string& path);

// Writes the public half (PEM) of the Ed25519 key in the PEM file `private_key_file` to
// `public_key_file`, as `openssl pkey -pubout` would: what `cir audit verify --public-key` reads.
// False if it could not.
bool WriteSigningPublicKeyFile(const std::string& private_key_file,
                               const std::string& public_key_file);

// Writes `text` to `path`; false if it could not.
bool WriteTextFile(const std::string& path, const std::string& text);

}  // namespace cir::testing

#endif  // CIR_TESTS_TESTING_TEST_ACCESS_H_
