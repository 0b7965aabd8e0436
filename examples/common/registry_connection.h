#ifndef CIR_EXAMPLES_COMMON_REGISTRY_CONNECTION_H_
#define CIR_EXAMPLES_COMMON_REGISTRY_CONNECTION_H_

// How every example reaches the registry, from its command line:
//
//   --registry HOST:PORT               the registry's address (required)
//   --ca FILE --cert FILE --key FILE   mutual TLS: the CA bundle that issued the registry's
//                                      certificate, the agency's certificate and its private key
//   --plaintext-for-tests              no TLS, instead of the three files: only a registry started
//                                      for tests on this machine answers it
//   --end-user ID --purpose-of-use P   the person calls are made for, and why; by default from the
//                                      environment, CIR_END_USER and CIR_PURPOSE_OF_USE
//
// A batch job sends neither end user nor purpose (it acts as the agency's system); they are read
// here so that one set of flags serves every example.

#include <cstdlib>
#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "arguments.h"
#include "cir/client.h"

namespace cir_examples {

inline constexpr char kConnectionUsage[] =
    "  --registry HOST:PORT              the registry's address\n"
    "  --ca FILE --cert FILE --key FILE  mutual TLS: the registry's CA, the agency's certificate\n"
    "                                    and key\n"
    "  --plaintext-for-tests             no TLS (a registry started for tests only)\n"
    "  --end-user ID --purpose-of-use P  the person and purpose (default: CIR_END_USER,\n"
    "                                    CIR_PURPOSE_OF_USE)\n";

inline std::vector<FlagSpec> ConnectionFlags() {
  return {{"registry", true},
          {"ca", true},
          {"cert", true},
          {"key", true},
          {"plaintext-for-tests", false},
          {"end-user", true},
          {"purpose-of-use", true}};
}

// `flags` with the connection flags added.
inline std::vector<FlagSpec> WithConnectionFlags(std::vector<FlagSpec> flags) {
  for (FlagSpec& flag : ConnectionFlags()) flags.push_back(std::move(flag));
  return flags;
}

// The client's options from the connection flags; INVALID_ARGUMENT for flags that do not fit
// together, NOT_FOUND for a TLS file that cannot be read.
inline absl::StatusOr<cir::ClientOptions> ClientOptionsFrom(const Arguments& arguments) {
  cir::ClientOptions options;
  options.target = arguments.Value("registry");
  if (options.target.empty()) return absl::InvalidArgumentError("--registry HOST:PORT is required");
  const bool tls = arguments.Has("ca") || arguments.Has("cert") || arguments.Has("key");
  if (arguments.Has("plaintext-for-tests")) {
    if (tls) {
      return absl::InvalidArgumentError(
          "--plaintext-for-tests and --ca/--cert/--key exclude each "
          "other");
    }
  } else {
    if (!arguments.Has("ca") || !arguments.Has("cert") || !arguments.Has("key")) {
      return absl::InvalidArgumentError(
          "mutual TLS needs --ca, --cert and --key (or --plaintext-for-tests for a test registry)");
    }
    cir::MutualTlsFiles files;
    files.ca_file = arguments.Value("ca");
    files.certificate_file = arguments.Value("cert");
    files.key_file = arguments.Value("key");
    absl::StatusOr<std::shared_ptr<grpc::ChannelCredentials>> credentials =
        cir::MutualTlsFromFiles(files);
    if (!credentials.ok()) return credentials.status();
    options.credentials = *std::move(credentials);
  }
  const char* end_user = std::getenv("CIR_END_USER");
  const char* purpose = std::getenv("CIR_PURPOSE_OF_USE");
  options.end_user = arguments.Value("end-user", end_user != nullptr ? end_user : "");
  options.purpose_of_use = arguments.Value("purpose-of-use", purpose != nullptr ? purpose : "");
  return options;
}

}  // namespace cir_examples

#endif  // CIR_EXAMPLES_COMMON_REGISTRY_CONNECTION_H_
