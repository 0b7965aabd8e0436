#ifndef CIR_CLIENT_CLI_AUDIT_COMMANDS_H_
#define CIR_CLIENT_CLI_AUDIT_COMMANDS_H_

#include <optional>
#include <string>

#include "CLI/CLI.hpp"
#include "cir/client.h"
#include "client/cli/cli_support.h"

namespace cir::cli {

// The auditor's commands, each checking what the registry says against its signed checkpoints
// with the registry's public key (--public-key FILE; default: <--pki-dir>/audit-signing.pub.pem):
//   cir audit verify [--checkpoint FILE]
// reads every checkpoint and every entry, recomputes the log's Merkle tree and checks each
// checkpoint's signature, its root against the recomputed one, and that it extends the one before;
// with --checkpoint, also that the log still holds a checkpoint kept elsewhere. Prints what it
// checked and "audit log verified", or one line per problem naming where the log was altered
// (exit status 1);
//   cir audit checkpoint
// prints the newest checkpoint as a text block to keep elsewhere (verify --checkpoint reads it):
//   cir-audit-checkpoint/v1
//   <tree size>
//   <root, base64>
//   <unix seconds>
//   signature: <base64>
//   key-id: <key id>
//   cir audit report CHILD-IDENTIFIER
// prints who accessed the child, when and why, one line per access, each proved included in the
// log under the newest signed checkpoint (exit status 1 if a proof or the signature fails).
class AuditCommands {
 public:
  explicit AuditCommands(CLI::App& app);

  // Runs the command parsed, if it is one of these: its exit status; nullopt otherwise.
  std::optional<int> Run(Client& client, const GlobalOptions& global);

 private:
  int Verify(Client& client, const GlobalOptions& global);
  int Checkpoint(Client& client, const GlobalOptions& global);
  int Report(Client& client, const GlobalOptions& global);

  CLI::App* audit_ = nullptr;
  CLI::App* verify_ = nullptr;
  CLI::App* checkpoint_ = nullptr;
  CLI::App* report_ = nullptr;
  std::string public_key_file_;
  std::string kept_checkpoint_file_;
  std::string child_id_;
};

}  // namespace cir::cli

#endif  // CIR_CLIENT_CLI_AUDIT_COMMANDS_H_
