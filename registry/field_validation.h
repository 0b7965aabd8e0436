#ifndef CIR_REGISTRY_FIELD_VALIDATION_H_
#define CIR_REGISTRY_FIELD_VALIDATION_H_

// Checks of fields that several requests share: dates, birth order, addresses, and the request id
// and author of a life event. Each refusal is INVALID_ARGUMENT naming the field (metadata
// {"field": name}) with reason FIELD_REQUIRED or FIELD_INVALID, and never repeats the value.

#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"
#include "absl/time/civil_time.h"
#include "cir/v1/registry.pb.h"
#include "google/protobuf/repeated_ptr_field.h"

namespace cir::registry {

// The earliest year any date the registry records may fall in.
inline constexpr int kEarliestYear = 1900;

// A calendar date sent in `field`: a real day of the proleptic Gregorian calendar, not after
// `today` (in England), not before kEarliestYear.
absl::StatusOr<absl::CivilDay> ValidateCalendarDate(const v1::Date& date, absl::string_view field,
                                                    absl::CivilDay today);

// A birth order: 0 (unset) means 1, otherwise 1 to kMaxBirthOrder.
absl::StatusOr<int> ValidateBirthOrderField(int32_t order);

// An address of usual residence, checked and in the form stored.
struct ValidAddress {
  std::vector<std::string> lines;  // 0-4 lines: NFC, trimmed, runs of spaces made one
  std::string postcode;            // canonical
  std::string local_authority;     // three digits
};

// Most lines an address takes, and most characters a line has.
inline constexpr int kMaxAddressLines = 4;

// Lines (field "address_lines"; at least one if `lines_required`; empty lines refused), postcode
// (field "postcode") and local authority (field "local_authority"), both required.
absl::StatusOr<ValidAddress> ValidateAddress(
    const google::protobuf::RepeatedPtrField<std::string>& lines, absl::string_view postcode,
    absl::string_view local_authority, bool lines_required);

// The form in which two addresses are compared: each line case-folded with its spaces and
// punctuation (",", ".") made irrelevant, then the postcode and the local authority. Two
// addresses with the same key are the same address.
std::string AddressComparisonKey(const std::vector<std::string>& lines, absl::string_view postcode,
                                 absl::string_view local_authority);

// A caller's own id for a request (a notification id, a request id), sent in `field`: 1-128
// printable ASCII characters without spaces. FIELD_REQUIRED with `when_missing` if empty.
absl::Status ValidateCallerId(absl::string_view id, absl::string_view field,
                              absl::string_view when_missing);

// A life event's request_id, as ValidateCallerId.
absl::Status ValidateRequestId(absl::string_view request_id);

// A life event's recorded_by: who makes the change, 1-100 characters under the rules for names;
// returned NFC-normalised.
absl::StatusOr<std::string> ValidateRecordedBy(absl::string_view recorded_by);

}  // namespace cir::registry

#endif  // CIR_REGISTRY_FIELD_VALIDATION_H_
