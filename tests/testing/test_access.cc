#include "tests/testing/test_access.h"

#include <fcntl.h>
#include <openssl/evp.h>
#include <openssl/pem.h>
#include <openssl/rand.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cstdio>
#include <fstream>

#include "absl/strings/str_cat.h"

namespace cir::testing {

std::string TestAccessConfig(const std::string& more_agencies) {
  std::string config =
      absl::StrCat("trust_domain: \"", kTestTrustDomain, "\"\n", "agency {\n", "  id: \"",
                   kTestAgency, "\"\n", "  name: \"The registry's own tests\"\n");
  for (const char* role :
       {"ROLE_MATERNITY", "ROLE_HEALTH_VISITING", "ROLE_SCHOOL", "ROLE_CHILDRENS_CENTRE",
        "ROLE_LA_DATA_TEAM", "ROLE_REGISTRAR", "ROLE_AUDITOR", "ROLE_OPERATOR"}) {
    absl::StrAppend(&config, "  role: ", role, "\n");
  }
  for (int code = 201; code <= 999; ++code) {
    absl::StrAppend(&config, "  local_authority: \"", code, "\"\n");
  }
  for (const char* system : {"RXH01", "RXH02", "RYJ02", "CIRBENCH"}) {
    absl::StrAppend(&config, "  notifying_system: \"", system, "\"\n");
  }
  for (int racer = 0; racer < 32; ++racer) {  // racing systems of the concurrency tests
    absl::StrAppend(&config, "  notifying_system: \"RACER", racer, "\"\n");
  }
  absl::StrAppend(&config, "}\n", more_agencies);
  return config;
}

bool WriteMasterKeyFile(const std::string& path) {
  struct stat existing {};
  if (::stat(path.c_str(), &existing) == 0) return true;  // a restart keeps its key
  unsigned char key[32];
  if (RAND_bytes(key, sizeof key) != 1) return false;
  std::string hex;
  for (unsigned char byte : key) absl::StrAppend(&hex, absl::Hex(byte, absl::kZeroPad2));
  const int fd = ::open(path.c_str(), O_WRONLY | O_CREAT | O_EXCL, 0600);
  if (fd < 0) return false;
  const bool written = ::write(fd, hex.data(), hex.size()) == static_cast<ssize_t>(hex.size());
  ::close(fd);
  return written;
}

bool WriteSigningPublicKeyFile(const std::string& private_key_file,
                               const std::string& public_key_file) {
  FILE* in = fopen(private_key_file.c_str(), "r");
  if (in == nullptr) return false;
  EVP_PKEY* key = PEM_read_PrivateKey(in, nullptr, nullptr, nullptr);
  fclose(in);
  if (key == nullptr) return false;
  FILE* out = fopen(public_key_file.c_str(), "w");
  const bool written = out != nullptr && PEM_write_PUBKEY(out, key) == 1;
  if (out != nullptr) fclose(out);
  EVP_PKEY_free(key);
  return written;
}

bool WriteSigningKeyFile(const std::string& path) {
  struct stat existing {};
  if (::stat(path.c_str(), &existing) == 0) return true;  // a restart keeps its key
  EVP_PKEY* key = EVP_PKEY_Q_keygen(nullptr, nullptr, "ED25519");
  if (key == nullptr) return false;
  BIO* out = BIO_new(BIO_s_mem());
  const bool pem = PEM_write_bio_PrivateKey(out, key, nullptr, nullptr, 0, nullptr, nullptr) == 1;
  char* data = nullptr;
  const long size = BIO_get_mem_data(out, &data);
  bool written = false;
  if (pem) {
    const int fd = ::open(path.c_str(), O_WRONLY | O_CREAT | O_EXCL, 0600);
    if (fd >= 0) {
      written = ::write(fd, data, static_cast<size_t>(size)) == size;
      ::close(fd);
    }
  }
  BIO_free(out);
  EVP_PKEY_free(key);
  return written;
}

bool WriteTextFile(const std::string& path, const std::string& text) {
  std::ofstream file(path, std::ios::trunc);
  file << text;
  return static_cast<bool>(file.flush());
}

}  // namespace cir::testing
