#ifndef CIR_REGISTRY_REQUEST_RECORD_H_
#define CIR_REGISTRY_REQUEST_RECORD_H_

#include <optional>
#include <string>

#include "absl/status/status.h"
#include "absl/strings/string_view.h"
#include "google/protobuf/message.h"
#include "registry/status_macros.h"
#include "storage/child_store.h"

namespace cir::registry {

// A life event's request as recorded against its request_id: which method, and a digest of the
// request as sent (without its request_id), so that a retry can be told from a reuse of the id.
struct RequestKey {
  std::string method;
  // What the request is stored under: the request_id as sent by the registry's own callers
  // (agency_id empty), "<agency_id>/<request_id>" for an agency's, so that each agency's request
  // ids are its own and one agency can never replay another's request to read its response.
  std::string request_id;
  std::string fingerprint;
};

// The key of `request` (a life event request of `method`, whose request_id is `request_id`, sent
// by the agency `agency_id`).
RequestKey KeyOf(absl::string_view method, absl::string_view agency_id,
                 absl::string_view request_id, const google::protobuf::Message& request);

// Inside a unit of work: whether `key`'s request_id was recorded before. If so, with the same
// method and request, fills `response` with the first call's response and returns true (the unit
// writes nothing more); with another, ALREADY_EXISTS, REQUEST_ID_REUSED_WITH_OTHER_DETAILS.
absl::StatusOr<bool> AnswerRepeat(storage::WriteTxn& txn, const RequestKey& key,
                                  google::protobuf::Message& response);

// Records `key` with the response the unit made, in the unit's own write.
absl::Status RecordRequest(storage::WriteTxn& txn, const RequestKey& key,
                           const google::protobuf::Message& response);

}  // namespace cir::registry

#endif  // CIR_REGISTRY_REQUEST_RECORD_H_
