#ifndef CIR_STORAGE_CENTRE_VIEW_H_
#define CIR_STORAGE_CENTRE_VIEW_H_

#include "storage/stored_records.pb.h"

namespace cir::storage {

// What a children's centre receives of `child` (DOMAIN.md, "What a children's centre receives"):
// names, date of birth, sex, address and postcode, the mother's names, birth order and the
// record's status. Never an NHS number or a UPN. Restrictions are not applied here: the feed
// applies the child's objection and sensitive flags when an event is read.
StoredCentreView CentreViewOf(const StoredChild& child);

}  // namespace cir::storage

#endif  // CIR_STORAGE_CENTRE_VIEW_H_
