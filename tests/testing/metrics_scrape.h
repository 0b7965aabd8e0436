#ifndef CIR_TESTS_TESTING_METRICS_SCRAPE_H_
#define CIR_TESTS_TESTING_METRICS_SCRAPE_H_

// Reading a server's Prometheus metrics (--metrics-listen 127.0.0.1:0) in tests and cir-soak.

#include <string>

namespace cir::testing {

// The metrics port a server's log names ("metrics on port N"), or 0 if it names none.
int MetricsPort(const std::string& server_log);

// An HTTP GET of `path` on 127.0.0.1:`port`: the whole answer, headers included ("" if the
// connection failed).
std::string HttpGet(int port, const std::string& path);

// The value of the sample `series` (its name and labels exactly as exposed) in `exposition`,
// or -1 if it has none.
double Sample(const std::string& exposition, const std::string& series);

}  // namespace cir::testing

#endif  // CIR_TESTS_TESTING_METRICS_SCRAPE_H_
