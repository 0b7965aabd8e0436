// cir-bench: measures the registry's throughput and latency against the cost of a call that does
// nothing (the gRPC health check on the same server, in the same run).
//
//   cir-bench --server 127.0.0.1:50051 [--json out.json] [--markdown out.md]
//   cir-bench --server ... --server-pid PID --scale 10000000
//
// The standard set: health, register, resolve (mixed kinds, then each kind), batch-resolve of 100 / 1,000 / 10,000, a mix,
// register and resolve paced at half their maximum rate (for latency), health again. The server
// must be started on a fresh data folder (scripts/bench does this).

#include <unistd.h>

#include <fstream>
#include <iterator>
#include <iostream>
#include <sstream>
#include <string>
#include <vector>

#include "CLI/CLI.hpp"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "absl/strings/str_join.h"
#include "absl/synchronization/mutex.h"
#include "absl/time/clock.h"
#include "client/bench/feed_workload.h"
#include "client/bench/workloads.h"

namespace cir::bench {
namespace {

struct Settings {
  std::string server = "127.0.0.1:50051";
  int server_pid = 0;
  int channels = 4;
  int concurrency = 64;
  double duration_seconds = 5;
  double warmup_seconds = 1;
  size_t population = 20000;
  uint64_t scale = 0;
  // The scale run's bulk load: births per RegisterBirths call, and calls in flight.
  int bulk_batch = 1000;
  int bulk_in_flight = 4;
  std::string json_path;
  std::string markdown_path;
  bool smoke = false;
  bool feed = false;
  int subscribers = 500;
  int feed_areas = 153;
  std::string only;  // run just this workload of the standard set (for profiling)
  // Mutual TLS as an agency allowed every workload (scripts/bench makes one), or plaintext for a
  // registry started for tests on this machine.
  std::string ca_file;
  std::string certificate_file;
  std::string key_file;
  bool plaintext = false;
};

// How each of the benchmark's clients connects: its TLS identity, and the person and purpose its
// lookups are made for (a benchmark stands in for one).
absl::StatusOr<ClientOptions> Connection(const Settings& s) {
  ClientOptions options{
      .target = s.server, .end_user = "cir-bench", .purpose_of_use = "DIRECT_CARE"};
  if (s.plaintext) return options;
  absl::StatusOr<std::shared_ptr<grpc::ChannelCredentials>> credentials = MutualTlsFromFiles(
      {.ca_file = s.ca_file, .certificate_file = s.certificate_file, .key_file = s.key_file});
  if (!credentials.ok()) return credentials.status();
  options.credentials = *std::move(credentials);
  return options;
}

struct Row {
  std::string name;
  LoadResult result;
  int lookups_per_call = 1;
  double lookups_per_second() const { return result.calls_per_second() * lookups_per_call; }
};

std::string CpuModel() {
  std::ifstream cpuinfo("/proc/cpuinfo");
  for (std::string line; std::getline(cpuinfo, line);) {
    if (line.rfind("model name", 0) == 0) return line.substr(line.find(':') + 2);
  }
  return "unknown";
}

// The server's resident and peak resident memory in MiB, from /proc (0 if unknown).
std::pair<double, double> ServerMemoryMiB(int pid) {
  if (pid <= 0) return {0, 0};
  std::ifstream status(absl::StrCat("/proc/", pid, "/status"));
  double rss = 0, peak = 0;
  for (std::string line; std::getline(status, line);) {
    if (line.rfind("VmRSS:", 0) == 0) rss = std::stod(line.substr(6)) / 1024;
    if (line.rfind("VmHWM:", 0) == 0) peak = std::stod(line.substr(6)) / 1024;
  }
  return {rss, peak};
}

// CPU time the server has used so far, in clock ticks (0 if unknown).
uint64_t ServerCpuTicks(int pid) {
  if (pid <= 0) return 0;
  std::ifstream stat(absl::StrCat("/proc/", pid, "/stat"));
  std::string text((std::istreambuf_iterator<char>(stat)), std::istreambuf_iterator<char>());
  size_t after_name = text.rfind(')');
  if (after_name == std::string::npos) return 0;
  std::istringstream fields(text.substr(after_name + 2));
  std::string field;
  uint64_t user = 0, system = 0;
  for (int i = 3; i <= 15 && fields >> field; ++i) {
    if (i == 14) user = std::stoull(field);
    if (i == 15) system = std::stoull(field);
  }
  return user + system;
}

// Waits until the server is idle (under 5% of a core for a second: background compaction after a
// bulk load has finished), at most `limit`. Returns how long it waited.
absl::Duration WaitForIdleServer(int pid, absl::Duration limit) {
  absl::Time start = absl::Now();
  if (pid <= 0) return absl::ZeroDuration();
  const long ticks_per_second = sysconf(_SC_CLK_TCK);
  uint64_t before = ServerCpuTicks(pid);
  while (absl::Now() - start < limit) {
    absl::SleepFor(absl::Seconds(1));
    uint64_t now = ServerCpuTicks(pid);
    if ((now - before) * 20 < static_cast<uint64_t>(ticks_per_second)) break;
    before = now;
  }
  return absl::Now() - start;
}

std::string RunTag() { return absl::StrCat(absl::ToUnixMicros(absl::Now())); }

LoadOptions Load(const Settings& s, double rate = 0) {
  return {.concurrency = s.concurrency,
          .duration = absl::Seconds(s.duration_seconds),
          .warmup = absl::Seconds(s.warmup_seconds),
          .calls_per_second = rate};
}

void PrintRow(const Row& row, double health_rate) {
  std::cout << absl::StrFormat("%-22s %12.0f %14.0f %9.0f %9.0f %10.0f %8d %9s\n", row.name,
                               row.result.calls_per_second(), row.lookups_per_second(),
                               row.result.latency.p50_us, row.result.latency.p99_us,
                               row.result.latency.p999_us, row.result.errors,
                               health_rate > 0 ? absl::StrFormat("%.2f", row.result.calls_per_second() / health_rate) : "-");
  if (row.result.errors > 0) std::cout << "    first error: " << row.result.first_error << "\n";
  if (row.result.start_lag.samples > 0) {
    std::cout << absl::StrFormat("    (generator's lag behind schedule: p99 %.0f us)\n",
                                 row.result.start_lag.p99_us);
  }
  std::cout.flush();
}

std::string Header() {
  return absl::StrFormat("%-22s %12s %14s %9s %9s %10s %8s %9s\n", "workload", "calls/s",
                         "lookups/s", "p50 us", "p99 us", "p99.9 us", "errors", "vs health");
}

struct Target {
  std::string what;
  bool met;
  std::string measured;
};

int RunStandard(const Settings& s, ClientPool& pool) {
  const std::string tag = RunTag();
  std::vector<Row> rows;
  std::cout << Header();
  auto run = [&](std::string name, const IssueCall& issue, LoadOptions options,
                 int lookups = 1) -> Row {
    if (!s.only.empty() && name.rfind(s.only, 0) != 0 && name.rfind("health", 0) != 0) {
      rows.push_back({std::move(name), LoadResult{}, lookups});  // skipped
      return rows.back();
    }
    rows.push_back({std::move(name), RunLoad(options, issue), lookups});
    PrintRow(rows.back(), 0);
    return rows.back();
  };

  run("health", HealthWorkload(pool), Load(s));
  std::cout << "(loading " << s.population << " children with NHS numbers and UPNs)\n";
  absl::StatusOr<Population> population = Populate(pool, 0, s.population, tag, s.concurrency);
  if (!population.ok()) {
    std::cerr << "cir-bench: loading the population failed: " << population.status() << "\n";
    return 1;
  }
  uint64_t next_birth = s.population;
  const Row reg = run("register", RegisterWorkload(pool, next_birth, tag), Load(s));
  next_birth += reg.result.issued;
  const double register_max = reg.result.calls_per_second();
  const Row resolve = run("resolve", ResolveWorkload(pool, *population), Load(s));
  const double resolve_max = resolve.result.calls_per_second();
  run("resolve by child id", ResolveWorkload(pool, *population, v1::IDENTIFIER_KIND_CHILD_ID),
      Load(s));
  run("resolve by NHS number",
      ResolveWorkload(pool, *population, v1::IDENTIFIER_KIND_NHS_NUMBER), Load(s));
  run("resolve by UPN", ResolveWorkload(pool, *population, v1::IDENTIFIER_KIND_UPN), Load(s));
  for (int batch : {100, 1000, 10000}) {
    // A batch is already a lot of work: a few in flight keep the server busy without queueing.
    LoadOptions options = Load(s);
    options.concurrency = std::max(2, s.concurrency / 8);
    run(absl::StrCat("batch-resolve-", batch),
        BatchResolveWorkload(pool, *population, batch, v1::RECORD_VIEW_IDENTIFIERS), options,
        batch);
  }
  {
    LoadOptions options = Load(s);
    options.concurrency = std::max(2, s.concurrency / 8);
    run("batch-resolve-1000 child-id view",
        BatchResolveWorkload(pool, *population, 1000, v1::RECORD_VIEW_CHILD_ID), options, 1000);
  }
  const Row mix = run("mix (10% register)", MixWorkload(pool, *population, next_birth, tag), Load(s));
  next_birth += mix.result.issued / 10 + 1;
  const Row reg_half = run("register @50% rate", RegisterWorkload(pool, next_birth, tag),
                            Load(s, register_max / 2));
  next_birth += reg_half.result.issued;
  run("resolve @50% rate", ResolveWorkload(pool, *population), Load(s, resolve_max / 2));
  run("health (again)", HealthWorkload(pool), Load(s));

  // Ratios against the health rate measured in this run (the mean of its two measurements).
  const double health_rate =
      (rows.front().result.calls_per_second() + rows.back().result.calls_per_second()) / 2;
  std::cout << "\nhealth rate (mean of both runs): " << absl::StrFormat("%.0f", health_rate)
            << " calls/s\n\n" << Header();
  for (const Row& row : rows) PrintRow(row, health_rate);

  auto find = [&](const std::string& name) -> const Row& {
    for (const Row& row : rows) {
      if (row.name == name) return row;
    }
    return rows.front();
  };
  auto ratio = [&](const std::string& name) {
    return find(name).result.calls_per_second() / health_rate;
  };
  std::vector<Target> targets = {
      {"register (durable) >= 50% of health rate", ratio("register") >= 0.5,
       absl::StrFormat("%.0f%%", 100 * ratio("register"))},
      {"resolve >= 85% of health rate", ratio("resolve") >= 0.85,
       absl::StrFormat("%.0f%%", 100 * ratio("resolve"))},
      {"batch-resolve >= 1,000,000 lookups/s at 1,000 per call (child-id view)",
       find("batch-resolve-1000 child-id view").lookups_per_second() >= 1e6,
       absl::StrFormat("%.0f lookups/s (identifiers view: %.0f)",
                       find("batch-resolve-1000 child-id view").lookups_per_second(),
                       find("batch-resolve-1000").lookups_per_second())},
      {"register p99 < 2 ms at half its maximum rate",
       find("register @50% rate").result.latency.p99_us < 2000,
       absl::StrFormat("%.0f us", find("register @50% rate").result.latency.p99_us)},
      {"resolve p99 < 2 ms at half its maximum rate",
       find("resolve @50% rate").result.latency.p99_us < 2000,
       absl::StrFormat("%.0f us", find("resolve @50% rate").result.latency.p99_us)},
  };
  uint64_t errors = 0;
  for (const Row& row : rows) errors += row.result.errors;
  std::cout << "\n";
  for (const Target& t : targets) {
    std::cout << (t.met ? "met      " : "NOT MET  ") << t.what << ": " << t.measured << "\n";
  }

  const std::string date = absl::FormatTime("%Y-%m-%d %H:%M UTC", absl::Now(), absl::UTCTimeZone());
  const long cores = sysconf(_SC_NPROCESSORS_ONLN);
  if (!s.json_path.empty()) {
    std::ofstream json(s.json_path);
    json << "{\"date\": \"" << date << "\", \"cores\": " << cores << ", \"cpu\": \"" << CpuModel()
         << "\", \"channels\": " << s.channels << ", \"concurrency\": " << s.concurrency
         << ", \"health_calls_per_second\": " << absl::StrFormat("%.0f", health_rate)
         << ", \"workloads\": [";
    for (size_t i = 0; i < rows.size(); ++i) {
      const Row& r = rows[i];
      json << (i ? ", " : "")
           << absl::StrFormat(
                  "{\"name\": \"%s\", \"calls_per_second\": %.0f, \"lookups_per_second\": %.0f, "
                  "\"p50_us\": %.0f, \"p99_us\": %.0f, \"p999_us\": %.0f, \"errors\": %d, "
                  "\"ratio_to_health\": %.3f}",
                  r.name, r.result.calls_per_second(), r.lookups_per_second(),
                  r.result.latency.p50_us, r.result.latency.p99_us, r.result.latency.p999_us,
                  r.result.errors, r.result.calls_per_second() / health_rate);
    }
    json << "], \"targets\": [";
    for (size_t i = 0; i < targets.size(); ++i) {
      json << (i ? ", " : "") << "{\"target\": \"" << targets[i].what << "\", \"met\": "
           << (targets[i].met ? "true" : "false") << ", \"measured\": \"" << targets[i].measured
           << "\"}";
    }
    json << "]}\n";
  }
  if (!s.markdown_path.empty()) {
    std::ofstream md(s.markdown_path);
    md << "## Standard run, " << date << "\n\n"
       << "Machine: " << cores << " cores, " << CpuModel()
       << "; server and load generator on the same machine.\n"
       << "Load: " << s.channels << " channels, " << s.concurrency << " calls in flight, "
       << s.duration_seconds << " s measured after " << s.warmup_seconds << " s warm-up per workload; "
       << s.population << " children (NHS number and UPN each) for the read workloads; durable "
       << "writes (WAL synced before each reply).\n\n"
       << "| workload | calls/s | lookups/s | p50 us | p99 us | p99.9 us | errors | vs health |\n"
       << "| --- | ---: | ---: | ---: | ---: | ---: | ---: | ---: |\n";
    for (const Row& r : rows) {
      md << absl::StrFormat("| %s | %.0f | %.0f | %.0f | %.0f | %.0f | %d | %.2f |\n", r.name,
                            r.result.calls_per_second(), r.lookups_per_second(),
                            r.result.latency.p50_us, r.result.latency.p99_us,
                            r.result.latency.p999_us, r.result.errors,
                            r.result.calls_per_second() / health_rate);
    }
    for (const Row& r : rows) {
      if (r.result.start_lag.samples == 0) continue;
      md << "\n" << r.name << ": latency counts from each call's send; the generator's own lag "
         << "behind schedule, not counted, had p99 "
         << absl::StrFormat("%.0f", r.result.start_lag.p99_us) << " us.";
    }
    md << "\n\nHealth rate for the ratios: " << absl::StrFormat("%.0f", health_rate)
       << " calls/s (mean of the first and last workload).\n\n"
       << "| target | measured | met |\n| --- | ---: | --- |\n";
    for (const Target& t : targets) {
      md << "| " << t.what << " | " << t.measured << " | " << (t.met ? "yes" : "**no**") << " |\n";
    }
  }
  return errors == 0 ? 0 : 1;
}

int RunScale(const Settings& s, ClientPool& pool) {
  const std::string tag = RunTag();
  std::vector<uint64_t> checkpoints;
  for (uint64_t c = 100000; c < s.scale; c *= 10) checkpoints.push_back(c);
  checkpoints.push_back(s.scale);

  Population population;
  population.child_ids.reserve(s.scale);
  population.nhs_numbers.reserve(s.scale);
  absl::Duration load_time;
  std::ostringstream table;
  table << "| children | bulk load births/s | resolve calls/s | resolve p99 us | vs first | "
           "server RSS MiB | server peak RSS MiB |\n"
        << "| ---: | ---: | ---: | ---: | ---: | ---: | ---: |\n";
  double first_rate = 0;
  double last_ratio = 0;
  double last_peak = 0;
  std::ostringstream json_rows;
  std::cout << "children   load/s   resolve/s   p99us   vs-first   rss-MiB   peak-MiB\n";
  for (uint64_t checkpoint : checkpoints) {
    const uint64_t start = population.size();
    const uint64_t births = checkpoint - start;
    const uint64_t batch = static_cast<uint64_t>(s.bulk_batch);
    std::vector<std::string> ids(births), nhs(births);
    // One RegisterBirths call of up to `batch` births (answered with child identifiers alone);
    // a birth refused fails the load.
    IssueCall bulk = [&](uint64_t call, std::function<void(absl::Status)> done) {
      const uint64_t first = call * batch;
      const uint64_t end = std::min(births, first + batch);
      v1::RegisterBirthsRequest request;
      request.set_view(v1::RECORD_VIEW_CHILD_ID);
      request.mutable_births()->Reserve(static_cast<int>(end - first));
      for (uint64_t i = first; i < end; ++i) {
        *request.add_births() = BenchBirth(start + i, tag, true);
        nhs[i] = request.births(static_cast<int>(i - first)).nhs_number();
      }
      pool.For(call).RegisterBirthsAsync(
          request,
          [&, first, done = std::move(done)](absl::StatusOr<v1::RegisterBirthsResponse> r) {
            if (!r.ok()) return done(r.status());
            for (int k = 0; k < r->results_size(); ++k) {
              const v1::RegisterBirthsResult& result = r->results(k);
              if (!result.has_registered()) {
                return done(absl::InternalError(
                    absl::StrCat("a birth was refused: ", result.refused().message())));
              }
              ids[first + k] = result.registered().record().child_id();
            }
            done(absl::OkStatus());
          },
          {.timeout = absl::Minutes(2)});
    };
    absl::Time began = absl::Now();
    LoadResult loaded =
        RunLoad({.concurrency = s.bulk_in_flight, .max_calls = (births + batch - 1) / batch}, bulk);
    absl::Duration took = absl::Now() - began;
    load_time += took;
    if (loaded.errors > 0) {
      std::cerr << "cir-bench: bulk load failed: " << loaded.first_error << "\n";
      return 1;
    }
    for (size_t i = 0; i < ids.size(); ++i) {
      population.child_ids.push_back(std::move(ids[i]));
      population.nhs_numbers.push_back(std::move(nhs[i]));
    }
    // Reads are measured in the steady state, once the compactions the load set off are done.
    absl::Duration settled = WaitForIdleServer(s.server_pid, absl::Minutes(5));
    LoadResult resolve = RunLoad(Load(s), ResolveWorkload(pool, population));
    if (first_rate == 0) first_rate = resolve.calls_per_second();
    auto [rss, peak] = ServerMemoryMiB(s.server_pid);
    last_ratio = resolve.calls_per_second() / first_rate;
    last_peak = peak;
    double load_rate = births / absl::ToDoubleSeconds(took);
    std::cout << absl::StrFormat("%9d %8.0f %11.0f %7.0f %9.2f %9.0f %10.0f   (settled %s)\n",
                                 checkpoint, load_rate, resolve.calls_per_second(),
                                 resolve.latency.p99_us, resolve.calls_per_second() / first_rate,
                                 rss, peak, absl::FormatDuration(settled));
    std::cout.flush();
    table << absl::StrFormat("| %d | %.0f | %.0f | %.0f | %.2f | %.0f | %.0f |\n", checkpoint,
                             load_rate, resolve.calls_per_second(), resolve.latency.p99_us,
                             resolve.calls_per_second() / first_rate, rss, peak);
    json_rows << (json_rows.tellp() > 0 ? ", " : "")
              << absl::StrFormat(
                     "{\"children\": %d, \"bulk_load_births_per_second\": %.0f, "
                     "\"resolve_calls_per_second\": %.0f, \"resolve_p99_us\": %.0f, "
                     "\"resolve_vs_first\": %.3f, \"server_rss_mib\": %.0f, "
                     "\"server_peak_rss_mib\": %.0f}",
                     checkpoint, load_rate, resolve.calls_per_second(), resolve.latency.p99_us,
                     resolve.calls_per_second() / first_rate, rss, peak);
    if (resolve.errors > 0) {
      std::cerr << "cir-bench: resolve failed: " << resolve.first_error << "\n";
      return 1;
    }
  }
  std::cout << "bulk load of " << s.scale << " children took "
            << absl::StrFormat("%.1f", absl::ToDoubleMinutes(load_time)) << " minutes\n";
  if (!s.json_path.empty()) {
    std::ofstream(s.json_path) << "{\"scale\": [" << json_rows.str()
                               << "], \"bulk_load_seconds\": "
                               << absl::ToDoubleSeconds(load_time) << "}\n";
  }
  if (!s.markdown_path.empty()) {
    std::ofstream md(s.markdown_path);
    md << "## Scale run, "
       << absl::FormatTime("%Y-%m-%d %H:%M UTC", absl::Now(), absl::UTCTimeZone()) << "\n\n"
       << "Machine: " << sysconf(_SC_NPROCESSORS_ONLN) << " cores, " << CpuModel()
       << ". Bulk registration (RegisterBirths, " << s.bulk_batch << " births a call, "
       << s.bulk_in_flight << " calls in flight, durable), then resolve for " << s.duration_seconds
       << " s at each size, once the server is idle again (background compaction done): random "
          "children of the whole store, by child identifier and NHS number. The NHS test range "
          "holds 900,000 numbers, so later children are registered without one.\n\n"
       << table.str() << "\nBulk load of " << s.scale
       << " children: " << absl::StrFormat("%.1f", absl::ToDoubleMinutes(load_time))
       << " minutes.\n\n"
       << "| target | measured | met |\n| --- | ---: | --- |\n"
       << absl::StrFormat("| resolve rate at %d children within 10%% of 100,000 | %.0f%% | %s |\n",
                          s.scale, 100 * last_ratio, last_ratio >= 0.9 ? "yes" : "**no**")
       << absl::StrFormat("| server peak RSS under 1 GiB | %.0f MiB | %s |\n", last_peak,
                          last_peak < 1024 ? "yes" : "**no**")
       << absl::StrFormat("| bulk load under 5 minutes | %.1f min | %s |\n",
                          absl::ToDoubleMinutes(load_time),
                          load_time < absl::Minutes(5) ? "yes" : "**no**");
  }
  return 0;
}

// The feed run: register rates without and with subscribers, delivery latency.
int RunFeed(const Settings& s, ClientPool& pool) {
  const std::string tag = RunTag();
  const LoadResult health_before = RunLoad(Load(s), HealthWorkload(pool));
  FeedBenchOptions options{.subscribers = s.subscribers, .areas = s.feed_areas, .load = Load(s)};
  absl::StatusOr<ClientOptions> connection = Connection(s);
  if (!connection.ok()) {
    std::cerr << "cir-bench: " << connection.status().message() << "\n";
    return 2;
  }
  FeedBenchResult feed = RunFeedBench(pool, *connection, options, 0, tag);
  const LoadResult health_after = RunLoad(Load(s), HealthWorkload(pool));
  const double health_rate =
      (health_before.calls_per_second() + health_after.calls_per_second()) / 2;
  const double alone = feed.register_alone.calls_per_second();
  const double subscribed = feed.register_subscribed.calls_per_second();
  const double kept = alone > 0 ? subscribed / alone : 0;
  std::ostringstream out;
  out << absl::StrFormat("health rate (mean of before and after): %.0f calls/s\n", health_rate)
      << absl::StrFormat("register, nobody following:        %8.0f calls/s (%.2f of health)\n",
                         alone, alone / health_rate)
      << absl::StrFormat("register, %d subscribers over %d areas: %8.0f calls/s (%.2f of health)\n",
                         s.subscribers, s.feed_areas, subscribed, subscribed / health_rate)
      << absl::StrFormat("register rate kept with subscribers: %.0f%%\n", 100 * kept)
      << absl::StrFormat("delivery, commit to subscriber: p50 %.0f us, p99 %.0f us, max %.0f us "
                         "over %d events (%d births followed)\n",
                         feed.delivery.p50_us, feed.delivery.p99_us, feed.delivery.max_us,
                         feed.delivered, feed.births_followed)
      << (feed.delivery.p99_us < 1e6 ? "met      " : "NOT MET  ")
      << "delivery p99 under 1 second with the subscribers at the full register rate\n"
      << (kept >= 0.9 ? "met      " : "NOT MET  ")
      << "register rate with subscribers within 10% of the rate without\n";
  std::cout << out.str();
  if (!feed.error.ok()) std::cerr << "cir-bench: feed run failed: " << feed.error << "\n";
  if (!s.json_path.empty()) {
    std::ofstream(s.json_path) << absl::StrFormat(
        "{\"health_calls_per_second\": %.0f, \"register_alone_calls_per_second\": %.0f, "
        "\"register_subscribed_calls_per_second\": %.0f, \"subscribers\": %d, \"areas\": %d, "
        "\"delivery_p50_us\": %.0f, \"delivery_p99_us\": %.0f, \"delivery_max_us\": %.0f, "
        "\"delivered\": %d, \"expected\": %d}\n",
        health_rate, alone, subscribed, s.subscribers, s.feed_areas, feed.delivery.p50_us,
        feed.delivery.p99_us, feed.delivery.max_us, feed.delivered, feed.expected_deliveries);
  }
  if (!s.markdown_path.empty()) {
    std::ofstream md(s.markdown_path);
    md << "## Feed run, "
       << absl::FormatTime("%Y-%m-%d %H:%M UTC", absl::Now(), absl::UTCTimeZone()) << "\n\n"
       << "Machine: " << sysconf(_SC_NPROCESSORS_ONLN) << " cores, " << CpuModel() << ". "
       << s.concurrency << " registrations in flight (closed loop, durable), "
       << s.duration_seconds << " s measured per phase; " << s.subscribers
       << " subscribers, one stream each, over " << s.feed_areas
       << " areas, reading every event as it arrives, in the same process as the load.\n\n"
       << "| measure | value |\n| --- | ---: |\n"
       << absl::StrFormat("| health check calls/s | %.0f |\n", health_rate)
       << absl::StrFormat("| register calls/s, nobody following | %.0f (%.2f of health) |\n",
                          alone, alone / health_rate)
       << absl::StrFormat("| register calls/s, %d subscribers | %.0f (%.2f of health) |\n",
                          s.subscribers, subscribed, subscribed / health_rate)
       << absl::StrFormat("| register rate kept | %.0f%% |\n", 100 * kept)
       << absl::StrFormat("| delivery p50 / p99 / max | %.1f / %.1f / %.1f ms |\n",
                          feed.delivery.p50_us / 1000, feed.delivery.p99_us / 1000,
                          feed.delivery.max_us / 1000)
       << absl::StrFormat("| events delivered (expected) | %d (%d) |\n", feed.delivered,
                          feed.expected_deliveries)
       << "\n| target | measured | met |\n| --- | ---: | --- |\n"
       << absl::StrFormat("| delivery p99 under 1 s at the full register rate | %.1f ms | %s |\n",
                          feed.delivery.p99_us / 1000, feed.delivery.p99_us < 1e6 ? "yes" : "**no**")
       << absl::StrFormat("| register rate with subscribers within 10%% of without | %.0f%% | %s |\n",
                          100 * kept, kept >= 0.9 ? "yes" : "**no**");
  }
  return feed.error.ok() ? 0 : 1;
}

}  // namespace
}  // namespace cir::bench

int main(int argc, char** argv) {
  cir::bench::Settings s;
  CLI::App app{"cir-bench: the registry's throughput and latency, compared with the gRPC health "
               "check on the same server in the same run"};
  app.add_option("--server", s.server, "registry address")->capture_default_str();
  app.add_option("--ca", s.ca_file, "PEM CA bundle of the registry's certificate");
  app.add_option("--cert", s.certificate_file,
                 "PEM certificate of an agency allowed every workload (scripts/bench makes one)");
  app.add_option("--key", s.key_file, "its PEM private key");
  app.add_flag("--plaintext", s.plaintext, "no TLS (a registry started for tests only)");
  app.add_option("--server-pid", s.server_pid, "the server's process id, to report its memory");
  app.add_option("--channels", s.channels, "client channels (connections)")->capture_default_str();
  app.add_option("--concurrency", s.concurrency, "calls in flight")->capture_default_str();
  app.add_option("--duration", s.duration_seconds, "seconds measured per workload")
      ->capture_default_str();
  app.add_option("--warmup", s.warmup_seconds, "seconds of warm-up per workload")
      ->capture_default_str();
  app.add_option("--population", s.population, "children loaded for the read workloads")
      ->capture_default_str();
  app.add_option("--scale", s.scale,
                 "instead of the standard set: bulk-register this many children, measuring "
                 "resolve at 100 thousand, each power of ten and the end");
  app.add_option("--bulk-batch", s.bulk_batch, "births per RegisterBirths call in --scale's load")
      ->capture_default_str()
      ->check(CLI::Range(1, 10000));
  app.add_option("--bulk-in-flight", s.bulk_in_flight, "RegisterBirths calls in flight (--scale)")
      ->capture_default_str()
      ->check(CLI::Range(1, 64));
  app.add_option("--json", s.json_path, "also write the results as JSON to this file");
  app.add_option("--markdown", s.markdown_path, "also write the results as Markdown to this file");
  app.add_option("--only", s.only,
                 "run only the workloads whose name starts with this (and health), e.g. register");
  app.add_flag("--smoke", s.smoke, "a run of a few seconds in all, to check that the tool works");
  app.add_flag("--feed", s.feed,
               "instead of the standard set: registrations at the full rate without and then with "
               "feed subscribers, and the latency from commit to delivery");
  app.add_option("--subscribers", s.subscribers, "feed subscribers (--feed)")->capture_default_str();
  app.add_option("--feed-areas", s.feed_areas, "areas the subscribers follow (--feed), at most 199")
      ->capture_default_str()
      ->check(CLI::Range(1, 199));
  CLI11_PARSE(app, argc, argv);
  // As in cir-server: Debian's Abseil tracks lock order on every gRPC lock; a debugging aid that
  // would otherwise be part of every measured call.
  absl::SetMutexDeadlockDetectionMode(absl::OnDeadlockCycle::kIgnore);
  if (s.smoke) {
    s.duration_seconds = 0.3;
    s.warmup_seconds = 0.1;
    s.population = std::min<size_t>(s.population, 500);
  }
  absl::StatusOr<cir::ClientOptions> connection = cir::bench::Connection(s);
  if (!connection.ok()) {
    std::cerr << "cir-bench: " << connection.status().message() << "\n";
    return 2;
  }
  cir::bench::ClientPool pool(*connection, s.channels);
  if (absl::Status up = pool.For(0).CheckHealth(); !up.ok()) {
    std::cerr << "cir-bench: the server at " << s.server << " does not answer: " << up << "\n";
    return 1;
  }
  // The benchmark writes fictional children (NHS numbers 999 ...): only into a test environment.
  absl::StatusOr<cir::v1::DescribeRegistryResponse> registry = pool.For(0).DescribeRegistry();
  if (!registry.ok()) {
    std::cerr << "cir-bench: the server at " << s.server << " does not describe itself: "
              << registry.status() << "\n";
    return 1;
  }
  if (registry->environment() != cir::v1::DescribeRegistryResponse::ENVIRONMENT_TEST) {
    std::cerr << "cir-bench: the registry at " << s.server
              << " is not a test environment; it loads fictional children only into a server "
                 "started with --allow-test-nhs-numbers\n";
    return 2;
  }
  if (s.feed) return cir::bench::RunFeed(s, pool);
  return s.scale > 0 ? cir::bench::RunScale(s, pool) : cir::bench::RunStandard(s, pool);
}
