// cir-soak: the registry under crash loops. Each cycle starts the registry on one data folder,
// runs a mixed load on it from many threads (registrations with racing retries, UPN links, every
// life event, batch reads) with feed followers resuming by cursor, and crashes it at a random
// moment: SIGKILL of cir-server (--crash), or a power cut under the registry's server in this
// process, losing every byte not synced (--power-cuts). After the last cycle the registry is
// started once more and checked against the model the harness kept of everything acknowledged
// (tests/soak/soak_check.h).
//
//   cir-soak --crash N | --power-cuts N [--seed S] [--min-run-ms A --max-run-ms B] [--work-dir DIR]
//
// With --hours H (or --minutes M) instead: the mixed load at its full rate until the store on
// disk is eight times its memory bound (at most --preload-minutes, 30 unless told), filling the
// store past its cache as a registry in service is, then paced at
// half the rate measured over the next 30 seconds, for that long with no crash; each minute the
// server's resident memory and the operations' p99 are printed. The baseline is the first ten
// minutes (the first sixth of a run shorter than an hour). The server holds its store within
// --store-memory-mib (128 MiB unless told): its block cache, with the index and filter blocks and
// the memtables charged to it, is bounded, and is near its bound by the end of the preload. Memory
// is sampled every 5 seconds (the server's RSS, and from its metrics the cache's contents and the
// heap as its allocator counts it) and averaged by the minute. It passes when the cache never held
// more than its bound, the RSS at the end (the mean of the last five minutes) is less than 5%
// above the RSS at the end of the baseline (the mean of its last five minutes), the p99 of every
// later window as long as the baseline within 20% of the baseline's, no operation's outcome was
// unknown and no read failed, and the check against the model finds nothing lost or duplicated.
//
// With --backup-restore instead: a backup made with `cir-admin backup` under the mixed load,
// checked with `cir-admin verify-backup`, restored with `cir-admin restore` into a new folder, and
// the registry started on it checked against the model as it was when the backup began (what the
// backup must hold).
//
// Prints cycles, acknowledged operations, lost and duplicates; exits 0 only when nothing was lost
// or duplicated and the audit log verifies. scripts/soak builds and runs it.

#include <signal.h>
#include <stdlib.h>
#include <sys/wait.h>

#include <algorithm>
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <iostream>
#include <memory>
#include <optional>
#include <random>
#include <string>
#include <vector>

#include "CLI/CLI.hpp"
#include "absl/strings/str_cat.h"
#include "absl/strings/string_view.h"
#include "absl/time/clock.h"
#include "tests/soak/crash_target.h"
#include "tests/soak/soak_check.h"
#include "tests/soak/soak_load.h"
#include "tests/soak/soak_model.h"
#include "tests/testing/metrics_scrape.h"
#include "tests/testing/test_access.h"

namespace {

struct SoakOptions {
  int crash_cycles = 0;
  int power_cuts = 0;
  uint32_t seed = 1;
  int min_run_ms = 300;
  int max_run_ms = 2500;
  std::string work_dir;
  std::string server_path = CIR_SERVER_PATH;
  std::string cli_path = CIR_CLI_PATH;
  std::string admin_path = CIR_ADMIN_PATH;
  bool backup_restore = false;
  double soak_minutes = 0;
  int soak_store_memory_mib = 128;
  int preload_minutes = 30;
  int followers = 2;
};

// Checks the running `target` against `model` (soak_check.h), stops it, and prints every finding;
// nullopt (after saying why) if the audit log's public key could not be written.
std::optional<cir::soak::SoakFindings> CheckAndStop(
    cir::soak::CrashTarget& target, cir::soak::SoakModel& model,
    std::vector<std::unique_ptr<cir::soak::FeedFollower>>& followers, const SoakOptions& options,
    size_t sample = 0, const cir::soak::SoakModel* later = nullptr) {
  const std::string public_key = options.work_dir + "/audit-signing.pub.pem";
  if (!cir::testing::WriteSigningPublicKeyFile(target.signing_key_file(), public_key)) {
    std::cerr << "cannot write the audit log's public key\n";
    return std::nullopt;
  }
  // A checkpoint of every entry made before the check: the server signs one every second.
  absl::SleepFor(absl::Milliseconds(1500));
  cir::soak::SoakFindings findings = cir::soak::CheckAgainstModel(
      target.address(), model, followers, options.cli_path, public_key, sample, later);
  target.Stop();
  for (const std::string& description : findings.descriptions) std::cout << description << "\n";
  if (!findings.audit_verified) std::cout << findings.audit_output << "\n";
  return findings;
}

// The model's acknowledged calls by method, "RegisterBirth 120, LinkUpn 31, ...".
std::string ByMethod(const cir::soak::SoakModel& model) {
  std::string listed;
  for (const auto& [method, count] : model.AcknowledgedByMethod()) {
    const absl::string_view name = absl::string_view(method).substr(method.rfind('/') + 1);
    absl::StrAppend(&listed, listed.empty() ? "" : ", ", name, " ", count);
  }
  return listed;
}

int RunCrashLoop(const SoakOptions& options) {
  using namespace cir::soak;
  const std::string data_dir = options.work_dir + "/data";
  const bool power_cuts = options.power_cuts > 0;
  const int cycles = power_cuts ? options.power_cuts : options.crash_cycles;
  std::unique_ptr<CrashTarget> target =
      power_cuts ? PowerCutServer(data_dir) : KilledServerProcess(options.server_path, data_dir);
  SoakModel model;
  std::vector<std::unique_ptr<WorkerState>> workers;
  std::vector<std::unique_ptr<FeedFollower>> followers;
  for (int i = 0; i < options.followers; ++i) {
    followers.push_back(std::make_unique<FeedFollower>(i + 1));
  }
  std::atomic<uint32_t> next_number{1};
  std::mt19937 random(options.seed);

  for (int cycle = 1; cycle <= cycles; ++cycle) {
    if (!target->Start()) {
      std::cerr << "cycle " << cycle << ": the registry did not start:\n" << target->log() << "\n";
      return 2;
    }
    for (std::unique_ptr<FeedFollower>& follower : followers) follower->Start(target->address());
    {
      MixedLoad load(target->address(), model, workers, next_number);
      const int run_ms = options.min_run_ms +
                         static_cast<int>(random() % (options.max_run_ms - options.min_run_ms + 1));
      absl::SleepFor(absl::Milliseconds(run_ms));
      target->Crash();
      load.Stop();
    }
    for (std::unique_ptr<FeedFollower>& follower : followers) follower->Stop();
    std::cerr << "cycle " << cycle << (power_cuts ? ": power cut; " : ": killed; ")
              << model.acknowledged_operations() << " operations acknowledged so far\n";
  }

  if (!target->Start()) {
    std::cerr << "the registry did not start after the last crash:\n" << target->log() << "\n";
    return 2;
  }
  const int64_t acknowledged = model.acknowledged_operations();
  const int64_t unknown = model.unknown_outcomes();
  std::optional<SoakFindings> checked = CheckAndStop(*target, model, followers, options);
  if (!checked.has_value()) return 2;
  const SoakFindings& findings = *checked;
  std::cout << "cycles: " << cycles << (power_cuts ? " (power cuts)" : " (SIGKILL)") << "\n"
            << "acknowledged operations: " << acknowledged << " (outcome unknown: " << unknown
            << ")\n"
            << "children: " << model.Children().size() << "\n"
            << "acknowledged by method: " << ByMethod(model) << "\n"
            << "audit log: " << (findings.audit_verified ? "verified" : "NOT VERIFIED") << ", "
            << findings.audit_entries << " entries\n"
            << "lost: " << findings.lost << "\n"
            << "duplicates: " << findings.duplicates << "\n";
  return findings.lost == 0 && findings.duplicates == 0 && findings.audit_verified ? 0 : 1;
}

// Runs `command` (stderr with stdout); returns its exit status, its output in `output`.
int RunCommand(const std::string& command, std::string& output) {
  FILE* pipe = popen((command + " 2>&1").c_str(), "r");
  if (pipe == nullptr) return -1;
  char buffer[4096];
  for (size_t n; (n = fread(buffer, 1, sizeof buffer, pipe)) > 0;) output.append(buffer, n);
  const int status = pclose(pipe);
  return WIFEXITED(status) ? WEXITSTATUS(status) : -1;
}

bool CopyKey(const std::string& from, const std::string& to) {
  std::error_code error;
  std::filesystem::copy_file(from, to, std::filesystem::copy_options::overwrite_existing, error);
  std::filesystem::permissions(
      to, std::filesystem::perms::owner_read | std::filesystem::perms::owner_write, error);
  return !error;
}

int RunBackupRestore(const SoakOptions& options) {
  using namespace cir::soak;
  const std::string data_dir = options.work_dir + "/data";
  const std::string restored_dir = options.work_dir + "/restored";
  std::unique_ptr<CrashTarget> target = KilledServerProcess(options.server_path, data_dir);
  if (!target->Start()) {
    std::cerr << "the registry did not start:\n" << target->log() << "\n";
    return 2;
  }
  SoakModel model;
  std::vector<std::unique_ptr<WorkerState>> workers;
  std::atomic<uint32_t> next_number{1};
  std::mt19937 random(options.seed);
  std::unique_ptr<SoakModel> at_backup;
  std::string backup_output;
  int backed_up = -1;
  {
    MixedLoad load(target->address(), model, workers, next_number);
    absl::SleepFor(absl::Milliseconds(
        options.min_run_ms +
        static_cast<int>(random() % (options.max_run_ms - options.min_run_ms + 1))));
    // Everything acknowledged before the backup begins must be in it.
    at_backup = model.Snapshot();
    backed_up = RunCommand(
        absl::StrCat(options.admin_path, " backup --plaintext --server ", target->address()),
        backup_output);
    absl::SleepFor(absl::Milliseconds(300));  // the load goes on after the backup
    load.Stop();
  }
  target->Stop();
  std::cerr << backup_output;
  if (backed_up != 0) {
    std::cerr << "cir-admin backup failed\n";
    return 1;
  }
  // Checked offline, every file against the checksums taken while it was written.
  std::string verify_output;
  const int verified =
      RunCommand(absl::StrCat(options.admin_path, " verify-backup --backup-dir ", data_dir,
                              ".backups --master-key-file ", data_dir, ".master.key"),
                 verify_output);
  std::cerr << verify_output;
  if (verified != 0) {
    std::cerr << "cir-admin verify-backup failed\n";
    return 1;
  }
  std::string restore_output;
  const int restored = RunCommand(
      absl::StrCat(options.admin_path, " restore --backup-dir ", data_dir, ".backups --data-dir ",
                   restored_dir, " --master-key-file ", data_dir, ".master.key"),
      restore_output);
  std::cerr << restore_output;
  if (restored != 0) {
    std::cerr << "cir-admin restore failed\n";
    return 1;
  }
  // The restored registry runs with the store's master key and the same audit signing key.
  if (!CopyKey(data_dir + ".master.key", restored_dir + ".master.key") ||
      !CopyKey(data_dir + ".audit-signing.key", restored_dir + ".audit-signing.key")) {
    std::cerr << "cannot copy the keys\n";
    return 2;
  }
  std::unique_ptr<CrashTarget> restored_registry =
      KilledServerProcess(options.server_path, restored_dir);
  if (!restored_registry->Start()) {
    std::cerr << "the restored registry did not start:\n" << restored_registry->log() << "\n";
    return 1;
  }
  std::vector<std::unique_ptr<FeedFollower>> no_followers;
  const int64_t before_backup = at_backup->acknowledged_operations();
  std::optional<SoakFindings> checked = CheckAndStop(*restored_registry, *at_backup, no_followers,
                                                     options, /*sample=*/0, /*later=*/&model);
  if (!checked.has_value()) return 2;
  const SoakFindings& findings = *checked;
  std::cout << "backup under load, restored: " << before_backup
            << " operations acknowledged before the backup began ("
            << model.acknowledged_operations() << " in all)\n"
            << "audit log: " << (findings.audit_verified ? "verified" : "NOT VERIFIED") << ", "
            << findings.audit_entries << " entries\n"
            << "lost: " << findings.lost << "\n"
            << "duplicates: " << findings.duplicates << "\n";
  return findings.lost == 0 && findings.duplicates == 0 && findings.audit_verified ? 0 : 1;
}

// The resident memory of process `pid`, in KiB (0 if unknown).
int64_t ResidentKib(int pid) {
  std::ifstream status(absl::StrCat("/proc/", pid, "/status"));
  for (std::string line; std::getline(status, line);) {
    if (line.rfind("VmRSS:", 0) == 0) return std::atoll(line.c_str() + 6);
  }
  return 0;
}

// The store's own account of its memory (cir_store_memory_bytes) and of its size on disk
// (cir_store_size_bytes), and the allocator's of the heap (cir_heap_bytes), in KiB, from one read
// of the server's metrics page.
struct ServerFiguresKib {
  int64_t block_cache = 0;
  int64_t memtables = 0;      // outside the block cache
  int64_t table_readers = 0;  // outside the block cache
  int64_t disk = 0;
  int64_t heap_allocated = 0;  // held by the server
  int64_t heap_resident = 0;   // the allocator's pages in memory
};
ServerFiguresKib ReadServerFigures(int metrics_port) {
  const std::string metrics = cir::testing::HttpGet(metrics_port, "/metrics");
  auto kib = [&metrics](const std::string& series) {
    return static_cast<int64_t>(std::max(0.0, cir::testing::Sample(metrics, series))) >> 10;
  };
  auto memory = [](absl::string_view part) {
    return absl::StrCat("cir_store_memory_bytes{part=\"", part, "\"}");
  };
  return {.block_cache = kib(memory("block_cache")),
          .memtables = kib(memory("memtables")),
          .table_readers = kib(memory("table_readers")),
          .disk = kib("cir_store_size_bytes"),
          .heap_allocated = kib(R"(cir_heap_bytes{state="allocated"})"),
          .heap_resident = kib(R"(cir_heap_bytes{state="resident"})")};
}

// The 99th percentile of `micros` (0 for none).
int64_t P99(std::vector<int64_t> micros) {
  if (micros.empty()) return 0;
  const size_t at = micros.size() * 99 / 100;
  std::nth_element(micros.begin(), micros.begin() + at, micros.end());
  return micros[at];
}

int RunSoak(const SoakOptions& options) {
  using namespace cir::soak;
  const std::string data_dir = options.work_dir + "/data";
  std::vector<std::string> server_args = {"--metrics-listen", "127.0.0.1:0"};
  if (options.soak_store_memory_mib > 0) {
    server_args.insert(server_args.end(),
                       {"--store-memory-mib", absl::StrCat(options.soak_store_memory_mib)});
  }
  std::unique_ptr<CrashTarget> target =
      KilledServerProcess(options.server_path, data_dir, server_args);
  if (!target->Start()) {
    std::cerr << "the registry did not start:\n" << target->log() << "\n";
    return 2;
  }
  const int metrics_port = cir::testing::MetricsPort(target->log());
  SoakModel model;
  std::vector<std::unique_ptr<WorkerState>> workers;
  std::vector<std::unique_ptr<FeedFollower>> followers;
  for (int i = 0; i < options.followers; ++i) {
    followers.push_back(std::make_unique<FeedFollower>(i + 1));
    followers.back()->Start(target->address());
  }
  std::atomic<uint32_t> next_number{1};
  const int minutes = std::max(6, static_cast<int>(options.soak_minutes + 0.5));
  const int baseline = minutes >= 60 ? 10 : minutes / 6;
  std::vector<int64_t> rss_kib;                 // each minute's mean
  std::vector<int64_t> cache_kib;               // each minute's mean of the block cache's contents
  int64_t cache_peak_kib = 0;                   // the most the block cache held at any sample
  std::vector<std::vector<int64_t>> durations;  // each minute's operations
  double pace = 0;
  {
    MixedLoad load(target->address(), model, workers, next_number);
    // The store filled first, at the load's full rate, so that the soak measures a registry in
    // service, its tables well past its cache, and not a store filling up from empty, whose first
    // minutes find nearly every read in the cache and whose cache is still growing.
    // It stops once the store on disk is eight times its memory bound: a 128 MiB cache held some
    // 118 MiB on average with 600 MiB on disk and 124 MiB with 1.4 GiB (what it has free is the
    // room memtables hand back at each flush, refilled only by the reads that miss it, which are
    // more as the store grows), so a smaller store would still be filling its cache after the
    // baseline.
    const int64_t preloaded_kib = int64_t{options.soak_store_memory_mib} * 8 << 10;
    for (int minute = 1; minute <= options.preload_minutes; ++minute) {
      absl::SleepFor(absl::Minutes(1));
      const ServerFiguresKib store = ReadServerFigures(metrics_port);
      std::cerr << "preload minute " << minute << ": " << load.operations()
                << " operations, block cache " << store.block_cache / 1024 << " MiB, store "
                << store.disk / 1024 << " MiB on disk\n";
      if (preloaded_kib > 0 && store.disk >= preloaded_kib) break;
      if (preloaded_kib > 0 && minute == options.preload_minutes) {
        std::cerr << "preload: stopped at --preload-minutes with the store short of "
                  << preloaded_kib / 1024 << " MiB on disk; the baseline is of a smaller store\n";
      }
    }
    // The maximum: back to back for 30 seconds (the first 10 a warm-up).
    absl::SleepFor(absl::Seconds(10));
    const int64_t warm = load.operations();
    absl::SleepFor(absl::Seconds(20));
    pace = (load.operations() - warm) / 20.0 / 2;
    load.Pace(pace);
    load.TakeDurations();
    std::cerr << "maximum " << pace * 2 << " operations/s; soaking at " << pace << " for "
              << minutes << " minutes\n";
    for (int minute = 1; minute <= minutes; ++minute) {
      // Sampled every 5 seconds and averaged: the allocator hands freed pages back over seconds,
      // so a single sample lands anywhere in a swing of some 10 MiB. With each, the store's own
      // account of its block cache (from its metrics), to tell the bounded cache filling from
      // the rest.
      int64_t rss_sum = 0, cache_sum = 0;
      ServerFiguresKib store;
      for (int sample = 0; sample < 12; ++sample) {
        absl::SleepFor(absl::Seconds(5));
        rss_sum += ResidentKib(target->pid());
        store = ReadServerFigures(metrics_port);
        cache_sum += store.block_cache;
        cache_peak_kib = std::max(cache_peak_kib, store.block_cache);
      }
      durations.push_back(load.TakeDurations());
      rss_kib.push_back(rss_sum / 12);
      cache_kib.push_back(cache_sum / 12);
      std::cerr << "minute " << minute << ": " << durations.back().size() << " operations, p99 "
                << P99(durations.back()) << " us, server RSS " << rss_kib.back() / 1024
                << " MiB (block cache " << cache_kib.back() / 1024 << " MiB; at the minute's end "
                << "memtables outside it " << store.memtables / 1024 << ", table readers "
                << store.table_readers / 1024 << "; heap allocated " << store.heap_allocated / 1024
                << ", allocator resident " << store.heap_resident / 1024 << "), store "
                << store.disk / 1024 << " MiB on disk, outcome unknown " << model.unknown_outcomes()
                << "\n";
    }
    load.Stop();
  }
  for (std::unique_ptr<FeedFollower>& follower : followers) follower->Stop();
  auto window = [&durations](int from, int to) {  // minutes [from, to)
    std::vector<int64_t> all;
    for (int m = from; m < to; ++m) all.insert(all.end(), durations[m].begin(), durations[m].end());
    return P99(std::move(all));
  };
  const int64_t p99_first = window(0, baseline);
  int64_t p99_worst = 0;
  for (int from = baseline; from + baseline <= minutes; from += baseline) {
    p99_worst = std::max(p99_worst, window(from, from + baseline));
  }
  // The RSS after the first ten minutes (the mean of the baseline's last five minutes) against
  // the RSS at the end (the mean of the last five): five-minute means, as the cache's contents
  // alone swing by some 10 MiB from one minute to the next, as memtables are flushed and their
  // reservation in the cache handed back. The highest minute after the baseline is printed too.
  // The cache's contents, never above its capacity, and the rest of the RSS are printed apart, to
  // say where any growth was.
  const int span = std::max(1, baseline / 2);
  auto mean = [span](const std::vector<int64_t>& kib, int to) {  // minutes [to - span, to)
    int64_t sum = 0;
    for (int m = to - span; m < to; ++m) sum += kib[m];
    return sum / span;
  };
  std::vector<int64_t> rest_kib;
  for (size_t m = 0; m < rss_kib.size(); ++m) rest_kib.push_back(rss_kib[m] - cache_kib[m]);
  const int64_t rss_base = mean(rss_kib, baseline);
  const int64_t rss_end = mean(rss_kib, minutes);
  const int64_t rss_peak = *std::max_element(rss_kib.begin() + baseline, rss_kib.end());
  const double rss_growth = rss_base > 0 ? 100.0 * (rss_end - rss_base) / rss_base : 0;
  const int64_t rest_base = mean(rest_kib, baseline);
  const int64_t rest_end = mean(rest_kib, minutes);
  const double rest_growth = rss_base > 0 ? 100.0 * (rest_end - rest_base) / rss_base : 0;
  const int64_t cache_capacity_kib = int64_t{options.soak_store_memory_mib} << 10;
  // RocksDB's LRU cache may go a little over its capacity while entries are pinned.
  const bool cache_bounded =
      cache_capacity_kib == 0 || cache_peak_kib <= cache_capacity_kib + cache_capacity_kib / 20;
  const double p99_change = p99_first > 0 ? 100.0 * (p99_worst - p99_first) / p99_first : 0;
  const int64_t acknowledged = model.acknowledged_operations();
  const int64_t unknown = model.unknown_outcomes();

  std::optional<SoakFindings> checked =
      CheckAndStop(*target, model, followers, options, /*sample=*/20000);
  if (!checked.has_value()) return 2;
  const SoakFindings& findings = *checked;
  const bool memory_held = rss_growth < 5 && cache_bounded;
  const bool p99_held = p99_change <= 20;
  std::cout << "soak: " << minutes << " minutes at " << pace << " operations/s (half of "
            << pace * 2 << ")\n"
            << "acknowledged operations: " << acknowledged << " (outcome unknown: " << unknown
            << ")\n"
            << "acknowledged by method: " << ByMethod(model) << "\n"
            << "server RSS ("
            << (span == 1 ? std::string("one minute's mean")
                          : absl::StrCat("means of ", span, " minutes"))
            << "): " << rss_base / 1024 << " MiB at the end of the first " << baseline
            << " minutes, " << rss_end / 1024 << " MiB at the end (" << rss_growth
            << "%; under 5%: " << (rss_growth < 5 ? "yes" : "NO")
            << "); the highest minute after the first " << baseline << ": " << rss_peak / 1024
            << " MiB\n"
            << "  block cache: " << mean(cache_kib, baseline) / 1024 << " MiB, then "
            << mean(cache_kib, minutes) / 1024 << " MiB; at most " << cache_peak_kib / 1024
            << " MiB at any sample, against " << cache_capacity_kib / 1024
            << " MiB (within it: " << (cache_bounded ? "yes" : "NO") << ")\n"
            << "  the rest: " << rest_base / 1024 << " MiB, then " << rest_end / 1024 << " MiB ("
            << rest_growth << "% of the RSS)\n"
            << "p99: " << p99_first << " us in the first " << baseline
            << " minutes; the worst later " << baseline << "-minute window " << p99_worst << " us ("
            << p99_change << "%; within 20%: " << (p99_held ? "yes" : "NO") << ")\n"
            << "failed reads: " << model.failed_reads() << "\n"
            << "audit log: " << (findings.audit_verified ? "verified" : "NOT VERIFIED") << ", "
            << findings.audit_entries << " entries\n"
            << "lost: " << findings.lost << "\n"
            << "duplicates: " << findings.duplicates << "\n";
  return memory_held && p99_held && unknown == 0 && model.failed_reads() == 0 &&
                 findings.lost == 0 && findings.duplicates == 0 && findings.audit_verified
             ? 0
             : 1;
}

}  // namespace

int main(int argc, char** argv) {
  CLI::App app(
      "cir-soak: the registry under crash loops, checked against a model of everything "
      "acknowledged");
  SoakOptions options;
  CLI::Option* crash =
      app.add_option("--crash", options.crash_cycles, "cycles of load and SIGKILL of cir-server")
          ->check(CLI::Range(1, 100000));
  CLI::Option* power = app.add_option("--power-cuts", options.power_cuts,
                                      "cycles of load and a power cut under the registry's server "
                                      "in this process (every byte not synced is lost)")
                           ->check(CLI::Range(1, 100000));
  CLI::Option* backup = app.add_flag(
      "--backup-restore", options.backup_restore,
      "instead: a backup under load with cir-admin, restored, checked against the model as it "
      "was when the backup began");
  double soak_hours = 0;
  CLI::Option* hours =
      app.add_option("--hours", soak_hours, "instead: a soak at half the maximum rate, no crash")
          ->check(CLI::Range(0.1, 1000.0));
  CLI::Option* minutes =
      app.add_option("--minutes", options.soak_minutes, "the soak's length in minutes instead")
          ->check(CLI::Range(6.0, 60000.0));
  crash->excludes(power);
  backup->excludes(crash);
  backup->excludes(power);
  hours->excludes(crash)->excludes(power)->excludes(backup)->excludes(minutes);
  minutes->excludes(crash)->excludes(power)->excludes(backup);
  app.add_option("--admin", options.admin_path, "the cir-admin binary")->capture_default_str();
  app.add_option("--seed", options.seed, "the random seed (kill moments, operations)")
      ->capture_default_str();
  app.add_option("--min-run-ms", options.min_run_ms, "shortest load before a kill")
      ->capture_default_str()
      ->check(CLI::Range(50, 600000));
  app.add_option("--max-run-ms", options.max_run_ms, "longest load before a kill")
      ->capture_default_str()
      ->check(CLI::Range(50, 600000));
  app.add_option("--store-memory-mib", options.soak_store_memory_mib,
                 "with --hours or --minutes: cir-server's --store-memory-mib (0: its default)")
      ->capture_default_str()
      ->check(CLI::Range(0, 65536));
  app.add_option("--preload-minutes", options.preload_minutes,
                 "with --hours or --minutes: the load at its full rate first, at most this "
                 "long, until the store on disk is eight times --store-memory-mib (or for this "
                 "long with 0), before the maximum is measured")
      ->capture_default_str()
      ->check(CLI::Range(0, 600));
  app.add_option("--followers", options.followers, "feed followers")
      ->capture_default_str()
      ->check(CLI::Range(0, 64));
  app.add_option("--work-dir", options.work_dir,
                 "folder for the data and keys (default: a new temporary folder, removed after a "
                 "clean run)");
  app.add_option("--server", options.server_path, "the cir-server binary")->capture_default_str();
  app.add_option("--cli", options.cli_path, "the cir binary")->capture_default_str();
  CLI11_PARSE(app, argc, argv);
  if (soak_hours > 0) options.soak_minutes = soak_hours * 60;
  if (options.crash_cycles == 0 && options.power_cuts == 0 && !options.backup_restore &&
      options.soak_minutes == 0) {
    std::cerr << "give --crash N, --power-cuts N, --backup-restore or --hours H\n";
    return 2;
  }
  if (options.max_run_ms < options.min_run_ms) {
    std::cerr << "--max-run-ms must be at least --min-run-ms\n";
    return 2;
  }
  bool temporary = false;
  if (options.work_dir.empty()) {
    std::string pattern = (std::filesystem::temp_directory_path() / "cir-soak.XXXXXX").string();
    if (mkdtemp(pattern.data()) == nullptr) {
      std::cerr << "cannot make a temporary folder\n";
      return 2;
    }
    options.work_dir = pattern;
    temporary = true;
  }
  std::filesystem::create_directories(options.work_dir);
  const int status = options.backup_restore     ? RunBackupRestore(options)
                     : options.soak_minutes > 0 ? RunSoak(options)
                                                : RunCrashLoop(options);
  if (temporary && status == 0) std::filesystem::remove_all(options.work_dir);
  if (status != 0) std::cerr << "data kept in " << options.work_dir << "\n";
  return status;
}
