#include "server/registry_server.h"

#include <arpa/inet.h>

#include <algorithm>
#include <chrono>
#include <future>

#include "absl/status/status.h"
#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "absl/time/clock.h"
#include "grpc/grpc.h"
#include "grpcpp/ext/proto_server_reflection_plugin.h"
#include "grpcpp/health_check_service_interface.h"
#include "grpcpp/resource_quota.h"
#include "grpcpp/security/server_credentials.h"
#include "grpcpp/server_builder.h"
#include "server/agency_authenticator.h"
#include "server/log.h"
#include "server/request_limits.h"

namespace cir::server {
namespace {

// Whether `listen_address` (host:port) is on this machine's loopback interface only: an address
// in 127.0.0.0/8, [::1], or "localhost" (a name like "127.example.org" is not an address).
bool IsLoopback(const std::string& listen_address) {
  const std::string host = listen_address.substr(0, listen_address.rfind(':'));
  if (host == "localhost" || host == "[::1]") return true;
  in_addr address{};
  return ::inet_pton(AF_INET, host.c_str(), &address) == 1 && (ntohl(address.s_addr) >> 24) == 127;
}

}  // namespace

absl::StatusOr<std::unique_ptr<RegistryServer>> RegistryServer::Start(
    RegistryServerOptions options) {
  if (options.access == nullptr) {
    return absl::InvalidArgumentError("an access policy is required: who may call what");
  }
  const bool plaintext = !options.plaintext_agency_for_tests.empty();
  if (plaintext && !IsLoopback(options.listen_address)) {
    return absl::InvalidArgumentError(absl::StrCat(
        "plaintext is for tests on this machine only: listen on a loopback address (127.0.0.1 or "
        "[::1]), not ",
        options.listen_address));
  }
  if (!plaintext && !options.tls.has_value()) {
    return absl::InvalidArgumentError(
        "mutual TLS needs a CA bundle, a server certificate and key, and a CRL folder");
  }
  std::unique_ptr<RegistryServer> server(new RegistryServer());
  server->drain_ = options.drain;
  server->access_ = options.access;
  std::shared_ptr<grpc::ServerCredentials> credentials;
  std::shared_ptr<AgencyAuthenticator> authenticator;
  if (plaintext) {
    server->gate_ = std::make_unique<CallGate>(options.access, options.plaintext_agency_for_tests);
    credentials = grpc::InsecureServerCredentials();
  } else {
    absl::StatusOr<std::unique_ptr<TlsMaterial>> tls =
        TlsMaterial::Open(*options.tls, options.tls_staging_parent, options.tls_refresh);
    if (!tls.ok()) return tls.status();
    server->tls_ = *std::move(tls);
    server->gate_ = std::make_unique<CallGate>(options.access);
    authenticator = std::make_shared<AgencyAuthenticator>(options.access);
    credentials = server->tls_->ServerCredentials(authenticator);
  }
  options.store.reply_runner = [replies = server->replies_.get()](
                                   absl::AnyInvocable<void() &&> task) {
    replies->Run(std::move(task));
  };
  // Called on the store's writer thread; the server object outlives the store it owns. Operators
  // see why the registry went NOT_SERVING: the store's refusal says what failed, and no child.
  options.store.on_write_availability = [raw = server.get()](bool accepting_writes) {
    {
      std::lock_guard<std::mutex> lock(raw->health_mu_);
      raw->store_accepts_writes_ = accepting_writes;
    }
    if (accepting_writes) {
      LogLine("the store takes writes again; the registry is serving");
    } else {
      // The store calls from its own writer thread, so it is alive; the pointer is set once open.
      storage::ChildStore* store = raw->store_for_callbacks_.load();
      absl::Status why = store != nullptr ? store->WriteAvailability()
                                          : absl::UnavailableError("the store is opening");
      LogLine(absl::StrCat("writes suspended after a failed commit, and audited reads with them: ",
                           why.message()));
    }
    raw->UpdateHealth();
  };
  std::unique_ptr<audit::CheckpointSigner> signer;
  if (!options.audit_signing_key.empty()) {
    absl::StatusOr<std::unique_ptr<audit::CheckpointSigner>> loaded =
        audit::CheckpointSigner::FromKeyFile(options.audit_signing_key);
    if (!loaded.ok()) return loaded.status();
    signer = *std::move(loaded);
  }
  if (!options.metrics_listen_address.empty()) {
    absl::StatusOr<std::unique_ptr<RegistryMetrics>> metrics =
        RegistryMetrics::Start(options.metrics_listen_address);
    if (!metrics.ok()) return metrics.status();
    server->metrics_ = *std::move(metrics);
    RegistryMetrics* reported = server->metrics_.get();
    options.store.on_group_committed = [reported](size_t units, absl::Duration commit) {
      reported->GroupCommitted(units, commit);
    };
  }
  absl::StatusOr<std::unique_ptr<storage::ChildStore>> store =
      storage::RocksDbChildStore::Open(options.store);
  if (!store.ok()) return store.status();
  server->store_ = *std::move(store);
  server->store_for_callbacks_ = server->store_.get();
  v1::DescribeRegistryResponse description;
  description.set_environment(options.registry.allow_test_nhs_numbers
                                  ? v1::DescribeRegistryResponse::ENVIRONMENT_TEST
                                  : v1::DescribeRegistryResponse::ENVIRONMENT_PRODUCTION);
  description.set_max_batch_identifiers(options.registry.max_batch_identifiers);
  server->life_events_ =
      std::make_unique<registry::LifeEvents>(*server->store_, options.registry);
  server->registry_ =
      std::make_unique<registry::Registry>(*server->store_, std::move(options.registry));
  server->auditor_ = std::make_unique<CallAuditor>(*server->store_);
  if (authenticator != nullptr) {
    authenticator->set_entry_recorder([auditor = server->auditor_.get()](v1::AuditEntry entry) {
      auditor->Record(
          std::move(entry), [](absl::Status) {}, storage::SubmitOptions{});
    });
  }
  server->service_ = std::make_unique<RegistryService>(
      *server->registry_, *server->life_events_, *server->gate_, *server->auditor_, description);
  server->audit_service_ = std::make_unique<AuditService>(
      server->store_->audit_log(), *server->registry_, *server->gate_, *server->auditor_);
  server->admin_service_ = std::make_unique<AdminService>(
      server->store_->backups(), options.backup_folder, *server->gate_, *server->auditor_);
  if (signer != nullptr) {
    server->checkpointer_ = std::make_unique<AuditCheckpointer>(*server->store_, std::move(signer),
                                                                options.audit_checkpoint_interval);
  }
  server->feed_reader_ = std::make_unique<feed::FeedReader>(*server->store_);
  server->feed_streams_ =
      std::make_unique<FeedStreams>(*server->feed_reader_, options.feed, server->auditor_.get());
  server->feed_service_ = std::make_unique<FeedService>(
      *server->feed_reader_, *server->feed_streams_, *server->gate_, *server->auditor_);
  server->store_->WatchAreaFeeds(
      [streams = server->feed_streams_.get()](absl::Span<const storage::AreaHead> heads) {
        streams->OnCommit(heads);
      });

  grpc::EnableDefaultHealthCheckService(true);
  grpc::reflection::InitProtoReflectionServerBuilderPlugin();
  grpc::ServerBuilder builder;
  builder.AddListeningPort(options.listen_address, credentials, &server->port_);
  builder.RegisterService(server->service_.get());
  builder.RegisterService(server->feed_service_.get());
  builder.RegisterService(server->audit_service_.get());
  builder.RegisterService(server->admin_service_.get());
  if (server->metrics_ != nullptr) {
    std::vector<std::unique_ptr<grpc::experimental::ServerInterceptorFactoryInterface>> creators;
    creators.push_back(server->metrics_->CallInterceptor());
    builder.experimental().SetInterceptorCreators(std::move(creators));
  }
  builder.AddChannelArgument(
      GRPC_ARG_MAX_CONNECTION_AGE_MS,
      static_cast<int>(absl::ToInt64Milliseconds(options.max_connection_age)));
  builder.AddChannelArgument(
      GRPC_ARG_MAX_CONNECTION_AGE_GRACE_MS,
      static_cast<int>(absl::ToInt64Milliseconds(options.max_connection_age_grace)));
  // Clients may keep their connections alive with pings every 10 seconds or more, with calls in
  // flight or not (the client library pings every 30: cir::ClientOptions::keepalive_time); gRPC's
  // default would close a connection pinged more often than every 5 minutes without data.
  builder.AddChannelArgument(GRPC_ARG_HTTP2_MIN_RECV_PING_INTERVAL_WITHOUT_DATA_MS, 10000);
  builder.AddChannelArgument(GRPC_ARG_KEEPALIVE_PERMIT_WITHOUT_CALLS, 1);
  builder.SetMaxReceiveMessageSize(static_cast<int>(kMaxRequestBytes));
  builder.SetMaxSendMessageSize(static_cast<int>(kMaxResponseBytes));
  grpc::ResourceQuota quota("cir-server-calls");
  quota.Resize(options.call_memory_bytes);
  builder.SetResourceQuota(quota);
  std::unique_ptr<grpc::Server> grpc_server = builder.BuildAndStart();
  {
    std::lock_guard<std::mutex> lock(server->health_mu_);
    server->grpc_server_ = std::move(grpc_server);
  }
  if (server->grpc_server_ == nullptr || server->port_ == 0) {
    server->store_.reset();
    server->feed_streams_.reset();
    return absl::UnavailableError(
        absl::StrCat("could not listen on ", options.listen_address,
                     "; is the address valid and the port free?"));
  }
  server->host_ = options.listen_address.substr(0, options.listen_address.rfind(':'));
  {
    std::lock_guard<std::mutex> lock(server->health_mu_);
    server->serving_ = true;
  }
  server->UpdateHealth();
  if (server->checkpointer_ != nullptr) server->checkpointer_->Start();
  server->watcher_ = std::thread([raw = server.get()] { raw->WatchConfiguration(); });
  // Scrapes read the store and the feed only once the server runs: a start that fails frees them.
  if (server->metrics_ != nullptr) {
    server->metrics_->Watch(server->store_.get(), server->feed_streams_.get());
  }
  return server;
}

absl::Status RegistryServer::ReloadAccessPolicy() {
  absl::Status reloaded = access_->Reload();
  LogLine(reloaded.ok() ? std::string("access policy reloaded")
                        : absl::StrCat("access policy not reloaded, the one in force stays: ",
                                       reloaded.message()));
  return reloaded;
}

void RegistryServer::WatchConfiguration() {
  std::unique_lock<std::mutex> lock(watch_mu_);
  while (!watch_cv_.wait_for(lock, std::chrono::seconds(1), [this] { return watch_stopping_; })) {
    lock.unlock();
    const absl::Status policy = access_->ReloadIfChanged();
    if (!policy.ok()) {
      LogLine(
          absl::StrCat("access policy not reloaded, the one in force stays: ", policy.message()));
    }
    if (tls_ != nullptr) {
      const absl::Status tls = tls_->RefreshIfChanged();
      if (!tls.ok()) {
        LogLine(absl::StrCat("TLS files not taken, those in force stay: ", tls.message()));
      }
    }
    lock.lock();
  }
}

std::string RegistryServer::address() const { return absl::StrCat(host_, ":", port_); }

void RegistryServer::UpdateHealth() {
  // Held while setting, so that two updates racing cannot leave the older one in force.
  std::lock_guard<std::mutex> lock(health_mu_);
  if (grpc_server_ == nullptr) return;  // not built yet: Start sets the first statuses
  grpc::HealthCheckServiceInterface* health = grpc_server_->GetHealthCheckService();
  health->SetServingStatus(v1::ChildRegistry::service_full_name(),
                           serving_ && store_accepts_writes_);
  health->SetServingStatus("", serving_);
}

absl::Status RegistryServer::Stop(absl::Duration grace) {
  if (!closed_.valid()) {
    if (grpc_server_ == nullptr) return absl::OkStatus();
    const absl::Time give_up = absl::Now() + grace;
    {
      std::lock_guard<std::mutex> lock(watch_mu_);
      watch_stopping_ = true;
    }
    watch_cv_.notify_all();
    if (watcher_.joinable()) watcher_.join();
    // Load balancers and callers' health checks see the server going before it goes.
    {
      std::lock_guard<std::mutex> lock(health_mu_);
      serving_ = false;
    }
    UpdateHealth();
    absl::SleepFor(std::min(drain_, grace / 2));
    std::unique_ptr<grpc::Server> grpc_server;
    {
      std::lock_guard<std::mutex> lock(health_mu_);
      grpc_server = std::move(grpc_server_);
    }
    // Feed streams never end by themselves: they end now, telling subscribers to resume.
    feed_streams_->FinishAll();
    // Calls still running shortly before the end of the grace period are cancelled, which leaves
    // the store a moment to close in.
    const absl::Time cancel_calls =
        give_up - std::min(absl::Seconds(1), (give_up - absl::Now()) / 4);
    // The rest runs on a thread of its own, since a disk that no longer answers would hold it for
    // ever: gRPC's Shutdown waits for every call to finish, and a write's call finishes only when
    // the store answers it. Closing the store commits every queued unit of work; their replies
    // finish their calls through the reply runner on the gRPC server: so the server is destroyed
    // after the store.
    closed_ =
        std::async(std::launch::async,
                   [cancel_calls, store = std::move(store_), replies = std::move(replies_),
                    grpc_server = std::move(grpc_server), service = std::move(service_),
                    registry = std::move(registry_), life_events = std::move(life_events_),
                    feed_service = std::move(feed_service_),
                    feed_streams = std::move(feed_streams_), feed_reader = std::move(feed_reader_),
                    auditor = std::move(auditor_), audit_service = std::move(audit_service_),
                    admin_service = std::move(admin_service_), metrics = metrics_.get(),
                    checkpointer = std::move(checkpointer_), give_up]() mutable {
                     grpc_server->Shutdown(absl::ToChronoTime(cancel_calls));
                     service->AfterShutdown();
                     // A backup under way ends (and is audited) before the store closes.
                     admin_service.reset();
                     // Scrapes stop reading the store and the feed (the metrics stay: the store
                     // reports its last groups to them as it closes).
                     if (metrics != nullptr) metrics->Unwatch();
                     // Shutdown cancelled the feed's streams, but their reactors may not all be
                     // done yet; they read the store until they are.
                     feed_streams->AwaitNoStreams();
                     // No call is left to audit: the last checkpoint covers every entry.
                     if (checkpointer != nullptr) {
                       absl::Status signed_last = checkpointer->Stop(give_up);
                       if (!signed_last.ok()) {
                         LogLine(absl::StrCat("the last audit checkpoint was not stored: ",
                                              signed_last.message()));
                       }
                       checkpointer.reset();
                     }
                     // The store's last groups may still tell the feed of their events: it goes
                     // after the store.
                     store.reset();
                     replies->WaitUntilIdle();
                     grpc_server.reset();
                     feed_service.reset();
                     feed_streams.reset();
                     feed_reader.reset();
                     service.reset();
                     registry.reset();
                     life_events.reset();
                     audit_service.reset();
                     auditor.reset();
                   });
    if (closed_.wait_until(absl::ToChronoTime(give_up)) == std::future_status::ready) {
      return absl::OkStatus();
    }
  } else if (closed_.wait_for(absl::ToChronoSeconds(grace)) == std::future_status::ready) {
    return absl::OkStatus();
  }
  return absl::DeadlineExceededError(
      "the store did not close within the grace period (is the disk answering?); acknowledged "
      "writes are durable, writes still queued were not acknowledged");
}

RegistryServer::~RegistryServer() { (void)Stop(); }

}  // namespace cir::server
