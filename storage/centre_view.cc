#include "storage/centre_view.h"

namespace cir::storage {

StoredCentreView CentreViewOf(const StoredChild& child) {
  StoredCentreView view;
  view.set_given_name(child.given_name());
  view.set_family_name(child.family_name());
  *view.mutable_date_of_birth() = child.date_of_birth();
  view.set_sex(child.sex());
  view.mutable_address_lines()->CopyFrom(child.address_lines());
  view.set_postcode(child.postcode());
  view.set_mother_given_name(child.mother_given_name());
  view.set_mother_family_name(child.mother_family_name());
  view.set_birth_order(child.birth_order() == 0 ? 1 : child.birth_order());
  view.set_status(child.status());
  view.set_death_kind(child.death_kind());
  if (child.has_date_of_death()) *view.mutable_date_of_death() = child.date_of_death();
  return view;
}

}  // namespace cir::storage
