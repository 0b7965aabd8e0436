#include "access/access_policy.h"

#include <fstream>
#include <sstream>
#include <utility>

#include "absl/status/status.h"
#include "absl/strings/ascii.h"
#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "absl/strings/strip.h"
#include "google/protobuf/io/tokenizer.h"
#include "google/protobuf/text_format.h"
#include "identifiers/local_authority.h"

namespace cir::access {
namespace {

using google::protobuf::FieldDescriptor;
using google::protobuf::TextFormat;

constexpr size_t kMaxAgencyIdLength = 64;
constexpr size_t kMinOdsCodeLength = 3;
constexpr size_t kMaxOdsCodeLength = 10;

// Collects the parser's complaints as "source:line:column: message" (lines from 1).
class ParseErrors : public google::protobuf::io::ErrorCollector {
 public:
  explicit ParseErrors(absl::string_view source) : source_(source) {}
  void AddError(int line, int column, const std::string& message) override {
    errors_.push_back(absl::StrCat(source_, ":", line + 1, ":", column + 1, ": ", message));
  }
  void AddWarning(int line, int column, const std::string& message) override {
    AddError(line, column, message);
  }
  std::string Joined() const { return absl::StrJoin(errors_, "\n"); }

 private:
  std::string source_;
  std::vector<std::string> errors_;
};

// Where a field's value sits in the text, for messages: "source:line".
class Locator {
 public:
  Locator(absl::string_view source, const TextFormat::ParseInfoTree& tree)
      : source_(source), tree_(tree) {}

  // The line of `field`'s value `index` (-1 for a field that is not repeated). The parser records
  // one place per occurrence of a field, and a list ("role: [A, B]") is one occurrence: a value
  // without a place of its own is named by the nearest place recorded before it (its list's, when
  // the field is given as one list). Only a field the text does not give is named by the file
  // alone.
  std::string Of(const TextFormat::ParseInfoTree& tree, const FieldDescriptor* field,
                 int index = -1) const {
    TextFormat::ParseLocation location = tree.GetLocation(field, index);
    for (int earlier = index - 1; location.line < 0 && earlier >= 0; --earlier) {
      location = tree.GetLocation(field, earlier);
    }
    if (location.line < 0) return std::string(source_);
    return absl::StrCat(source_, ":", location.line + 1);
  }
  const TextFormat::ParseInfoTree& root() const { return tree_; }

 private:
  std::string source_;
  const TextFormat::ParseInfoTree& tree_;
};

bool IsDnsName(absl::string_view name) {
  if (name.empty() || name.size() > 253) return false;
  for (char c : name) {
    if (!absl::ascii_islower(c) && !absl::ascii_isdigit(c) && c != '-' && c != '.') return false;
  }
  return name.front() != '.' && name.back() != '.' && !absl::StrContains(name, "..");
}

bool IsAgencyId(absl::string_view id) {
  if (id.empty() || id.size() > kMaxAgencyIdLength) return false;
  for (char c : id) {
    if (!absl::ascii_islower(c) && !absl::ascii_isdigit(c) && c != '-') return false;
  }
  return true;
}

bool IsOdsCode(absl::string_view code) {
  if (code.size() < kMinOdsCodeLength || code.size() > kMaxOdsCodeLength) return false;
  for (char c : code) {
    if (!absl::ascii_isalnum(c)) return false;
  }
  return true;
}

bool IsAreaScoped(Role role) { return role == ROLE_CHILDRENS_CENTRE || role == ROLE_LA_DATA_TEAM; }

absl::Status ConfigError(const std::string& where, absl::string_view message) {
  return absl::InvalidArgumentError(absl::StrCat(where, ": ", message));
}

// Checks one agency and turns it into the form calls are checked against.
absl::StatusOr<Agency> CheckAgency(const AgencyConfig& config,
                                   const TextFormat::ParseInfoTree& tree, const Locator& at,
                                   const std::string& at_agency) {
  const google::protobuf::Descriptor* descriptor = AgencyConfig::descriptor();
  const FieldDescriptor* id_field = descriptor->FindFieldByName("id");
  const FieldDescriptor* role_field = descriptor->FindFieldByName("role");
  const FieldDescriptor* area_field = descriptor->FindFieldByName("local_authority");
  const FieldDescriptor* system_field = descriptor->FindFieldByName("notifying_system");
  // The id's line, or the agency block's when it has no id.
  const std::string at_id =
      tree.GetLocation(id_field, -1).line < 0 ? at_agency : at.Of(tree, id_field);

  Agency agency;
  if (!IsAgencyId(config.id())) {
    return ConfigError(at_id,
                       "agency id: give 1-64 lower-case letters, digits and '-', the last part "
                       "of the agency's certificate URI spiffe://TRUST-DOMAIN/agency/ID");
  }
  agency.id = config.id();
  agency.name = config.name();
  if (config.role().empty()) {
    return ConfigError(at_id,
                       absl::StrCat("agency \"", agency.id, "\" has no role; give at least one"));
  }
  bool area_scoped = false;
  for (int i = 0; i < config.role_size(); ++i) {
    const Role role = config.role(i);
    if (role == ROLE_UNSPECIFIED) {
      return ConfigError(at.Of(tree, role_field, i), "role: ROLE_UNSPECIFIED is not a role");
    }
    if (!agency.roles.insert(role).second) {
      return ConfigError(at.Of(tree, role_field, i),
                         absl::StrCat("role ", Role_Name(role), " is given twice"));
    }
    area_scoped = area_scoped || IsAreaScoped(role);
  }
  for (int i = 0; i < config.local_authority_size(); ++i) {
    absl::StatusOr<std::string> code = identifiers::ParseLocalAuthority(config.local_authority(i));
    if (!code.ok()) {
      return ConfigError(
          at.Of(tree, area_field, i),
          "local_authority: give a three-digit local authority number, e.g. \"938\"");
    }
    agency.local_authorities.insert(*std::move(code));
  }
  for (int i = 0; i < config.notifying_system_size(); ++i) {
    if (!IsOdsCode(config.notifying_system(i))) {
      return ConfigError(at.Of(tree, system_field, i),
                         "notifying_system: give an ODS organisation code of 3-10 letters and "
                         "digits, e.g. \"RXH01\"");
    }
    agency.notifying_systems.insert(absl::AsciiStrToUpper(config.notifying_system(i)));
  }
  if (area_scoped && agency.local_authorities.empty()) {
    return ConfigError(at_id, absl::StrCat("agency \"", agency.id,
                                           "\" is a children's centre or local authority data "
                                           "team: give its local_authority codes"));
  }
  if (!area_scoped && !agency.local_authorities.empty()) {
    return ConfigError(at.Of(tree, area_field, 0),
                       absl::StrCat("agency \"", agency.id,
                                    "\": local_authority applies only to children's centres and "
                                    "local authority data teams, and this agency is neither"));
  }
  const bool maternity = agency.HasRole(ROLE_MATERNITY);
  if (maternity && agency.notifying_systems.empty()) {
    return ConfigError(at_id, absl::StrCat("agency \"", agency.id,
                                           "\" is a maternity system: give the notifying_system "
                                           "codes its births may name"));
  }
  if (!maternity && !agency.notifying_systems.empty()) {
    return ConfigError(at.Of(tree, system_field, 0),
                       absl::StrCat("agency \"", agency.id,
                                    "\": notifying_system applies only to maternity systems"));
  }
  return agency;
}

}  // namespace

absl::StatusOr<std::shared_ptr<const AccessPolicy>> AccessPolicy::Parse(absl::string_view text,
                                                                        absl::string_view source) {
  AccessConfig config;
  TextFormat::ParseInfoTree tree;
  ParseErrors errors(source);
  TextFormat::Parser parser;
  parser.RecordErrorsTo(&errors);
  parser.WriteLocationsTo(&tree);
  if (!parser.ParseFromString(std::string(text), &config)) {
    return absl::InvalidArgumentError(errors.Joined());
  }
  const Locator at(source, tree);
  const google::protobuf::Descriptor* descriptor = AccessConfig::descriptor();
  const FieldDescriptor* domain_field = descriptor->FindFieldByName("trust_domain");
  const FieldDescriptor* agency_field = descriptor->FindFieldByName("agency");

  auto policy = std::shared_ptr<AccessPolicy>(new AccessPolicy());
  if (!IsDnsName(config.trust_domain())) {
    return ConfigError(at.Of(tree, domain_field),
                       "trust_domain: give the SPIFFE trust domain of the agencies' certificates, "
                       "a DNS name in lower case such as \"registry.example.nhs.uk\"");
  }
  policy->trust_domain_ = config.trust_domain();
  absl::flat_hash_map<std::string, std::string> first_seen;
  absl::flat_hash_map<std::string, std::string> system_holder;  // notifying system -> agency
  for (int i = 0; i < config.agency_size(); ++i) {
    const TextFormat::ParseInfoTree* agency_tree = tree.GetTreeForNested(agency_field, i);
    const TextFormat::ParseInfoTree no_locations;
    absl::StatusOr<Agency> agency =
        CheckAgency(config.agency(i), agency_tree != nullptr ? *agency_tree : no_locations, at,
                    at.Of(tree, agency_field, i));
    if (!agency.ok()) return agency.status();
    const std::string where = at.Of(tree, agency_field, i);
    auto [seen, inserted] = first_seen.emplace(agency->id, where);
    if (!inserted) {
      return ConfigError(where,
                         absl::StrCat("agency \"", agency->id, "\" is configured twice (first at ",
                                      seen->second, "); give each agency once"));
    }
    // A notifying system is one maternity system's: shared, each would reach the other's
    // children and answer for its notifications.
    for (const std::string& system : agency->notifying_systems) {
      auto [holder, first] = system_holder.emplace(system, agency->id);
      if (!first) {
        return ConfigError(where, absl::StrCat("notifying_system \"", system,
                                               "\" is given to agency \"", holder->second,
                                               "\" already; give each system to one agency"));
      }
    }
    policy->agencies_.emplace(agency->id, *std::move(agency));
  }
  return std::shared_ptr<const AccessPolicy>(std::move(policy));
}

absl::StatusOr<std::shared_ptr<const AccessPolicy>> AccessPolicy::Load(const std::string& path) {
  std::ifstream file(path);
  if (!file) {
    return absl::NotFoundError(absl::StrCat(path, ": cannot read the access configuration"));
  }
  std::stringstream text;
  text << file.rdbuf();
  return Parse(text.str(), path);
}

const Agency* AccessPolicy::FindAgency(absl::string_view id) const {
  auto it = agencies_.find(id);
  return it == agencies_.end() ? nullptr : &it->second;
}

const Agency* AccessPolicy::AgencyOfUri(absl::string_view uri) const {
  // spiffe://<trust domain>/agency/<id>, nothing before, between or after.
  constexpr absl::string_view kScheme = "spiffe://";
  constexpr absl::string_view kAgencyPath = "/agency/";
  if (!absl::ConsumePrefix(&uri, kScheme)) return nullptr;
  if (!absl::ConsumePrefix(&uri, trust_domain_)) return nullptr;
  if (!absl::ConsumePrefix(&uri, kAgencyPath)) return nullptr;
  return FindAgency(uri);
}

}  // namespace cir::access
