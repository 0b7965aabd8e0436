#ifndef CIR_CLIENT_CLI_RECORD_PRINTER_H_
#define CIR_CLIENT_CLI_RECORD_PRINTER_H_

#include <string>

#include "cir/v1/registry.pb.h"
#include "google/protobuf/message.h"

namespace cir::cli {

// A child's record for a person to read: one labelled line per field, identifiers in their display
// forms ("KDMX-4PAR-TWE", "943 476 5919"), absent values shown as "-".
std::string FormatRecord(const v1::ChildRecord& record);

// Any response as one line of JSON, field names as in the proto (for scripts and other tools).
std::string ToJson(const google::protobuf::Message& message);

}  // namespace cir::cli

#endif  // CIR_CLIENT_CLI_RECORD_PRINTER_H_
