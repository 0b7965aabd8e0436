#include "registry/record_mapping.h"

#include "identifiers/child_id.h"

namespace cir::registry {

void ToDate(const storage::StoredDate& stored, v1::Date* date) {
  date->set_year(stored.year());
  date->set_month(stored.month());
  date->set_day(stored.day());
}

int BirthOrderOf(const storage::StoredChild& stored) {
  return stored.birth_order() == 0 ? 1 : stored.birth_order();
}

void ToChildIdentifiers(const storage::StoredChild& stored, v1::ChildRecord* record) {
  record->set_child_id(stored.child_id());
  record->set_child_id_display(identifiers::FormatChildId(stored.child_id()));
  record->set_nhs_number(stored.nhs_number());
  record->mutable_former_nhs_numbers()->CopyFrom(stored.former_nhs_numbers());
  record->set_upn(stored.upn());
  record->mutable_former_upns()->CopyFrom(stored.former_upns());
  record->set_status(static_cast<v1::RecordStatus>(stored.status()));
  record->set_version(stored.version());
}

void NarrowToView(v1::RecordView view, v1::ChildRecord& record) {
  if (view != v1::RECORD_VIEW_IDENTIFIERS && view != v1::RECORD_VIEW_CHILD_ID) return;
  v1::ChildRecord narrowed;
  narrowed.set_child_id(std::move(*record.mutable_child_id()));
  narrowed.set_child_id_display(std::move(*record.mutable_child_id_display()));
  if (view == v1::RECORD_VIEW_IDENTIFIERS) {
    narrowed.set_nhs_number(std::move(*record.mutable_nhs_number()));
    narrowed.mutable_former_nhs_numbers()->Swap(record.mutable_former_nhs_numbers());
    narrowed.set_upn(std::move(*record.mutable_upn()));
    narrowed.mutable_former_upns()->Swap(record.mutable_former_upns());
    narrowed.set_status(record.status());
    narrowed.set_version(record.version());
  }
  record = std::move(narrowed);
}

void ToChildRecord(const storage::StoredChild& stored, v1::ChildRecord* record) {
  ToChildIdentifiers(stored, record);
  ToDate(stored.date_of_birth(), record->mutable_date_of_birth());
  record->set_sex(static_cast<v1::Sex>(stored.sex()));
  record->set_given_name(stored.given_name());
  record->set_family_name(stored.family_name());
  record->set_postcode(stored.postcode());
  record->set_local_authority(stored.local_authority());
  record->set_mother_nhs_number(stored.mother_nhs_number());
  record->set_mother_given_name(stored.mother_given_name());
  record->set_mother_family_name(stored.mother_family_name());
  record->set_birth_order(BirthOrderOf(stored));
  record->set_registered_at_unix_seconds(stored.registered_at_unix_micros() / 1000000);
  record->mutable_address_lines()->CopyFrom(stored.address_lines());
  record->set_death_kind(static_cast<v1::DeathKind>(stored.death_kind()));
  if (stored.has_date_of_death()) ToDate(stored.date_of_death(), record->mutable_date_of_death());
  record->set_merged_into_child_id(stored.merged_into());
  record->mutable_merged_from_child_ids()->CopyFrom(stored.merged_from());
  record->set_sharing_objection(stored.sharing_objection());
  record->set_sensitive(stored.sensitive());
}

}  // namespace cir::registry
