#ifndef CIR_TESTS_FUZZ_FUZZ_CHECK_H_
#define CIR_TESTS_FUZZ_FUZZ_CHECK_H_

// A property a fuzz target checks: when it does not hold, the target prints where, what and the
// details it is given, and aborts, which libFuzzer reports as a crash and saves the input of.
// Beside it, what the targets that call the registry ask of every refusal (BadInputMayEarn).

#include <cstdio>
#include <cstdlib>
#include <string>

#include "absl/status/status.h"
#include "absl/strings/escaping.h"
#include "absl/strings/string_view.h"

namespace cir::fuzz {

[[noreturn]] inline void PropertyBroken(const char* file, int line, const char* property,
                                        absl::string_view details) {
  std::fprintf(stderr, "%s:%d: property broken: %s\n  %s\n", file, line, property,
               std::string(details).c_str());
  std::fflush(stderr);
  std::abort();
}

// `text` with every byte outside printable ASCII escaped, for messages.
inline std::string Printable(absl::string_view text) { return absl::CHexEscape(text); }

// Whether a request, however bad, may be refused with `code`: never with a code that says the
// registry failed (INTERNAL, UNKNOWN, DATA_LOSS, UNAVAILABLE, UNIMPLEMENTED) or that the call was
// cut short (CANCELLED, DEADLINE_EXCEEDED); nor OK, which is no refusal.
inline bool BadInputMayEarn(absl::StatusCode code) {
  switch (code) {
    case absl::StatusCode::kOk:
    case absl::StatusCode::kUnknown:
    case absl::StatusCode::kInternal:
    case absl::StatusCode::kDataLoss:
    case absl::StatusCode::kUnavailable:
    case absl::StatusCode::kUnimplemented:
    case absl::StatusCode::kCancelled:
    case absl::StatusCode::kDeadlineExceeded:
      return false;
    default:
      return true;
  }
}

}  // namespace cir::fuzz

// Aborts unless `condition` holds; `details` (a std::string or string_view expression, evaluated
// only on failure) says what was being checked.
#define CIR_FUZZ_CHECK(condition, details)                                                    \
  do {                                                                                        \
    if (!(condition)) ::cir::fuzz::PropertyBroken(__FILE__, __LINE__, #condition, (details)); \
  } while (false)

#endif  // CIR_TESTS_FUZZ_FUZZ_CHECK_H_
