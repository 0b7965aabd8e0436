// cir: the Child Identifier Registry's command-line tool, built only on the client library.
//
//   cir [--server HOST:PORT] [--format text|json|csv] [--timeout SECONDS] COMMAND ...
//   cir register --notifying-system RXH01 --notification-id ID --dob YYYY-MM-DD --sex female
//                --postcode "SW1A 1AA" --la 213 [--birth-order N] [--mother-given-name NAME] ...
//   cir import BIRTHS.csv --notifying-system RXH01 [--report REPORT.csv]   (births in batches)
//   cir resolve IDENTIFIER
//   cir link-upn CHILD_ID UPN [--replace]
//   cir link-nhs CHILD_ID NHS_NUMBER
//   cir batch-resolve FILE            (one identifier a line, or a CSV column; "-" reads stdin)
//   cir death|move|correct|merge|unmerge|supersede-nhs|restrict ...   (life events)
//   cir watch --la 938 [--from CURSOR|--from-start|--since DATE]     (follow a feed)
//   cir events --la 938 [--after CURSOR|--from-start|--since DATE]   (page through a feed)
//   cir audit verify|checkpoint|report ...   (check the audit log against its signed checkpoints)
//   cir completion bash | cir man     (a bash completion script, the manual page, from this help)
//
// Exit statuses: cli_support's table (ExitStatusMeanings), shown by --help and the man page.

#include <algorithm>
#include <cstdio>
#include <cstdlib>
#include <fstream>
#include <iostream>
#include <map>
#include <optional>
#include <string>
#include <vector>

#include "CLI/CLI.hpp"
#include "absl/strings/ascii.h"
#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_split.h"
#include "cir/client.h"
#include "client/cli/audit_commands.h"
#include "client/cli/bash_completion.h"
#include "client/cli/batch_resolve_command.h"
#include "client/cli/cli_support.h"
#include "client/cli/csv.h"
#include "client/cli/feed_commands.h"
#include "client/cli/import_command.h"
#include "client/cli/life_event_commands.h"
#include "client/cli/man_page.h"
#include "client/cli/record_printer.h"

namespace {

using cir::cli::Fail;
using cir::cli::ParseDate;
using cir::cli::ParseSex;
using cir::cli::UsageError;

std::string UpnOutcomeText(cir::v1::LinkUpnResponse::Outcome outcome) {
  switch (outcome) {
    case cir::v1::LinkUpnResponse::OUTCOME_LINKED:
      return "UPN linked";
    case cir::v1::LinkUpnResponse::OUTCOME_REPLACED_TEMPORARY:
      return "UPN linked; it replaces the temporary UPN, which is kept as a former UPN";
    case cir::v1::LinkUpnResponse::OUTCOME_KEPT_AS_FORMER:
      return "UPN kept as a former UPN; the child's first permanent UPN stays current";
    default:
      return "The child already has this UPN";
  }
}

}  // namespace

int main(int argc, char** argv) {
  cir::cli::GlobalOptions global;
  CLI::App app{
      "cir: register births and resolve children's identifiers in the Child Identifier "
      "Registry",
      "cir"};
  app.require_subcommand(1);
  app.fallthrough();  // global options may also follow the command: cir resolve ID --json
  app.set_version_flag("--version", CIR_VERSION);
  cir::cli::AddGlobalOptions(app, global);

  cir::v1::RegisterBirthRequest birth;
  std::string dob_text, sex_text;
  CLI::App* reg = app.add_subcommand("register", "register a birth and print the child's record");
  reg->add_option("--notifying-system", *birth.mutable_notifying_system(),
                  "ODS organisation code of the system sending the notification, e.g. RXH01")
      ->required();
  reg->add_option("--notification-id", *birth.mutable_notification_id(),
                  "your system's id for this notification; retries with it return the same child")
      ->required();
  reg->add_option("--nhs", *birth.mutable_nhs_number(), "the child's NHS number, if allocated");
  reg->add_option("--dob", dob_text, "date of birth, YYYY-MM-DD")->required();
  reg->add_option("--sex", sex_text, "male, female, indeterminate or not-known")->required();
  reg->add_option("--given-name", *birth.mutable_given_name(), "given name, if named");
  reg->add_option("--family-name", *birth.mutable_family_name(), "family name, if known");
  std::vector<std::string> address_lines;
  reg->add_option("--address-line", address_lines,
                  "a line of the address of usual residence, without the postcode (up to 4; "
                  "repeat the option for each)");
  reg->add_option("--postcode", *birth.mutable_postcode(), "postcode of usual residence")
      ->required();
  reg->add_option("--la", *birth.mutable_local_authority(),
                  "DfE three-digit local authority number of usual residence")
      ->required();
  reg->add_option("--mother-nhs", *birth.mutable_mother_nhs_number(),
                  "the mother's NHS number, if known");
  reg->add_option("--mother-given-name", *birth.mutable_mother_given_name(),
                  "the mother's given name, if notified");
  reg->add_option("--mother-family-name", *birth.mutable_mother_family_name(),
                  "the mother's family name, if notified");
  int birth_order = 0;
  reg->add_option("--birth-order", birth_order,
                  "1 for a singleton (the default); 1, 2, ... for each child of a multiple birth")
      ->check(CLI::Range(1, 9));

  std::string identifier, kind_text;
  CLI::App* resolve = app.add_subcommand(
      "resolve",
      "print the child a child identifier, NHS number or UPN (current or former) "
      "belongs to");
  resolve->add_option("identifier", identifier, "the identifier; spaces and hyphens are fine")
      ->required();
  resolve->add_option("--kind", kind_text, "child, nhs or upn (default: detected from the shape)")
      ->check(CLI::IsMember({"child", "nhs", "upn"}));

  cir::v1::LinkUpnRequest link_upn;
  CLI::App* upn = app.add_subcommand(
      "link-upn", "link a UPN to a child, or with --replace replace the child's UPN");
  upn->add_option("child_id", *link_upn.mutable_child_id(), "the child's identifier")->required();
  upn->add_option("upn", *link_upn.mutable_upn(), "the UPN")->required();
  bool replace = false;
  upn->add_flag("--replace", replace,
                "confirm a change to a child that already has a UPN: a temporary UPN is replaced "
                "(and kept as former); a second permanent UPN is kept as a former UPN, the first "
                "staying current");

  cir::v1::LinkNhsNumberRequest link_nhs;
  CLI::App* nhs =
      app.add_subcommand("link-nhs", "add an NHS number to a child registered without one");
  nhs->add_option("child_id", *link_nhs.mutable_child_id(), "the child's identifier")->required();
  nhs->add_option("nhs_number", *link_nhs.mutable_nhs_number(), "the NHS number")->required();

  cir::cli::BatchResolveCommand batch_resolve(app);
  cir::cli::ImportCommand import(app);
  cir::cli::LifeEventCommands life_events(app);
  cir::cli::FeedCommands feed(app);
  cir::cli::AuditCommands audit(app);

  std::string shell;
  CLI::App* completion = app.add_subcommand(
      "completion",
      "print a shell completion script: cir completion bash > /etc/bash_completion.d/cir");
  completion->add_option("shell", shell, "the shell: bash")
      ->required()
      ->check(CLI::IsMember({"bash"}));
  CLI::App* manual = app.add_subcommand("man", "print the manual page (roff): cir man | man -l -");

  // After the commands are added, so that they do not inherit it.
  std::string environment;
  for (const cir::cli::EnvironmentVariable& variable : cir::cli::EnvironmentVariables()) {
    environment += absl::StrCat(environment.empty() ? "" : ", ", variable.name);
  }
  app.footer(absl::StrCat(cir::cli::ExitStatusHelp(), "Environment: ", environment,
                          "\nShell completion: cir completion bash; manual: man cir (cir man)."));

  try {
    app.parse(argc, argv);
  } catch (const CLI::ParseError& e) {
    int code = app.exit(e);
    return code == 0 ? cir::cli::kExitDone : cir::cli::kExitUsage;
  }
  if (completion->parsed()) {
    std::cout << cir::cli::BashCompletion(app);
    return cir::cli::kExitDone;
  }
  if (manual->parsed()) {
    std::cout << cir::cli::ManPage(app, CIR_VERSION);
    return cir::cli::kExitDone;
  }
  const std::string command = app.get_subcommands().front()->get_name();
  if (global.csv() && command != "resolve" && command != "batch-resolve" && command != "import") {
    return UsageError("--format csv is for resolve, batch-resolve and import");
  }

  absl::StatusOr<cir::ClientOptions> connection = cir::cli::ConnectionFor(global, command);
  if (!connection.ok()) return Fail(connection.status());
  cir::Client client(*std::move(connection));
  cir::CallOptions call{.timeout = absl::Seconds(global.timeout_seconds)};
  if (std::optional<int> status = life_events.Run(client, global); status.has_value()) {
    return *status;
  }
  if (std::optional<int> status = feed.Run(client, global); status.has_value()) return *status;
  if (std::optional<int> status = audit.Run(client, global); status.has_value()) return *status;
  if (std::optional<int> status = batch_resolve.Run(client, global); status.has_value()) {
    return *status;
  }
  if (std::optional<int> status = import.Run(client, global); status.has_value()) return *status;

  if (reg->parsed()) {
    std::optional<cir::v1::Date> dob = ParseDate(dob_text);
    if (!dob.has_value()) return UsageError("--dob must be a date YYYY-MM-DD");
    std::optional<cir::v1::Sex> sex = ParseSex(sex_text);
    if (!sex.has_value())
      return UsageError("--sex must be male, female, indeterminate or not-known");
    *birth.mutable_date_of_birth() = *dob;
    birth.set_sex(*sex);
    birth.set_birth_order(birth_order);
    for (const std::string& line : address_lines) birth.add_address_lines(line);
    absl::StatusOr<cir::v1::RegisterBirthResponse> response = client.RegisterBirth(birth, call);
    if (!response.ok()) return Fail(response.status());
    if (global.json()) {
      std::cout << cir::cli::ToJson(*response) << "\n";
    } else {
      // A retry of the notification that created the child answers as the first call did.
      std::cout << (response->created()
                        ? "Registered by this notification\n"
                        : "Already registered by another notification (nothing created)\n")
                << cir::cli::FormatRecord(response->record());
    }
    return 0;
  }

  if (resolve->parsed()) {
    cir::v1::ResolveRequest request;
    request.set_identifier(identifier);
    if (kind_text == "child") request.set_kind(cir::v1::IDENTIFIER_KIND_CHILD_ID);
    if (kind_text == "nhs") request.set_kind(cir::v1::IDENTIFIER_KIND_NHS_NUMBER);
    if (kind_text == "upn") request.set_kind(cir::v1::IDENTIFIER_KIND_UPN);
    absl::StatusOr<cir::v1::ResolveResponse> response = client.Resolve(request, call);
    if (!response.ok()) return Fail(response.status());
    if (global.json()) {
      std::cout << cir::cli::ToJson(*response) << "\n";
    } else if (global.csv()) {
      std::vector<std::string> header = cir::cli::RecordCsvHeader();
      std::vector<std::string> fields = cir::cli::RecordCsvFields(response->record());
      header.push_back("matched_former");
      fields.push_back(response->matched_former() ? "true" : "false");
      std::cout << cir::cli::CsvLine(header) << "\n" << cir::cli::CsvLine(fields) << "\n";
    } else {
      if (response->matched_former()) std::cout << "(matched a former identifier)\n";
      std::cout << cir::cli::FormatRecord(response->record());
    }
    return 0;
  }

  if (upn->parsed()) {
    link_upn.set_replace_current(replace);
    absl::StatusOr<cir::v1::LinkUpnResponse> response = client.LinkUpn(link_upn, call);
    if (!response.ok()) return Fail(response.status());
    if (global.json()) {
      std::cout << cir::cli::ToJson(*response) << "\n";
    } else {
      std::cout << UpnOutcomeText(response->outcome()) << "\n"
                << cir::cli::FormatRecord(response->record());
    }
    return 0;
  }

  if (nhs->parsed()) {
    absl::StatusOr<cir::v1::LinkNhsNumberResponse> response = client.LinkNhsNumber(link_nhs, call);
    if (!response.ok()) return Fail(response.status());
    if (global.json()) {
      std::cout << cir::cli::ToJson(*response) << "\n";
    } else {
      std::cout << (response->changed() ? "NHS number linked\n"
                                        : "The child already has this NHS number\n")
                << cir::cli::FormatRecord(response->record());
    }
    return 0;
  }

  return UsageError("no command given; see cir --help");
}
