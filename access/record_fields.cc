#include "access/record_fields.h"

#include <array>
#include <bitset>
#include <cstdio>
#include <cstdlib>
#include <initializer_list>

#include "google/protobuf/descriptor.h"

namespace cir::access {
namespace {

using google::protobuf::FieldMask;

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

bool AnySeesSensitiveAddress(const MethodGrant& grant) {
  for (const RoleGrant& role_grant : grant.grants) {
    if (SeesSensitiveAddress(role_grant.role)) return true;
  }
  return false;
}

// An allow-list compiled to the indexes of its message's top-level fields.
// FieldMaskUtil parses and merges a mask's paths on every call (a profile of
// resolve load put 30% of the server's time there); the lists here are fixed,
// so each is compiled once and a call only tests bits.
constexpr int kMaxFields = 128;
using FieldBits = std::bitset<kMaxFields>;

FieldBits Compile(const google::protobuf::Descriptor& message, const FieldMask& mask) {
  if (message.field_count() > kMaxFields) {
    std::fprintf(stderr, "record_fields: %s has more than %d fields\n", message.full_name().c_str(),
                 kMaxFields);
    std::abort();
  }
  FieldBits bits;
  for (const std::string& path : mask.paths()) {
    const google::protobuf::FieldDescriptor* field = message.FindFieldByName(path);
    if (field == nullptr) {  // a typo in a list above:
                             // EveryAllowListedPathIsAFieldOfTheMessage
      std::fprintf(stderr, "record_fields: %s has no field %s\n", message.full_name().c_str(),
                   path.c_str());
      std::abort();
    }
    bits.set(field->index());
  }
  return bits;
}

// The compiled lists of every role, by `fields_of`, for `message`.
class CompiledLists {
 public:
  CompiledLists(const google::protobuf::Descriptor& message, const FieldMask& (*fields_of)(Role)) {
    for (int role = Role_MIN; role <= Role_MAX; ++role) {
      if (Role_IsValid(role)) by_role_[role] = Compile(message, fields_of(static_cast<Role>(role)));
    }
  }
  // What the roles of `grant` see together.
  FieldBits Of(const MethodGrant& grant) const {
    FieldBits bits;
    for (const RoleGrant& role_grant : grant.grants) bits |= by_role_[role_grant.role];
    return bits;
  }

 private:
  std::array<FieldBits, Role_MAX + 1> by_role_;
};

const CompiledLists& ChildRecordLists() {
  static const CompiledLists* lists =
      new CompiledLists(*v1::ChildRecord::descriptor(), ChildRecordFieldsOf);
  return *lists;
}
const CompiledLists& CentreChildLists() {
  static const CompiledLists* lists =
      new CompiledLists(*v1::CentreChild::descriptor(), CentreChildFieldsOf);
  return *lists;
}
const CompiledLists& FeedEventLists() {
  static const CompiledLists* lists =
      new CompiledLists(*v1::FeedEvent::descriptor(), FeedEventFieldsOf);
  return *lists;
}

// Clears every top-level field of `message` not in `allowed`. A message field
// kept is kept whole, as FieldMaskUtil keeps a message named by a top-level
// path.
void TrimTo(const FieldBits& allowed, google::protobuf::Message& message) {
  if (allowed.none()) {
    message.Clear();
    return;
  }
  const google::protobuf::Reflection* reflection = message.GetReflection();
  std::vector<const google::protobuf::FieldDescriptor*> set;
  reflection->ListFields(message, &set);
  for (const google::protobuf::FieldDescriptor* field : set) {
    if (!allowed.test(field->index())) reflection->ClearField(&message, field);
  }
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
  TrimTo(ChildRecordLists().Of(grant), record);
  if (sensitive && !AnySeesSensitiveAddress(grant)) {
    record.clear_address_lines();
    record.clear_postcode();
  }
}

void TrimCentreChild(const MethodGrant& grant, v1::CentreChild& child) {
  const bool restricted = child.restricted();
  TrimTo(CentreChildLists().Of(grant), child);
  if (restricted && !AnySeesSensitiveAddress(grant)) {
    child.clear_address_lines();
    child.clear_postcode();
  }
}

void TrimFeedEvent(const MethodGrant& grant, v1::FeedEvent& event) {
  TrimTo(FeedEventLists().Of(grant), event);
  if (event.has_child()) TrimCentreChild(grant, *event.mutable_child());
}

std::vector<std::string> ReturnedFieldNames(const MethodGrant& grant,
                                            const v1::ChildRecord& record) {
  FieldBits allowed = ChildRecordLists().Of(grant);
  if (record.sensitive() && !AnySeesSensitiveAddress(grant)) {
    // The address's two fields, looked up once rather than on every call that returns a record.
    static const int address_lines =
        v1::ChildRecord::descriptor()->FindFieldByName("address_lines")->index();
    static const int postcode = v1::ChildRecord::descriptor()->FindFieldByName("postcode")->index();
    allowed.reset(address_lines);
    allowed.reset(postcode);
  }
  std::vector<const google::protobuf::FieldDescriptor*> set;
  record.GetReflection()->ListFields(record, &set);
  std::vector<std::string> names;
  names.reserve(set.size());
  for (const google::protobuf::FieldDescriptor* field : set) {
    if (allowed.test(field->index())) names.push_back(field->name());
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
