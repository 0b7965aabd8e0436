#ifndef CIR_ACCESS_RECORD_FIELDS_H_
#define CIR_ACCESS_RECORD_FIELDS_H_

#include <string>
#include <vector>

#include "access/method_rules.h"
#include "cir/v1/registry.pb.h"
#include "google/protobuf/field_mask.pb.h"

namespace cir::access {

// Least data: what each role sees of a child (DOMAIN.md, "Who may see what"), as allow-lists of
// field paths. A field not listed for a role is cleared before a response leaves the registry, so
// a field added to ChildRecord or CentreChild is seen by no role until it is listed here.

// The ChildRecord fields `role` sees (the listing in record_fields.cc says which and why).
const google::protobuf::FieldMask& ChildRecordFieldsOf(Role role);
// The fields of a feed event's CentreChild `role` sees.
const google::protobuf::FieldMask& CentreChildFieldsOf(Role role);
// Whether `role` sees a sensitive record's address and postcode (only a local authority data
// team, which keeps the address true, does).
bool SeesSensitiveAddress(Role role);

// Clears every field of `record` that no role `grant` gives for the call sees, and a sensitive
// record's address and postcode unless one of those roles needs them.
void TrimChildRecord(const MethodGrant& grant, v1::ChildRecord& record);
// The same for a feed event's child.
void TrimCentreChild(const MethodGrant& grant, v1::CentreChild& child);
// The fields of a feed event itself (beside its child) `role` sees.
const google::protobuf::FieldMask& FeedEventFieldsOf(Role role);
// A feed event trimmed to what the roles of `grant` see: its own fields, then its child's.
void TrimFeedEvent(const MethodGrant& grant, v1::FeedEvent& event);

// The names of the fields set in `message` (top level), for the audit log's "fields returned".
std::vector<std::string> SetFieldNames(const google::protobuf::Message& message);

// The names of the fields of `record` (as held, untrimmed) that TrimChildRecord(grant, ...) would
// leave set: what the caller is given, for the audit log, without copying the record.
std::vector<std::string> ReturnedFieldNames(const MethodGrant& grant,
                                            const v1::ChildRecord& record);

}  // namespace cir::access

#endif  // CIR_ACCESS_RECORD_FIELDS_H_
