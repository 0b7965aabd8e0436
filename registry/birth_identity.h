#ifndef CIR_REGISTRY_BIRTH_IDENTITY_H_
#define CIR_REGISTRY_BIRTH_IDENTITY_H_

#include <string>

#include "absl/strings/string_view.h"
#include "registry/birth_validation.h"
#include "storage/stored_records.pb.h"

namespace cir::registry {

// True if `birth` can be another notification of the birth of `child` (found by the NHS number the
// notification carries): the same date of birth, sex and birth order, the same mother where both
// name her (her NHS number where both give one; each of her names where both give it), and the
// same given name where both have one. Twins share a date of birth, a mother and often a sex: the
// birth order tells them apart, and a twin's notification carrying the other twin's NHS number by
// mistake is thus not taken for the other twin. Family names and addresses are not compared: they
// are often corrected or changed between notifications.
bool IsSameBirth(const storage::StoredChild& child, const ValidBirth& birth);

// The form in which two notified names are compared: surrounding spaces dropped, each run of
// spaces made one, letters case-folded (Unicode full case folding; the names have been validated
// and NFC-normalised by NormalizeName).
std::string NameComparisonKey(absl::string_view name);

}  // namespace cir::registry

#endif  // CIR_REGISTRY_BIRTH_IDENTITY_H_
