#ifndef CIR_TESTS_TESTING_PROCESS_MEMORY_H_
#define CIR_TESTS_TESTING_PROCESS_MEMORY_H_

#include <sys/types.h>

#include <cstdint>

#include "absl/strings/string_view.h"

namespace cir::testing {

// A memory figure of a running process, in KiB, from /proc/PID/status: "VmRSS" (resident now),
// "VmHWM" (peak resident). -1 if it cannot be read.
int64_t ProcessMemoryKib(pid_t pid, absl::string_view field);

}  // namespace cir::testing

#endif  // CIR_TESTS_TESTING_PROCESS_MEMORY_H_
