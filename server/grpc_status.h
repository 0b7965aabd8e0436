#ifndef CIR_SERVER_GRPC_STATUS_H_
#define CIR_SERVER_GRPC_STATUS_H_

#include "absl/status/status.h"
#include "grpcpp/support/status.h"

namespace cir::server {

// The one place where the registry's absl::Status becomes the wire's grpc::Status: the same code
// and message, and the refusal's reason (errors/refusal.h) as a google.rpc.Status with one
// google.rpc.ErrorInfo in the status details (the `grpc-status-details-bin` trailer). A status
// that carries no reason is sent with INTERNAL_ERROR or STORED_DATA_UNREADABLE for the codes that
// mean a fault inside the registry, and without details otherwise.
grpc::Status ToGrpcStatus(const absl::Status& status);

}  // namespace cir::server

#endif  // CIR_SERVER_GRPC_STATUS_H_
