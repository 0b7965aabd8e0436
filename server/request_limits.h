#ifndef CIR_SERVER_REQUEST_LIMITS_H_
#define CIR_SERVER_REQUEST_LIMITS_H_

#include <cstddef>

#include "absl/status/status.h"
#include "absl/strings/string_view.h"
#include "google/protobuf/message.h"

namespace cir::server {

// Each method checks its requests against its own limit below and refuses a larger one with
// RESOURCE_EXHAUSTED, REQUEST_TOO_LARGE, naming the limit. The largest is RegisterBirths': 4 MiB
// (10,000 births of some 200-400 bytes each as maternity systems send them; births with every
// field at its longest fit about 2,000 to a call).
inline constexpr size_t kMaxRegisterBirthsBytes = size_t{4} << 20;
// The server-wide receive limit, twice the largest method's own, so that a request somewhat over
// its method's limit still gets the method's precise refusal. gRPC refuses a larger message with
// a bare RESOURCE_EXHAUSTED (after buffering it, up to the server's call memory quota: see
// RegistryServerOptions).
inline constexpr size_t kMaxRequestBytes = 2 * kMaxRegisterBirthsBytes;
// A BatchResolve of 10,000 identifiers: some 150 KiB of real identifiers (an NHS number or UPN
// with its separators is under 16 bytes), so 1 MiB leaves room for any way of writing them.
inline constexpr size_t kMaxBatchResolveBytes = size_t{1} << 20;
// The largest response: a BatchResolve of 10,000 full records is a few MiB.
inline constexpr size_t kMaxResponseBytes = size_t{64} << 20;

// The largest legitimate request of each smaller method: a birth notification with every field
// at its longest (names of 100 characters of up to 4 bytes each) is under 2 KiB.
inline constexpr size_t kMaxRegisterBirthBytes = size_t{8} << 10;
// A life event: at most four address lines or a few names of 100 characters, a request id and
// who recorded it.
inline constexpr size_t kMaxLifeEventBytes = size_t{8} << 10;
// A request naming one or two identifiers; and the audit log's, the backup's and
// DescribeRegistry's requests, which name at most one.
inline constexpr size_t kMaxSingleIdentifierRequestBytes = size_t{1} << 10;
// A feed request: up to 200 local authorities and a cursor covering each.
inline constexpr size_t kMaxFeedRequestBytes = size_t{64} << 10;

// What a queued write holds besides its request's bytes (the parsed request, the unit of work and
// its reply), counted against the store's bound on queued bytes.
inline constexpr size_t kQueuedUnitOverheadBytes = 512;

// RESOURCE_EXHAUSTED with reason REQUEST_TOO_LARGE if `request` is larger than `limit` bytes.
absl::Status CheckRequestSize(const google::protobuf::Message& request, size_t limit,
                              absl::string_view method);

}  // namespace cir::server

#endif  // CIR_SERVER_REQUEST_LIMITS_H_
