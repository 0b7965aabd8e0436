#include "server/audit_checkpointer.h"

#include <future>
#include <utility>

#include "absl/strings/escaping.h"
#include "absl/strings/str_cat.h"
#include "absl/time/clock.h"
#include "server/log.h"

namespace cir::server {

AuditCheckpointer::AuditCheckpointer(storage::ChildStore& store,
                                     std::unique_ptr<audit::CheckpointSigner> signer,
                                     absl::Duration interval)
    : store_(store), signer_(std::move(signer)), interval_(interval) {}

AuditCheckpointer::~AuditCheckpointer() {
  {
    std::lock_guard<std::mutex> lock(mu_);
    stopping_ = true;
  }
  cv_.notify_all();
  if (thread_.joinable()) thread_.join();
}

void AuditCheckpointer::Start() {
  thread_ = std::thread([this] { Loop(); });
}

absl::Status AuditCheckpointer::Stop(absl::Time deadline) {
  {
    std::lock_guard<std::mutex> lock(mu_);
    stopping_ = true;
  }
  cv_.notify_all();
  if (thread_.joinable()) thread_.join();
  // Entries queued without waiting for them (refusals, feed openings) commit before a unit
  // queued after them: wait for one, so that the last checkpoint covers them.
  std::promise<void> drained;
  storage::SubmitOptions submit;
  submit.deadline = deadline;
  store_.Submit([](storage::WriteTxn&) { return absl::OkStatus(); },
                [&drained](absl::Status) { drained.set_value(); }, std::move(submit));
  drained.get_future().wait();
  return CheckpointNow(deadline);
}

void AuditCheckpointer::Loop() {
  pthread_setname_np(pthread_self(), "cir-checkpoint");
  std::unique_lock<std::mutex> lock(mu_);
  while (!cv_.wait_for(lock, absl::ToChronoNanoseconds(interval_), [this] { return stopping_; })) {
    lock.unlock();
    absl::Status signed_now = CheckpointNow(absl::Now() + interval_);
    if (!signed_now.ok()) {
      LogLine(absl::StrCat("audit checkpoint not stored (the next one will cover it): ",
                           signed_now.message()));
    }
    lock.lock();
  }
}

absl::Status AuditCheckpointer::CheckpointNow(absl::Time deadline) {
  const storage::AuditAppender::Head head = store_.audit_log().AuditHead();
  const audit::Checkpoint checkpoint{
      .tree_size = head.size,
      .root = head.root,
      .time = absl::FromUnixSeconds(absl::ToUnixSeconds(absl::Now()))};
  absl::StatusOr<std::string> text = audit::CheckpointText(checkpoint);
  if (!text.ok()) return text.status();
  absl::StatusOr<std::string> signature = signer_->Sign(checkpoint);
  if (!signature.ok()) return signature.status();
  v1::AuditCheckpoint stored;
  stored.set_tree_size(checkpoint.tree_size);
  stored.set_root_hash(std::string(checkpoint.root.begin(), checkpoint.root.end()));
  stored.set_signed_at_unix_seconds(absl::ToUnixSeconds(checkpoint.time));
  stored.set_signature(*signature);
  stored.set_key_id(signer_->public_key().key_id());
  stored.set_signed_text(*text);
  std::promise<absl::Status> written;
  std::future<absl::Status> outcome = written.get_future();
  storage::SubmitOptions submit;
  submit.deadline = deadline;
  store_.Submit(
      [stored = std::move(stored)](storage::WriteTxn& txn) {
        return txn.PutAuditCheckpoint(stored);
      },
      [&written](absl::Status status) { written.set_value(std::move(status)); }, std::move(submit));
  return outcome.get();
}

}  // namespace cir::server
