#ifndef CIR_SERVER_HEAP_STATISTICS_H_
#define CIR_SERVER_HEAP_STATISTICS_H_

// The memory allocator's own account of the server's heap, where the allocator gives one
// (jemalloc, which cir-server links: see CMakeLists.txt), so that an operator can tell memory the
// server holds (allocated) from memory the allocator keeps after it was freed (resident less
// allocated).

#include <cstdint>
#include <optional>

namespace cir::server {

struct HeapStatistics {
  uint64_t allocated = 0;  // bytes the server has allocated and not freed
  uint64_t active = 0;     // bytes of the pages those allocations occupy
  uint64_t resident = 0;   // bytes of the allocator's pages in memory (its metadata included)
  uint64_t retained = 0;   // bytes of address space given back to the system but kept mapped
  uint64_t metadata = 0;   // bytes of the allocator's own bookkeeping
};

// The statistics as of now; nullopt when the process does not run on jemalloc (sanitizer builds
// and the tests, which keep the system's malloc).
std::optional<HeapStatistics> ReadHeapStatistics();

}  // namespace cir::server

#endif  // CIR_SERVER_HEAP_STATISTICS_H_
