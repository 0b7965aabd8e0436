#include "registry/address_change.h"

#include <utility>
#include <vector>

#include "registry/change_support.h"
#include "registry/record_mapping.h"
#include "registry/status_macros.h"

namespace cir::registry {

using storage::StoredChild;
using storage::StoredFeedEvent;

absl::StatusOr<ValidAddressChange> ValidateAddressChange(const v1::ChangeAddressRequest& request,
                                                         absl::CivilDay today) {
  ValidAddressChange change;
  CIR_RETURN_IF_ERROR(ValidateRequestId(request.request_id()));
  CIR_ASSIGN_OR_RETURN(change.child_id, ChildIdField(request.child_id()));
  CIR_ASSIGN_OR_RETURN(change.address,
                       ValidateAddress(request.address_lines(), request.postcode(),
                                       request.local_authority(), /*lines_required=*/true));
  change.effective_date = today;
  if (request.has_effective_date()) {
    CIR_ASSIGN_OR_RETURN(change.effective_date,
                         ValidateCalendarDate(request.effective_date(), "effective_date", today));
  }
  CIR_ASSIGN_OR_RETURN(change.recorded_by, ValidateRecordedBy(request.recorded_by()));
  return change;
}

absl::Status ChangeAddressInTxn(const ValidAddressChange& change, const RecordScope& scope,
                                storage::WriteTxn& txn, v1::ChangeAddressResponse& response) {
  CIR_ASSIGN_OR_RETURN(StoredChild child, ChildToChange(txn, change.child_id, scope));
  const std::vector<std::string> current_lines(child.address_lines().begin(),
                                               child.address_lines().end());
  const ValidAddress& address = change.address;
  if (AddressComparisonKey(current_lines, child.postcode(), child.local_authority()) ==
      AddressComparisonKey(address.lines, address.postcode, address.local_authority)) {
    ToChildRecord(child, response.mutable_record());
    response.set_changed(false);
    return absl::OkStatus();
  }
  const std::string old_area = child.local_authority();
  child.clear_address_lines();
  for (const std::string& line : address.lines) child.add_address_lines(line);
  child.set_postcode(address.postcode);
  child.set_local_authority(address.local_authority);
  child.set_version(child.version() + 1);

  std::vector<StoredFeedEvent> feed;
  if (old_area == address.local_authority) {
    feed.push_back(FeedEventAbout(v1::FEED_EVENT_KIND_ADDRESS_CHANGED, child, old_area,
                                  change.effective_date));
  } else {
    // The area left is told the child has gone, and where to, but not the new address.
    StoredFeedEvent moved_out =
        FeedEventAbout(v1::FEED_EVENT_KIND_MOVED_OUT, child, old_area, change.effective_date);
    moved_out.mutable_child()->clear_address_lines();
    moved_out.mutable_child()->clear_postcode();
    moved_out.set_moved_from(old_area);
    moved_out.set_moved_to(address.local_authority);
    StoredFeedEvent moved_in = FeedEventAbout(v1::FEED_EVENT_KIND_MOVED_IN, child,
                                              address.local_authority, change.effective_date);
    moved_in.set_moved_from(old_area);
    moved_in.set_moved_to(address.local_authority);
    feed.push_back(std::move(moved_out));
    feed.push_back(std::move(moved_in));
  }
  NoteFeedAreas(child, feed);
  CIR_RETURN_IF_ERROR(txn.PutChild(child));
  CIR_RETURN_IF_ERROR(AppendChangeEvent(txn, storage::EVENT_KIND_ADDRESS_CHANGED, child,
                                        {.made_by = change.recorded_by, .feed = std::move(feed)}));
  ToChildRecord(child, response.mutable_record());
  response.set_changed(true);
  return absl::OkStatus();
}

}  // namespace cir::registry
