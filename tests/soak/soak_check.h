#ifndef CIR_TESTS_SOAK_SOAK_CHECK_H_
#define CIR_TESTS_SOAK_SOAK_CHECK_H_

#include <cstdint>
#include <memory>
#include <string>
#include <vector>

#include "tests/soak/soak_load.h"
#include "tests/soak/soak_model.h"

namespace cir::soak {

// What the verifier found: each thing acknowledged and not found is lost; each thing found twice
// that must be found once is a duplicate. Every finding is described (by identifiers of
// fictional children only) so that a failure can be chased.
struct SoakFindings {
  int64_t lost = 0;
  int64_t duplicates = 0;
  std::vector<std::string> descriptions;  // the first few hundred findings
  bool audit_verified = false;
  std::string audit_output;  // what `cir audit verify` printed
  int64_t audit_entries = 0;
  void Lost(const std::string& what);
  void Duplicate(const std::string& what);
};

// Checks the registry at `address` (restarted, with no load running) against everything `model`
// recorded and every follower received:
//  - every registration whose answer was lost is answered when sent again, and every notification
//    sent again names the child it named before (no child with two identifiers from one
//    notification);
//  - every acknowledged child is found, at its acknowledged version or later, in its acknowledged
//    area, by its identifier and by every NHS number and UPN acknowledged as its, and no NHS
//    number or UPN is held by two children;
//  - each area's feed is gap-free and holds every event of every acknowledged change once;
//  - every follower, caught up, received exactly the committed feed;
//  - the audit log verifies (`cir audit verify` at `cli_path` with `public_key_file`) and holds an
//    entry naming the child for every acknowledged call.
//
// `sample` bounds the registrations sent again and the children read one by one (an even spread
// of them; 0: all), for long soaks; every other check covers everything. `later`, when given, is
// the model of the whole run of which `model` is an earlier snapshot (a restored backup): what it
// acknowledged after the snapshot may be found too (a merge, a child born).
SoakFindings CheckAgainstModel(const std::string& address, SoakModel& model,
                               std::vector<std::unique_ptr<FeedFollower>>& followers,
                               const std::string& cli_path, const std::string& public_key_file,
                               size_t sample = 0, const SoakModel* later = nullptr);

}  // namespace cir::soak

#endif  // CIR_TESTS_SOAK_SOAK_CHECK_H_
