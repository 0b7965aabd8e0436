#ifndef CIR_TESTS_TESTING_FICTIONAL_CHILDREN_H_
#define CIR_TESTS_TESTING_FICTIONAL_CHILDREN_H_

#include <cstdint>
#include <string>

#include "cir/v1/registry.pb.h"

namespace cir::testing {

// A valid NHS number of the test range 999 000 0000 - 999 999 9999 (never issued to a person).
// Distinct n below 900,000 give distinct numbers.
std::string FictionalNhsNumber(uint32_t n);

// The n-th valid permanent UPN for LA `la` (3 digits) and establishment 2000, allocated in 2026.
std::string FictionalUpn(uint32_t n, int la = 938);

// A complete, valid birth notification for a fictional child born in 2026.
v1::RegisterBirthRequest FictionalBirth(const std::string& notification_id,
                                        const std::string& nhs_number);

}  // namespace cir::testing

#endif  // CIR_TESTS_TESTING_FICTIONAL_CHILDREN_H_
