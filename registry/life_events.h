#ifndef CIR_REGISTRY_LIFE_EVENTS_H_
#define CIR_REGISTRY_LIFE_EVENTS_H_

#include "cir/v1/registry.pb.h"
#include "registry/actor.h"
#include "registry/registry.h"
#include "storage/child_store.h"

namespace cir::registry {

// The life events of a child's record (proto/cir/v1/registry.proto, "Life events"): deaths,
// addresses, corrections, superseded NHS numbers, merges and their undoing, sharing restrictions.
//
// Each request is validated on the calling thread (bad input is answered there and reaches no
// store), then runs as one unit of work that reads the records it needs, applies the rules in its
// own file (death.h, address_change.h, details_correction.h, nhs_supersession.h,
// record_merge.h, sharing_restriction.h), and writes the change, its event and its feed events in
// one atomic write, recording the request_id with the response so that a retry returns it
// (request_record.h). Units run one at a time on the store's writer, so life events, links and
// registrations on the same children are serialised.
//
// `actor` says who makes the change: a record outside its scope is NOT_FOUND, as if absent, and
// its request ids are its own.
//
// Thread safety: every method may be called from any thread at once. `reply` is called exactly
// once, possibly on another thread, possibly before return.
class LifeEvents {
 public:
  LifeEvents(storage::ChildStore& store, RegistryOptions options = {});

  void RecordDeath(const v1::RecordDeathRequest& request,
                   Registry::Reply<v1::RecordDeathResponse> reply,
                   storage::SubmitOptions submit = {}, const Actor& actor = {});
  void ChangeAddress(const v1::ChangeAddressRequest& request,
                     Registry::Reply<v1::ChangeAddressResponse> reply,
                     storage::SubmitOptions submit = {}, const Actor& actor = {});
  void CorrectDetails(const v1::CorrectDetailsRequest& request,
                      Registry::Reply<v1::CorrectDetailsResponse> reply,
                      storage::SubmitOptions submit = {}, const Actor& actor = {});
  void SupersedeNhsNumber(const v1::SupersedeNhsNumberRequest& request,
                          Registry::Reply<v1::SupersedeNhsNumberResponse> reply,
                          storage::SubmitOptions submit = {}, const Actor& actor = {});
  void MergeRecords(const v1::MergeRecordsRequest& request,
                    Registry::Reply<v1::MergeRecordsResponse> reply,
                    storage::SubmitOptions submit = {}, const Actor& actor = {});
  void UndoMerge(const v1::UndoMergeRequest& request, Registry::Reply<v1::UndoMergeResponse> reply,
                 storage::SubmitOptions submit = {}, const Actor& actor = {});
  void RestrictSharing(const v1::RestrictSharingRequest& request,
                       Registry::Reply<v1::RestrictSharingResponse> reply,
                       storage::SubmitOptions submit = {}, const Actor& actor = {});

 private:
  storage::ChildStore& store_;
  RegistryOptions options_;
};

}  // namespace cir::registry

#endif  // CIR_REGISTRY_LIFE_EVENTS_H_
