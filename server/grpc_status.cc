#include "server/grpc_status.h"

#include <optional>
#include <string>

#include "errors/refusal.h"
#include "google/protobuf/any.pb.h"
#include "google/rpc/status.pb.h"

namespace cir::server {
namespace {

// The reason of a status made without one: only faults inside the registry get one here; every
// refusal of a request is made with its own reason where it is decided.
std::optional<google::rpc::ErrorInfo> DefaultErrorInfo(const absl::Status& status) {
  switch (status.code()) {
    case absl::StatusCode::kInternal:
    case absl::StatusCode::kUnknown:
      return errors::ErrorInfoOf(errors::WithReason(status, v1::INTERNAL_ERROR));
    case absl::StatusCode::kDataLoss:
      return errors::ErrorInfoOf(errors::WithReason(status, v1::STORED_DATA_UNREADABLE));
    default:
      return std::nullopt;
  }
}

}  // namespace

grpc::Status ToGrpcStatus(const absl::Status& status) {
  if (status.ok()) return grpc::Status::OK;
  const auto code = static_cast<grpc::StatusCode>(status.code());
  std::string message(status.message());
  std::optional<google::rpc::ErrorInfo> info = errors::ErrorInfoOf(status);
  if (!info.has_value()) info = DefaultErrorInfo(status);
  if (!info.has_value()) return grpc::Status(code, message);
  google::rpc::Status details;
  details.set_code(static_cast<int>(status.code()));
  details.set_message(message);
  details.add_details()->PackFrom(*info);
  return grpc::Status(code, message, details.SerializeAsString());
}

}  // namespace cir::server
