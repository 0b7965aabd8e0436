#ifndef CIR_TESTS_TESTING_IN_PROCESS_ACCESS_H_
#define CIR_TESTS_TESTING_IN_PROCESS_ACCESS_H_

// For tests that run a RegistryServer in their own process (they link cir_server).

#include <memory>
#include <string>

#include "access/access_policy.h"
#include "access/policy_source.h"
#include "server/registry_server.h"
#include "tests/testing/test_access.h"

namespace cir::testing {

// A fixed access policy from `config` (access/access_config.proto, text); aborts the test
// binary if it does not parse, since every test after would fail for that reason.
inline std::shared_ptr<access::PolicySource> FixedPolicy(const std::string& config) {
  absl::StatusOr<std::shared_ptr<const access::AccessPolicy>> policy =
      access::AccessPolicy::Parse(config, "test access configuration");
  if (!policy.ok()) std::abort();
  return std::make_shared<access::PolicySource>(*std::move(policy));
}

// Serves plaintext on loopback as kTestAgency, which has every role and area.
inline void UsePlaintextTestAccess(server::RegistryServerOptions& options) {
  options.access = FixedPolicy(TestAccessConfig());
  options.plaintext_agency_for_tests = kTestAgency;
}

}  // namespace cir::testing

#endif  // CIR_TESTS_TESTING_IN_PROCESS_ACCESS_H_
