#ifndef CIR_REGISTRY_STATUS_MACROS_H_
#define CIR_REGISTRY_STATUS_MACROS_H_

// The installed Abseil has no status macros; these two are the registry's own.

#include "absl/status/status.h"
#include "absl/status/statusor.h"

// Returns from the enclosing function if `expr` (an absl::Status) is not OK.
#define CIR_RETURN_IF_ERROR(expr)                    \
  do {                                               \
    ::absl::Status cir_status_ = (expr);             \
    if (!cir_status_.ok()) return cir_status_;       \
  } while (false)

#define CIR_CONCAT_INNER_(a, b) a##b
#define CIR_CONCAT_(a, b) CIR_CONCAT_INNER_(a, b)

// Evaluates `rexpr` (an absl::StatusOr<T>); returns its status if not OK, else moves the value
// into `lhs`, which may be a declaration: CIR_ASSIGN_OR_RETURN(auto child, store.GetChild(id));
#define CIR_ASSIGN_OR_RETURN(lhs, rexpr) \
  CIR_ASSIGN_OR_RETURN_IMPL_(CIR_CONCAT_(cir_statusor_, __LINE__), lhs, rexpr)
#define CIR_ASSIGN_OR_RETURN_IMPL_(statusor, lhs, rexpr) \
  auto statusor = (rexpr);                               \
  if (!statusor.ok()) return statusor.status();          \
  lhs = *std::move(statusor)

#endif  // CIR_REGISTRY_STATUS_MACROS_H_
