#ifndef CIR_CLIENT_BENCH_WORKLOADS_H_
#define CIR_CLIENT_BENCH_WORKLOADS_H_

#include <atomic>
#include <cstdint>
#include <memory>
#include <string>
#include <vector>

#include "absl/status/status.h"
#include "cir/client.h"
#include "client/bench/load_generator.h"

namespace cir::bench {

// Registered children the read workloads draw from: each by its three identifiers.
struct Population {
  std::vector<std::string> child_ids;
  std::vector<std::string> nhs_numbers;
  std::vector<std::string> upns;
  size_t size() const { return child_ids.size(); }
};

// Spreads calls over several clients (several channels, so several connections).
class ClientPool {
 public:
  // `channels` clients, each with its own connection, made with `options`.
  ClientPool(const ClientOptions& options, int channels);
  Client& For(uint64_t index) { return *clients_[index % clients_.size()]; }

 private:
  std::vector<std::unique_ptr<Client>> clients_;
};

// The n-th fictional birth of a run: NHS numbers from the 999 test range while it lasts (900,000),
// then births notified without one. `run_tag` keeps notification ids of different runs apart.
v1::RegisterBirthRequest BenchBirth(uint64_t n, const std::string& run_tag, bool with_nhs);

// The workloads: each returns the IssueCall that makes one of its calls.
IssueCall HealthWorkload(ClientPool& pool);
// Registers births n = first, first + 1, ...; each call a new child.
IssueCall RegisterWorkload(ClientPool& pool, uint64_t first, std::string run_tag);
// Resolves members of the population by `only_kind`, or, unspecified, cycling through the three
// identifier kinds.
IssueCall ResolveWorkload(ClientPool& pool, const Population& population,
                          v1::IdentifierKind only_kind = v1::IDENTIFIER_KIND_UNSPECIFIED);
// BatchResolve of `batch_size` identifiers of mixed kinds drawn from the population, each answered
// with the record fields `view` asks for.
IssueCall BatchResolveWorkload(ClientPool& pool, const Population& population, int batch_size,
                               v1::RecordView view);
// One register in ten, otherwise a resolve.
IssueCall MixWorkload(ClientPool& pool, const Population& population, uint64_t first_birth,
                      std::string run_tag);

// Registers `count` children with NHS numbers (from n = `first`) and links a UPN to each, as fast
// as the server allows; returns them.
absl::StatusOr<Population> Populate(ClientPool& pool, uint64_t first, size_t count,
                                    const std::string& run_tag, int concurrency);

}  // namespace cir::bench

#endif  // CIR_CLIENT_BENCH_WORKLOADS_H_
