// cir-admin: the registry's operation, for its operators.
//
//   cir-admin backup [--server HOST:PORT] [--ca F --cert F --key F | --pki-dir D | --plaintext]
//       asks the running registry to back its store up into its --backup-dir, and prints the
//       backup: made while it serves, incremental, encrypted like the store, verified.
//   cir-admin verify-backup --backup-dir DIR [--master-key-file FILE]
//       checks every backup in the folder: each file present, with the size and checksum it was
//       written with, read back through the store's encryption. Offline.
//   cir-admin restore --backup-dir DIR [--backup-id N] --data-dir NEW [--master-key-file FILE]
//                     [--issued-ids FILE]
//       with the registry stopped: restores backup N (default: the newest) into the new data
//       folder NEW, and reserves every child identifier that a later backup in the folder, or
//       FILE (one identifier a line: from an audit log kept apart, or the feeds' consumers),
//       shows as issued, so that none is ever issued again. What a restore loses: every write
//       made after the backup began (see RegistryAdmin in proto/cir/v1/registry.proto).
//
// Exit status: 0 done; 1 refused or failed (the reason printed); 2 usage error.

#include <algorithm>
#include <fstream>
#include <iostream>
#include <string>
#include <vector>

#include "CLI/CLI.hpp"
#include "absl/strings/str_cat.h"
#include "absl/strings/strip.h"
#include "absl/time/time.h"
#include "cir/client.h"
#include "client/cli/cli_support.h"
#include "client/cli/progress_bar.h"
#include "storage/store_backups.h"

namespace {

std::string When(int64_t unix_seconds) {
  return absl::FormatTime("%Y-%m-%d %H:%M:%S UTC", absl::FromUnixSeconds(unix_seconds),
                          absl::UTCTimeZone());
}

void Print(uint32_t id, int64_t made_at, uint64_t bytes, uint32_t files, uint64_t new_bytes) {
  std::cout << "backup " << id << ": made " << When(made_at) << ", " << files << " files, " << bytes
            << " bytes";
  if (new_bytes > 0) std::cout << " (" << new_bytes << " new)";
  std::cout << "\n";
}

}  // namespace

int main(int argc, char** argv) {
  CLI::App app("cir-admin: back up, verify and restore the Child Identifier Registry's store");
  app.require_subcommand(1);
  cir::cli::GlobalOptions global;
  global.timeout_seconds = 3600;  // a backup of a large store takes minutes

  CLI::App* backup = app.add_subcommand(
      "backup", "back the running registry's store up into its --backup-dir, and verify it");
  cir::cli::AddGlobalOptions(*backup, global);

  std::string backup_dir, master_key_file, data_dir, issued_file;
  uint32_t backup_id = 0;
  CLI::App* verify =
      app.add_subcommand("verify-backup", "check every backup in a backup folder (offline)");
  verify->add_option("--backup-dir", backup_dir, "the backup folder")->required();
  verify->add_option("--master-key-file", master_key_file,
                     "the store's master key (none for an unencrypted store's backups)");

  CLI::App* restore = app.add_subcommand(
      "restore", "restore a backup into a new data folder, the registry stopped (offline)");
  restore->add_option("--backup-dir", backup_dir, "the backup folder")->required();
  restore->add_option("--backup-id", backup_id, "which backup (default: the newest)");
  restore->add_option("--data-dir", data_dir, "the new data folder (must not hold anything)")
      ->required();
  restore->add_option("--master-key-file", master_key_file,
                      "the store's master key (none for an unencrypted store's backups)");
  restore->add_option("--issued-ids", issued_file,
                      "child identifiers issued since the backup, one a line (from an audit log "
                      "kept apart, or the feeds' consumers): never to be issued again");
  CLI11_PARSE(app, argc, argv);

  if (backup->parsed()) {
    absl::StatusOr<cir::ClientOptions> options = cir::cli::ConnectionFor(global, "backup");
    if (!options.ok()) return cir::cli::Fail(options.status());
    options->default_timeout = absl::Seconds(global.timeout_seconds);
    cir::Client client(*options);
    absl::StatusOr<cir::v1::BackUpResponse> made;
    {
      // A backup of a large store takes minutes: a spinner while it runs, on a terminal only.
      cir::cli::Spinner spinner("backing up", cir::cli::ShouldDrawProgress(global.progress));
      made = client.BackUp();
    }
    if (!made.ok()) return cir::cli::Fail(made.status());
    Print(made->backup_id(), made->made_at_unix_seconds(), made->bytes(), made->files(),
          made->new_bytes());
    std::cout << "verified; in " << made->backup_folder() << " on the registry's machine\n";
    return 0;
  }
  if (verify->parsed()) {
    absl::StatusOr<std::vector<cir::storage::BackupSummary>> backups =
        cir::storage::VerifyBackups(backup_dir, master_key_file);
    if (!backups.ok()) return cir::cli::Fail(backups.status());
    for (const cir::storage::BackupSummary& b : *backups) {
      Print(b.id, b.made_at_unix_seconds, b.bytes, b.files, 0);
    }
    std::cout << backups->size() << " backups verified\n";
    return 0;
  }
  std::vector<std::string> issued;
  if (!issued_file.empty()) {
    std::ifstream in(issued_file);
    if (!in) {
      return cir::cli::Fail(
          absl::FailedPreconditionError(absl::StrCat("cannot read ", issued_file)));
    }
    // One identifier a line, in any form the registry takes (restore refuses one that is not);
    // blank lines are skipped.
    for (std::string line; std::getline(in, line);) {
      std::string id(absl::StripAsciiWhitespace(line));
      if (!id.empty()) issued.push_back(id);
    }
  }
  absl::StatusOr<size_t> reserved = cir::storage::RestoreBackup({.backup_folder = backup_dir,
                                                                 .backup_id = backup_id,
                                                                 .data_folder = data_dir,
                                                                 .master_key_file = master_key_file,
                                                                 .issued_identifiers = issued});
  if (!reserved.ok()) return cir::cli::Fail(reserved.status());
  std::cout << "restored into " << data_dir << "; " << *reserved
            << " identifiers issued since the backup reserved, never to be issued again\n"
            << "start the registry on it with the same master key\n";
  return 0;
}
