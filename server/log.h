#ifndef CIR_SERVER_LOG_H_
#define CIR_SERVER_LOG_H_

#include "absl/strings/string_view.h"

namespace cir::server {

// Writes one line to standard error: a UTC timestamp, then `message`. Safe from any thread.
// The server logs its start, its stop and each failed call; never a successful one, and never a
// child's details.
void LogLine(absl::string_view message);

}  // namespace cir::server

#endif  // CIR_SERVER_LOG_H_
