#ifndef CIR_TESTS_TESTING_FICTIONAL_CHILDREN_H_
#define CIR_TESTS_TESTING_FICTIONAL_CHILDREN_H_

#include <cstdint>
#include <string>

#include "cir/v1/registry.pb.h"

namespace cir::testing {

// A valid NHS number of the test range 999 000 0000 - 999 999 9999 (never issued to a person).
// Distinct n below 900,000 give distinct numbers; n = 899,999 is kept for the fictional mother.
std::string FictionalNhsNumber(uint32_t n);

// The n-th valid permanent UPN for LA `la` (3 digits) and establishment 2000, allocated in 2026.
std::string FictionalUpn(uint32_t n, int la = 938);

// The n-th valid temporary UPN (ending in a letter) for LA `la` and establishment 2000; distinct n
// below 7,400 give distinct UPNs, none equal to a FictionalUpn.
std::string FictionalTemporaryUpn(uint32_t n, int la = 938);

// The notifying system of every fictional birth: an ODS organisation code of the right shape.
inline constexpr char kFictionalNotifyingSystem[] = "RXH01";

// The NHS number of the mother of every fictional birth: FictionalNhsNumber(899999).
std::string FictionalMotherNhsNumber();

// A complete, valid birth notification for a fictional child born in 2026 and notified by
// kFictionalNotifyingSystem: a girl, Ada Lovelace-Test, a singleton (birth order 1), whose mother
// Mary Lovelace-Test has FictionalMotherNhsNumber(). Every call names the same mother and date of
// birth, so two calls with other NHS numbers and birth orders describe twins.
v1::RegisterBirthRequest FictionalBirth(const std::string& notification_id,
                                        const std::string& nhs_number);

}  // namespace cir::testing

#endif  // CIR_TESTS_TESTING_FICTIONAL_CHILDREN_H_
