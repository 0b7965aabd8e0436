#include "client/cli/cli_support.h"

#include <pwd.h>
#include <unistd.h>

#include <cstdlib>
#include <iostream>
#include <map>
#include <vector>

#include "absl/strings/ascii.h"
#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_split.h"

namespace cir::cli {

const std::vector<ExitStatusMeaning>& ExitStatusMeanings() {
  static const auto* meanings = new std::vector<ExitStatusMeaning>{
      {kExitDone, "done (import: every birth registered, by this run or an earlier one)"},
      {kExitRefused,
       "refused: the registry refused or failed the call, and the message says why after its "
       "machine-readable reason (error: CODE [REASON]: ...); import: some births were refused, "
       "each listed with its reason in the report; audit: the log did not verify"},
      {kExitUsage,
       "bad usage: an unknown command or option, a bad value, an input file that cannot be read"},
      {kExitUnfinished,
       "import stopped before every birth was answered (interrupted, the registry unreachable "
       "for --give-up-after, or the calls themselves refused): the report holds every birth "
       "answered; run the same command again to go on"},
  };
  return *meanings;
}

std::string ExitStatusHelp() {
  std::string help = "Exit status:\n";
  for (const ExitStatusMeaning& exit : ExitStatusMeanings()) {
    absl::StrAppend(&help, "  ", exit.status, "  ", exit.meaning, "\n");
  }
  return help;
}

const std::vector<EnvironmentVariable>& EnvironmentVariables() {
  static const auto* variables = new std::vector<EnvironmentVariable>{
      {"CIR_SERVER", "the registry's address, host:port (--server)"},
      {"CIR_CA", "PEM CA bundle of the registry's certificate (--ca)"},
      {"CIR_CERT", "PEM certificate of your agency (--cert)"},
      {"CIR_KEY", "PEM private key of your agency (--key)"},
      {"CIR_PKI_DIR", "folder of the development certificates scripts/serve makes (--pki-dir)"},
      {"CIR_END_USER", "who you are, as your agency knows you (--end-user)"},
      {"CIR_PURPOSE_OF_USE", "why you look (--purpose)"},
      {"CIR_RECORDED_BY", "who records a life event (--recorded-by)"},
  };
  return *variables;
}

void AddGlobalOptions(CLI::App& app, GlobalOptions& global) {
  auto from_env = [](const char* name, std::string& value) {
    if (const char* env = std::getenv(name); env != nullptr && *env != '\0') value = env;
  };
  from_env("CIR_SERVER", global.server);
  from_env("CIR_CA", global.ca_file);
  from_env("CIR_CERT", global.certificate_file);
  from_env("CIR_KEY", global.key_file);
  from_env("CIR_PKI_DIR", global.pki_dir);
  from_env("CIR_END_USER", global.end_user);
  from_env("CIR_PURPOSE_OF_USE", global.purpose_of_use);
  if (global.end_user.empty()) {
    // The person at the keyboard, as this machine knows them.
    if (const passwd* user = ::getpwuid(::getuid()); user != nullptr)
      global.end_user = user->pw_name;
  }
  app.add_option("--server", global.server, "registry address, host:port (or set CIR_SERVER)")
      ->capture_default_str();
  app.add_option_function<std::string>(
         "--format",
         [&global](const std::string& format) {
           global.format = format == "json"  ? OutputFormat::kJson
                           : format == "csv" ? OutputFormat::kCsv
                                             : OutputFormat::kText;
         },
         "text (default), json (an object a line) or csv (a header row, then a row a result: "
         "resolve, batch-resolve, import)")
      ->check(CLI::IsMember({"text", "json", "csv"}));
  app.add_flag_callback(
      "--json", [&global] { global.format = OutputFormat::kJson; }, "the same as --format json");
  app.add_flag_callback(
      "--progress", [&global] { global.progress = true; },
      "draw progress on standard error (import, batch-resolve, backup) even when it is not a terminal");
  app.add_flag_callback(
      "--no-progress", [&global] { global.progress = false; },
      "never draw progress (default: only when standard error is a terminal)");
  app.add_option("--timeout", global.timeout_seconds, "seconds to wait for each call")
      ->capture_default_str()
      ->check(CLI::PositiveNumber);
  app.add_option("--ca", global.ca_file, "PEM CA bundle of the registry's certificate (CIR_CA)");
  app.add_option("--cert", global.certificate_file,
                 "PEM certificate of your agency (CIR_CERT); default: the development "
                 "certificate of the command's role in --pki-dir");
  app.add_option("--key", global.key_file, "PEM private key of your agency (CIR_KEY)");
  app.add_option("--pki-dir", global.pki_dir,
                 "folder of the development certificates scripts/serve makes (CIR_PKI_DIR)")
      ->capture_default_str();
  app.add_flag("--plaintext", global.plaintext,
               "no TLS: only a registry started for tests on this machine answers");
  app.add_option("--end-user", global.end_user,
                 "who you are, as your agency knows you (CIR_END_USER; default: your login)");
  app.add_option("--purpose", global.purpose_of_use,
                 "why you look: DIRECT_CARE, SAFEGUARDING, EARLY_HELP, EDUCATION, "
                 "RECORD_MAINTENANCE or AUDIT (CIR_PURPOSE_OF_USE)");
}

std::string DevelopmentIdentityFor(const std::string& command) {
  static const auto* roles =
      new std::map<std::string, std::string>{{"register", "maternity"},
                                             {"death", "registrar"},
                                             {"resolve", "health-visiting"},
                                             {"link-nhs", "health-visiting"},
                                             {"link-upn", "school"},
                                             {"batch-resolve", "school"},
                                             {"move", "la-data-team"},
                                             {"correct", "la-data-team"},
                                             {"supersede-nhs", "la-data-team"},
                                             {"merge", "la-data-team"},
                                             {"unmerge", "la-data-team"},
                                             {"restrict", "la-data-team"},
                                             {"watch", "childrens-centre"},
                                             {"events", "childrens-centre"},
                                             {"audit", "auditor"}};
  auto it = roles->find(command);
  return it == roles->end() ? "operator" : it->second;
}

absl::StatusOr<ClientOptions> ConnectionFor(const GlobalOptions& global,
                                            const std::string& command) {
  ClientOptions options{.target = global.server,
                        .end_user = global.end_user,
                        .purpose_of_use = global.purpose_of_use};
  if (global.plaintext) return options;
  MutualTlsFiles files{.ca_file = global.ca_file,
                       .certificate_file = global.certificate_file,
                       .key_file = global.key_file};
  const std::string identity = DevelopmentIdentityFor(command);
  if (files.ca_file.empty()) files.ca_file = global.pki_dir + "/ca.pem";
  if (files.certificate_file.empty())
    files.certificate_file = global.pki_dir + "/" + identity + ".pem";
  if (files.key_file.empty()) files.key_file = global.pki_dir + "/" + identity + ".key";
  absl::StatusOr<std::shared_ptr<grpc::ChannelCredentials>> credentials = MutualTlsFromFiles(files);
  if (!credentials.ok()) {
    return absl::Status(credentials.status().code(),
                        std::string(credentials.status().message()) +
                            " (give --cert, --key and --ca, or run scripts/serve, which makes "
                            "development certificates in " +
                            global.pki_dir + ")");
  }
  options.credentials = *std::move(credentials);
  return options;
}

std::string RefusalText(const absl::Status& status) {
  std::string reason = ErrorReasonNameOf(status);
  return absl::StrCat("error: ", absl::StatusCodeToString(status.code()),
                      reason.empty() ? "" : " [" + reason + "]", ": ", status.message());
}

int Fail(const absl::Status& status) {
  std::cerr << RefusalText(status) << "\n";
  return kExitRefused;
}

int UsageError(const std::string& message) {
  std::cerr << "usage error: " << message << "\n";
  return kExitUsage;
}

std::optional<v1::Date> ParseDate(const std::string& text) {
  std::vector<std::string> parts = absl::StrSplit(text, '-');
  int year, month, day;
  if (parts.size() != 3 || !absl::SimpleAtoi(parts[0], &year) ||
      !absl::SimpleAtoi(parts[1], &month) || !absl::SimpleAtoi(parts[2], &day)) {
    return std::nullopt;
  }
  v1::Date date;
  date.set_year(year);
  date.set_month(month);
  date.set_day(day);
  return date;
}

std::optional<v1::Sex> ParseSex(const std::string& text) {
  static const std::map<std::string, v1::Sex> kNames = {{"male", v1::SEX_MALE},
                                                        {"m", v1::SEX_MALE},
                                                        {"female", v1::SEX_FEMALE},
                                                        {"f", v1::SEX_FEMALE},
                                                        {"indeterminate", v1::SEX_INDETERMINATE},
                                                        {"not-known", v1::SEX_NOT_KNOWN},
                                                        {"not_known", v1::SEX_NOT_KNOWN},
                                                        {"unknown", v1::SEX_NOT_KNOWN}};
  auto it = kNames.find(absl::AsciiStrToLower(text));
  if (it == kNames.end()) return std::nullopt;
  return it->second;
}

}  // namespace cir::cli
