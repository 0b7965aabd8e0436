#ifndef CIR_CLIENT_CLI_RECORD_PRINTER_H_
#define CIR_CLIENT_CLI_RECORD_PRINTER_H_

#include <string>
#include <vector>

#include "cir/v1/registry.pb.h"
#include "google/protobuf/message.h"

namespace cir::cli {

// A child's record for a person to read: one labelled line per field, identifiers in their display
// forms ("KDMX-4PAR-TWE", "943 476 5919"), absent values shown as "-".
std::string FormatRecord(const v1::ChildRecord& record);

// A child's record as CSV fields, in the order of RecordCsvHeader: child_id, nhs_number, upn,
// former_nhs_numbers, former_upns (each list separated by spaces), given_name, family_name,
// date_of_birth, sex, postcode, local_authority, status, version.
std::vector<std::string> RecordCsvHeader();
std::vector<std::string> RecordCsvFields(const v1::ChildRecord& record);

// Any response as one line of JSON, field names as in the proto (for scripts and other tools).
std::string ToJson(const google::protobuf::Message& message);

}  // namespace cir::cli

#endif  // CIR_CLIENT_CLI_RECORD_PRINTER_H_
