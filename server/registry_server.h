#ifndef CIR_SERVER_REGISTRY_SERVER_H_
#define CIR_SERVER_REGISTRY_SERVER_H_

#include <memory>
#include <string>

#include "absl/status/statusor.h"
#include "grpcpp/server.h"
#include "registry/registry.h"
#include "server/grpc_reply_runner.h"
#include "server/registry_service.h"
#include "storage/child_store.h"
#include "storage/rocksdb_child_store.h"

namespace cir::server {

struct RegistryServerOptions {
  // Address to listen on, host:port; port 0 picks a free port. Default: loopback only.
  std::string listen_address = "127.0.0.1:50051";
  // The embedded store: its folder (required) and tuning.
  storage::RocksDbStoreOptions store;
  // Passed to the registry logic (clock, batch limit).
  registry::RegistryOptions registry;
};

// A running registry: the store, the registry logic and a gRPC server offering ChildRegistry, the
// standard health service (grpc.health.v1.Health) and server reflection. Plaintext for now.
class RegistryServer {
 public:
  // Opens the store and starts serving. Fails if the store cannot be opened or the address bound.
  static absl::StatusOr<std::unique_ptr<RegistryServer>> Start(RegistryServerOptions options);

  // Stops accepting calls, lets in-flight calls finish (cancelling any still running after
  // `grace`), commits every queued write, and closes the store. Idempotent; the destructor calls it.
  void Stop(absl::Duration grace = absl::Seconds(10));
  ~RegistryServer();

  // The port actually bound (useful with port 0).
  int port() const { return port_; }
  std::string address() const;

 private:
  RegistryServer() = default;

  std::string host_;
  int port_ = 0;
  std::unique_ptr<GrpcReplyRunner> replies_ = std::make_unique<GrpcReplyRunner>();
  std::unique_ptr<storage::ChildStore> store_;
  std::unique_ptr<registry::Registry> registry_;
  std::unique_ptr<RegistryService> service_;
  std::unique_ptr<grpc::Server> grpc_server_;
};

}  // namespace cir::server

#endif  // CIR_SERVER_REGISTRY_SERVER_H_
