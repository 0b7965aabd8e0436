#ifndef CIR_SERVER_METRICS_H_
#define CIR_SERVER_METRICS_H_

#include <map>
#include <memory>
#include <mutex>
#include <string>

#include "absl/status/statusor.h"
#include "absl/time/time.h"
#include "grpcpp/support/server_interceptor.h"
#include "prometheus/counter.h"
#include "prometheus/exposer.h"
#include "prometheus/family.h"
#include "prometheus/histogram.h"
#include "prometheus/registry.h"
#include "server/feed_streams.h"
#include "storage/child_store.h"

namespace cir::server {

// The registry's metrics for Prometheus, served as text on a port of their own
// (http://ADDRESS/metrics), apart from the registry's mutual-TLS port: they name no child, agency
// or person, only methods, status codes and amounts.
//
//   cir_calls_total{method,code}            calls answered, by gRPC method ("unknown" for a path
//                                           the registry does not serve) and status code
//   cir_call_duration_seconds{method}       from a call's arrival to its status (histogram)
//   cir_store_write_group_units             units of work per committed write group (histogram)
//   cir_store_commit_duration_seconds       each group's write and sync (histogram)
//   cir_store_write_queue_units             units waiting for the writer
//   cir_store_write_queue_bytes             what they hold
//   cir_store_accepting_writes              1, or 0 while writes are suspended after a failure
//   cir_store_size_bytes                    the store's files on disk
//   cir_store_pending_compaction_bytes      RocksDB's estimate of compaction owed
//   cir_store_memory_bytes{part}            the store's memory: block_cache, memtables and
//                                           table_readers (the last two outside the cache)
//   cir_heap_bytes{state}                   jemalloc's account of the heap (heap_statistics.h)
//   cir_audit_entries_total                 entries in the audit log
//   cir_feed_subscribers                    feed streams open
//   cir_feed_lag_events                     events committed and not yet sent, all streams
//   cir_feed_max_lag_events                 the same, for the stream furthest behind
//
// The store and the feed are read when the metrics are scraped.
//
// Thread safety: every member function may be called from any thread.
class RegistryMetrics {
 public:
  // Serves the metrics on `listen_address` (host:port; port 0 picks a free one).
  static absl::StatusOr<std::unique_ptr<RegistryMetrics>> Start(const std::string& listen_address);
  ~RegistryMetrics();

  // The port the metrics are served on.
  int port() const { return port_; }

  // For the gRPC server: an interceptor counting and timing every call.
  std::unique_ptr<grpc::experimental::ServerInterceptorFactoryInterface> CallInterceptor();
  // For the store (RocksDbStoreOptions::on_group_committed).
  void GroupCommitted(size_t units, absl::Duration commit);
  // What a scrape reads; Unwatch before either goes.
  void Watch(storage::ChildStore* store, FeedStreams* feed);
  void Unwatch() { Watch(nullptr, nullptr); }

  // One call answered: what the interceptor records.
  void CallAnswered(const std::string& method, grpc::StatusCode code, absl::Duration took);

 private:
  class StateCollector;
  class CallCounter;
  struct MethodMetrics;
  RegistryMetrics() = default;
  MethodMetrics& ForMethod(const std::string& method);

  std::shared_ptr<prometheus::Registry> registry_;
  std::shared_ptr<StateCollector> state_;
  prometheus::Family<prometheus::Counter>* calls_ = nullptr;
  prometheus::Family<prometheus::Histogram>* call_duration_ = nullptr;
  prometheus::Histogram* group_units_ = nullptr;
  prometheus::Histogram* commit_duration_ = nullptr;
  std::mutex methods_mu_;
  std::map<std::string, std::unique_ptr<MethodMetrics>> methods_;
  int port_ = 0;
  std::unique_ptr<prometheus::Exposer> exposer_;  // last: stops serving first
};

}  // namespace cir::server

#endif  // CIR_SERVER_METRICS_H_
