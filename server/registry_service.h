#ifndef CIR_SERVER_REGISTRY_SERVICE_H_
#define CIR_SERVER_REGISTRY_SERVICE_H_

#include <utility>

#include "cir/v1/registry.grpc.pb.h"
#include "registry/registry.h"

namespace cir::server {

// The ChildRegistry gRPC service: unpacks each call, hands it to the Registry, and finishes it
// with the Registry's answer. Writes finish from the store's writer thread once durable, so no
// gRPC thread waits on a disk sync.
class RegistryService final : public v1::ChildRegistry::CallbackService {
 public:
  // `description` is what DescribeRegistry answers: fixed for the server's life.
  RegistryService(registry::Registry& registry, v1::DescribeRegistryResponse description)
      : registry_(registry), description_(std::move(description)) {}

  grpc::ServerUnaryReactor* RegisterBirth(grpc::CallbackServerContext* context,
                                          const v1::RegisterBirthRequest* request,
                                          v1::RegisterBirthResponse* response) override;
  grpc::ServerUnaryReactor* Resolve(grpc::CallbackServerContext* context,
                                    const v1::ResolveRequest* request,
                                    v1::ResolveResponse* response) override;
  grpc::ServerUnaryReactor* LinkUpn(grpc::CallbackServerContext* context,
                                    const v1::LinkUpnRequest* request,
                                    v1::LinkUpnResponse* response) override;
  grpc::ServerUnaryReactor* LinkNhsNumber(grpc::CallbackServerContext* context,
                                          const v1::LinkNhsNumberRequest* request,
                                          v1::LinkNhsNumberResponse* response) override;
  grpc::ServerUnaryReactor* BatchResolve(grpc::CallbackServerContext* context,
                                         const v1::BatchResolveRequest* request,
                                         v1::BatchResolveResponse* response) override;
  grpc::ServerUnaryReactor* DescribeRegistry(grpc::CallbackServerContext* context,
                                             const v1::DescribeRegistryRequest* request,
                                             v1::DescribeRegistryResponse* response) override;

 private:
  registry::Registry& registry_;
  const v1::DescribeRegistryResponse description_;
};

}  // namespace cir::server

#endif  // CIR_SERVER_REGISTRY_SERVICE_H_
