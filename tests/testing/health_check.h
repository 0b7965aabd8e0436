#ifndef CIR_TESTS_TESTING_HEALTH_CHECK_H_
#define CIR_TESTS_TESTING_HEALTH_CHECK_H_

#include <string>

#include "grpc/health/v1/health.pb.h"

namespace cir::testing {

// The serving status the server at `address` reports for `service` ("" for the whole server), by
// the standard health check; a failed check fails the calling test and reports UNKNOWN.
grpc::health::v1::HealthCheckResponse::ServingStatus HealthOf(const std::string& address,
                                                              const std::string& service);

}  // namespace cir::testing

#endif  // CIR_TESTS_TESTING_HEALTH_CHECK_H_
