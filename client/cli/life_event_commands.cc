#include "client/cli/life_event_commands.h"

#include <openssl/rand.h>
#include <pwd.h>
#include <unistd.h>

#include <cstdlib>
#include <iostream>

#include "absl/strings/escaping.h"
#include "absl/strings/str_cat.h"
#include "client/cli/record_printer.h"

namespace cir::cli {
namespace {

// A request id nobody else will use: "cli-" and 16 random bytes in hexadecimal.
std::string NewRequestId() {
  unsigned char bytes[16];
  if (RAND_bytes(bytes, sizeof(bytes)) != 1) std::abort();
  return absl::StrCat("cli-", absl::BytesToHexString(absl::string_view(
                                  reinterpret_cast<const char*>(bytes), sizeof(bytes))));
}

std::string DefaultRecordedBy() {
  if (const char* who = std::getenv("CIR_RECORDED_BY"); who != nullptr && *who != '\0') {
    return who;
  }
  const char* user = std::getenv("USER");
  if (user == nullptr || *user == '\0') {
    const struct passwd* entry = getpwuid(getuid());
    user = entry != nullptr ? entry->pw_name : nullptr;
  }
  return user != nullptr ? absl::StrCat(user, " (cir command line)") : "";
}

// Prints a life event's outcome: the record after it, or JSON.
template <typename Response>
int Report(const absl::StatusOr<Response>& response, const GlobalOptions& global,
           absl::string_view done, const std::string& request_id) {
  if (!response.ok()) {
    std::cerr << "request id " << request_id
              << " (retry with --request-id to repeat this request safely)\n";
    return Fail(response.status());
  }
  if (global.json()) {
    std::cout << ToJson(*response) << "\n";
    return 0;
  }
  std::cout << (response->changed() ? std::string(done)
                                    : "Nothing to change: the record says so already")
            << "\n"
            << FormatRecord(response->record());
  return 0;
}

std::optional<v1::RestrictionChange> ParseRestrictionChange(const std::string& text) {
  if (text.empty()) return v1::RESTRICTION_CHANGE_UNSPECIFIED;
  if (text == "set") return v1::RESTRICTION_CHANGE_SET;
  if (text == "lift") return v1::RESTRICTION_CHANGE_LIFT;
  return std::nullopt;
}

}  // namespace

LifeEventCommands::LifeEventCommands(CLI::App& app) {
  death_ =
      app.add_subcommand("death", "record a child's death (informal or formal), or retract one");
  death_->add_option("child_id", death_child_, "the child's identifier")->required();
  death_
      ->add_option("--notice", death_notice_,
                   "informal (from a local NHS organisation), formal (registered) or retraction")
      ->required()
      ->check(CLI::IsMember({"informal", "formal", "retraction"}));
  death_->add_option("--date", death_date_, "date of death, YYYY-MM-DD (not for a retraction)");
  AddCommonOptions(death_);

  move_ = app.add_subcommand("move", "change a child's address of usual residence");
  move_->add_option("child_id", move_child_, "the child's identifier")->required();
  move_
      ->add_option("--address-line", move_lines_,
                   "a line of the new address without the postcode (1-4; repeat the option)")
      ->required();
  move_->add_option("--postcode", move_postcode_, "the new postcode")->required();
  move_->add_option("--la", move_la_, "the new DfE local authority number")->required();
  move_->add_option("--date", move_date_, "when the family moved, YYYY-MM-DD (default today)");
  AddCommonOptions(move_);

  correct_ = app.add_subcommand(
      "correct", "correct a child's details; --version is the record version you corrected from");
  correct_->add_option("child_id", correct_child_, "the child's identifier")->required();
  correct_
      ->add_option("--version", correct_version_,
                   "the record's version when you read it (a later change refuses the "
                   "correction, so that nobody's change is overwritten)")
      ->required();
  correct_->add_option("--given-name", correct_given_, "the corrected given name");
  correct_->add_option("--family-name", correct_family_, "the corrected family name");
  correct_->add_option("--dob", correct_dob_, "the corrected date of birth, YYYY-MM-DD");
  correct_->add_option("--sex", correct_sex_, "male, female, indeterminate or not-known");
  correct_->add_option("--birth-order", correct_birth_order_, "the corrected birth order, 1-9")
      ->check(CLI::Range(1, 9));
  correct_->add_option("--mother-given-name", correct_mother_given_, "the mother's given name");
  correct_->add_option("--mother-family-name", correct_mother_family_, "the mother's family name");
  AddCommonOptions(correct_);

  supersede_ = app.add_subcommand(
      "supersede-nhs", "give a child its surviving NHS number; the current one becomes former");
  supersede_->add_option("child_id", supersede_child_, "the child's identifier")->required();
  supersede_->add_option("nhs_number", supersede_nhs_, "the surviving NHS number")->required();
  AddCommonOptions(supersede_);

  merge_ = app.add_subcommand("merge", "merge two records of one child: RETIRED into SURVIVOR");
  merge_->add_option("survivor", merge_survivor_, "the record that survives")->required();
  merge_->add_option("retired", merge_retired_, "the record retired into it")->required();
  merge_->add_flag("--nhs-superseded", merge_nhs_superseded_,
                   "confirm NHS England has superseded the retired record's NHS number");
  merge_->add_flag("--override-not-same", merge_override_,
                   "merge a pair an undone merge marked as not the same child");
  AddCommonOptions(merge_);

  unmerge_ = app.add_subcommand("unmerge", "undo the merge of a retired record");
  unmerge_->add_option("retired", unmerge_retired_, "the retired record's identifier")->required();
  AddCommonOptions(unmerge_);

  restrict_ = app.add_subcommand(
      "restrict", "set or lift the parents' objection to sharing, or the sensitive flag");
  restrict_->add_option("child_id", restrict_child_, "the child's identifier")->required();
  restrict_->add_option("--objection", restrict_objection_, "set or lift")
      ->check(CLI::IsMember({"set", "lift"}));
  restrict_->add_option("--sensitive", restrict_sensitive_, "set or lift")
      ->check(CLI::IsMember({"set", "lift"}));
  AddCommonOptions(restrict_);
}

void LifeEventCommands::AddCommonOptions(CLI::App* command) {
  command->add_option("--request-id", request_id_,
                      "your id for this change (default: a new random one, printed on failure); "
                      "repeat it to retry safely");
  command->add_option("--recorded-by", recorded_by_,
                      "who makes the change (default: CIR_RECORDED_BY, or your login name)");
}

std::optional<int> LifeEventCommands::Run(Client& client, const GlobalOptions& global) {
  CallOptions call{.timeout = absl::Seconds(global.timeout_seconds)};
  const std::string request_id = request_id_.empty() ? NewRequestId() : request_id_;
  const std::string recorded_by = recorded_by_.empty() ? DefaultRecordedBy() : recorded_by_;

  if (death_->parsed()) {
    v1::RecordDeathRequest request;
    request.set_request_id(request_id);
    request.set_recorded_by(recorded_by);
    request.set_child_id(death_child_);
    request.set_notice(death_notice_ == "informal" ? v1::DEATH_NOTICE_INFORMAL
                       : death_notice_ == "formal" ? v1::DEATH_NOTICE_FORMAL
                                                   : v1::DEATH_NOTICE_RETRACTION);
    if (!death_date_.empty()) {
      std::optional<v1::Date> date = ParseDate(death_date_);
      if (!date.has_value()) return UsageError("--date must be a date YYYY-MM-DD");
      *request.mutable_date_of_death() = *date;
    }
    return Report(
        client.RecordDeath(request, call), global,
        request.notice() == v1::DEATH_NOTICE_RETRACTION ? "Death retracted" : "Death recorded",
        request_id);
  }
  if (move_->parsed()) {
    v1::ChangeAddressRequest request;
    request.set_request_id(request_id);
    request.set_recorded_by(recorded_by);
    request.set_child_id(move_child_);
    for (const std::string& line : move_lines_) request.add_address_lines(line);
    request.set_postcode(move_postcode_);
    request.set_local_authority(move_la_);
    if (!move_date_.empty()) {
      std::optional<v1::Date> date = ParseDate(move_date_);
      if (!date.has_value()) return UsageError("--date must be a date YYYY-MM-DD");
      *request.mutable_effective_date() = *date;
    }
    return Report(client.ChangeAddress(request, call), global, "Address changed", request_id);
  }
  if (correct_->parsed()) {
    v1::CorrectDetailsRequest request;
    request.set_request_id(request_id);
    request.set_recorded_by(recorded_by);
    request.set_child_id(correct_child_);
    request.set_expected_version(correct_version_);
    if (correct_given_) request.set_given_name(*correct_given_);
    if (correct_family_) request.set_family_name(*correct_family_);
    if (correct_mother_given_) request.set_mother_given_name(*correct_mother_given_);
    if (correct_mother_family_) request.set_mother_family_name(*correct_mother_family_);
    if (!correct_dob_.empty()) {
      std::optional<v1::Date> dob = ParseDate(correct_dob_);
      if (!dob.has_value()) return UsageError("--dob must be a date YYYY-MM-DD");
      *request.mutable_date_of_birth() = *dob;
    }
    if (!correct_sex_.empty()) {
      std::optional<v1::Sex> sex = ParseSex(correct_sex_);
      if (!sex.has_value()) {
        return UsageError("--sex must be male, female, indeterminate or not-known");
      }
      request.set_sex(*sex);
    }
    request.set_birth_order(correct_birth_order_);
    return Report(client.CorrectDetails(request, call), global, "Details corrected", request_id);
  }
  if (supersede_->parsed()) {
    v1::SupersedeNhsNumberRequest request;
    request.set_request_id(request_id);
    request.set_recorded_by(recorded_by);
    request.set_child_id(supersede_child_);
    request.set_new_nhs_number(supersede_nhs_);
    return Report(client.SupersedeNhsNumber(request, call), global,
                  "NHS number superseded; the old one is kept as a former number", request_id);
  }
  if (merge_->parsed()) {
    v1::MergeRecordsRequest request;
    request.set_request_id(request_id);
    request.set_recorded_by(recorded_by);
    request.set_surviving_child_id(merge_survivor_);
    request.set_retired_child_id(merge_retired_);
    request.set_retired_nhs_number_superseded(merge_nhs_superseded_);
    request.set_override_not_same_child(merge_override_);
    return Report(client.MergeRecords(request, call), global,
                  "Merged; the retired record now resolves to this one", request_id);
  }
  if (unmerge_->parsed()) {
    v1::UndoMergeRequest request;
    request.set_request_id(request_id);
    request.set_recorded_by(recorded_by);
    request.set_retired_child_id(unmerge_retired_);
    return Report(client.UndoMerge(request, call), global,
                  "Merge undone; the record is a child of its own again", request_id);
  }
  if (restrict_->parsed()) {
    v1::RestrictSharingRequest request;
    request.set_request_id(request_id);
    request.set_recorded_by(recorded_by);
    request.set_child_id(restrict_child_);
    request.set_objection(*ParseRestrictionChange(restrict_objection_));
    request.set_sensitive(*ParseRestrictionChange(restrict_sensitive_));
    return Report(client.RestrictSharing(request, call), global, "Restrictions changed",
                  request_id);
  }
  return std::nullopt;
}

}  // namespace cir::cli
