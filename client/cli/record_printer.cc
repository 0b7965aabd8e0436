#include "client/cli/record_printer.h"

#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "absl/strings/str_join.h"
#include "google/protobuf/util/json_util.h"

namespace cir::cli {
namespace {

std::string NhsDisplay(const std::string& nhs) {
  if (nhs.size() != 10) return nhs.empty() ? "-" : nhs;
  return absl::StrCat(nhs.substr(0, 3), " ", nhs.substr(3, 3), " ", nhs.substr(6));
}

std::string OrDash(const std::string& value) { return value.empty() ? "-" : value; }

std::string SexName(v1::Sex sex) {
  switch (sex) {
    case v1::SEX_MALE:
      return "male";
    case v1::SEX_FEMALE:
      return "female";
    case v1::SEX_INDETERMINATE:
      return "indeterminate";
    case v1::SEX_NOT_KNOWN:
      return "not known";
    default:
      return "-";
  }
}

std::string DateText(const v1::Date& date) {
  return absl::StrFormat("%04d-%02d-%02d", date.year(), date.month(), date.day());
}

std::string StatusText(const v1::ChildRecord& record) {
  switch (record.status()) {
    case v1::RECORD_STATUS_ACTIVE:
      return "active";
    case v1::RECORD_STATUS_DECEASED:
      return absl::StrCat(
          "deceased ", DateText(record.date_of_death()),
          record.death_kind() == v1::DEATH_KIND_FORMAL ? " (registered)" : " (informal notice)");
    case v1::RECORD_STATUS_MERGED:
      return absl::StrCat("merged into ", record.merged_into_child_id());
    default:
      return "-";
  }
}

void Line(std::string& out, absl::string_view label, absl::string_view value) {
  absl::StrAppend(&out, absl::StrFormat("  %-18s %s\n", label, value));
}

}  // namespace

std::string FormatRecord(const v1::ChildRecord& record) {
  std::string out = absl::StrCat("Child ", record.child_id_display(), "\n");
  Line(out, "NHS number", NhsDisplay(record.nhs_number()));
  if (record.former_nhs_numbers_size() > 0) {
    std::vector<std::string> former;
    for (const std::string& nhs : record.former_nhs_numbers()) former.push_back(NhsDisplay(nhs));
    Line(out, "former NHS numbers", absl::StrJoin(former, ", "));
  }
  Line(out, "UPN", OrDash(record.upn()));
  if (record.former_upns_size() > 0) {
    Line(out, "former UPNs", absl::StrJoin(record.former_upns(), ", "));
  }
  const v1::Date& dob = record.date_of_birth();
  Line(out, "date of birth", DateText(dob));
  Line(out, "sex", SexName(record.sex()));
  std::vector<std::string> names;
  for (const std::string& part : {record.given_name(), record.family_name()}) {
    if (!part.empty()) names.push_back(part);
  }
  std::string name = absl::StrJoin(names, " ");
  Line(out, "name", name.empty() ? "(not named at notification)" : name);
  if (record.address_lines_size() > 0) {
    Line(out, "address", absl::StrJoin(record.address_lines(), ", "));
  }
  Line(out, "postcode", OrDash(record.postcode()));
  Line(out, "local authority", OrDash(record.local_authority()));
  Line(out, "mother's NHS no.", NhsDisplay(record.mother_nhs_number()));
  Line(out, "status", StatusText(record));
  if (!record.merged_from_child_ids().empty()) {
    Line(out, "merged from", absl::StrJoin(record.merged_from_child_ids(), ", "));
  }
  if (record.sharing_objection()) Line(out, "sharing", "parents object: no children's centre feed");
  if (record.sensitive()) Line(out, "sensitive", "address withheld from those without the need");
  Line(out, "version", absl::StrCat(record.version()));
  return out;
}

std::vector<std::string> RecordCsvHeader() {
  return {
      "child_id",    "nhs_number",    "upn", "former_nhs_numbers", "former_upns",     "given_name",
      "family_name", "date_of_birth", "sex", "postcode",           "local_authority", "status",
      "version"};
}

std::vector<std::string> RecordCsvFields(const v1::ChildRecord& record) {
  return {record.child_id_display(),
          record.nhs_number(),
          record.upn(),
          absl::StrJoin(record.former_nhs_numbers(), " "),
          absl::StrJoin(record.former_upns(), " "),
          record.given_name(),
          record.family_name(),
          record.has_date_of_birth() ? DateText(record.date_of_birth()) : "",
          record.sex() == v1::SEX_UNSPECIFIED ? "" : SexName(record.sex()),
          record.postcode(),
          record.local_authority(),
          StatusText(record),
          absl::StrCat(record.version())};
}

std::string ToJson(const google::protobuf::Message& message) {
  google::protobuf::util::JsonPrintOptions options;
  options.preserve_proto_field_names = true;
  options.always_print_primitive_fields = true;  // "created": false is an answer too
  std::string json;
  if (!google::protobuf::util::MessageToJsonString(message, &json, options).ok()) return "{}";
  return json;
}

}  // namespace cir::cli
