// cir-server: the Child Identifier Registry's gRPC server over an embedded RocksDB store.
//
//   cir-server [--listen 127.0.0.1:50051] [--data-dir ./cir-data] [--create-if-missing]
//              [--port-file FILE] [--allow-test-nhs-numbers]
//
// Runs until SIGTERM or SIGINT, then finishes in-flight calls and closes the store cleanly.

#include <signal.h>

#include <cstdio>
#include <fstream>
#include <string>

#include "CLI/CLI.hpp"
#include "absl/strings/str_cat.h"
#include "absl/synchronization/mutex.h"
#include "server/log.h"
#include "server/registry_server.h"

int main(int argc, char** argv) {
  cir::server::RegistryServerOptions options;
  options.store.path = "cir-data";
  std::string port_file;
  bool no_sync = false;

  CLI::App app{"Child Identifier Registry server"};
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
  app.add_flag("--allow-test-nhs-numbers", options.registry.allow_test_nhs_numbers,
               "accept NHS numbers of the test range (999...) in writes: test environments only");
  app.add_flag("--unsafe-no-sync", no_sync,
               "do not sync the write-ahead log before acknowledging (measurements only: an "
               "acknowledged write can be lost in a power cut)");
  CLI11_PARSE(app, argc, argv);
  options.store.sync_writes = !no_sync;

  // Debian's Abseil is built with lock-order (deadlock) tracking on, which gRPC pays on every
  // lock it takes; the registry's own locks are plain std::mutex. Tracking is a debugging aid.
  absl::SetMutexDeadlockDetectionMode(absl::OnDeadlockCycle::kIgnore);

  // Signals are taken by sigwait below, so block them before any thread starts.
  sigset_t stop_signals;
  sigemptyset(&stop_signals);
  sigaddset(&stop_signals, SIGTERM);
  sigaddset(&stop_signals, SIGINT);
  pthread_sigmask(SIG_BLOCK, &stop_signals, nullptr);

  absl::StatusOr<std::unique_ptr<cir::server::RegistryServer>> server =
      cir::server::RegistryServer::Start(options);
  if (!server.ok()) {
    cir::server::LogLine(absl::StrCat("cir-server could not start: ", server.status().ToString()));
    return 1;
  }
  cir::server::LogLine(absl::StrCat("cir-server serving on ", (*server)->address(), ", data in ",
                                    options.store.path,
                                    no_sync ? " (WITHOUT syncing writes)" : ""));
  if (!port_file.empty()) {
    std::string temporary = port_file + ".tmp";
    std::ofstream(temporary) << (*server)->port() << "\n";
    std::rename(temporary.c_str(), port_file.c_str());  // readers never see a half-written file
  }

  int signal_number = 0;
  sigwait(&stop_signals, &signal_number);
  cir::server::LogLine(absl::StrCat("cir-server stopping on signal ", signal_number));
  (*server)->Stop();
  cir::server::LogLine("cir-server stopped; store closed");
  return 0;
}
