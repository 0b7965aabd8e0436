#include "client/bench/workloads.h"

#include <mutex>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "identifiers/nhs_number.h"
#include "identifiers/upn.h"

namespace cir::bench {
namespace {

// A permanent UPN for the n-th child: LA 938, establishment 2000 + n / 100,000, serial n.
std::string BenchUpn(uint64_t n) {
  std::string rest = absl::StrFormat("938%04u%02u%03u", static_cast<unsigned>(2000 + n / 100000),
                                     static_cast<unsigned>((n / 1000) % 100),
                                     static_cast<unsigned>(n % 1000));
  return identifiers::UpnCheckLetter(rest) + rest;
}

}  // namespace

ClientPool::ClientPool(const ClientOptions& options, int channels) {
  for (int i = 0; i < channels; ++i) clients_.push_back(std::make_unique<Client>(options));
}

v1::RegisterBirthRequest BenchBirth(uint64_t n, const std::string& run_tag, bool with_nhs) {
  v1::RegisterBirthRequest birth;
  birth.set_notifying_system("CIRBENCH");
  birth.set_notification_id(absl::StrCat("bench-", run_tag, "-", n));
  if (with_nhs && n < identifiers::kTestRangeNhsNumberCount) {
    birth.set_nhs_number(identifiers::TestRangeNhsNumber(static_cast<uint32_t>(n)));
  }
  birth.mutable_date_of_birth()->set_year(2024 + static_cast<int>(n % 2));
  birth.mutable_date_of_birth()->set_month(1 + static_cast<int>(n % 12));
  birth.mutable_date_of_birth()->set_day(1 + static_cast<int>(n % 28));
  birth.set_sex(n % 2 == 0 ? v1::SEX_FEMALE : v1::SEX_MALE);
  birth.set_given_name("Test");
  birth.set_family_name(absl::StrCat("Child", n));
  birth.set_postcode("RH12 1AA");
  birth.set_local_authority(n % 3 == 0 ? "938" : n % 3 == 1 ? "201" : "213");
  return birth;
}

IssueCall HealthWorkload(ClientPool& pool) {
  return [&pool](uint64_t index, std::function<void(absl::Status)> done) {
    pool.For(index).CheckHealthAsync(std::move(done));
  };
}

IssueCall RegisterWorkload(ClientPool& pool, uint64_t first, std::string run_tag) {
  return [&pool, first, run_tag](uint64_t index, std::function<void(absl::Status)> done) {
    pool.For(index).RegisterBirthAsync(
        BenchBirth(first + index, run_tag, true),
        [done = std::move(done)](absl::StatusOr<v1::RegisterBirthResponse> r) {
          if (r.ok() && !r->created()) {
            done(absl::AlreadyExistsError("a benchmark birth was already registered"));
            return;
          }
          done(r.status());
        });
  };
}

namespace {

// The index-th resolve of a workload: members spread over the population with a stride; the kind
// is `only_kind` if given, else cycles through child identifier, NHS number and UPN.
v1::ResolveRequest NthResolve(const Population& population, uint64_t index,
                              v1::IdentifierKind only_kind = v1::IDENTIFIER_KIND_UNSPECIFIED) {
  size_t member = (index * 7919) % population.size();
  v1::ResolveRequest request;
  // Populations loaded at scale have no UPNs, and children past the NHS test range none either.
  int kinds = population.upns.empty() ? 2 : 3;
  int kind = only_kind == v1::IDENTIFIER_KIND_UNSPECIFIED ? static_cast<int>(index % kinds)
                                                          : static_cast<int>(only_kind) - 1;
  if (kind == 1 && population.nhs_numbers[member].empty()) kind = 0;
  switch (kind) {
    case 0:
      request.set_identifier(population.child_ids[member]);
      break;
    case 1:
      request.set_identifier(population.nhs_numbers[member]);
      break;
    default:
      request.set_identifier(population.upns[member]);
      break;
  }
  return request;
}

}  // namespace

IssueCall ResolveWorkload(ClientPool& pool, const Population& population,
                          v1::IdentifierKind only_kind) {
  return [&pool, &population, only_kind](uint64_t index, std::function<void(absl::Status)> done) {
    pool.For(index).ResolveAsync(
        NthResolve(population, index, only_kind),
        [done = std::move(done)](absl::StatusOr<v1::ResolveResponse> r) { done(r.status()); });
  };
}

IssueCall BatchResolveWorkload(ClientPool& pool, const Population& population, int batch_size,
                               v1::RecordView view) {
  // A few prepared batches, reused: building 10,000 strings per call would measure the generator.
  auto batches = std::make_shared<std::vector<v1::BatchResolveRequest>>(8);
  for (size_t b = 0; b < batches->size(); ++b) {
    (*batches)[b].set_view(view);
    for (int i = 0; i < batch_size; ++i) {
      (*batches)[b].add_identifiers(NthResolve(population, b * batch_size + i).identifier());
    }
  }
  return [&pool, batches, batch_size](uint64_t index, std::function<void(absl::Status)> done) {
    pool.For(index).BatchResolveAsync(
        (*batches)[index % batches->size()],
        [done = std::move(done), batch_size](absl::StatusOr<v1::BatchResolveResponse> r) {
          if (r.ok()) {
            for (const v1::BatchResolveResult& result : r->results()) {
              if (result.outcome() != v1::BatchResolveResult::OUTCOME_FOUND) {
                done(absl::InternalError("a benchmark child did not resolve"));
                return;
              }
            }
            if (r->results_size() != batch_size) {
              done(absl::InternalError("a batch came back with the wrong number of results"));
              return;
            }
          }
          done(r.status());
        });
  };
}

IssueCall MixWorkload(ClientPool& pool, const Population& population, uint64_t first_birth,
                      std::string run_tag) {
  IssueCall reg = RegisterWorkload(pool, first_birth, run_tag);
  IssueCall resolve = ResolveWorkload(pool, population);
  return [reg, resolve](uint64_t index, std::function<void(absl::Status)> done) {
    if (index % 10 == 0) {
      reg(index / 10, std::move(done));
    } else {
      resolve(index, std::move(done));
    }
  };
}

absl::StatusOr<Population> Populate(ClientPool& pool, uint64_t first, size_t count,
                                    const std::string& run_tag, int concurrency) {
  Population population;
  population.child_ids.resize(count);
  population.nhs_numbers.resize(count);
  population.upns.resize(count);
  IssueCall register_and_link = [&](uint64_t index, std::function<void(absl::Status)> done) {
    Client& client = pool.For(index);
    client.RegisterBirthAsync(
        BenchBirth(first + index, run_tag, true),
        [&, index, done = std::move(done)](absl::StatusOr<v1::RegisterBirthResponse> r) mutable {
          if (!r.ok()) {
            done(r.status());
            return;
          }
          population.child_ids[index] = r->record().child_id();
          population.nhs_numbers[index] = r->record().nhs_number();
          population.upns[index] = BenchUpn(first + index);
          v1::LinkUpnRequest link;
          link.set_child_id(r->record().child_id());
          link.set_upn(population.upns[index]);
          client.LinkUpnAsync(link, [done = std::move(done)](absl::StatusOr<v1::LinkUpnResponse> l) {
            done(l.status());
          });
        });
  };
  LoadResult loaded = RunLoad({.concurrency = concurrency, .max_calls = count}, register_and_link);
  if (loaded.errors > 0) return loaded.first_error;
  return population;
}

}  // namespace cir::bench
