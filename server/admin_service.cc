#include "server/admin_service.h"

#include <utility>

#include "absl/strings/str_cat.h"
#include "errors/refusal.h"
#include "server/grpc_status.h"
#include "server/log.h"
#include "server/request_limits.h"

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
                                               const v1::BackUpRequest* request,
                                               v1::BackUpResponse* response) {
  grpc::ServerUnaryReactor* reactor = context->DefaultReactor();
  const std::string path = MethodPath(v1::RegistryAdmin::service_full_name(), "BackUp");
  auto finish = [reactor, response](absl::StatusOr<v1::BackUpResponse> result) {
    if (!result.ok()) {
      LogCallFailed("BackUp", result.status());
      reactor->Finish(ToGrpcStatus(result.status()));
      return;
    }
    *response = *std::move(result);
    reactor->Finish(grpc::Status::OK);
  };
  // A refusal: answered once its entry is durable.
  auto refuse = [this, finish](v1::AuditEntry entry, absl::Status refusal) {
    CallAuditor::SetOutcome(refusal, entry);
    auditor_.Record(
        std::move(entry), [finish, refusal = std::move(refusal)](absl::Status) { finish(refusal); },
        storage::SubmitOptions{});
  };
  absl::StatusOr<access::Caller> caller = gate_.Admit(*context, path);
  if (!caller.ok()) {
    v1::AuditEntry entry =
        CallAuditor::EntryFor(nullptr, gate_.AgencyIdOf(*context), path, caller.status());
    gate_.NoteUnidentified(*context, entry);
    refuse(std::move(entry), caller.status());
    return reactor;
  }
  v1::AuditEntry entry = CallAuditor::EntryFor(&*caller, "", path, absl::OkStatus());
  if (absl::Status size = CheckRequestSize(*request, kMaxSingleIdentifierRequestBytes, "BackUp");
      !size.ok()) {
    refuse(std::move(entry), std::move(size));
    return reactor;
  }
  if (backup_folder_.empty()) {
    refuse(std::move(entry),
           errors::Refusal(absl::StatusCode::kFailedPrecondition, v1::BACKUP_NOT_CONFIGURED,
                           "this registry was started without a backup folder: start it with "
                           "--backup-dir FOLDER (kept apart from the data folder) to make "
                           "backups"));
    return reactor;
  }
  // A backup copies every child's record: its entry (status 0, admitted) is made durable before
  // the copy begins, and without it there is no backup (no entry, no data). One entry per call:
  // the outcome goes to the caller and the log.
  auditor_.Record(
      std::move(entry),
      [this, finish](absl::Status audited) {
        if (!audited.ok()) {
          finish(audited);
          return;
        }
        worker_->Post([this, finish] {
          LogLine(absl::StrCat("backup into ", backup_folder_, " began"));
          absl::StatusOr<storage::BackupSummary> made = backups_.BackUp(backup_folder_);
          if (!made.ok()) {
            finish(made.status());
            return;
          }
          LogLine(absl::StrCat("backup ", made->id, " made and verified: ", made->files, " files, ",
                               made->bytes, " bytes, ", made->new_bytes, " of them new"));
          v1::BackUpResponse answer;
          answer.set_backup_id(made->id);
          answer.set_made_at_unix_seconds(made->made_at_unix_seconds);
          answer.set_bytes(made->bytes);
          answer.set_files(made->files);
          answer.set_new_bytes(made->new_bytes);
          answer.set_backup_folder(backup_folder_);
          finish(std::move(answer));
        });
      },
      storage::SubmitOptions{});
  return reactor;
}

}  // namespace cir::server
