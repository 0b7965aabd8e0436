// Fuzzes the access configuration's reader (access/access_policy.h): the input is the text of a
// configuration file.
//
// Beyond not crashing:
// - A refusal is INVALID_ARGUMENT and every line of its message names the file and a line of the
//   text to fix ("access.textproto:LINE: ..." or "access.textproto:LINE:COLUMN: ..."), a line the
//   text has; the one refusal that can name no line is a missing trust domain.
// - An accepted configuration holds what its rules promise: every agency of the text is found by
//   its id and by its certificate's URI (and by no other URI), with at least one role; children's
//   centres and local authority data teams have well-formed local authorities, maternity systems
//   ODS codes, upper case, each given to one agency only.

#include <algorithm>
#include <cstddef>
#include <cstdint>
#include <memory>
#include <string>
#include <vector>

#include "absl/container/flat_hash_set.h"
#include "absl/strings/ascii.h"
#include "absl/strings/match.h"
#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_split.h"
#include "absl/strings/string_view.h"
#include "access/access_config.pb.h"
#include "access/access_policy.h"
#include "google/protobuf/text_format.h"
#include "identifiers/local_authority.h"
#include "tests/fuzz/fuzz_check.h"

namespace cir::access {
namespace {

using fuzz::Printable;

constexpr absl::string_view kSource = "access.textproto";

// The number of lines of `text` as a text parser counts them (the last may be empty).
int LineCount(absl::string_view text) {
  return 1 + static_cast<int>(std::count(text.begin(), text.end(), '\n'));
}

// Whether `text`, parsed as a configuration, gives a trust domain (empty or not) somewhere.
bool GivesTrustDomain(absl::string_view text) {
  AccessConfig config;
  google::protobuf::TextFormat::ParseInfoTree tree;
  google::protobuf::TextFormat::Parser parser;
  parser.WriteLocationsTo(&tree);
  if (!parser.ParseFromString(std::string(text), &config)) return false;
  return tree.GetLocation(AccessConfig::descriptor()->FindFieldByName("trust_domain"), -1).line >=
         0;
}

void CheckRefusal(absl::string_view text, const absl::Status& refusal) {
  const std::string context =
      absl::StrCat(refusal.ToString(), "\n  for the text \"", Printable(text), "\"");
  CIR_FUZZ_CHECK(absl::IsInvalidArgument(refusal), context);
  CIR_FUZZ_CHECK(!refusal.message().empty(), context);
  for (absl::string_view line : absl::StrSplit(refusal.message(), '\n')) {
    absl::string_view rest = line;
    CIR_FUZZ_CHECK(absl::ConsumePrefix(&rest, kSource) && absl::ConsumePrefix(&rest, ":"), context);
    const size_t digits = rest.find_first_not_of("0123456789");
    if (digits == 0) {
      // No line: only a trust domain the text does not give.
      CIR_FUZZ_CHECK(absl::StartsWith(rest, " trust_domain: "), context);
      CIR_FUZZ_CHECK(!GivesTrustDomain(text), context);
      continue;
    }
    int number = 0;
    CIR_FUZZ_CHECK(
        digits != absl::string_view::npos && absl::SimpleAtoi(rest.substr(0, digits), &number),
        context);
    CIR_FUZZ_CHECK(number >= 1 && number <= LineCount(text), context);
    CIR_FUZZ_CHECK(rest[digits] == ':', context);
  }
}

bool IsOdsCode(absl::string_view code) {
  if (code.size() < 3 || code.size() > 10) return false;
  for (char c : code) {
    if (!absl::ascii_isdigit(static_cast<unsigned char>(c)) &&
        !absl::ascii_isupper(static_cast<unsigned char>(c))) {
      return false;
    }
  }
  return true;
}

void CheckAccepted(absl::string_view text, const AccessPolicy& policy) {
  const std::string context = absl::StrCat("the text \"", Printable(text), "\"");
  // The same text, as the configuration's message, for the agencies it lists.
  AccessConfig config;
  CIR_FUZZ_CHECK(google::protobuf::TextFormat::ParseFromString(std::string(text), &config),
                 context);
  CIR_FUZZ_CHECK(policy.trust_domain() == config.trust_domain() && !config.trust_domain().empty(),
                 context);
  CIR_FUZZ_CHECK(policy.agency_count() == static_cast<size_t>(config.agency_size()), context);

  absl::flat_hash_set<std::string> systems;
  for (const AgencyConfig& configured : config.agency()) {
    const Agency* agency = policy.FindAgency(configured.id());
    CIR_FUZZ_CHECK(agency != nullptr && agency->id == configured.id(), context);
    const std::string uri =
        absl::StrCat("spiffe://", policy.trust_domain(), "/agency/", configured.id());
    CIR_FUZZ_CHECK(policy.AgencyOfUri(uri) == agency, context);
    CIR_FUZZ_CHECK(policy.AgencyOfUri(absl::StrCat(uri, "/")) == nullptr, context);
    CIR_FUZZ_CHECK(policy.AgencyOfUri(absl::StrCat("x", uri)) == nullptr, context);
    CIR_FUZZ_CHECK(policy.AgencyOfUri(uri.substr(0, uri.size() - 1)) != agency, context);

    CIR_FUZZ_CHECK(!agency->roles.empty() && !agency->roles.contains(ROLE_UNSPECIFIED), context);
    const bool area_scoped =
        agency->HasRole(ROLE_CHILDRENS_CENTRE) || agency->HasRole(ROLE_LA_DATA_TEAM);
    CIR_FUZZ_CHECK(area_scoped == !agency->local_authorities.empty(), context);
    for (const std::string& area : agency->local_authorities) {
      absl::StatusOr<std::string> canonical = identifiers::ParseLocalAuthority(area);
      CIR_FUZZ_CHECK(canonical.ok() && *canonical == area, context);
    }
    CIR_FUZZ_CHECK(agency->HasRole(ROLE_MATERNITY) == !agency->notifying_systems.empty(), context);
    for (const std::string& system : agency->notifying_systems) {
      CIR_FUZZ_CHECK(IsOdsCode(system), context);
      CIR_FUZZ_CHECK(systems.insert(system).second, context);
    }
  }
}

void TestOneInput(absl::string_view text) {
  absl::StatusOr<std::shared_ptr<const AccessPolicy>> policy = AccessPolicy::Parse(text, kSource);
  if (!policy.ok()) {
    CheckRefusal(text, policy.status());
    return;
  }
  CIR_FUZZ_CHECK(*policy != nullptr, Printable(text));
  CheckAccepted(text, **policy);
}

}  // namespace
}  // namespace cir::access

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  cir::access::TestOneInput(absl::string_view(reinterpret_cast<const char*>(data), size));
  return 0;
}
