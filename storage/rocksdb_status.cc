#include "storage/rocksdb_status.h"

#include <string>

#include "absl/strings/str_cat.h"

namespace cir::storage {

absl::Status FromRocks(const rocksdb::Status& status, absl::string_view what) {
  if (status.ok()) return absl::OkStatus();
  std::string message = absl::StrCat(what, ": ", status.ToString());
  if (status.IsBusy() || status.IsTimedOut() || status.IsTryAgain() || status.IsIOError() ||
      status.IsNoSpace()) {
    return absl::UnavailableError(message);
  }
  if (status.IsCorruption()) return absl::DataLossError(message);
  return absl::InternalError(message);
}

}  // namespace cir::storage
