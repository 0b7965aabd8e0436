#include "server/call_auditor.h"

#include <map>
#include <string>
#include <utility>

#include "absl/strings/str_cat.h"
#include "access/record_fields.h"
#include "errors/refusal.h"
#include "google/protobuf/descriptor.h"

namespace cir::server {

v1::AuditEntry CallAuditor::EntryFor(const access::Caller* caller, absl::string_view agency_id,
                                     absl::string_view method, const absl::Status& outcome) {
  v1::AuditEntry entry;
  if (caller != nullptr) {
    entry.set_agency_id(caller->agency->id);
    entry.set_end_user(caller->end_user);
    entry.set_purpose_of_use(caller->purpose);
  } else {
    entry.set_agency_id(std::string(agency_id));
  }
  entry.set_method(std::string(method));
  SetOutcome(outcome, entry);
  return entry;
}

void CallAuditor::SetOutcome(const absl::Status& outcome, v1::AuditEntry& entry) {
  entry.set_status_code(static_cast<int32_t>(outcome.code()));
  entry.clear_reason();
  if (outcome.ok()) return;
  const v1::ErrorReason reason = errors::ReasonOf(outcome);
  if (reason != v1::ERROR_REASON_UNSPECIFIED) entry.set_reason(v1::ErrorReason_Name(reason));
}

void CallAuditor::NoteRecord(const access::MethodGrant& grant, const v1::ChildRecord& record,
                             v1::AuditEntry& entry) {
  if (record.child_id().empty()) return;
  entry.add_child_ids(record.child_id());
  NoteFields(access::ReturnedFieldNames(grant, record), entry);
}

void CallAuditor::NoteFields(std::vector<std::string> fields, v1::AuditEntry& entry) {
  for (std::string& field : fields) {
    bool listed = false;
    for (const std::string& seen : entry.fields()) listed = listed || seen == field;
    if (!listed) entry.add_fields(std::move(field));
  }
}

void CallAuditor::NoteFeedEvent(const v1::FeedEvent& event, v1::AuditEntry& entry) {
  if (event.child_id().empty()) return;  // withheld: nothing of the child is sent
  entry.add_child_ids(event.child_id());
  NoteFields(access::SetFieldNames(event.child()), entry);
}

void CallAuditor::Record(v1::AuditEntry entry, absl::AnyInvocable<void(absl::Status)> then,
                         storage::SubmitOptions submit) {
  // The store abandons the unit when the call has gone before its turn (CALL_ABANDONED); the
  // entry is written all the same, and a call that would have returned data then says that it
  // was abandoned and returned nothing.
  submit.audit_entry = [entry = std::move(entry)](const absl::Status& outcome) mutable {
    if (!outcome.ok() && entry.status_code() == 0) {
      entry.clear_fields();
      SetOutcome(outcome, entry);
    }
    return std::move(entry);
  };
  store_.Submit([](storage::WriteTxn&) { return absl::OkStatus(); },
                [then = std::move(then)](absl::Status written) mutable {
                  if (written.ok() || errors::ReasonOf(written) == v1::CALL_ABANDONED) {
                    then(std::move(written));
                    return;
                  }
                  then(AuditUnavailable(written));
                },
                std::move(submit));
}

registry::Actor CallAuditor::ActorFor(const access::Caller& caller,
                                      std::shared_ptr<std::atomic<bool>> audited) {
  registry::Actor actor = caller.Actor();
  actor.audit = [template_entry = EntryFor(&caller, "", caller.method, absl::OkStatus()),
                 grant = caller.grant, audited = std::move(audited)](
                    const absl::Status& outcome, const google::protobuf::Message* response) {
    v1::AuditEntry entry = template_entry;
    SetOutcome(outcome, entry);
    if (response != nullptr) {
      // Every record the response carries at its top level (a merge's survivor and retired).
      const google::protobuf::Descriptor* descriptor = response->GetDescriptor();
      const google::protobuf::Reflection* reflection = response->GetReflection();
      for (int i = 0; i < descriptor->field_count(); ++i) {
        const google::protobuf::FieldDescriptor* field = descriptor->field(i);
        if (field->message_type() != v1::ChildRecord::descriptor() || field->is_repeated() ||
            !reflection->HasField(*response, field)) {
          continue;
        }
        NoteRecord(grant,
                   static_cast<const v1::ChildRecord&>(reflection->GetMessage(*response, field)),
                   entry);
      }
      // A bulk registration's records, one in each birth's result.
      if (const auto* births = dynamic_cast<const v1::RegisterBirthsResponse*>(response)) {
        std::map<std::string, int32_t> refused_by_reason;
        for (const v1::RegisterBirthsResult& result : births->results()) {
          if (result.has_registered()) NoteRecord(grant, result.registered().record(), entry);
          if (result.has_refused()) {
            ++refused_by_reason[v1::ErrorReason_Name(result.refused().reason())];
          }
        }
        for (const auto& [reason, count] : refused_by_reason) {
          v1::RefusedItems* refused = entry.add_refused_items();
          refused->set_reason(reason);
          refused->set_count(count);
        }
      }
    }
    audited->store(true, std::memory_order_release);
    return entry;
  };
  return actor;
}

absl::Status AuditUnavailable(const absl::Status& why) {
  return errors::Refusal(
      absl::StatusCode::kUnavailable, v1::AUDIT_UNAVAILABLE,
      absl::StrCat("the call's audit entry could not be made durable (", why.message(),
                   "), so nothing it read was sent; retry shortly"));
}

}  // namespace cir::server
