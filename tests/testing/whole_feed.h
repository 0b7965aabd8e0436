#ifndef CIR_TESTS_TESTING_WHOLE_FEED_H_
#define CIR_TESTS_TESTING_WHOLE_FEED_H_

// Reading a local authority's whole feed through the client, for tests and cir-soak that check
// the feed against what they know was committed.

#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "cir/client.h"

namespace cir::testing {

// Every event of `area`'s feed, read page by page (ListEvents, 1,000 a page) from the
// beginning to its head; the first failed page's status if one failed.
absl::StatusOr<std::vector<v1::FeedEvent>> WholeFeed(Client& client, const std::string& area);

}  // namespace cir::testing

#endif  // CIR_TESTS_TESTING_WHOLE_FEED_H_
