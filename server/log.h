#ifndef CIR_SERVER_LOG_H_
#define CIR_SERVER_LOG_H_

#include "absl/status/status.h"
#include "absl/strings/string_view.h"

namespace cir::server {

// How log lines are written to standard error: text (a UTC timestamp, then the message), or one
// JSON object a line ({"time": ..., "message": ...}, and for a failed call "event":
// "call_failed", "method", "code" and "reason" as fields of their own), for log collectors.
enum class LogFormat { kText, kJson };
// Set once at start, before any thread logs. Default: text.
void SetLogFormat(LogFormat format);

// Writes one line. Safe from any thread. The server logs its start, its stop and each failed
// call; never a successful one, and never a child's details.
void LogLine(absl::string_view message);

// A call that failed, by its method, status code and machine-readable reason only (never its
// message, which may quote the request).
void LogCallFailed(absl::string_view method, const absl::Status& status);

}  // namespace cir::server

#endif  // CIR_SERVER_LOG_H_
