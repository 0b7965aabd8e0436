#ifndef CIR_SERVER_GRPC_STATUS_H_
#define CIR_SERVER_GRPC_STATUS_H_

#include <string>

#include "absl/status/status.h"
#include "grpcpp/support/status.h"

namespace cir::server {

// The one place where the registry's absl::Status becomes the wire's grpc::Status. The codes are the
// same numbers, so this is a cast of the code plus the message.
inline grpc::Status ToGrpcStatus(const absl::Status& status) {
  if (status.ok()) return grpc::Status::OK;
  return grpc::Status(static_cast<grpc::StatusCode>(status.code()), std::string(status.message()));
}

}  // namespace cir::server

#endif  // CIR_SERVER_GRPC_STATUS_H_
