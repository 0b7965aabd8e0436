// Resolves one identifier (an NHS number, a UPN or a child identifier) to the child's registry
// record and prints the child's identifier: an agency's first program against the registry.
//
//   quickstart registry.example:443 9434765919 registry-ca.pem agency.pem agency.key
//   quickstart 127.0.0.1:50051 9990000018        (plaintext: a registry started for tests only)
//
// A role that acts for a person (a health visitor's lookup, a school's) names the person and why
// with every call: here from CIR_END_USER and CIR_PURPOSE_OF_USE (e.g. DIRECT_CARE).
#include <cstdlib>
#include <iostream>

#include "cir/client.h"

int main(int argc, char** argv) {
  if (argc != 3 && argc != 6) {
    std::cerr << "usage: quickstart HOST:PORT IDENTIFIER [CA_FILE CERTIFICATE_FILE KEY_FILE]\n";
    return 2;
  }
  cir::ClientOptions options;
  options.target = argv[1];
  if (const char* end_user = std::getenv("CIR_END_USER")) options.end_user = end_user;
  if (const char* purpose = std::getenv("CIR_PURPOSE_OF_USE")) options.purpose_of_use = purpose;
  if (argc == 6) {
    auto tls = cir::MutualTlsFromFiles({argv[3], argv[4], argv[5]});
    if (!tls.ok()) {
      std::cerr << tls.status() << "\n";
      return 1;
    }
    options.credentials = *tls;
  }
  cir::Client registry(options);
  absl::StatusOr<cir::v1::ResolveResponse> child = registry.Resolve(argv[2]);
  if (!child.ok()) {
    // The reason is for programs (e.g. IDENTIFIER_NOT_FOUND); the message is for people.
    std::cerr << cir::ErrorReasonNameOf(child.status()) << ": " << child.status().message() << "\n";
    return 1;
  }
  std::cout << child->record().child_id_display() << "\n";
  return 0;
}
