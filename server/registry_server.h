#ifndef CIR_SERVER_REGISTRY_SERVER_H_
#define CIR_SERVER_REGISTRY_SERVER_H_

#include <atomic>
#include <condition_variable>
#include <cstddef>
#include <future>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <thread>

#include "absl/base/thread_annotations.h"
#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/time/time.h"
#include "access/policy_source.h"
#include "feed/feed_reader.h"
#include "grpcpp/server.h"
#include "registry/life_events.h"
#include "registry/registry.h"
#include "server/admin_service.h"
#include "server/audit_checkpointer.h"
#include "server/audit_service.h"
#include "server/call_auditor.h"
#include "server/call_gate.h"
#include "server/feed_service.h"
#include "server/feed_streams.h"
#include "server/grpc_reply_runner.h"
#include "server/metrics.h"
#include "server/registry_service.h"
#include "server/tls_material.h"
#include "storage/child_store.h"
#include "storage/rocksdb_child_store.h"

namespace cir::server {

struct RegistryServerOptions {
  // Address to listen on, host:port; port 0 picks a free port. Default: loopback only.
  std::string listen_address = "127.0.0.1:50051";
  // The embedded store: its folder (required) and tuning.
  storage::RocksDbStoreOptions store;
  // Passed to the registry logic (clock, batch limit, test NHS numbers).
  registry::RegistryOptions registry;
  // How long Stop keeps the server answering, with health already NOT_SERVING, before it stops
  // taking calls: time for load balancers and callers' health checks to move away. At most half
  // the grace period given to Stop, which leaves the rest to the calls in flight. Default: 0.
  absl::Duration drain = absl::ZeroDuration();
  // Memory gRPC may use for calls in flight (a gRPC resource quota): beyond it, the server reads
  // requests more slowly and refuses calls rather than growing. It is also what bounds the memory
  // an oversized request can take: gRPC 1.51 buffers a message whole before it compares its size
  // with the receive limit. Default: 32 MiB.
  size_t call_memory_bytes = size_t{32} << 20;
  // The feed's streams: threads, heartbeat interval, events per read.
  FeedStreamsOptions feed;
  // Who may call what (access/access_config.proto). Required.
  std::shared_ptr<access::PolicySource> access;
  // Mutual TLS: the CA bundle, the server's certificate and key, the CRL folder. Required unless
  // plaintext_agency_for_tests is set. gRPC looks for new files every `tls_refresh`; the checked
  // copy it reads is kept in a private folder under `tls_staging_parent` (default: $TMPDIR).
  std::optional<TlsFiles> tls;
  absl::Duration tls_refresh = absl::Seconds(60);
  std::string tls_staging_parent;
  // How long a client's connection lasts before the server asks it to connect
  // again, and how long its calls then have to finish. A revoked certificate
  // stops new handshakes within `tls_refresh`; this bounds how long a
  // connection made before the revocation goes on. Streams cut short end
  // UNAVAILABLE, and a feed subscriber resumes from its last cursor.
  absl::Duration max_connection_age = absl::Minutes(15);
  absl::Duration max_connection_age_grace = absl::Minutes(1);
  // Tests only: no TLS, loopback addresses only, and every call is made by this agency.
  std::string plaintext_agency_for_tests;
  // The Ed25519 key (PEM, readable by the server's user only, kept outside the data folder)
  // that signs a checkpoint of the audit log every `audit_checkpoint_interval` and when the
  // server stops. Empty: no checkpoints (tests of other things only).
  std::string audit_signing_key;
  // Where RegistryAdmin.BackUp puts the store's backups (storage/store_backups.h): a folder kept
  // apart from the data folder, ideally on another disk. Empty: backups are refused.
  std::string backup_folder;
  // Where the Prometheus metrics are served (host:port, plain HTTP, server/metrics.h): a port of
  // their own, loopback or an operations network. Empty: no metrics.
  std::string metrics_listen_address;
  absl::Duration audit_checkpoint_interval = absl::Minutes(1);
};

// A running registry: the store, the registry logic and a gRPC server offering ChildRegistry and
// ChildrenFeed (whose streams end, UNAVAILABLE with SERVER_STOPPING, when the server stops), the
// standard health service (grpc.health.v1.Health, for the whole server ("") and for
// "cir.v1.ChildRegistry") and server reflection, over mutual TLS: every call's client certificate
// names its agency (server/agency_authenticator.h), and every call to the registry's own services
// passes the CallGate (server/call_gate.h) before anything else of it runs. The access policy and
// the TLS files are checked again every second and taken when they change (a change that fails
// its checks is refused and logged, and what was in force stays).
//
// Health: both names are SERVING while the server runs and NOT_SERVING once it is stopping.
// "cir.v1.ChildRegistry" is also NOT_SERVING while the store refuses writes after a failed commit
// (reads still answer, so the whole server stays SERVING); it turns SERVING again by itself when
// the store has recovered.
//
// Requests larger than the largest legitimate request of their method are refused: each method
// checks its own (server/request_limits.h), and the server-wide receive limit, twice the largest
// (RegisterBirths' 4 MiB), refuses anything beyond; the call memory quota bounds what a request
// far over the limit can take before gRPC refuses it.
class RegistryServer {
 public:
  // Opens the store and starts serving. Fails if the store cannot be opened or the address bound.
  static absl::StatusOr<std::unique_ptr<RegistryServer>> Start(RegistryServerOptions options);

  // Stops in order: health turns NOT_SERVING; after the drain interval the server stops taking
  // calls and lets those in flight finish (cancelling any still running `grace` after Stop began);
  // the store commits every queued write and closes. Returns DEADLINE_EXCEEDED if the store has not
  // closed by then (a disk that no longer answers): the close goes on in the background and the
  // caller should end the process; every write acknowledged before is durable already. Idempotent;
  // the destructor calls it and then waits for the close however long it takes.
  absl::Status Stop(absl::Duration grace = absl::Seconds(10));
  ~RegistryServer();

  // Reads the access policy's file again now (SIGHUP): OK, or why the policy in force stays.
  absl::Status ReloadAccessPolicy();

  // The port actually bound (useful with port 0).
  int port() const { return port_; }
  std::string address() const;
  // The port the metrics are served on (0: none).
  int metrics_port() const { return metrics_ == nullptr ? 0 : metrics_->port(); }

 private:
  RegistryServer() = default;
  // Sets both health statuses from stopping_ and store_accepts_writes_.
  void UpdateHealth();

  std::string host_;
  int port_ = 0;
  absl::Duration drain_;
  // Checks the access policy's and the TLS files every second, until stopped.
  void WatchConfiguration();

  std::unique_ptr<GrpcReplyRunner> replies_ = std::make_unique<GrpcReplyRunner>();
  std::shared_ptr<access::PolicySource> access_;
  std::unique_ptr<TlsMaterial> tls_;
  std::unique_ptr<CallGate> gate_;
  std::mutex watch_mu_;
  std::condition_variable watch_cv_;
  bool watch_stopping_ ABSL_GUARDED_BY(watch_mu_) = false;
  std::thread watcher_;
  // Declared before the store, which reports its write groups to it until it closes: destroyed
  // after it.
  std::unique_ptr<RegistryMetrics> metrics_;
  std::unique_ptr<storage::ChildStore> store_;
  // The store, for its own callbacks (on its writer thread): store_ itself is moved away by Stop.
  std::atomic<storage::ChildStore*> store_for_callbacks_ = nullptr;
  std::unique_ptr<registry::Registry> registry_;
  std::unique_ptr<registry::LifeEvents> life_events_;
  std::unique_ptr<CallAuditor> auditor_;
  std::unique_ptr<AuditService> audit_service_;
  std::unique_ptr<AdminService> admin_service_;
  std::unique_ptr<AuditCheckpointer> checkpointer_;
  std::unique_ptr<RegistryService> service_;
  std::unique_ptr<feed::FeedReader> feed_reader_;
  std::unique_ptr<FeedStreams> feed_streams_;
  std::unique_ptr<FeedService> feed_service_;
  std::unique_ptr<grpc::Server> grpc_server_;

  std::mutex health_mu_;
  bool serving_ ABSL_GUARDED_BY(health_mu_) = false;  // started and not stopping
  bool store_accepts_writes_ ABSL_GUARDED_BY(health_mu_) = true;

  // Set by Stop: the store's close and everything torn down after it, running on a thread of its
  // own (std::async: destroying the future waits for it). Last, so destroyed first.
  std::future<void> closed_;
};

}  // namespace cir::server

#endif  // CIR_SERVER_REGISTRY_SERVER_H_
