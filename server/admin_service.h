#ifndef CIR_SERVER_ADMIN_SERVICE_H_
#define CIR_SERVER_ADMIN_SERVICE_H_

#include <memory>
#include <string>

#include "cir/v1/registry.grpc.pb.h"
#include "server/call_auditor.h"
#include "server/call_gate.h"
#include "server/fixed_thread_pool.h"
#include "storage/store_backups.h"

namespace cir::server {

// The RegistryAdmin gRPC service, for operators: online backups into the folder the server was
// started with. A backup copies the whole store and may take minutes, so it runs on a thread of
// its own, one backup at a time (a second call waits its turn), never on gRPC's threads. Each
// call is admitted by the CallGate and audited like every call: an admitted backup's entry is
// durable before the copy begins (no entry, no backup). The backup holds no child's data in the
// clear, and its entry names no child.
class AdminService final : public v1::RegistryAdmin::CallbackService {
 public:
  // `backup_folder` empty: backups are refused (BACKUP_NOT_CONFIGURED).
  AdminService(storage::StoreBackups& backups, std::string backup_folder, const CallGate& gate,
               CallAuditor& auditor);
  // Waits for a backup under way to end (before the store closes).
  ~AdminService() override;

  grpc::ServerUnaryReactor* BackUp(grpc::CallbackServerContext* context,
                                   const v1::BackUpRequest* request,
                                   v1::BackUpResponse* response) override;

 private:
  storage::StoreBackups& backups_;
  const std::string backup_folder_;
  const CallGate& gate_;
  CallAuditor& auditor_;
  std::unique_ptr<FixedThreadPool> worker_;  // last: joined first
};

}  // namespace cir::server

#endif  // CIR_SERVER_ADMIN_SERVICE_H_
