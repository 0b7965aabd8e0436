#ifndef CIR_ACCESS_ACCESS_POLICY_H_
#define CIR_ACCESS_ACCESS_POLICY_H_

#include <memory>
#include <string>
#include <vector>

#include "absl/container/flat_hash_map.h"
#include "absl/container/flat_hash_set.h"
#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"
#include "access/access_config.pb.h"

namespace cir::access {

// One agency as the configuration grants it.
struct Agency {
  std::string id;
  std::string name;
  absl::flat_hash_set<Role> roles;
  // Three-digit local authority codes (for children's centres and local authority data teams).
  absl::flat_hash_set<std::string> local_authorities;
  // ODS codes, upper case (for maternity systems).
  absl::flat_hash_set<std::string> notifying_systems;

  bool HasRole(Role role) const { return roles.contains(role); }
};

// The access configuration, read and checked (access/access_config.proto says what it holds).
// Immutable: a reload makes a new one, and a call keeps the one it started with.
//
// Checks, each refused with the file, the line and what to fix: the text parses as an
// AccessConfig; the trust domain is a DNS name; each agency has a well-formed id used once, at
// least one role and none twice; children's centres and local authority data teams have at least
// one well-formed local authority and maternity systems at least one ODS code; no agency has local
// authorities or notifying systems that none of its roles uses; no notifying system is given to
// two agencies.
class AccessPolicy {
 public:
  // Reads the configuration in text format from `text`; `source` names it in errors.
  static absl::StatusOr<std::shared_ptr<const AccessPolicy>> Parse(absl::string_view text,
                                                                   absl::string_view source);
  // Reads the file at `path`.
  static absl::StatusOr<std::shared_ptr<const AccessPolicy>> Load(const std::string& path);

  const std::string& trust_domain() const { return trust_domain_; }
  size_t agency_count() const { return agencies_.size(); }

  // The agency configured with `id`, or nullptr.
  const Agency* FindAgency(absl::string_view id) const;

  // The agency a certificate's URI subject alternative name names, if it is exactly
  // spiffe://<trust_domain>/agency/<id> for a configured agency; nullptr otherwise.
  const Agency* AgencyOfUri(absl::string_view uri) const;

 private:
  std::string trust_domain_;
  absl::flat_hash_map<std::string, Agency> agencies_;
};

}  // namespace cir::access

#endif  // CIR_ACCESS_ACCESS_POLICY_H_
