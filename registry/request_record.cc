#include "registry/request_record.h"

#include <openssl/sha.h>

#include <memory>

#include "absl/strings/str_cat.h"
#include "errors/refusal.h"
#include "google/protobuf/io/coded_stream.h"
#include "google/protobuf/io/zero_copy_stream_impl_lite.h"

namespace cir::registry {

RequestKey KeyOf(absl::string_view method, absl::string_view agency_id,
                 absl::string_view request_id, const google::protobuf::Message& request) {
  // The request as sent, its request_id left out (it is the key), serialised deterministically
  // so that the same request always digests alike.
  std::unique_ptr<google::protobuf::Message> without_id(request.New());
  without_id->CopyFrom(request);
  const google::protobuf::FieldDescriptor* id_field =
      without_id->GetDescriptor()->FindFieldByName("request_id");
  if (id_field != nullptr) without_id->GetReflection()->ClearField(without_id.get(), id_field);
  std::string bytes;
  {
    google::protobuf::io::StringOutputStream stream(&bytes);
    google::protobuf::io::CodedOutputStream coded(&stream);
    coded.SetSerializationDeterministic(true);
    without_id->SerializeToCodedStream(&coded);
  }
  std::string canonical(method);
  canonical.push_back('\n');
  canonical.append(bytes);
  std::string digest(SHA256_DIGEST_LENGTH, '\0');
  SHA256(reinterpret_cast<const unsigned char*>(canonical.data()), canonical.size(),
         reinterpret_cast<unsigned char*>(digest.data()));
  std::string stored_id =
      agency_id.empty() ? std::string(request_id) : absl::StrCat(agency_id, "/", request_id);
  return RequestKey{std::string(method), std::move(stored_id), std::move(digest)};
}

absl::StatusOr<bool> AnswerRepeat(storage::WriteTxn& txn, const RequestKey& key,
                                  google::protobuf::Message& response) {
  CIR_ASSIGN_OR_RETURN(std::optional<storage::StoredRequest> seen, txn.GetRequest(key.request_id));
  if (!seen.has_value()) return false;
  if (seen->method() != key.method || seen->fingerprint() != key.fingerprint) {
    return errors::Refusal(
        absl::StatusCode::kAlreadyExists, v1::REQUEST_ID_REUSED_WITH_OTHER_DETAILS,
        "request_id: was used before for another request; a retry must repeat the first request "
        "exactly, and a new change needs a new request_id",
        {{"field", "request_id"}});
  }
  if (!response.ParseFromString(seen->response())) {
    return errors::Refusal(absl::StatusCode::kDataLoss, v1::STORED_DATA_UNREADABLE,
                           "the response recorded for this request_id does not parse");
  }
  return true;
}

absl::Status RecordRequest(storage::WriteTxn& txn, const RequestKey& key,
                           const google::protobuf::Message& response) {
  storage::StoredRequest record;
  record.set_method(key.method);
  record.set_fingerprint(key.fingerprint);
  record.set_response(response.SerializeAsString());
  record.set_recorded_at_unix_micros(absl::ToUnixMicros(txn.CommitTime()));
  return txn.PutRequest(key.request_id, record);
}

}  // namespace cir::registry
