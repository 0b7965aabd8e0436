#ifndef CIR_ERRORS_REFUSAL_H_
#define CIR_ERRORS_REFUSAL_H_

// A refusal is an absl::Status that also says, for programs, why: a cir.v1.ErrorReason and a few
// facts (metadata), carried inside the status as a google.rpc.ErrorInfo payload. Every layer makes
// its refusals here; the server turns the payload into the gRPC rich error model at the edge
// (server/grpc_status.h) and the client library turns it back (cir::ErrorReasonOf).
//
// Metadata never carries a child's details: only field names and facts about the registry.

#include <initializer_list>
#include <optional>
#include <utility>

#include "absl/status/status.h"
#include "absl/strings/string_view.h"
#include "cir/v1/registry.pb.h"
#include "google/rpc/error_details.pb.h"

namespace cir::errors {

// The ErrorInfo domain of every reason the registry sends.
inline constexpr absl::string_view kErrorDomain = "cir.registry.england";
// The payload URL under which a status carries its ErrorInfo (the type URL an Any would have).
inline constexpr absl::string_view kErrorInfoTypeUrl = "type.googleapis.com/google.rpc.ErrorInfo";

using Metadata = std::initializer_list<std::pair<absl::string_view, absl::string_view>>;

// A status with `code`, `message` (for people) and `reason` (for programs).
absl::Status Refusal(absl::StatusCode code, v1::ErrorReason reason, absl::string_view message,
                     Metadata metadata = {});

// INVALID_ARGUMENT "<field>: <message>", with `reason` and metadata {"field": field}.
absl::Status InvalidField(absl::string_view field, absl::string_view message,
                          v1::ErrorReason reason = v1::FIELD_INVALID);

// `status` (code and message unchanged) carrying `reason`, replacing any reason it had.
absl::Status WithReason(absl::Status status, v1::ErrorReason reason, Metadata metadata = {});

// A status equal to `status` (code, message, payloads) that shares nothing with it: for a status
// kept by one thread and handed to others, such as a store's standing refusal. Copies of an
// absl::Status share one reference-counted record, counted inside Debian's Abseil library, which
// ThreadSanitizer does not instrument: it would see the last holder free the record without
// seeing the other holders let go of it first. A copy of its own keeps that order in sight.
absl::Status Unshared(const absl::Status& status);

// The ErrorInfo a status carries, if any.
std::optional<google::rpc::ErrorInfo> ErrorInfoOf(const absl::Status& status);

// The reason a status carries; ERROR_REASON_UNSPECIFIED if it carries none.
v1::ErrorReason ReasonOf(const absl::Status& status);

}  // namespace cir::errors

#endif  // CIR_ERRORS_REFUSAL_H_
