#include "access/record_fields.h"

#include <initializer_list>

#include "google/protobuf/util/field_mask_util.h"

namespace cir::access {
namespace {

using google::protobuf::FieldMask;
using google::protobuf::util::FieldMaskUtil;

FieldMask MaskOf(std::initializer_list<const char*> paths) {
  FieldMask mask;
  for (const char* path : paths) mask.add_paths(path);
  return mask;
}

// What a record's identifiers are.
#define CIR_IDENTIFIER_FIELDS \
  "child_id", "child_id_display", "nhs_number", "former_nhs_numbers", "upn", "former_upns"

// A whole record: health visiting and GPs ("the record") and local authority data teams ("the
// full record"). Listed field by field, so that a field added later is not given by default.
const FieldMask& WholeRecord() {
  static const FieldMask* mask = new FieldMask(MaskOf({CIR_IDENTIFIER_FIELDS,
                                                       "date_of_birth",
                                                       "sex",
                                                       "given_name",
                                                       "family_name",
                                                       "postcode",
                                                       "local_authority",
                                                       "mother_nhs_number",
                                                       "status",
                                                       "registered_at_unix_seconds",
                                                       "version",
                                                       "birth_order",
                                                       "mother_given_name",
                                                       "mother_family_name",
                                                       "address_lines",
                                                       "death_kind",
                                                       "date_of_death",
                                                       "merged_into_child_id",
                                                       "merged_from_child_ids",
                                                       "sharing_objection",
                                                       "sensitive"}));
  return *mask;
}

// A maternity system: what it registered, and the death it may record.
const FieldMask& WhatMaternityRegistered() {
  static const FieldMask* mask = new FieldMask(
      MaskOf({"child_id", "child_id_display", "nhs_number", "date_of_birth", "sex", "given_name",
              "family_name", "postcode", "local_authority", "mother_nhs_number", "status",
              "registered_at_unix_seconds", "version", "birth_order", "mother_given_name",
              "mother_family_name", "address_lines", "death_kind", "date_of_death"}));
  return *mask;
}

// A school: identifiers, names and date of birth (and whether the record is current).
const FieldMask& WhatSchoolsSee() {
  static const FieldMask* mask =
      new FieldMask(MaskOf({CIR_IDENTIFIER_FIELDS, "given_name", "family_name", "date_of_birth",
                            "status", "merged_into_child_id"}));
  return *mask;
}

// A children's centre: what a centre receives (DOMAIN.md), never an NHS number or a UPN.
const FieldMask& WhatCentresSee() {
  static const FieldMask* mask = new FieldMask(MaskOf(
      {"child_id", "child_id_display", "given_name", "family_name", "date_of_birth", "sex",
       "address_lines", "postcode", "local_authority", "mother_given_name", "mother_family_name",
       "birth_order", "status", "death_kind", "date_of_death", "merged_into_child_id"}));
  return *mask;
}

// A registrar: identifiers, and the death it records.
const FieldMask& WhatRegistrarsSee() {
  static const FieldMask* mask =
      new FieldMask(MaskOf({"child_id", "child_id_display", "nhs_number", "former_nhs_numbers",
                            "status", "death_kind", "date_of_death", "merged_into_child_id"}));
  return *mask;
}

const FieldMask& Nothing() {
  static const FieldMask* mask = new FieldMask();
  return *mask;
}

// The union of what the roles of `grant` see, by `fields_of`.
FieldMask UnionOf(const MethodGrant& grant, const FieldMask& (*fields_of)(Role)) {
  FieldMask all;
  for (const RoleGrant& role_grant : grant.grants) {
    FieldMask merged;
    FieldMaskUtil::Union(all, fields_of(role_grant.role), &merged);
    all = std::move(merged);
  }
  return all;
}

bool AnySeesSensitiveAddress(const MethodGrant& grant) {
  for (const RoleGrant& role_grant : grant.grants) {
    if (SeesSensitiveAddress(role_grant.role)) return true;
  }
  return false;
}

void TrimTo(const MethodGrant& grant, const FieldMask& (*fields_of)(Role),
            google::protobuf::Message& message) {
  const FieldMask mask =
      grant.grants.size() == 1 ? fields_of(grant.grants.front().role) : UnionOf(grant, fields_of);
  // TrimMessage leaves a message whole under an empty mask: nothing allowed means nothing kept.
  if (mask.paths().empty()) {
    message.Clear();
    return;
  }
  FieldMaskUtil::TrimMessage(mask, &message);
}

}  // namespace

const FieldMask& ChildRecordFieldsOf(Role role) {
  switch (role) {
    case ROLE_MATERNITY:
      return WhatMaternityRegistered();
    case ROLE_HEALTH_VISITING:
    case ROLE_LA_DATA_TEAM:
      return WholeRecord();
    case ROLE_SCHOOL:
      return WhatSchoolsSee();
    case ROLE_CHILDRENS_CENTRE:
      return WhatCentresSee();
    case ROLE_REGISTRAR:
      return WhatRegistrarsSee();
    default:  // auditors and operators see who accessed what, never a child's record
      return Nothing();
  }
}

const FieldMask& CentreChildFieldsOf(Role role) {
  static const FieldMask* centre =
      new FieldMask(MaskOf({"given_name", "family_name", "date_of_birth", "sex", "address_lines",
                            "postcode", "mother_given_name", "mother_family_name", "birth_order",
                            "status", "death_kind", "date_of_death", "restricted"}));
  return role == ROLE_CHILDRENS_CENTRE ? *centre : Nothing();
}

const FieldMask& FeedEventFieldsOf(Role role) {
  static const FieldMask* centre = new FieldMask(
      MaskOf({"local_authority", "sequence", "cursor", "kind", "child_id", "child_id_display",
              "record_version", "recorded_at_unix_micros", "effective_date", "made_by", "child",
              "other_child_id", "moved_from_local_authority", "moved_to_local_authority"}));
  return role == ROLE_CHILDRENS_CENTRE ? *centre : Nothing();
}

bool SeesSensitiveAddress(Role role) { return role == ROLE_LA_DATA_TEAM; }

void TrimChildRecord(const MethodGrant& grant, v1::ChildRecord& record) {
  // Read before trimming: a role that does not see the flag must still lose the address.
  const bool sensitive = record.sensitive();
  TrimTo(grant, ChildRecordFieldsOf, record);
  if (sensitive && !AnySeesSensitiveAddress(grant)) {
    record.clear_address_lines();
    record.clear_postcode();
  }
}

void TrimCentreChild(const MethodGrant& grant, v1::CentreChild& child) {
  const bool restricted = child.restricted();
  TrimTo(grant, CentreChildFieldsOf, child);
  if (restricted && !AnySeesSensitiveAddress(grant)) {
    child.clear_address_lines();
    child.clear_postcode();
  }
}

void TrimFeedEvent(const MethodGrant& grant, v1::FeedEvent& event) {
  TrimTo(grant, FeedEventFieldsOf, event);
  if (event.has_child()) TrimCentreChild(grant, *event.mutable_child());
}

std::vector<std::string> ReturnedFieldNames(const MethodGrant& grant,
                                            const v1::ChildRecord& record) {
  const bool strip_address = record.sensitive() && !AnySeesSensitiveAddress(grant);
  std::vector<std::string> names;
  for (const std::string& name : SetFieldNames(record)) {
    if (strip_address && (name == "address_lines" || name == "postcode")) continue;
    bool allowed = false;
    for (const RoleGrant& role_grant : grant.grants) {
      for (const std::string& path : ChildRecordFieldsOf(role_grant.role).paths()) {
        if (path == name) {
          allowed = true;
          break;
        }
      }
      if (allowed) break;
    }
    if (allowed) names.push_back(name);
  }
  return names;
}

std::vector<std::string> SetFieldNames(const google::protobuf::Message& message) {
  std::vector<const google::protobuf::FieldDescriptor*> fields;
  message.GetReflection()->ListFields(message, &fields);
  std::vector<std::string> names;
  names.reserve(fields.size());
  for (const google::protobuf::FieldDescriptor* field : fields) names.push_back(field->name());
  return names;
}

}  // namespace cir::access
