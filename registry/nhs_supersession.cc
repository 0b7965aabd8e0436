#include "registry/nhs_supersession.h"

#include <optional>

#include "errors/refusal.h"
#include "registry/birth_validation.h"
#include "registry/change_support.h"
#include "registry/field_validation.h"
#include "registry/record_mapping.h"
#include "registry/status_macros.h"

namespace cir::registry {

using storage::IndexEntry;
using storage::IndexKind;
using storage::StoredChild;

absl::StatusOr<ValidSupersession> ValidateSupersession(const v1::SupersedeNhsNumberRequest& request,
                                                       bool allow_test_nhs_numbers) {
  ValidSupersession supersession;
  CIR_RETURN_IF_ERROR(ValidateRequestId(request.request_id()));
  CIR_ASSIGN_OR_RETURN(supersession.child_id, ChildIdField(request.child_id()));
  if (request.new_nhs_number().empty()) {
    return errors::InvalidField("new_nhs_number", "required; the child's surviving NHS number",
                                v1::FIELD_REQUIRED);
  }
  CIR_ASSIGN_OR_RETURN(
      supersession.new_nhs_number,
      ValidateNhsNumberField(request.new_nhs_number(), "new_nhs_number", allow_test_nhs_numbers));
  CIR_ASSIGN_OR_RETURN(supersession.recorded_by, ValidateRecordedBy(request.recorded_by()));
  return supersession;
}

absl::Status SupersedeNhsNumberInTxn(const ValidSupersession& supersession,
                                     const RecordScope& scope, storage::WriteTxn& txn,
                                     v1::SupersedeNhsNumberResponse& response) {
  CIR_ASSIGN_OR_RETURN(StoredChild child, ChildToChange(txn, supersession.child_id, scope));
  const std::string& surviving = supersession.new_nhs_number;
  if (child.nhs_number().empty()) {
    return errors::Refusal(absl::StatusCode::kFailedPrecondition, v1::CHILD_HAS_NO_NHS_NUMBER,
                           "child_id: the child has no NHS number to supersede; add one with "
                           "LinkNhsNumber",
                           {{"field", "child_id"}});
  }
  if (child.nhs_number() == surviving) {
    ToChildRecord(child, response.mutable_record());
    response.set_changed(false);
    return absl::OkStatus();
  }
  CIR_ASSIGN_OR_RETURN(std::optional<IndexEntry> holder,
                       txn.Lookup(IndexKind::kNhsNumber, surviving));
  if (holder.has_value() && holder->child_id != child.child_id()) {
    return errors::Refusal(
        absl::StatusCode::kAlreadyExists, v1::NHS_NUMBER_HELD_BY_ANOTHER_CHILD,
        "new_nhs_number: already belongs to another child; if the two records are the same "
        "child, merge them (MergeRecords) instead",
        {{"field", "new_nhs_number"}});
  }
  if (holder.has_value()) {
    return errors::Refusal(
        absl::StatusCode::kFailedPrecondition, v1::FORMER_IDENTIFIER_NOT_REUSABLE,
        "new_nhs_number: is a former NHS number of this child and cannot become current again",
        {{"field", "new_nhs_number"}});
  }
  if (child.mother_nhs_number() == surviving) {
    return errors::InvalidField(
        "new_nhs_number", "is the NHS number recorded for the child's mother; check which is which",
        v1::NHS_NUMBER_IS_MOTHERS);
  }
  child.add_former_nhs_numbers(child.nhs_number());
  child.set_nhs_number(surviving);
  child.set_version(child.version() + 1);
  CIR_RETURN_IF_ERROR(txn.PutChild(child));
  CIR_RETURN_IF_ERROR(
      txn.PutIndex(IndexKind::kNhsNumber, surviving, IndexEntry{child.child_id(), ""}));
  // Not for children's centres, which never receive NHS numbers: the log alone.
  CIR_RETURN_IF_ERROR(AppendChangeEvent(txn, storage::EVENT_KIND_NHS_NUMBER_SUPERSEDED, child,
                                        {.made_by = supersession.recorded_by}));
  ToChildRecord(child, response.mutable_record());
  response.set_changed(true);
  return absl::OkStatus();
}

}  // namespace cir::registry
