#ifndef CIR_SERVER_AUDIT_CHECKPOINTER_H_
#define CIR_SERVER_AUDIT_CHECKPOINTER_H_

#include <condition_variable>
#include <memory>
#include <mutex>
#include <thread>

#include "absl/status/status.h"
#include "absl/time/time.h"
#include "audit/checkpoint_signer.h"
#include "storage/child_store.h"

namespace cir::server {

// Signs a checkpoint of the audit log's tree (its size, root and the time, with the registry's
// Ed25519 key) every `interval` and once more when stopped, and stores it in the log
// (WriteTxn::PutAuditCheckpoint) through the store's writer, after every entry it covers. A
// checkpoint kept by an auditor lets them prove later that the log still holds what it held then.
//
// Thread safety: Start and Stop from one thread; the signing runs on a thread of its own.
class AuditCheckpointer {
 public:
  AuditCheckpointer(storage::ChildStore& store, std::unique_ptr<audit::CheckpointSigner> signer,
                    absl::Duration interval);
  ~AuditCheckpointer();  // stops without a last checkpoint if Stop was not called

  void Start();
  // Stops the timer and signs the last checkpoint, waiting (up to `deadline`) until it is stored.
  // Call once no more calls can be audited (the gRPC server has shut down) and before the store
  // closes.
  absl::Status Stop(absl::Time deadline);

  // Signs and stores a checkpoint of the tree as committed now; OK once durable.
  absl::Status CheckpointNow(absl::Time deadline);

 private:
  void Loop();

  storage::ChildStore& store_;
  const std::unique_ptr<audit::CheckpointSigner> signer_;
  const absl::Duration interval_;
  std::mutex mu_;
  std::condition_variable cv_;
  bool stopping_ = false;
  std::thread thread_;
};

}  // namespace cir::server

#endif  // CIR_SERVER_AUDIT_CHECKPOINTER_H_
