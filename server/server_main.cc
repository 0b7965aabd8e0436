// cir-server: the Child Identifier Registry's gRPC server over an embedded RocksDB store.
//
//   cir-server --access-config FILE --tls-ca FILE --tls-cert FILE --tls-key FILE --tls-crl-dir DIR
//              --master-key-file FILE --audit-signing-key FILE
//              [--listen 127.0.0.1:50051] [--data-dir ./cir-data] [--create-if-missing]
//              [--port-file FILE] [--allow-test-nhs-numbers] [--drain-seconds S]
//              [--grace-seconds S] [--call-memory-mib N] [--feed-heartbeat-seconds S]
//              [--feed-threads N] [--feed-retention-days D] [--tls-refresh-seconds S]
//              [--max-connection-age-seconds S] [--audit-checkpoint-seconds S]
//              [--backup-dir DIR] [--metrics-listen HOST:PORT] [--log-format text|json]
//   cir-server --insecure-plaintext-for-tests AGENCY-ID --access-config FILE ...   (loopback only)
//   cir-server --unsafe-unencrypted-store --allow-test-nhs-numbers ...   (measurements only)
//
//   cir-server --data-dir DIR --master-key-file OLD --rotate-master-key-to NEW   (then exits)
//   cir-server --data-dir DIR --master-key-file FILE --init-store   (creates the store, exits)
//
//   cir-server --config FILE ...   reads options from FILE (one `name = value` a line, each an
//   option above without its dashes; see server/package/cir-server.conf), the command line
//   overriding it.
//
// SIGHUP reads the access configuration again (so does a change to the file, within a second).
// Runs until SIGTERM or SIGINT. Then health turns NOT_SERVING, the server keeps answering for the
// drain interval, stops taking calls, finishes those in flight and closes the store; all of it
// within the grace period, after which it exits (status 3) even if the disk has stopped answering.

#include <signal.h>
#include <sys/resource.h>

#include <algorithm>
#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <string>

#include "CLI/CLI.hpp"
#include "absl/strings/str_cat.h"
#include "absl/synchronization/mutex.h"
#include "access/policy_source.h"
#include "server/log.h"
#include "server/registry_server.h"
#include "storage/rocksdb_child_store.h"
#include "storage/store_keys.h"

// jemalloc's settings, read by it at start (MALLOC_CONF in the environment still overrides them).
// Pages the server frees are handed back to the system about a second after they are freed rather
// than ten (dirty_decay_ms; jemalloc purges as it allocates, so under load), with no "muzzy"
// stage between (muzzy_decay_ms 0, jemalloc 5.2's default, stated here so that it stays so).
// Under a memory bound the block cache evicts and allocates blocks at the rate its reads miss,
// which rises as the store grows, and the allocator's resident bytes above those allocated (its
// pages freed and not yet handed back, with its metadata and part-filled pages) grew with it in
// an hour's soak (a median of 27 MiB, 18-71, at the minutes' ends); in the next, with these
// settings and a larger store from the start, a median of 19 MiB (16-42) and the RSS level
// (BENCHMARKS.md, the hour met).
extern "C" {
const char* malloc_conf = "dirty_decay_ms:1000,muzzy_decay_ms:0";
}

namespace {

// --init-store: creates the store if the data folder holds none, and closes it again. Exit
// status 0 when a store is there afterwards (made now, or found), 1 otherwise.
int InitStore(cir::storage::RocksDbStoreOptions store) {
  store.create_if_missing = false;
  if (cir::storage::RocksDbChildStore::Open(store).ok()) {
    cir::server::LogLine(absl::StrCat("a store is already in ", store.path, "; left as it is"));
    return 0;
  }
  // A store that would not open is not replaced: only a folder that is missing or empty gets one,
  // so an unmounted volume's mount point or a locked store is never taken for no store.
  std::error_code error;
  if (std::filesystem::exists(store.path, error) && !std::filesystem::is_empty(store.path, error)) {
    cir::server::LogLine(absl::StrCat("no store created in ", store.path,
                                      ": the folder is not empty, and holds no store that opens"));
    return 1;
  }
  store.create_if_missing = true;
  absl::StatusOr<std::unique_ptr<cir::storage::ChildStore>> created =
      cir::storage::RocksDbChildStore::Open(store);
  if (!created.ok()) {
    cir::server::LogLine(
        absl::StrCat("no store created in ", store.path, ": ", created.status().message()));
    return 1;
  }
  cir::server::LogLine(absl::StrCat("an empty store is made in ", store.path));
  return 0;
}

}  // namespace

int main(int argc, char** argv) {
  cir::server::RegistryServerOptions options;
  options.store.path = "cir-data";
  std::string port_file;
  bool no_sync = false;
  double drain_seconds = 0;
  double grace_seconds = 10;
  size_t call_memory_mib = options.call_memory_bytes >> 20;

  CLI::App app{"Child Identifier Registry server"};
  app.set_config("--config", "",
                 "read options from this file: one `name = value` a line, each an option of "
                 "this list without its leading dashes (e.g. data-dir = \"/var/lib/cir/store\"); "
                 "options given on the command line override it");
  // A setting the server does not know (a mistyped name) is an error, never silently ignored.
  app.allow_config_extras(CLI::config_extras_mode::error);
  app.add_option("--listen", options.listen_address,
                 "address to listen on, host:port (port 0 picks a free one)")
      ->capture_default_str();
  app.add_option("--data-dir", options.store.path, "folder of the embedded RocksDB store")
      ->capture_default_str();
  app.add_flag("--create-if-missing", options.store.create_if_missing,
               "create an empty store if the data folder holds none (first start only: without "
               "it, a missing store is an error, not a silently empty registry)");
  app.add_option("--port-file", port_file,
                 "once serving, write the bound port to this file (for scripts and tests)");
  app.add_flag("--unsafe-no-sync", no_sync,
               "do not sync the write-ahead log before acknowledging (measurements only: an "
               "acknowledged write can be lost in a power cut)");
  app.add_flag("--allow-test-nhs-numbers", options.registry.allow_test_nhs_numbers,
               "run as a test environment: accept NHS numbers of the test range (999 ...), which "
               "are refused otherwise; for fictional children only, never with real ones");
  app.add_option("--drain-seconds", drain_seconds,
                 "on SIGTERM, keep answering this long with health NOT_SERVING before refusing "
                 "new calls, so load balancers move away first")
      ->capture_default_str()
      ->check(CLI::Range(0.0, 300.0));
  app.add_option("--grace-seconds", grace_seconds,
                 "on SIGTERM, the most the whole stop may take (drain included): calls still "
                 "running then are cancelled, and the process exits even if the disk hangs")
      ->capture_default_str()
      ->check(CLI::Range(0.0, 3600.0));
  app.add_option("--call-memory-mib", call_memory_mib,
                 "memory gRPC may use for calls in flight; beyond it calls are slowed or refused")
      ->capture_default_str()
      ->check(CLI::Range(16, 65536));
  size_t store_memory_mib = 0;
  app.add_option("--store-memory-mib", store_memory_mib,
                 "hold the store's memory within N MiB however large it grows: index and filter "
                 "blocks in the block cache, half of it for memtables charged to it (default: "
                 "a 256 MiB cache and 128 MiB of memtables, index and filter blocks outside it, "
                 "faster but growing about 10 bits a key)")
      ->check(CLI::Range(size_t{128}, size_t{1} << 20));
  double heartbeat_seconds = absl::ToDoubleSeconds(options.feed.heartbeat_interval);
  app.add_option("--feed-heartbeat-seconds", heartbeat_seconds,
                 "a feed stream with nothing to send sends a heartbeat this often (at most 14, "
                 "so that one always comes within the contract's 15 seconds)")
      ->capture_default_str()
      ->check(CLI::Range(0.05, 14.0));
  app.add_option("--feed-threads", options.feed.threads,
                 "threads serving every feed stream, however many there are")
      ->capture_default_str()
      ->check(CLI::Range(1, 64));
  double send_interval_ms = absl::ToDoubleMilliseconds(options.feed.min_send_interval);
  app.add_option("--feed-send-interval-ms", send_interval_ms,
                 "events committing within this many milliseconds of a stream's last message go "
                 "together in its next one (0 sends each at once)")
      ->capture_default_str()
      ->check(CLI::Range(0.0, 1000.0));
  int retention_days = 0;
  app.add_option("--feed-retention-days", retention_days,
                 "delete feed events older than this many days (each area keeps its newest); a "
                 "cursor older than what is kept is refused with OUT_OF_RANGE. 0 keeps them for "
                 "good")
      ->capture_default_str()
      ->check(CLI::Range(0, 36500));
  std::string access_config;
  app.add_option("--access-config", access_config,
                 "the agencies that may call, their roles, local authorities and notifying "
                 "systems (a text proto: access/access_config.proto); read again on SIGHUP or "
                 "when it changes; required to serve");
  cir::server::TlsFiles tls;
  app.add_option("--tls-ca", tls.ca_bundle,
                 "PEM bundle of the CAs that issue agencies' client certificates");
  app.add_option("--tls-cert", tls.certificate, "PEM certificate (chain) of this server");
  app.add_option("--tls-key", tls.private_key, "PEM private key of this server");
  app.add_option("--tls-crl-dir", tls.crl_directory,
                 "folder of PEM CRLs, a current one from every CA in --tls-ca (the server does "
                 "not start, or take new files, without)");
  double tls_refresh_seconds = absl::ToDoubleSeconds(options.tls_refresh);
  app.add_option("--tls-refresh-seconds", tls_refresh_seconds,
                 "how often new TLS files (certificate, key, CAs, CRLs) are taken")
      ->capture_default_str()
      ->check(CLI::Range(1.0, 86400.0));
  double max_connection_age_seconds = absl::ToDoubleSeconds(options.max_connection_age);
  app.add_option("--max-connection-age-seconds", max_connection_age_seconds,
                 "how long a client's connection lasts before it must connect again (and so "
                 "present its certificate again, against the current CRLs); its calls then have "
                 "a minute to finish, and feed streams end: subscribers resume from their cursor")
      ->capture_default_str()
      ->check(CLI::Range(10.0, 86400.0));
  std::string master_key_file;
  app.add_option("--master-key-file", master_key_file,
                 "the master key (64 hex digits, readable by this user only, kept outside the "
                 "data folder) that wraps the store's data key: the store's files are encrypted "
                 "with AES-256-CTR under it");
  bool unencrypted = false;
  app.add_flag("--unsafe-unencrypted-store", unencrypted,
               "keep the store's files unencrypted, with no master key (measurements only, "
               "with --allow-test-nhs-numbers, to compare with an encrypted store)");
  app.add_option("--audit-signing-key", options.audit_signing_key,
                 "the Ed25519 private key (PEM, readable by this user only, outside the data "
                 "folder) that signs a checkpoint of the audit log every minute and at shutdown "
                 "(`openssl genpkey -algorithm ed25519`)");
  double checkpoint_seconds = absl::ToDoubleSeconds(options.audit_checkpoint_interval);
  app.add_option("--backup-dir", options.backup_folder,
                 "where `cir-admin backup` puts the store's backups (incremental, encrypted like "
                 "the store): a folder kept apart from the data folder, ideally on another disk; "
                 "without it the registry makes no backups");
  app.add_option("--metrics-listen", options.metrics_listen_address,
                 "serve Prometheus metrics (plain HTTP, /metrics) on this host:port, apart from "
                 "the registry's port; e.g. 127.0.0.1:9464 (port 0 picks one, logged at start)");
  std::string log_format = "text";
  app.add_option("--log-format", log_format,
                 "text, or json: one JSON object a line, for log collectors")
      ->capture_default_str()
      ->check(CLI::IsMember({"text", "json"}));
  app.add_option("--audit-checkpoint-seconds", checkpoint_seconds,
                 "how often the audit log's checkpoint is signed")
      ->capture_default_str()
      ->check(CLI::Range(1.0, 3600.0));
  bool init_store = false;
  app.add_flag("--init-store", init_store,
               "create an empty store in --data-dir under --master-key-file, then exit (once, "
               "when installing: a store already there is left as it is); the server itself "
               "never creates one without --create-if-missing");
  std::string rotate_to;
  app.add_option("--rotate-master-key-to", rotate_to,
                 "re-wrap the store's data key under the master key in this file (make it with "
                 "`openssl rand -hex 32`), then exit; the store's files are not rewritten");
  app.add_option("--insecure-plaintext-for-tests", options.plaintext_agency_for_tests,
                 "TESTS ONLY: serve without TLS on a loopback address, every call made by this "
                 "agency of the access configuration");
  CLI11_PARSE(app, argc, argv);
  if (log_format == "json") cir::server::SetLogFormat(cir::server::LogFormat::kJson);
  if (master_key_file.empty() == !unencrypted) {
    cir::server::LogLine(
        "cir-server could not start: give --master-key-file (or, for measurements only, "
        "--unsafe-unencrypted-store, but not both)");
    return 1;
  }
  if (unencrypted && !options.registry.allow_test_nhs_numbers) {
    cir::server::LogLine(
        "cir-server could not start: --unsafe-unencrypted-store is for measurements, and only "
        "with --allow-test-nhs-numbers (fictional children); real children's data is always "
        "encrypted");
    return 1;
  }
  if (!rotate_to.empty() && master_key_file.empty()) {
    cir::server::LogLine(
        "cir-server could not start: --rotate-master-key-to needs the current master key "
        "(--master-key-file)");
    return 1;
  }
  if (!unencrypted) {
    options.store.encryption = cir::storage::StoreEncryption{.master_key_file = master_key_file};
  }
  options.audit_checkpoint_interval = absl::Seconds(checkpoint_seconds);
  for (const std::string& key : {options.audit_signing_key, master_key_file, rotate_to}) {
    if (key.empty()) continue;
    // Keys live apart from the data they protect: a copy of the data folder
    // holds neither.
    std::error_code error;
    const std::filesystem::path data = std::filesystem::weakly_canonical(options.store.path, error);
    const std::filesystem::path file = std::filesystem::weakly_canonical(key, error);
    if (!data.empty() &&
        std::mismatch(data.begin(), data.end(), file.begin(), file.end()).first == data.end()) {
      cir::server::LogLine(absl::StrCat("cir-server could not start: the key ", key,
                                        " is inside the data folder; keep keys outside it"));
      return 1;
    }
  }
  if (init_store) return InitStore(options.store);
  if (!rotate_to.empty()) {
    absl::Status rotated =
        cir::storage::RotateMasterKey(options.store.path, master_key_file, rotate_to);
    cir::server::LogLine(rotated.ok()
                             ? std::string("the store's data key is now wrapped under the "
                                           "new master key; start with it from now on")
                             : absl::StrCat("master key not rotated: ", rotated.message()));
    return rotated.ok() ? 0 : 1;
  }
  if (options.plaintext_agency_for_tests.empty()) options.tls = tls;
  options.tls_refresh = absl::Seconds(tls_refresh_seconds);
  options.max_connection_age = absl::Seconds(max_connection_age_seconds);
  if (access_config.empty()) {
    cir::server::LogLine("cir-server could not start: --access-config is required");
    return 1;
  }
  if (options.audit_signing_key.empty()) {
    cir::server::LogLine("cir-server could not start: --audit-signing-key is required");
    return 1;
  }
  {
    absl::StatusOr<std::unique_ptr<cir::access::PolicySource>> policy =
        cir::access::PolicySource::Open(access_config);
    if (!policy.ok()) {
      cir::server::LogLine(absl::StrCat("cir-server could not start: ", policy.status().message()));
      return 1;
    }
    options.access = std::shared_ptr<cir::access::PolicySource>(*std::move(policy));
  }

  // No core dumps: a dump of the server's memory would hold children's records and keys, in the
  // clear, wherever the system keeps dumps. (The process stays traceable by its own user, so that
  // it can be profiled.)
  {
    struct rlimit no_core {
      0, 0
    };
    if (setrlimit(RLIMIT_CORE, &no_core) != 0) {
      cir::server::LogLine("cir-server could not start: core dumps could not be turned off");
      return 1;
    }
  }
  options.feed.heartbeat_interval = absl::Seconds(heartbeat_seconds);
  options.feed.min_send_interval = absl::Milliseconds(send_interval_ms);
  if (retention_days > 0) options.store.feed_retention = absl::Hours(24) * retention_days;
  options.drain = absl::Seconds(drain_seconds);
  options.call_memory_bytes = call_memory_mib << 20;
  options.store.memory_bound_bytes = store_memory_mib << 20;
  options.store.sync_writes = !no_sync;

  // Debian's Abseil is built with lock-order (deadlock) tracking on, which gRPC pays on every
  // lock it takes; the registry's own locks are plain std::mutex. Tracking is a debugging aid.
  absl::SetMutexDeadlockDetectionMode(absl::OnDeadlockCycle::kIgnore);

  // Signals are taken by sigwait below, so block them before any thread starts.
  sigset_t stop_signals;
  sigemptyset(&stop_signals);
  sigaddset(&stop_signals, SIGTERM);
  sigaddset(&stop_signals, SIGINT);
  sigaddset(&stop_signals, SIGHUP);
  pthread_sigmask(SIG_BLOCK, &stop_signals, nullptr);

  absl::StatusOr<std::unique_ptr<cir::server::RegistryServer>> server =
      cir::server::RegistryServer::Start(options);
  if (!server.ok()) {
    cir::server::LogLine(absl::StrCat("cir-server could not start: ", server.status().ToString()));
    return 1;
  }
  if ((*server)->metrics_port() != 0) {
    cir::server::LogLine(absl::StrCat("metrics on port ", (*server)->metrics_port(), " (",
                                      options.metrics_listen_address, "), path /metrics"));
  }
  cir::server::LogLine(absl::StrCat(
      "cir-server serving on ", (*server)->address(), ", data in ", options.store.path,
      no_sync ? " (WITHOUT syncing writes)" : "", unencrypted ? " (UNENCRYPTED)" : "",
      options.registry.allow_test_nhs_numbers ? " (test environment: fictional children only)"
                                              : ""));
  if (!port_file.empty()) {
    std::string temporary = port_file + ".tmp";
    std::ofstream(temporary) << (*server)->port() << "\n";
    std::rename(temporary.c_str(), port_file.c_str());  // readers never see a half-written file
  }

  int signal_number = 0;
  while (sigwait(&stop_signals, &signal_number) == 0 && signal_number == SIGHUP) {
    (void)(*server)->ReloadAccessPolicy();
  }
  cir::server::LogLine(absl::StrCat("cir-server stopping on signal ", signal_number));
  absl::Status stopped = (*server)->Stop(absl::Seconds(grace_seconds));
  if (!stopped.ok()) {
    cir::server::LogLine(absl::StrCat("cir-server exiting without closing the store: ",
                                      stopped.message()));
    std::_Exit(3);
  }
  cir::server::LogLine("cir-server stopped; store closed");
  return 0;
}
