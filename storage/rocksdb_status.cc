#include "storage/rocksdb_status.h"

#include <string>

#include "absl/strings/str_cat.h"
#include "errors/refusal.h"

namespace cir::storage {

absl::Status FromRocks(const rocksdb::Status& status, absl::string_view what) {
  if (status.ok()) return absl::OkStatus();
  std::string message = absl::StrCat(what, ": ", status.ToString());
  if (status.IsBusy() || status.IsTimedOut() || status.IsTryAgain() || status.IsIOError() ||
      status.IsNoSpace()) {
    return errors::Refusal(absl::StatusCode::kUnavailable, v1::STORE_UNAVAILABLE, message);
  }
  if (status.IsCorruption()) {
    return errors::Refusal(absl::StatusCode::kDataLoss, v1::STORED_DATA_UNREADABLE, message);
  }
  return errors::Refusal(absl::StatusCode::kInternal, v1::INTERNAL_ERROR, message);
}

}  // namespace cir::storage
