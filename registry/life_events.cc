#include "registry/life_events.h"

#include <utility>

#include "registry/address_change.h"
#include "registry/birth_validation.h"
#include "registry/change_support.h"
#include "registry/death.h"
#include "registry/details_correction.h"
#include "registry/nhs_supersession.h"
#include "registry/record_merge.h"
#include "registry/request_record.h"
#include "registry/sharing_restriction.h"
#include "registry/status_macros.h"

namespace cir::registry {
namespace {

// Validates `request` with `validate` (on this thread), then submits a unit that answers a retry
// of its request_id (the actor's own) from the record, or applies `apply` (absl::Status(const
// Valid&, const RecordScope&, WriteTxn&, Response&)) within the actor's scope and records the
// request with its response.
template <typename Response, typename Request, typename Valid, typename Apply>
void RunLifeEvent(storage::ChildStore& store, absl::string_view method, const Request& request,
                  absl::StatusOr<Valid> valid, Apply apply, Registry::Reply<Response> reply,
                  storage::SubmitOptions submit, const Actor& actor) {
  if (!valid.ok()) {
    reply(valid.status());
    return;
  }
  submit.approximate_bytes += request.ByteSizeLong();
  SubmitChange<Response>(
      store,
      [key = KeyOf(method, actor.agency_id, request.request_id(), request),
       valid = *std::move(valid), scope = actor.scope,
       apply = std::move(apply)](storage::WriteTxn& txn, Response& response) -> absl::Status {
        CIR_ASSIGN_OR_RETURN(bool repeated, AnswerRepeat(txn, key, response));
        if (repeated) return absl::OkStatus();
        CIR_RETURN_IF_ERROR(apply(valid, scope, txn, response));
        return RecordRequest(txn, key, response);
      },
      std::move(reply), std::move(submit), actor);
}

}  // namespace

LifeEvents::LifeEvents(storage::ChildStore& store, RegistryOptions options)
    : store_(store), options_(std::move(options)) {
  if (!options_.today) options_.today = TodayInEngland;
}

void LifeEvents::RecordDeath(const v1::RecordDeathRequest& request,
                             Registry::Reply<v1::RecordDeathResponse> reply,
                             storage::SubmitOptions submit, const Actor& actor) {
  RunLifeEvent<v1::RecordDeathResponse>(store_, "RecordDeath", request,
                                        ValidateDeath(request, options_.today()), RecordDeathInTxn,
                                        std::move(reply), std::move(submit), actor);
}

void LifeEvents::ChangeAddress(const v1::ChangeAddressRequest& request,
                               Registry::Reply<v1::ChangeAddressResponse> reply,
                               storage::SubmitOptions submit, const Actor& actor) {
  RunLifeEvent<v1::ChangeAddressResponse>(
      store_, "ChangeAddress", request, ValidateAddressChange(request, options_.today()),
      ChangeAddressInTxn, std::move(reply), std::move(submit), actor);
}

void LifeEvents::CorrectDetails(const v1::CorrectDetailsRequest& request,
                                Registry::Reply<v1::CorrectDetailsResponse> reply,
                                storage::SubmitOptions submit, const Actor& actor) {
  RunLifeEvent<v1::CorrectDetailsResponse>(
      store_, "CorrectDetails", request, ValidateCorrection(request, options_.today()),
      CorrectDetailsInTxn, std::move(reply), std::move(submit), actor);
}

void LifeEvents::SupersedeNhsNumber(const v1::SupersedeNhsNumberRequest& request,
                                    Registry::Reply<v1::SupersedeNhsNumberResponse> reply,
                                    storage::SubmitOptions submit, const Actor& actor) {
  RunLifeEvent<v1::SupersedeNhsNumberResponse>(
      store_, "SupersedeNhsNumber", request,
      ValidateSupersession(request, options_.allow_test_nhs_numbers), SupersedeNhsNumberInTxn,
      std::move(reply), std::move(submit), actor);
}

void LifeEvents::MergeRecords(const v1::MergeRecordsRequest& request,
                              Registry::Reply<v1::MergeRecordsResponse> reply,
                              storage::SubmitOptions submit, const Actor& actor) {
  RunLifeEvent<v1::MergeRecordsResponse>(store_, "MergeRecords", request, ValidateMerge(request),
                                         MergeRecordsInTxn, std::move(reply), std::move(submit),
                                         actor);
}

void LifeEvents::UndoMerge(const v1::UndoMergeRequest& request,
                           Registry::Reply<v1::UndoMergeResponse> reply,
                           storage::SubmitOptions submit, const Actor& actor) {
  RunLifeEvent<v1::UndoMergeResponse>(store_, "UndoMerge", request, ValidateUnmerge(request),
                                      UndoMergeInTxn, std::move(reply), std::move(submit), actor);
}

void LifeEvents::RestrictSharing(const v1::RestrictSharingRequest& request,
                                 Registry::Reply<v1::RestrictSharingResponse> reply,
                                 storage::SubmitOptions submit, const Actor& actor) {
  RunLifeEvent<v1::RestrictSharingResponse>(store_, "RestrictSharing", request,
                                            ValidateRestriction(request), RestrictSharingInTxn,
                                            std::move(reply), std::move(submit), actor);
}

}  // namespace cir::registry
