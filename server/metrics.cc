#include "server/metrics.h"

#include <array>
#include <atomic>
#include <optional>
#include <set>
#include <utility>
#include <vector>

#include "absl/strings/str_cat.h"
#include "cir/v1/registry.pb.h"
#include "google/protobuf/descriptor.h"
#include "prometheus/collectable.h"
#include "prometheus/gauge.h"
#include "prometheus/metric_family.h"
#include "server/heap_statistics.h"

namespace cir::server {
namespace {

// gRPC's status codes by number, as the label `code` gives them.
constexpr std::array<const char*, 17> kCodeNames = {
    "OK",        "CANCELLED",      "UNKNOWN",           "INVALID_ARGUMENT",   "DEADLINE_EXCEEDED",
    "NOT_FOUND", "ALREADY_EXISTS", "PERMISSION_DENIED", "RESOURCE_EXHAUSTED", "FAILED_PRECONDITION",
    "ABORTED",   "OUT_OF_RANGE",   "UNIMPLEMENTED",     "INTERNAL",           "UNAVAILABLE",
    "DATA_LOSS", "UNAUTHENTICATED"};

prometheus::MetricFamily OneValue(const std::string& name, const std::string& help,
                                  prometheus::MetricType type, double value) {
  prometheus::MetricFamily family;
  family.name = name;
  family.help = help;
  family.type = type;
  prometheus::ClientMetric metric;
  if (type == prometheus::MetricType::Counter) {
    metric.counter.value = value;
  } else {
    metric.gauge.value = value;
  }
  family.metric.push_back(std::move(metric));
  return family;
}

// Times one call from its arrival to its status.
class CallInterceptor final : public grpc::experimental::Interceptor {
 public:
  CallInterceptor(RegistryMetrics& metrics, std::string method)
      : metrics_(metrics), method_(std::move(method)), began_(absl::Now()) {}

  void Intercept(grpc::experimental::InterceptorBatchMethods* methods) override {
    if (methods->QueryInterceptionHookPoint(
            grpc::experimental::InterceptionHookPoints::PRE_SEND_STATUS)) {
      metrics_.CallAnswered(method_, methods->GetSendStatus().error_code(), absl::Now() - began_);
    }
    methods->Proceed();
  }

 private:
  RegistryMetrics& metrics_;
  const std::string method_;
  const absl::Time began_;
};

// The label of a call's method: its path when it names a method the registry serves, otherwise
// "unknown", so that callers cannot make series of their own by calling paths that do not exist.
std::string MethodLabel(const char* path) {
  static const auto* known = [] {
    auto* methods =
        new std::set<std::string>{"/grpc.health.v1.Health/Check", "/grpc.health.v1.Health/Watch",
                                  "/grpc.reflection.v1alpha.ServerReflection/ServerReflectionInfo"};
    (void)v1::ChildRecord::descriptor();  // the registry's descriptors are in the pool
    for (const char* name : {"cir.v1.ChildRegistry", "cir.v1.ChildrenFeed", "cir.v1.AuditLog",
                             "cir.v1.RegistryAdmin"}) {
      const google::protobuf::ServiceDescriptor* service =
          google::protobuf::DescriptorPool::generated_pool()->FindServiceByName(name);
      if (service == nullptr) continue;
      for (int i = 0; i < service->method_count(); ++i) {
        methods->insert(absl::StrCat("/", name, "/", service->method(i)->name()));
      }
    }
    return methods;
  }();
  if (path != nullptr && known->count(path)) return path;
  return "unknown";
}

class CallInterceptorFactory final : public grpc::experimental::ServerInterceptorFactoryInterface {
 public:
  explicit CallInterceptorFactory(RegistryMetrics& metrics) : metrics_(metrics) {}
  grpc::experimental::Interceptor* CreateServerInterceptor(
      grpc::experimental::ServerRpcInfo* info) override {
    return new CallInterceptor(metrics_, MethodLabel(info->method()));
  }

 private:
  RegistryMetrics& metrics_;
};

}  // namespace

// One method's series: its duration histogram, and its counter for each status code (made the
// first time the code is answered).
struct RegistryMetrics::MethodMetrics {
  prometheus::Histogram* duration = nullptr;
  std::array<std::atomic<prometheus::Counter*>, kCodeNames.size()> calls{};
};

// The store's and the feed's state, read at each scrape.
class RegistryMetrics::StateCollector final : public prometheus::Collectable {
 public:
  void Watch(storage::ChildStore* store, FeedStreams* feed) {
    std::lock_guard<std::mutex> lock(mu_);
    store_ = store;
    feed_ = feed;
  }

  std::vector<prometheus::MetricFamily> Collect() const override {
    using prometheus::MetricType;
    std::lock_guard<std::mutex> lock(mu_);
    std::vector<prometheus::MetricFamily> families;
    if (store_ != nullptr) {
      const storage::StoreStatistics store = store_->Statistics();
      families.push_back(OneValue("cir_store_write_queue_units",
                                  "Units of work waiting for the store's writer", MetricType::Gauge,
                                  static_cast<double>(store.queued_units)));
      families.push_back(OneValue("cir_store_write_queue_bytes",
                                  "Bytes held by the units waiting for the store's writer",
                                  MetricType::Gauge, static_cast<double>(store.queued_bytes)));
      families.push_back(OneValue("cir_store_accepting_writes",
                                  "1 while the store takes writes, 0 while they are suspended",
                                  MetricType::Gauge, store.accepting_writes ? 1 : 0));
      families.push_back(OneValue("cir_store_size_bytes", "The store's files on disk",
                                  MetricType::Gauge, static_cast<double>(store.disk_bytes)));
      families.push_back(OneValue("cir_store_pending_compaction_bytes",
                                  "RocksDB's estimate of the compaction the store owes",
                                  MetricType::Gauge,
                                  static_cast<double>(store.pending_compaction_bytes)));
      prometheus::MetricFamily memory;
      memory.name = "cir_store_memory_bytes";
      memory.help =
          "The store's memory by part: block cache contents, memtables outside it, "
          "open tables' index and filter blocks outside it";
      memory.type = MetricType::Gauge;
      for (const auto& [part, bytes] :
           {std::pair<const char*, uint64_t>{"block_cache", store.block_cache_bytes},
            {"memtables", store.memtable_bytes},
            {"table_readers", store.table_reader_bytes}}) {
        prometheus::ClientMetric metric;
        metric.label.push_back({"part", part});
        metric.gauge.value = static_cast<double>(bytes);
        memory.metric.push_back(std::move(metric));
      }
      families.push_back(std::move(memory));
      families.push_back(OneValue("cir_audit_entries_total", "Entries in the audit log",
                                  MetricType::Counter, static_cast<double>(store.audit_entries)));
    }
    if (const std::optional<HeapStatistics> heap = ReadHeapStatistics(); heap.has_value()) {
      prometheus::MetricFamily family;
      family.name = "cir_heap_bytes";
      family.help =
          "The memory allocator's account of the heap: allocated (held by the server), active "
          "(the pages those occupy), resident (the allocator's pages in memory), retained "
          "(returned to the system but kept mapped), metadata (the allocator's own)";
      family.type = MetricType::Gauge;
      for (const auto& [state, bytes] :
           {std::pair<const char*, uint64_t>{"allocated", heap->allocated},
            {"active", heap->active},
            {"resident", heap->resident},
            {"retained", heap->retained},
            {"metadata", heap->metadata}}) {
        prometheus::ClientMetric metric;
        metric.label.push_back({"state", state});
        metric.gauge.value = static_cast<double>(bytes);
        family.metric.push_back(std::move(metric));
      }
      families.push_back(std::move(family));
    }
    if (feed_ != nullptr) {
      const FeedStreams::Statistics feed = feed_->Lag();
      families.push_back(OneValue("cir_feed_subscribers", "Feed streams open", MetricType::Gauge,
                                  static_cast<double>(feed.subscribers)));
      families.push_back(OneValue("cir_feed_lag_events",
                                  "Events committed and not yet sent, over every feed stream",
                                  MetricType::Gauge, static_cast<double>(feed.lag_events_total)));
      families.push_back(OneValue("cir_feed_max_lag_events",
                                  "Events committed and not yet sent, for the stream furthest "
                                  "behind",
                                  MetricType::Gauge, static_cast<double>(feed.lag_events_max)));
    }
    return families;
  }

 private:
  mutable std::mutex mu_;
  storage::ChildStore* store_ = nullptr;
  FeedStreams* feed_ = nullptr;
};

absl::StatusOr<std::unique_ptr<RegistryMetrics>> RegistryMetrics::Start(
    const std::string& listen_address) {
  std::unique_ptr<RegistryMetrics> metrics(new RegistryMetrics());
  metrics->registry_ = std::make_shared<prometheus::Registry>();
  metrics->state_ = std::make_shared<StateCollector>();
  metrics->calls_ = &prometheus::BuildCounter()
                         .Name("cir_calls_total")
                         .Help("Calls answered, by gRPC method and status code")
                         .Register(*metrics->registry_);
  metrics->call_duration_ = &prometheus::BuildHistogram()
                                 .Name("cir_call_duration_seconds")
                                 .Help("From a call's arrival to its status, by gRPC method")
                                 .Register(*metrics->registry_);
  metrics->group_units_ = &prometheus::BuildHistogram()
                               .Name("cir_store_write_group_units")
                               .Help("Units of work in each write group the store committed")
                               .Register(*metrics->registry_)
                               .Add({}, prometheus::Histogram::BucketBoundaries{
                                            1, 2, 4, 8, 16, 32, 64, 128, 256, 512, 1024});
  metrics->commit_duration_ = &prometheus::BuildHistogram()
                                   .Name("cir_store_commit_duration_seconds")
                                   .Help("Each write group's write and sync")
                                   .Register(*metrics->registry_)
                                   .Add({}, prometheus::Histogram::BucketBoundaries{
                                                0.0001, 0.00025, 0.0005, 0.001, 0.0025, 0.005, 0.01,
                                                0.025, 0.05, 0.1, 0.25, 1});
  try {
    metrics->exposer_ = std::make_unique<prometheus::Exposer>(listen_address, 1);
  } catch (const std::exception& e) {
    return absl::FailedPreconditionError(
        absl::StrCat("cannot serve metrics on ", listen_address, ": ", e.what()));
  }
  std::vector<int> ports = metrics->exposer_->GetListeningPorts();
  if (ports.empty()) {
    return absl::FailedPreconditionError(absl::StrCat("cannot serve metrics on ", listen_address));
  }
  metrics->port_ = ports.front();
  metrics->exposer_->RegisterCollectable(metrics->registry_);
  metrics->exposer_->RegisterCollectable(metrics->state_);
  return metrics;
}

RegistryMetrics::~RegistryMetrics() { exposer_.reset(); }

std::unique_ptr<grpc::experimental::ServerInterceptorFactoryInterface>
RegistryMetrics::CallInterceptor() {
  return std::make_unique<CallInterceptorFactory>(*this);
}

void RegistryMetrics::GroupCommitted(size_t units, absl::Duration commit) {
  group_units_->Observe(static_cast<double>(units));
  commit_duration_->Observe(absl::ToDoubleSeconds(commit));
}

void RegistryMetrics::Watch(storage::ChildStore* store, FeedStreams* feed) {
  state_->Watch(store, feed);
}

RegistryMetrics::MethodMetrics& RegistryMetrics::ForMethod(const std::string& method) {
  std::lock_guard<std::mutex> lock(methods_mu_);
  std::unique_ptr<MethodMetrics>& found = methods_[method];
  if (found == nullptr) {
    found = std::make_unique<MethodMetrics>();
    found->duration = &call_duration_->Add(
        {{"method", method}},
        prometheus::Histogram::BucketBoundaries{0.0001, 0.00025, 0.0005, 0.001, 0.0025, 0.005, 0.01,
                                                0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10});
  }
  return *found;
}

void RegistryMetrics::CallAnswered(const std::string& method, grpc::StatusCode code,
                                   absl::Duration took) {
  MethodMetrics& metrics = ForMethod(method);
  metrics.duration->Observe(absl::ToDoubleSeconds(took));
  const size_t index = static_cast<size_t>(code) < kCodeNames.size() ? code : 2;  // UNKNOWN
  prometheus::Counter* counter = metrics.calls[index].load(std::memory_order_acquire);
  if (counter == nullptr) {
    counter = &calls_->Add({{"method", method}, {"code", kCodeNames[index]}});
    metrics.calls[index].store(counter, std::memory_order_release);
  }
  counter->Increment();
}

}  // namespace cir::server
