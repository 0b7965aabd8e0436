#include "server/registry_server.h"

#include <chrono>

#include "absl/status/status.h"
#include "absl/strings/str_cat.h"
#include "grpcpp/ext/proto_server_reflection_plugin.h"
#include "grpcpp/health_check_service_interface.h"
#include "grpcpp/security/server_credentials.h"
#include "grpcpp/server_builder.h"

namespace cir::server {
namespace {

// A BatchResolve of 10,000 full records is a few MiB; leave room above it.
constexpr int kMaxMessageBytes = 64 << 20;

}  // namespace

absl::StatusOr<std::unique_ptr<RegistryServer>> RegistryServer::Start(
    RegistryServerOptions options) {
  std::unique_ptr<RegistryServer> server(new RegistryServer());
  options.store.reply_runner = [replies = server->replies_.get()](
                                   absl::AnyInvocable<void() &&> task) {
    replies->Run(std::move(task));
  };
  absl::StatusOr<std::unique_ptr<storage::ChildStore>> store =
      storage::RocksDbChildStore::Open(options.store);
  if (!store.ok()) return store.status();
  server->store_ = *std::move(store);
  server->registry_ =
      std::make_unique<registry::Registry>(*server->store_, std::move(options.registry));
  server->service_ = std::make_unique<RegistryService>(*server->registry_);

  grpc::EnableDefaultHealthCheckService(true);
  grpc::reflection::InitProtoReflectionServerBuilderPlugin();
  grpc::ServerBuilder builder;
  builder.AddListeningPort(options.listen_address, grpc::InsecureServerCredentials(),
                           &server->port_);
  builder.RegisterService(server->service_.get());
  builder.SetMaxReceiveMessageSize(kMaxMessageBytes);
  builder.SetMaxSendMessageSize(kMaxMessageBytes);
  server->grpc_server_ = builder.BuildAndStart();
  if (server->grpc_server_ == nullptr || server->port_ == 0) {
    server->store_.reset();
    return absl::UnavailableError(
        absl::StrCat("could not listen on ", options.listen_address,
                     "; is the address valid and the port free?"));
  }
  server->host_ = options.listen_address.substr(0, options.listen_address.rfind(':'));
  return server;
}

std::string RegistryServer::address() const { return absl::StrCat(host_, ":", port_); }

void RegistryServer::Stop(absl::Duration grace) {
  if (grpc_server_ != nullptr) {
    // Load balancers and callers' health checks see the server going before it goes.
    grpc_server_->GetHealthCheckService()->SetServingStatus(false);
    grpc_server_->Shutdown(std::chrono::system_clock::now() + absl::ToChronoSeconds(grace));
  }
  // Closing the store commits every queued unit of work; its replies then finish their calls.
  store_.reset();
  replies_->WaitUntilIdle();
  grpc_server_.reset();
}

RegistryServer::~RegistryServer() { Stop(); }

}  // namespace cir::server
