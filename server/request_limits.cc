#include "server/request_limits.h"

#include "absl/strings/str_cat.h"
#include "errors/refusal.h"

namespace cir::server {

absl::Status CheckRequestSize(const google::protobuf::Message& request, size_t limit,
                              absl::string_view method) {
  const size_t size = request.ByteSizeLong();
  if (size <= limit) return absl::OkStatus();
  return errors::Refusal(absl::StatusCode::kResourceExhausted, v1::REQUEST_TOO_LARGE,
                         absl::StrCat(method, " takes requests of at most ", limit,
                                      " bytes; this one has ", size,
                                      ": check the fields for runaway values"));
}

}  // namespace cir::server
