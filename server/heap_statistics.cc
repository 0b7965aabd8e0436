#include "server/heap_statistics.h"

#include <cstddef>

// jemalloc's control interface, declared weak: null where the process is not linked with it.
extern "C" int mallctl(const char* name, void* oldp, size_t* oldlenp, void* newp, size_t newlen)
    __attribute__((weak));

namespace cir::server {
namespace {

bool ReadSize(const char* name, uint64_t& value) {
  size_t bytes = 0;
  size_t length = sizeof bytes;
  if (mallctl(name, &bytes, &length, nullptr, 0) != 0) return false;
  value = bytes;
  return true;
}

}  // namespace

std::optional<HeapStatistics> ReadHeapStatistics() {
  if (mallctl == nullptr) return std::nullopt;
  // jemalloc's statistics are a snapshot taken at each new "epoch".
  uint64_t epoch = 1;
  size_t length = sizeof epoch;
  if (mallctl("epoch", &epoch, &length, &epoch, length) != 0) return std::nullopt;
  HeapStatistics heap;
  if (!ReadSize("stats.allocated", heap.allocated) || !ReadSize("stats.active", heap.active) ||
      !ReadSize("stats.resident", heap.resident) || !ReadSize("stats.retained", heap.retained) ||
      !ReadSize("stats.metadata", heap.metadata)) {
    return std::nullopt;
  }
  return heap;
}

}  // namespace cir::server
