#include "server/admin_service.h"

#include <utility>

#include "absl/strings/str_cat.h"
#include "errors/refusal.h"
#include "server/grpc_status.h"
#include "server/log.h"

namespace cir::server {

AdminService::AdminService(storage::StoreBackups& backups, std::string backup_folder,
                           const CallGate& gate, CallAuditor& auditor)
    : backups_(backups),
      backup_folder_(std::move(backup_folder)),
      gate_(gate),
      auditor_(auditor),
      worker_(std::make_unique<FixedThreadPool>(1, "cir-backup")) {}

AdminService::~AdminService() { worker_.reset(); }

grpc::ServerUnaryReactor* AdminService::BackUp(grpc::CallbackServerContext* context,
                                               const v1::BackUpRequest* /*request*/,
                                               v1::BackUpResponse* response) {
  grpc::ServerUnaryReactor* reactor = context->DefaultReactor();
  const std::string path = MethodPath(v1::RegistryAdmin::service_full_name(), "BackUp");
  // Answers with `result` once its audit entry is durable.
  auto answer = [this, reactor, response, context](v1::AuditEntry entry,
                                                   absl::StatusOr<v1::BackUpResponse> result) {
    CallAuditor::SetOutcome(result.status(), entry);
    storage::SubmitOptions submit;
    submit.deadline = absl::FromChrono(context->deadline());
    submit.is_cancelled = [context] { return context->IsCancelled(); };
    auditor_.Record(
        std::move(entry),
        [reactor, response, result = std::move(result)](absl::Status audited) mutable {
          if (result.ok() && !audited.ok()) result = std::move(audited);
          if (!result.ok()) {
            LogCallFailed("BackUp", result.status());
            reactor->Finish(ToGrpcStatus(result.status()));
            return;
          }
          *response = *std::move(result);
          reactor->Finish(grpc::Status::OK);
        },
        std::move(submit));
  };
  absl::StatusOr<access::Caller> caller = gate_.Admit(*context, path);
  if (!caller.ok()) {
    v1::AuditEntry entry =
        CallAuditor::EntryFor(nullptr, gate_.AgencyIdOf(*context), path, caller.status());
    gate_.NoteUnidentified(*context, entry);
    answer(std::move(entry), caller.status());
    return reactor;
  }
  v1::AuditEntry entry = CallAuditor::EntryFor(&*caller, "", path, absl::OkStatus());
  if (backup_folder_.empty()) {
    answer(
        std::move(entry),
        errors::Refusal(absl::StatusCode::kFailedPrecondition, v1::BACKUP_NOT_CONFIGURED,
                        "this registry was started without a backup folder: start it with "
                        "--backup-dir FOLDER (kept apart from the data folder) to make backups"));
    return reactor;
  }
  worker_->Post([this, answer = std::move(answer), entry = std::move(entry)]() mutable {
    LogLine(absl::StrCat("backup into ", backup_folder_, " began"));
    absl::StatusOr<storage::BackupSummary> made = backups_.BackUp(backup_folder_);
    if (!made.ok()) {
      answer(std::move(entry), made.status());
      return;
    }
    LogLine(absl::StrCat("backup ", made->id, " made and verified: ", made->files, " files, ",
                         made->bytes, " bytes, ", made->new_bytes, " of them new"));
    v1::BackUpResponse response;
    response.set_backup_id(made->id);
    response.set_made_at_unix_seconds(made->made_at_unix_seconds);
    response.set_bytes(made->bytes);
    response.set_files(made->files);
    response.set_new_bytes(made->new_bytes);
    response.set_backup_folder(backup_folder_);
    answer(std::move(entry), std::move(response));
  });
  return reactor;
}

}  // namespace cir::server
