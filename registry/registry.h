#ifndef CIR_REGISTRY_REGISTRY_H_
#define CIR_REGISTRY_REGISTRY_H_

#include <functional>
#include <vector>

#include "absl/functional/any_invocable.h"
#include "absl/status/statusor.h"
#include "absl/time/civil_time.h"
#include "absl/time/time.h"
#include "cir/v1/registry.pb.h"
#include "registry/actor.h"
#include "storage/child_store.h"

namespace cir::registry {

struct RegistryOptions {
  // The current date in England, against which dates of birth are checked. Default: TodayInEngland.
  std::function<absl::CivilDay()> today;
  // Most identifiers in one BatchResolve. Default: 10,000.
  int max_batch_identifiers = 10000;
  // Most births in one RegisterBirths. Default: 10,000.
  int max_bulk_births = 10000;
  // Whether NHS numbers of the test range (beginning 999, never issued to a person) are accepted in
  // writes: the child's and the mother's in RegisterBirth, the one LinkNhsNumber adds. Only test
  // environments set it; otherwise such a number is refused with INVALID_ARGUMENT, reason
  // TEST_NHS_NUMBER_NOT_ACCEPTED, naming the field. Reads are not affected. Default: false.
  bool allow_test_nhs_numbers = false;
  // Draws a candidate identifier for a new child. Tests only, to make a draw collide on purpose.
  // Default: identifiers::GenerateChildId.
  std::function<std::string()> draw_child_id;
};

// What a long read knows of its call: when its caller has gone (the deadline passed, or the call
// was cancelled), the read stops between its steps, since nobody would receive what it found.
struct ReadCall {
  absl::Time deadline = absl::InfiniteFuture();
  // Whether the call was cancelled; none: never.
  std::function<bool()> is_cancelled;
};

// OK while `call`'s caller still waits; otherwise the answer to a read it has given up on
// (DEADLINE_EXCEEDED or CANCELLED, reason CALL_ABANDONED: nothing was sent).
absl::Status ReadAbandoned(const ReadCall& call);

// The registry's rules over a store: validates requests, keeps identifiers unique, and records an
// event with every change. Knows nothing of gRPC; the server is a thin layer over it.
//
// Bad input is refused before anything reaches the store, so it changes nothing. Changes run as
// units of work on the store's writer, so their checks and writes are atomic with respect to each
// other; their replies arrive once the change is durable.
//
// Thread safety: every method may be called from any thread at once.
class Registry {
 public:
  template <typename T>
  using Reply = absl::AnyInvocable<void(absl::StatusOr<T>)>;

  explicit Registry(storage::ChildStore& store, RegistryOptions options = {});

  // Writes: `reply` is called exactly once, possibly on another thread, possibly before return.
  // `submit` says when the caller has gone (deadline, cancellation), so that a change still
  // queued then is not made, and roughly what the request costs the store's queue. Times recorded
  // (registration, notifications, events) are the store's commit time of the change.
  // A birth that names a child registered before (created = false) is answered with the child's
  // identifiers alone unless `actor`'s notifying systems registered the child.
  void RegisterBirth(const v1::RegisterBirthRequest& request,
                     Reply<v1::RegisterBirthResponse> reply, storage::SubmitOptions submit = {},
                     const Actor& actor = {});
  // Registers each birth of `request` as RegisterBirth would, in request order and all in one
  // unit of work (one durable write), each with its own result: a birth refused changes nothing
  // and the others go on. The call itself is refused only for no births, too many, or an unknown
  // view, or when the store fails the unit (then no birth of it was written). `refused`, empty or
  // one status per birth: a birth whose status is not OK was refused by the caller's own rules (a
  // notifying system its agency may not use) and is answered with that refusal unread.
  void RegisterBirths(const v1::RegisterBirthsRequest& request,
                      Reply<v1::RegisterBirthsResponse> reply, storage::SubmitOptions submit = {},
                      const Actor& actor = {}, std::vector<absl::Status> refused = {});
  void LinkUpn(const v1::LinkUpnRequest& request, Reply<v1::LinkUpnResponse> reply,
               storage::SubmitOptions submit = {}, const Actor& actor = {});
  void LinkNhsNumber(const v1::LinkNhsNumberRequest& request,
                     Reply<v1::LinkNhsNumberResponse> reply, storage::SubmitOptions submit = {},
                     const Actor& actor = {});

  // Reads: answered on the calling thread from committed state.
  absl::StatusOr<v1::ResolveResponse> Resolve(const v1::ResolveRequest& request);
  // A batch checks `call` before its lookups and again before it reads the children's records,
  // and is answered ReadAbandoned's refusal once the caller has gone.
  absl::StatusOr<v1::BatchResolveResponse> BatchResolve(const v1::BatchResolveRequest& request,
                                                        const ReadCall& call = {});

 private:
  storage::ChildStore& store_;
  RegistryOptions options_;
};

// Resolve's refusal of an identifier of `kind` that names no child (NOT_FOUND,
// IDENTIFIER_NOT_FOUND): also the answer to a caller outside the record's reach, so that the two
// cannot be told apart.
absl::Status NoChildHasIdentifier(v1::IdentifierKind kind);

}  // namespace cir::registry

#endif  // CIR_REGISTRY_REGISTRY_H_
