#include "client/cli/audit_commands.h"

#include <algorithm>
#include <cstdint>
#include <fstream>
#include <iostream>
#include <map>
#include <optional>
#include <sstream>
#include <utility>
#include <vector>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/strings/escaping.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "absl/strings/str_split.h"
#include "absl/strings/string_view.h"
#include "absl/strings/strip.h"
#include "absl/time/time.h"
#include "audit/checkpoint_signer.h"
#include "audit/merkle_tree.h"
#include "client/cli/record_printer.h"

namespace cir::cli {
namespace {

// Entries and checkpoints asked for per call: the most the registry gives.
constexpr int kPage = 10000;

std::string SecondsText(int64_t unix_seconds) {
  return absl::FormatTime("%Y-%m-%dT%H:%M:%SZ", absl::FromUnixSeconds(unix_seconds),
                          absl::UTCTimeZone());
}

std::string MicrosText(int64_t unix_micros) {
  return absl::FormatTime("%Y-%m-%dT%H:%M:%E6SZ", absl::FromUnixMicros(unix_micros),
                          absl::UTCTimeZone());
}

absl::StatusOr<std::string> ReadFile(const std::string& path) {
  std::ifstream file(path, std::ios::binary);
  if (!file) return absl::NotFoundError(absl::StrCat("cannot read ", path));
  std::stringstream text;
  text << file.rdbuf();
  return text.str();
}

// A checkpoint as the registry stored it, with the names it goes by in what is printed.
struct NamedCheckpoint {
  v1::AuditCheckpoint stored;
  std::string name;   // "the checkpoint signed at T for N entries", or the one kept in a file
  std::string brief;  // the same without the size: "the checkpoint signed at T"
};

NamedCheckpoint Named(v1::AuditCheckpoint stored, const std::string& kept_in = "") {
  const std::string time = SecondsText(stored.signed_at_unix_seconds());
  NamedCheckpoint named;
  if (kept_in.empty()) {
    named.brief = absl::StrCat("the checkpoint signed at ", time);
    named.name = absl::StrCat(named.brief, " for ", stored.tree_size(), " entries");
  } else {
    named.brief = absl::StrCat("the checkpoint kept in ", kept_in, " (signed at ", time, ")");
    named.name = absl::StrCat("the checkpoint kept in ", kept_in, " (signed at ", time, " for ",
                              stored.tree_size(), " entries)");
  }
  named.stored = std::move(stored);
  return named;
}

// The checkpoint `stored` states, once its signature is checked: its signed text is the canonical
// text of its size, root and time, it names `key`, and `key` signed that text. Otherwise why not,
// for a person.
absl::StatusOr<audit::Checkpoint> CheckSigned(const v1::AuditCheckpoint& stored,
                                              const audit::CheckpointPublicKey& key) {
  absl::StatusOr<audit::Hash> root = audit::HashFromBytes(stored.root_hash());
  if (!root.ok()) return absl::DataLossError("its root is not a SHA-256 hash");
  const audit::Checkpoint checkpoint{
      .tree_size = stored.tree_size(),
      .root = *root,
      .time = absl::FromUnixSeconds(stored.signed_at_unix_seconds())};
  absl::StatusOr<std::string> text = audit::CheckpointText(checkpoint);
  if (!text.ok() || *text != stored.signed_text()) {
    return absl::DataLossError("its signed text does not state its size, root and time");
  }
  if (stored.key_id() != key.key_id()) {
    return absl::DataLossError(absl::StrCat("it names signing key ", stored.key_id(), ", not ",
                                            key.key_id(), ", the key given"));
  }
  if (absl::Status signature =
          audit::VerifyCheckpointSignature(key, checkpoint, stored.signature());
      !signature.ok()) {
    return absl::DataLossError("its signature does not verify with the key given");
  }
  return checkpoint;
}

// A checkpoint as `cir audit checkpoint` prints it, to keep elsewhere.
std::string KeptCheckpointText(const v1::AuditCheckpoint& checkpoint) {
  return absl::StrCat(checkpoint.signed_text(),
                      "signature: ", absl::Base64Escape(checkpoint.signature()),
                      "\nkey-id: ", checkpoint.key_id(), "\n");
}

// The checkpoint KeptCheckpointText wrote; its signature is not checked here.
absl::StatusOr<v1::AuditCheckpoint> ParseKeptCheckpoint(absl::string_view text) {
  std::vector<std::string> lines = absl::StrSplit(text, '\n');
  for (std::string& line : lines) absl::StripTrailingAsciiWhitespace(&line);
  constexpr size_t kTextLines = 4;
  if (lines.size() < kTextLines) return absl::InvalidArgumentError("it holds no checkpoint text");
  std::string signed_text;
  for (size_t i = 0; i < kTextLines; ++i) absl::StrAppend(&signed_text, lines[i], "\n");
  absl::StatusOr<audit::Checkpoint> checkpoint = audit::ParseCheckpointText(signed_text);
  if (!checkpoint.ok()) {
    return absl::InvalidArgumentError(absl::StrCat(
        "its first four lines are not a checkpoint's text: ", checkpoint.status().message()));
  }
  v1::AuditCheckpoint kept;
  kept.set_tree_size(checkpoint->tree_size);
  kept.set_root_hash(std::string(checkpoint->root.begin(), checkpoint->root.end()));
  kept.set_signed_at_unix_seconds(absl::ToUnixSeconds(checkpoint->time));
  kept.set_signed_text(signed_text);
  bool has_signature = false;
  for (size_t i = kTextLines; i < lines.size(); ++i) {
    absl::string_view line = absl::StripLeadingAsciiWhitespace(lines[i]);
    if (line.empty()) continue;
    if (absl::ConsumePrefix(&line, "signature:")) {
      std::string signature;
      if (!absl::Base64Unescape(absl::StripAsciiWhitespace(line), &signature)) {
        return absl::InvalidArgumentError("its signature is not base64");
      }
      kept.set_signature(signature);
      has_signature = true;
    } else if (absl::ConsumePrefix(&line, "key-id:")) {
      kept.set_key_id(std::string(absl::StripAsciiWhitespace(line)));
    } else {
      return absl::InvalidArgumentError(
          absl::StrCat("line ", i + 1, " is neither signature: nor key-id:"));
    }
  }
  if (!has_signature) return absl::InvalidArgumentError("it has no signature: line");
  return kept;
}

// Every checkpoint the registry holds, in order of tree size.
absl::StatusOr<std::vector<v1::AuditCheckpoint>> AllCheckpoints(Client& client,
                                                                const CallOptions& call) {
  std::vector<v1::AuditCheckpoint> all;
  v1::ListCheckpointsRequest request;
  request.set_max_checkpoints(kPage);
  for (;;) {
    absl::StatusOr<v1::ListCheckpointsResponse> page = client.ListAuditCheckpoints(request, call);
    if (!page.ok()) return page.status();
    for (v1::AuditCheckpoint& checkpoint : *page->mutable_checkpoints()) {
      all.push_back(std::move(checkpoint));
    }
    if (page->checkpoints_size() < kPage) return all;
    request.set_from_size(all.back().tree_size() + 1);
  }
}

// The log as read back from the registry, entry by entry, and its tree recomputed from the
// entries' bytes.
struct ReplayedLog {
  uint64_t size = 0;                      // entries read
  std::map<uint64_t, audit::Hash> roots;  // the recomputed root at each size asked for, if reached
  std::vector<std::string> problems;      // indexes out of sequence, entries that do not parse
};

// Reads every entry from index 0 (up to the largest of `sizes`, if the log has that many, and up
// to the log's size when first read) and recomputes the tree, noting its root at each of `sizes`.
absl::StatusOr<ReplayedLog> ReplayLog(Client& client, const CallOptions& call,
                                      std::vector<uint64_t> sizes) {
  std::sort(sizes.begin(), sizes.end());
  ReplayedLog log;
  audit::TreeFrontier tree;
  size_t next_size = 0;
  auto note_roots = [&] {
    for (; next_size < sizes.size() && sizes[next_size] <= tree.size(); ++next_size) {
      if (sizes[next_size] == tree.size()) log.roots[tree.size()] = tree.Root();
    }
  };
  note_roots();
  uint64_t end = sizes.empty() ? 0 : sizes.back();
  uint64_t expected_index = 0;
  uint64_t unparsable = 0;
  v1::ReadAuditEntriesRequest request;
  request.set_max_entries(kPage);
  for (bool first = true;; first = false) {
    absl::StatusOr<v1::ReadAuditEntriesResponse> page = client.ReadAuditEntries(request, call);
    if (!page.ok()) return page.status();
    if (first) end = std::max(end, page->tree_size());
    for (const v1::AuditRecord& record : page->records()) {
      if (record.index() != expected_index) {
        log.problems.push_back(expected_index == 0
                                   ? absl::StrCat("the log starts at entry index ", record.index(),
                                                  ": entries are missing")
                                   : absl::StrCat("entry index ", record.index(), " follows index ",
                                                  expected_index - 1,
                                                  record.index() > expected_index
                                                      ? ": entries are missing"
                                                      : ": entries are out of order"));
      }
      expected_index = record.index() + 1;
      v1::AuditEntry entry;
      if (!entry.ParseFromString(record.entry()) && unparsable++ == 0) {
        log.problems.push_back(absl::StrCat("entry index ", record.index(),
                                            " does not parse as an audit entry: it was altered"));
      }
      absl::StatusOr<std::vector<audit::CompletedSubtree>> appended =
          tree.Append(audit::LeafHash(record.entry()));
      if (!appended.ok()) return appended.status();
      note_roots();
    }
    // Pages may be cut short by size: the log is read to its size when read, or to its end.
    if (page->records().empty() || tree.size() >= page->tree_size()) break;
    request.set_from_index(page->records(page->records_size() - 1).index() + 1);
  }
  if (unparsable > 1) {
    log.problems.push_back(absl::StrCat(unparsable, " entries in all do not parse"));
  }
  log.size = tree.size();
  return log;
}

// The proof from the registry that the tree of `newer` extends that of `older`, checked against
// both signed roots: OK, or why not.
absl::Status CheckConsistency(Client& client, const CallOptions& call,
                              const audit::Checkpoint& older, const audit::Checkpoint& newer) {
  v1::ProveConsistencyRequest request;
  request.set_old_size(older.tree_size);
  request.set_new_size(newer.tree_size);
  absl::StatusOr<v1::ProveConsistencyResponse> response =
      client.ProveAuditConsistency(request, call);
  if (!response.ok()) return response.status();
  std::vector<audit::Hash> proof;
  for (const std::string& bytes : response->proof()) {
    absl::StatusOr<audit::Hash> hash = audit::HashFromBytes(bytes);
    if (!hash.ok()) return absl::DataLossError("the proof holds a hash that is not 32 bytes");
    proof.push_back(*hash);
  }
  return audit::VerifyConsistency(older.tree_size, newer.tree_size, older.root, newer.root, proof);
}

// A checkpoint whose signature has been checked, and what it states.
struct SignedCheckpoint {
  NamedCheckpoint named;
  audit::Checkpoint checkpoint;
};

// The recomputed tree's root against each signed one at its size, in order of size: the first
// that differs, after the last that matches, bounds where the log was changed; one that the log
// no longer reaches says entries were removed. `kept`, if not null, is one of `checkpoints`.
std::vector<std::string> CompareRoots(const ReplayedLog& log,
                                      std::vector<const SignedCheckpoint*> checkpoints,
                                      const SignedCheckpoint* kept) {
  std::stable_sort(checkpoints.begin(), checkpoints.end(),
                   [](const SignedCheckpoint* a, const SignedCheckpoint* b) {
                     return a->checkpoint.tree_size < b->checkpoint.tree_size;
                   });
  std::vector<std::string> problems;
  const SignedCheckpoint* last_match = nullptr;
  const SignedCheckpoint* first_difference = nullptr;
  bool later_differences = false;
  std::vector<const SignedCheckpoint*> beyond_end;
  for (const SignedCheckpoint* checkpoint : checkpoints) {
    const uint64_t size = checkpoint->checkpoint.tree_size;
    if (size > log.size) {
      beyond_end.push_back(checkpoint);
    } else if (log.roots.at(size) == checkpoint->checkpoint.root) {
      if (first_difference == nullptr) last_match = checkpoint;
    } else if (first_difference == nullptr) {
      first_difference = checkpoint;
    } else {
      later_differences = true;
    }
  }
  if (first_difference != nullptr) {
    const uint64_t size = first_difference->checkpoint.tree_size;
    const uint64_t from = last_match == nullptr ? 0 : last_match->checkpoint.tree_size;
    std::string problem =
        from == size
            ? absl::StrCat("the log differs from ", first_difference->named.name,
                           ", while matching ", last_match->named.name,
                           " of the same size: two different logs were signed")
            : absl::StrCat("the log differs from ", first_difference->named.name,
                           ", while matching ",
                           last_match == nullptr ? std::string("no checkpoint before it")
                                                 : absl::StrCat("the one for ", from, " entries"),
                           ": an entry at index ", from, "..", size - 1,
                           " was changed, removed or reordered");
    if (later_differences) absl::StrAppend(&problem, " (later checkpoints differ too)");
    problems.push_back(std::move(problem));
  }
  // The kept checkpoint, and the largest of the registry's, say it; the others add nothing.
  const SignedCheckpoint* newest_beyond = nullptr;
  for (const SignedCheckpoint* checkpoint : beyond_end) {
    if (checkpoint != kept) newest_beyond = checkpoint;
  }
  for (const SignedCheckpoint* checkpoint : beyond_end) {
    if (checkpoint != kept && checkpoint != newest_beyond) continue;
    problems.push_back(absl::StrCat("the log ends at ", log.size, " entries but ",
                                    checkpoint->named.brief, " covers ",
                                    checkpoint->checkpoint.tree_size, ": entries were removed"));
  }
  return problems;
}

// Whether each of the registry's signed checkpoints extends the one before, as its own tree
// proves: the stored tree its inclusion proofs (access reports) are made from, which the entries
// alone do not show. The first pair that fails, if any.
std::optional<std::string> CheckEachExtendsTheOneBefore(
    Client& client, const CallOptions& call, const std::vector<SignedCheckpoint>& checkpoints) {
  std::optional<std::string> first;
  int failed = 0;
  for (size_t i = 1; i < checkpoints.size(); ++i) {
    const SignedCheckpoint& older = checkpoints[i - 1];
    const SignedCheckpoint& newer = checkpoints[i];
    absl::Status consistent = CheckConsistency(client, call, older.checkpoint, newer.checkpoint);
    if (consistent.ok() || failed++ > 0) continue;
    first = absl::StrCat("the registry does not prove that ", newer.named.name, " extends ",
                         older.named.name, ": ", consistent.message());
  }
  if (failed > 1) {
    absl::StrAppend(&*first, " (nor for ", failed - 1, " later pair", failed == 2 ? "" : "s",
                    " of checkpoints)");
  }
  return first;
}

// The registry's public key, from --public-key or the development one in --pki-dir.
absl::StatusOr<audit::CheckpointPublicKey> PublicKey(const std::string& given,
                                                     const GlobalOptions& global) {
  const std::string path = given.empty() ? global.pki_dir + "/audit-signing.pub.pem" : given;
  absl::StatusOr<std::string> pem = ReadFile(path);
  if (!pem.ok()) {
    return absl::NotFoundError(absl::StrCat(
        "cannot read the registry's public key ", path,
        " (give --public-key FILE: the PEM public key of the registry's audit signing key)"));
  }
  absl::StatusOr<audit::CheckpointPublicKey> key = audit::CheckpointPublicKey::FromPem(*pem);
  if (!key.ok()) {
    return absl::InvalidArgumentError(
        absl::StrCat(path, " is not an Ed25519 public key (PEM): ", key.status().message()));
  }
  return key;
}

std::string OutcomeText(const v1::AuditEntry& entry) {
  if (entry.status_code() == 0) {
    // A bulk call's items refused inside it: "OK, refused 2 NOTIFYING_SYSTEM_NOT_PERMITTED".
    std::string outcome = "OK";
    for (const v1::RefusedItems& refused : entry.refused_items()) {
      absl::StrAppend(&outcome, outcome == "OK" ? ", refused " : " and ", refused.count(), " ",
                      refused.reason());
    }
    return outcome;
  }
  std::string outcome =
      absl::StatusCodeToString(static_cast<absl::StatusCode>(entry.status_code()));
  if (!entry.reason().empty()) absl::StrAppend(&outcome, "/", entry.reason());
  return outcome;
}

std::string OrDash(const std::string& text) { return text.empty() ? "-" : text; }

}  // namespace

AuditCommands::AuditCommands(CLI::App& app) {
  audit_ = app.add_subcommand(
      "audit",
      "check the registry's audit log against its signed checkpoints, and report who accessed a "
      "child (auditors)");
  audit_->require_subcommand(1);
  const std::string key_help =
      "the registry's audit public key, PEM (default: <--pki-dir>/audit-signing.pub.pem)";

  verify_ = audit_->add_subcommand(
      "verify",
      "recompute the log's tree from every entry and check every checkpoint: its signature, its "
      "root, and that it extends the one before");
  verify_->add_option("--public-key", public_key_file_, key_help);
  verify_->add_option("--checkpoint", kept_checkpoint_file_,
                      "a checkpoint kept elsewhere (as `cir audit checkpoint` prints it): also "
                      "prove that the log still holds it");

  checkpoint_ = audit_->add_subcommand(
      "checkpoint",
      "print the newest signed checkpoint, to keep elsewhere for `verify --checkpoint`");
  checkpoint_->add_option("--public-key", public_key_file_, key_help);

  report_ = audit_->add_subcommand(
      "report",
      "who accessed a child, when and why, each access proved included in the signed log");
  report_
      ->add_option("child", child_id_,
                   "the child's identifier, NHS number or UPN (current or former)")
      ->required();
  report_->add_option("--public-key", public_key_file_, key_help);
}

std::optional<int> AuditCommands::Run(Client& client, const GlobalOptions& global) {
  if (verify_->parsed()) return Verify(client, global);
  if (checkpoint_->parsed()) return Checkpoint(client, global);
  if (report_->parsed()) return Report(client, global);
  return std::nullopt;
}

int AuditCommands::Verify(Client& client, const GlobalOptions& global) {
  absl::StatusOr<audit::CheckpointPublicKey> key = PublicKey(public_key_file_, global);
  if (!key.ok()) return UsageError(std::string(key.status().message()));
  std::optional<NamedCheckpoint> kept;
  if (!kept_checkpoint_file_.empty()) {
    absl::StatusOr<std::string> text = ReadFile(kept_checkpoint_file_);
    if (!text.ok()) return UsageError(std::string(text.status().message()));
    absl::StatusOr<v1::AuditCheckpoint> parsed = ParseKeptCheckpoint(*text);
    if (!parsed.ok()) {
      return UsageError(absl::StrCat(kept_checkpoint_file_, " is not a checkpoint as `cir audit ",
                                     "checkpoint` prints it: ", parsed.status().message()));
    }
    kept = Named(*std::move(parsed), kept_checkpoint_file_);
  }
  const CallOptions call{.timeout = absl::Seconds(global.timeout_seconds)};
  absl::StatusOr<std::vector<v1::AuditCheckpoint>> stored = AllCheckpoints(client, call);
  if (!stored.ok()) return Fail(stored.status());

  std::vector<std::string> problems;
  // Only checkpoints signed with the key vouch for anything.
  std::vector<SignedCheckpoint> signed_checkpoints;
  for (size_t i = 0; i < stored->size(); ++i) {
    NamedCheckpoint named = Named((*stored)[i]);
    if (i > 0 && named.stored.tree_size() <= (*stored)[i - 1].tree_size()) {
      problems.push_back(absl::StrCat(named.name, " is listed after one for ",
                                      (*stored)[i - 1].tree_size(),
                                      " entries: checkpoints are out of order"));
    }
    absl::StatusOr<audit::Checkpoint> checkpoint = CheckSigned(named.stored, *key);
    if (!checkpoint.ok()) {
      problems.push_back(
          absl::StrCat(named.name, " does not verify: ", checkpoint.status().message()));
      continue;
    }
    signed_checkpoints.push_back({std::move(named), *checkpoint});
  }
  if (stored->empty()) {
    problems.push_back("the registry holds no signed checkpoint: nothing vouches for its log");
  }
  std::optional<SignedCheckpoint> kept_signed;
  if (kept.has_value()) {
    absl::StatusOr<audit::Checkpoint> checkpoint = CheckSigned(kept->stored, *key);
    if (checkpoint.ok()) {
      kept_signed = SignedCheckpoint{*kept, *checkpoint};
    } else {
      problems.push_back(
          absl::StrCat(kept->name, " does not verify: ", checkpoint.status().message()));
    }
  }

  std::vector<const SignedCheckpoint*> checkpoints;
  for (const SignedCheckpoint& checkpoint : signed_checkpoints) checkpoints.push_back(&checkpoint);
  if (kept_signed.has_value()) checkpoints.push_back(&*kept_signed);
  std::vector<uint64_t> sizes;
  for (const SignedCheckpoint* checkpoint : checkpoints) {
    sizes.push_back(checkpoint->checkpoint.tree_size);
  }
  absl::StatusOr<ReplayedLog> log = ReplayLog(client, call, sizes);
  if (!log.ok()) return Fail(log.status());
  problems.insert(problems.end(), log->problems.begin(), log->problems.end());
  for (std::string& problem :
       CompareRoots(*log, checkpoints, kept_signed.has_value() ? &*kept_signed : nullptr)) {
    problems.push_back(std::move(problem));
  }
  if (std::optional<std::string> problem =
          CheckEachExtendsTheOneBefore(client, call, signed_checkpoints);
      problem.has_value()) {
    problems.push_back(*std::move(problem));
  }
  const SignedCheckpoint* newest =
      signed_checkpoints.empty() ? nullptr : &signed_checkpoints.back();
  if (kept_signed.has_value() && newest != nullptr) {
    if (newest->checkpoint.tree_size < kept_signed->checkpoint.tree_size) {
      problems.push_back(absl::StrCat("the newest checkpoint the registry holds, ",
                                      newest->named.name, ", covers fewer entries than ",
                                      kept_signed->named.name, ": checkpoints were removed"));
    } else if (absl::Status consistent =
                   CheckConsistency(client, call, kept_signed->checkpoint, newest->checkpoint);
               !consistent.ok()) {
      problems.push_back(absl::StrCat("the log no longer extends ", kept_signed->named.name,
                                      ": the registry does not prove that ", newest->named.name,
                                      " does: ", consistent.message()));
    }
  }

  std::cout << "entries: " << log->size << "\n"
            << "checkpoints: " << stored->size() << " (" << signed_checkpoints.size()
            << " signed by key " << key->key_id() << ")\n";
  if (newest != nullptr) {
    std::cout << "newest checkpoint: " << newest->checkpoint.tree_size << " entries, signed at "
              << SecondsText(newest->named.stored.signed_at_unix_seconds()) << "\n";
    if (log->size > newest->checkpoint.tree_size) {
      std::cout << "entries after it, not yet signed: " << log->size - newest->checkpoint.tree_size
                << "\n";
    }
  }
  if (!problems.empty()) {
    for (const std::string& problem : problems) std::cerr << "error: " << problem << "\n";
    std::cerr << "audit log NOT verified: " << problems.size() << " problem"
              << (problems.size() == 1 ? "" : "s") << "\n";
    return 1;
  }
  if (kept_signed.has_value()) {
    std::cout << kept_signed->named.name << ": still in the log\n";
  }
  std::cout << "audit log verified\n";
  return 0;
}

int AuditCommands::Checkpoint(Client& client, const GlobalOptions& global) {
  absl::StatusOr<audit::CheckpointPublicKey> key = PublicKey(public_key_file_, global);
  if (!key.ok()) return UsageError(std::string(key.status().message()));
  const CallOptions call{.timeout = absl::Seconds(global.timeout_seconds)};
  absl::StatusOr<std::vector<v1::AuditCheckpoint>> stored = AllCheckpoints(client, call);
  if (!stored.ok()) return Fail(stored.status());
  if (stored->empty()) {
    std::cerr << "error: the registry has signed no checkpoint yet\n";
    return 1;
  }
  const NamedCheckpoint newest = Named(stored->back());
  if (absl::StatusOr<audit::Checkpoint> checked = CheckSigned(newest.stored, *key); !checked.ok()) {
    std::cerr << "error: " << newest.name << " does not verify: " << checked.status().message()
              << "\n";
    return 1;
  }
  if (global.json()) {
    std::cout << ToJson(newest.stored) << "\n";
  } else {
    std::cout << KeptCheckpointText(newest.stored);
  }
  return 0;
}

int AuditCommands::Report(Client& client, const GlobalOptions& global) {
  absl::StatusOr<audit::CheckpointPublicKey> key = PublicKey(public_key_file_, global);
  if (!key.ok()) return UsageError(std::string(key.status().message()));
  v1::GetAccessReportRequest request;
  request.set_child_id(child_id_);
  absl::StatusOr<v1::GetAccessReportResponse> report =
      client.GetAccessReport(request, {.timeout = absl::Seconds(global.timeout_seconds)});
  if (!report.ok()) return Fail(report.status());
  if (!report->has_checkpoint()) {
    std::cerr << "error: the registry has signed no checkpoint yet: no access can be proved\n";
    return 1;
  }
  const NamedCheckpoint checkpoint = Named(report->checkpoint());
  absl::StatusOr<audit::Checkpoint> checked = CheckSigned(checkpoint.stored, *key);
  if (!checked.ok()) {
    std::cerr << "error: the report is made against " << checkpoint.name
              << ", which does not verify: " << checked.status().message() << "\n";
    return 1;
  }
  std::vector<std::string> problems;
  std::vector<std::string> json_entries;
  for (const v1::AccessReportEntry& reported : report->entries()) {
    const v1::AuditRecord& record = reported.record();
    std::vector<audit::Hash> proof;
    bool well_formed = true;
    for (const std::string& bytes : reported.inclusion_proof()) {
      absl::StatusOr<audit::Hash> hash = audit::HashFromBytes(bytes);
      well_formed = well_formed && hash.ok();
      if (hash.ok()) proof.push_back(*hash);
    }
    absl::Status included =
        well_formed ? audit::VerifyInclusion(audit::LeafHash(record.entry()), record.index(),
                                             checked->tree_size, proof, checked->root)
                    : absl::DataLossError("the proof holds a hash that is not 32 bytes");
    if (!included.ok()) {
      problems.push_back(absl::StrCat("entry index ", record.index(),
                                      " is not proved included in the log: ", included.message()));
    }
    v1::AuditEntry entry;
    if (!entry.ParseFromString(record.entry())) {
      problems.push_back(
          absl::StrCat("entry index ", record.index(), " does not parse as an audit entry"));
    }
    if (global.json()) {
      json_entries.push_back(absl::StrCat("{\"index\":", record.index(),
                                          ",\"entry\":", ToJson(entry),
                                          ",\"proved\":", included.ok() ? "true" : "false", "}"));
    } else {
      std::cout << MicrosText(entry.recorded_at_unix_micros()) << "  " << OrDash(entry.agency_id())
                << "  " << OrDash(entry.end_user()) << "  " << OrDash(entry.purpose_of_use())
                << "  " << entry.method() << "  " << OutcomeText(entry) << "  "
                << OrDash(absl::StrJoin(entry.fields(), ",")) << "  (entry " << record.index()
                << (included.ok() ? "" : ", NOT PROVED") << ")\n";
    }
  }
  if (global.json()) {
    std::cout << "{\"checkpoint\":" << ToJson(checkpoint.stored) << ",\"entries\":["
              << absl::StrJoin(json_entries, ",")
              << "],\"verified\":" << (problems.empty() ? "true" : "false") << "}\n";
  }
  if (!problems.empty()) {
    for (const std::string& problem : problems) std::cerr << "error: " << problem << "\n";
    std::cerr << "access report NOT verified against " << checkpoint.name << "\n";
    return 1;
  }
  if (global.json()) return 0;
  std::cout << report->entries_size() << " entries, each proved included in the log signed at "
            << SecondsText(checkpoint.stored.signed_at_unix_seconds()) << " (" << checked->tree_size
            << " entries)\n";
  return 0;
}

}  // namespace cir::cli
