#include "errors/refusal.h"

#include <string>

#include "absl/strings/cord.h"
#include "absl/strings/str_cat.h"

namespace cir::errors {

absl::Status WithReason(absl::Status status, v1::ErrorReason reason, Metadata metadata) {
  if (status.ok()) return status;
  google::rpc::ErrorInfo info;
  info.set_reason(v1::ErrorReason_Name(reason));
  info.set_domain(std::string(kErrorDomain));
  for (const auto& [key, value] : metadata) {
    (*info.mutable_metadata())[std::string(key)] = std::string(value);
  }
  status.SetPayload(kErrorInfoTypeUrl, absl::Cord(info.SerializeAsString()));
  return status;
}

absl::Status Unshared(const absl::Status& status) {
  if (status.ok()) return absl::OkStatus();
  absl::Status copy(status.code(), std::string(status.message()));
  status.ForEachPayload([&copy](absl::string_view type_url, const absl::Cord& payload) {
    copy.SetPayload(type_url, absl::Cord(std::string(payload)));
  });
  return copy;
}

absl::Status Refusal(absl::StatusCode code, v1::ErrorReason reason, absl::string_view message,
                     Metadata metadata) {
  return WithReason(absl::Status(code, message), reason, metadata);
}

absl::Status InvalidField(absl::string_view field, absl::string_view message,
                          v1::ErrorReason reason) {
  return Refusal(absl::StatusCode::kInvalidArgument, reason, absl::StrCat(field, ": ", message),
                 {{"field", field}});
}

std::optional<google::rpc::ErrorInfo> ErrorInfoOf(const absl::Status& status) {
  auto payload = status.GetPayload(kErrorInfoTypeUrl);  // absl::optional in this Abseil
  if (!payload.has_value()) return std::nullopt;
  google::rpc::ErrorInfo info;
  if (!info.ParseFromString(std::string(*payload))) return std::nullopt;
  return info;
}

v1::ErrorReason ReasonOf(const absl::Status& status) {
  std::optional<google::rpc::ErrorInfo> info = ErrorInfoOf(status);
  v1::ErrorReason reason = v1::ERROR_REASON_UNSPECIFIED;
  if (info.has_value()) v1::ErrorReason_Parse(info->reason(), &reason);
  return reason;
}

}  // namespace cir::errors
