#include "tests/testing/fault_injection_fs.h"

#include <algorithm>
#include <atomic>
#include <filesystem>
#include <functional>
#include <optional>
#include <system_error>
#include <utility>

namespace cir::testing {

// A writable file that reports each write to its FaultInjectionFs, which may refuse it.
//
// RocksDB makes a file on one thread and may append to, flush, sync and close it on others, ordered
// by its own locks, which ThreadSanitizer cannot see in Debian's uninstrumented RocksDB. Every
// virtual method of FSWritableFile therefore runs under an InOrder, which makes that order
// visible: entering acquires what the constructor and every earlier call did, leaving releases
// what this call did, and the destructor acquires it all. The methods without a fault to inject
// only forward, in that order.
class FaultInjectionFs::TrackedFile final : public rocksdb::FSWritableFileOwnerWrapper {
 public:
  TrackedFile(std::unique_ptr<rocksdb::FSWritableFile> file, FaultInjectionFs* fs,
              std::shared_ptr<FileState> state)
      : FSWritableFileOwnerWrapper(std::move(file)), fs_(fs), state_(std::move(state)) {
    calls_.store(0, std::memory_order_release);
  }
  ~TrackedFile() override { calls_.load(std::memory_order_acquire); }

  rocksdb::IOStatus Append(const rocksdb::Slice& data, const rocksdb::IOOptions& options,
                           rocksdb::IODebugContext* dbg) override {
    InOrder in_order(*this);
    return Appended([&] { return target()->Append(data, options, dbg); }, data.size(),
                    std::nullopt);
  }
  rocksdb::IOStatus Append(const rocksdb::Slice& data, const rocksdb::IOOptions& options,
                           const rocksdb::DataVerificationInfo& verification,
                           rocksdb::IODebugContext* dbg) override {
    InOrder in_order(*this);
    return Appended([&] { return target()->Append(data, options, verification, dbg); }, data.size(),
                    std::nullopt);
  }
  rocksdb::IOStatus PositionedAppend(const rocksdb::Slice& data, uint64_t offset,
                                     const rocksdb::IOOptions& options,
                                     rocksdb::IODebugContext* dbg) override {
    InOrder in_order(*this);
    return Appended([&] { return target()->PositionedAppend(data, offset, options, dbg); },
                    data.size(), offset);
  }
  rocksdb::IOStatus PositionedAppend(const rocksdb::Slice& data, uint64_t offset,
                                     const rocksdb::IOOptions& options,
                                     const rocksdb::DataVerificationInfo& verification,
                                     rocksdb::IODebugContext* dbg) override {
    InOrder in_order(*this);
    return Appended(
        [&] { return target()->PositionedAppend(data, offset, options, verification, dbg); },
        data.size(), offset);
  }

  rocksdb::IOStatus Sync(const rocksdb::IOOptions& options, rocksdb::IODebugContext* dbg) override {
    InOrder in_order(*this);
    return Synced([&] { return target()->Sync(options, dbg); });
  }
  rocksdb::IOStatus Fsync(const rocksdb::IOOptions& options,
                          rocksdb::IODebugContext* dbg) override {
    InOrder in_order(*this);
    return Synced([&] { return target()->Fsync(options, dbg); });
  }

  rocksdb::IOStatus Truncate(uint64_t size, const rocksdb::IOOptions& options,
                             rocksdb::IODebugContext* dbg) override {
    InOrder in_order(*this);
    if (rocksdb::IOStatus fault = fs_->PowerFault(); !fault.ok()) return fault;
    rocksdb::IOStatus s = target()->Truncate(size, options, dbg);
    if (s.ok()) {
      std::lock_guard<std::mutex> lock(fs_->mu_);
      state_->size = size;
      state_->synced = std::min(state_->synced, size);
    }
    return s;
  }
  rocksdb::IOStatus Flush(const rocksdb::IOOptions& options,
                          rocksdb::IODebugContext* dbg) override {
    InOrder in_order(*this);
    if (rocksdb::IOStatus fault = fs_->PowerFault(); !fault.ok()) return fault;
    return target()->Flush(options, dbg);
  }
  rocksdb::IOStatus RangeSync(uint64_t offset, uint64_t bytes, const rocksdb::IOOptions& options,
                              rocksdb::IODebugContext* dbg) override {
    InOrder in_order(*this);
    if (rocksdb::IOStatus fault = fs_->PowerFault(); !fault.ok()) return fault;
    return target()->RangeSync(offset, bytes, options, dbg);  // promises nothing durable
  }

  // Forwarded as they are, in order.
  rocksdb::IOStatus Close(const rocksdb::IOOptions& options,
                          rocksdb::IODebugContext* dbg) override {
    InOrder in_order(*this);
    return target()->Close(options, dbg);
  }
  bool IsSyncThreadSafe() const override {
    InOrder in_order(*this);
    return target()->IsSyncThreadSafe();
  }
  bool use_direct_io() const override {
    InOrder in_order(*this);
    return target()->use_direct_io();
  }
  size_t GetRequiredBufferAlignment() const override {
    InOrder in_order(*this);
    return target()->GetRequiredBufferAlignment();
  }
  void SetIOPriority(rocksdb::Env::IOPriority priority) override {
    InOrder in_order(*this);
    FSWritableFileOwnerWrapper::SetIOPriority(priority);  // kept by the wrapper, as RocksDB's is
  }
  rocksdb::Env::IOPriority GetIOPriority() override {
    InOrder in_order(*this);
    return FSWritableFileOwnerWrapper::GetIOPriority();
  }
  void SetWriteLifeTimeHint(rocksdb::Env::WriteLifeTimeHint hint) override {
    InOrder in_order(*this);
    target()->SetWriteLifeTimeHint(hint);
  }
  rocksdb::Env::WriteLifeTimeHint GetWriteLifeTimeHint() override {
    InOrder in_order(*this);
    return target()->GetWriteLifeTimeHint();
  }
  uint64_t GetFileSize(const rocksdb::IOOptions& options, rocksdb::IODebugContext* dbg) override {
    InOrder in_order(*this);
    return target()->GetFileSize(options, dbg);
  }
  void SetPreallocationBlockSize(size_t size) override {
    InOrder in_order(*this);
    target()->SetPreallocationBlockSize(size);
  }
  void GetPreallocationStatus(size_t* block_size, size_t* last_allocated_block) override {
    InOrder in_order(*this);
    target()->GetPreallocationStatus(block_size, last_allocated_block);
  }
  size_t GetUniqueId(char* id, size_t max_size) const override {
    InOrder in_order(*this);
    return target()->GetUniqueId(id, max_size);
  }
  rocksdb::IOStatus InvalidateCache(size_t offset, size_t length) override {
    InOrder in_order(*this);
    return target()->InvalidateCache(offset, length);
  }
  void PrepareWrite(size_t offset, size_t length, const rocksdb::IOOptions& options,
                    rocksdb::IODebugContext* dbg) override {
    InOrder in_order(*this);
    target()->PrepareWrite(offset, length, options, dbg);
  }
  rocksdb::IOStatus Allocate(uint64_t offset, uint64_t length, const rocksdb::IOOptions& options,
                             rocksdb::IODebugContext* dbg) override {
    InOrder in_order(*this);
    return target()->Allocate(offset, length, options, dbg);
  }

 private:
  // Held for the length of one call: see the class comment.
  class InOrder {
   public:
    explicit InOrder(const TrackedFile& file) : file_(file) {
      file_.calls_.load(std::memory_order_acquire);
    }
    ~InOrder() { file_.calls_.fetch_add(1, std::memory_order_release); }
    InOrder(const InOrder&) = delete;
    InOrder& operator=(const InOrder&) = delete;

   private:
    const TrackedFile& file_;
  };

  // An append: refused by an injected fault before it reaches the file; otherwise the file's own
  // answer, with the bytes it wrote counted (at `offset`, or at the end).
  template <typename Write>
  rocksdb::IOStatus Appended(Write write, uint64_t bytes, std::optional<uint64_t> offset) {
    if (rocksdb::IOStatus fault = fs_->AppendFault(); !fault.ok()) return fault;
    rocksdb::IOStatus s = write();
    if (!s.ok()) return s;
    std::lock_guard<std::mutex> lock(fs_->mu_);
    state_->size =
        offset.has_value() ? std::max(state_->size, *offset + bytes) : state_->size + bytes;
    return s;
  }

  // A sync makes durable what was written when it began, unless the power was cut before it
  // returned (then it fails, and nothing more is durable).
  template <typename SyncCall>
  rocksdb::IOStatus Synced(SyncCall sync) {
    if (rocksdb::IOStatus fault = fs_->SyncFault(); !fault.ok()) return fault;
    uint64_t size_at_start;
    {
      std::lock_guard<std::mutex> lock(fs_->mu_);
      size_at_start = state_->size;
    }
    rocksdb::IOStatus s = sync();
    if (!s.ok()) return s;
    std::lock_guard<std::mutex> lock(fs_->mu_);
    if (fs_->power_cut_) return rocksdb::IOStatus::IOError("power cut during a sync");
    state_->synced = std::max(state_->synced, size_at_start);
    return s;
  }

  FaultInjectionFs* const fs_;
  const std::shared_ptr<FileState> state_;
  mutable std::atomic<uint64_t> calls_;  // see the class comment
};

FaultInjectionFs::FaultInjectionFs() : FileSystemWrapper(rocksdb::FileSystem::Default()) {
  constructed_.store(true, std::memory_order_release);
}

FaultInjectionFs::~FaultInjectionFs() { std::lock_guard<std::mutex> lock(mu_); }

// A file opened for random access whose reads fail while FailReads is on.
//
// RocksDB opens a table's file on one thread and reads it on others, handing it over through its
// table cache under its own locks, which ThreadSanitizer cannot see. Every virtual method runs
// under an InOrder, which acquires what the constructor did and releases what the call did; the
// destructor acquires what every call did. Unlike TrackedFile's, a call does not acquire what
// other calls did: RocksDB reads a table from several threads at once, unordered, and a race
// between two of them in our code must still show.
class FaultInjectionFs::FailingReadsFile final : public rocksdb::FSRandomAccessFileOwnerWrapper {
 public:
  FailingReadsFile(std::unique_ptr<rocksdb::FSRandomAccessFile> file, const FaultInjectionFs* fs)
      : FSRandomAccessFileOwnerWrapper(std::move(file)), fs_(fs) {
    constructed_.store(true, std::memory_order_release);
  }
  ~FailingReadsFile() override { calls_.load(std::memory_order_acquire); }

  rocksdb::IOStatus Read(uint64_t offset, size_t n, const rocksdb::IOOptions& options,
                         rocksdb::Slice* result, char* scratch,
                         rocksdb::IODebugContext* dbg) const override {
    InOrder in_order(*this);
    if (fs_->fail_reads_) return Injected();
    return target()->Read(offset, n, options, result, scratch, dbg);
  }
  rocksdb::IOStatus MultiRead(rocksdb::FSReadRequest* requests, size_t count,
                              const rocksdb::IOOptions& options,
                              rocksdb::IODebugContext* dbg) override {
    InOrder in_order(*this);
    if (fs_->fail_reads_) {
      for (size_t i = 0; i < count; ++i) requests[i].status = Injected();
      return Injected();
    }
    return target()->MultiRead(requests, count, options, dbg);
  }
  rocksdb::IOStatus Prefetch(uint64_t offset, size_t n, const rocksdb::IOOptions& options,
                             rocksdb::IODebugContext* dbg) override {
    InOrder in_order(*this);
    if (fs_->fail_reads_) return Injected();
    return target()->Prefetch(offset, n, options, dbg);
  }
  rocksdb::IOStatus ReadAsync(rocksdb::FSReadRequest& request, const rocksdb::IOOptions& options,
                              std::function<void(const rocksdb::FSReadRequest&, void*)> callback,
                              void* callback_argument, void** io_handle,
                              rocksdb::IOHandleDeleter* deleter,
                              rocksdb::IODebugContext* dbg) override {
    InOrder in_order(*this);
    if (fs_->fail_reads_) {
      request.status = Injected();
      callback(request, callback_argument);
      return rocksdb::IOStatus::OK();
    }
    return target()->ReadAsync(request, options, std::move(callback), callback_argument, io_handle,
                               deleter, dbg);
  }

  // Forwarded as they are, in order.
  size_t GetUniqueId(char* id, size_t max_size) const override {
    InOrder in_order(*this);
    return target()->GetUniqueId(id, max_size);
  }
  void Hint(AccessPattern pattern) override {
    InOrder in_order(*this);
    target()->Hint(pattern);
  }
  bool use_direct_io() const override {
    InOrder in_order(*this);
    return target()->use_direct_io();
  }
  size_t GetRequiredBufferAlignment() const override {
    InOrder in_order(*this);
    return target()->GetRequiredBufferAlignment();
  }
  rocksdb::IOStatus InvalidateCache(size_t offset, size_t length) override {
    InOrder in_order(*this);
    return target()->InvalidateCache(offset, length);
  }
  rocksdb::Temperature GetTemperature() const override {
    InOrder in_order(*this);
    return target()->GetTemperature();
  }

 private:
  // Held for the length of one call: see the class comment.
  class InOrder {
   public:
    explicit InOrder(const FailingReadsFile& file) : file_(file) {
      file_.constructed_.load(std::memory_order_acquire);
    }
    ~InOrder() { file_.calls_.fetch_add(1, std::memory_order_release); }
    InOrder(const InOrder&) = delete;
    InOrder& operator=(const InOrder&) = delete;

   private:
    const FailingReadsFile& file_;
  };

  static rocksdb::IOStatus Injected() {
    return rocksdb::IOStatus::IOError("read failed (injected)");
  }

  const FaultInjectionFs* const fs_;
  std::atomic<bool> constructed_{false};    // see the class comment
  mutable std::atomic<uint64_t> calls_{0};  // released by each call, acquired by the destructor
};

rocksdb::IOStatus FaultInjectionFs::PowerFault() const {
  if (power_cut_) return rocksdb::IOStatus::IOError("power cut (injected)");
  return rocksdb::IOStatus::OK();
}

rocksdb::IOStatus FaultInjectionFs::AppendFault() const {
  if (power_cut_) return rocksdb::IOStatus::IOError("power cut (injected)");
  if (disk_full_) return rocksdb::IOStatus::NoSpace("no space left on device (injected)");
  if (fail_appends_) return rocksdb::IOStatus::IOError("append failed (injected)");
  return rocksdb::IOStatus::OK();
}

void FaultInjectionFs::HangSyncs(bool on) {
  {
    std::lock_guard<std::mutex> lock(hang_mu_);
    hang_syncs_ = on;
  }
  hang_released_.notify_all();
}

bool FaultInjectionFs::AwaitHungSync(std::chrono::milliseconds timeout) {
  std::unique_lock<std::mutex> lock(hang_mu_);
  return hang_released_.wait_for(lock, timeout, [this] { return hung_syncs_ > 0; });
}

rocksdb::IOStatus FaultInjectionFs::SyncFault() const {
  {
    std::unique_lock<std::mutex> lock(hang_mu_);
    if (hang_syncs_) {
      ++hung_syncs_;
      hang_released_.notify_all();
      hang_released_.wait(lock, [this] { return !hang_syncs_; });
      --hung_syncs_;
    }
  }
  if (power_cut_) return rocksdb::IOStatus::IOError("power cut (injected)");
  if (fail_syncs_) return rocksdb::IOStatus::IOError("sync failed (injected)");
  return rocksdb::IOStatus::OK();
}

std::shared_ptr<FaultInjectionFs::FileState> FaultInjectionFs::Track(const std::string& path,
                                                                     uint64_t size_on_disk) {
  auto state = std::make_shared<FileState>();
  state->size = size_on_disk;
  state->synced = size_on_disk;  // what was on disk before is taken as durable
  std::lock_guard<std::mutex> lock(mu_);
  files_[path] = state;
  return state;
}

void FaultInjectionFs::CutPower() { power_cut_ = true; }

void FaultInjectionFs::DropUnsyncedData() {
  std::lock_guard<std::mutex> lock(mu_);
  for (const auto& [path, state] : files_) {
    std::error_code error;
    uint64_t on_disk = std::filesystem::file_size(path, error);
    if (!error && on_disk > state->synced) std::filesystem::resize_file(path, state->synced, error);
  }
  files_.clear();
  power_cut_ = false;
}

uint64_t FaultInjectionFs::FilesCreated() {
  std::lock_guard<std::mutex> lock(mu_);
  return files_created_;
}

bool FaultInjectionFs::AwaitFilesCreatedBeyond(uint64_t count, std::chrono::milliseconds timeout) {
  std::unique_lock<std::mutex> lock(mu_);
  return file_created_.wait_for(lock, timeout, [&] { return files_created_ > count; });
}

uint64_t FaultInjectionFs::AppendedBytes(const std::string& path) {
  std::lock_guard<std::mutex> lock(mu_);
  auto it = files_.find(path);
  return it == files_.end() ? 0 : it->second->size;
}

uint64_t FaultInjectionFs::SyncedBytes(const std::string& path) {
  std::lock_guard<std::mutex> lock(mu_);
  auto it = files_.find(path);
  return it == files_.end() ? 0 : it->second->synced;
}

rocksdb::IOStatus FaultInjectionFs::NewWritableFile(
    const std::string& path, const rocksdb::FileOptions& options,
    std::unique_ptr<rocksdb::FSWritableFile>* result, rocksdb::IODebugContext* dbg) {
  Entered();
  if (rocksdb::IOStatus fault = PowerFault(); !fault.ok()) return fault;
  {
    std::lock_guard<std::mutex> lock(mu_);
    ++files_created_;
  }
  file_created_.notify_all();
  std::unique_ptr<rocksdb::FSWritableFile> file;
  rocksdb::IOStatus s = target()->NewWritableFile(path, options, &file, dbg);
  if (!s.ok()) return s;
  *result = std::make_unique<TrackedFile>(std::move(file), this, Track(path, 0));
  return s;
}

rocksdb::IOStatus FaultInjectionFs::ReopenWritableFile(
    const std::string& path, const rocksdb::FileOptions& options,
    std::unique_ptr<rocksdb::FSWritableFile>* result, rocksdb::IODebugContext* dbg) {
  Entered();
  if (rocksdb::IOStatus fault = PowerFault(); !fault.ok()) return fault;
  std::error_code error;
  uint64_t existing = std::filesystem::file_size(path, error);
  std::unique_ptr<rocksdb::FSWritableFile> file;
  rocksdb::IOStatus s = target()->ReopenWritableFile(path, options, &file, dbg);
  if (!s.ok()) return s;
  *result = std::make_unique<TrackedFile>(std::move(file), this, Track(path, error ? 0 : existing));
  return s;
}

rocksdb::IOStatus FaultInjectionFs::ReuseWritableFile(
    const std::string& path, const std::string& old_path, const rocksdb::FileOptions& options,
    std::unique_ptr<rocksdb::FSWritableFile>* result, rocksdb::IODebugContext* dbg) {
  Entered();
  if (rocksdb::IOStatus fault = PowerFault(); !fault.ok()) return fault;
  std::unique_ptr<rocksdb::FSWritableFile> file;
  rocksdb::IOStatus s = target()->ReuseWritableFile(path, old_path, options, &file, dbg);
  if (!s.ok()) return s;
  {
    std::lock_guard<std::mutex> lock(mu_);
    files_.erase(old_path);
  }
  *result = std::make_unique<TrackedFile>(std::move(file), this, Track(path, 0));
  return s;
}

rocksdb::IOStatus FaultInjectionFs::NewRandomAccessFile(
    const std::string& path, const rocksdb::FileOptions& options,
    std::unique_ptr<rocksdb::FSRandomAccessFile>* result, rocksdb::IODebugContext* dbg) {
  Entered();
  std::unique_ptr<rocksdb::FSRandomAccessFile> file;
  rocksdb::IOStatus s = target()->NewRandomAccessFile(path, options, &file, dbg);
  if (s.ok()) *result = std::make_unique<FailingReadsFile>(std::move(file), this);
  return s;
}

rocksdb::IOStatus FaultInjectionFs::NewRandomRWFile(
    const std::string& path, const rocksdb::FileOptions& options,
    std::unique_ptr<rocksdb::FSRandomRWFile>* result, rocksdb::IODebugContext* dbg) {
  Entered();
  // Not tracked: the store never writes files in place. Refused once the power is cut.
  if (rocksdb::IOStatus fault = PowerFault(); !fault.ok()) return fault;
  return target()->NewRandomRWFile(path, options, result, dbg);
}

rocksdb::IOStatus FaultInjectionFs::RenameFile(const std::string& from, const std::string& to,
                                               const rocksdb::IOOptions& options,
                                               rocksdb::IODebugContext* dbg) {
  Entered();
  if (rocksdb::IOStatus fault = PowerFault(); !fault.ok()) return fault;
  rocksdb::IOStatus s = target()->RenameFile(from, to, options, dbg);
  if (s.ok()) {
    std::lock_guard<std::mutex> lock(mu_);
    auto it = files_.find(from);
    if (it != files_.end()) {
      files_[to] = it->second;
      files_.erase(it);
    } else {
      files_.erase(to);  // replaced by a file written before tracking: durable
    }
  }
  return s;
}

rocksdb::IOStatus FaultInjectionFs::LinkFile(const std::string& from, const std::string& to,
                                             const rocksdb::IOOptions& options,
                                             rocksdb::IODebugContext* dbg) {
  Entered();
  if (rocksdb::IOStatus fault = PowerFault(); !fault.ok()) return fault;
  return target()->LinkFile(from, to, options, dbg);
}

rocksdb::IOStatus FaultInjectionFs::DeleteFile(const std::string& path,
                                               const rocksdb::IOOptions& options,
                                               rocksdb::IODebugContext* dbg) {
  Entered();
  if (rocksdb::IOStatus fault = PowerFault(); !fault.ok()) return fault;
  rocksdb::IOStatus s = target()->DeleteFile(path, options, dbg);
  if (s.ok()) {
    std::lock_guard<std::mutex> lock(mu_);
    files_.erase(path);
  }
  return s;
}

rocksdb::IOStatus FaultInjectionFs::Truncate(const std::string& path, size_t size,
                                             const rocksdb::IOOptions& options,
                                             rocksdb::IODebugContext* dbg) {
  Entered();
  if (rocksdb::IOStatus fault = PowerFault(); !fault.ok()) return fault;
  rocksdb::IOStatus s = target()->Truncate(path, size, options, dbg);
  if (s.ok()) {
    std::lock_guard<std::mutex> lock(mu_);
    auto it = files_.find(path);
    if (it != files_.end()) {
      it->second->size = size;
      it->second->synced = std::min<uint64_t>(it->second->synced, size);
    }
  }
  return s;
}

rocksdb::IOStatus FaultInjectionFs::GetFreeSpace(const std::string& path,
                                                 const rocksdb::IOOptions& options,
                                                 uint64_t* free_bytes,
                                                 rocksdb::IODebugContext* dbg) {
  Entered();
  if (disk_full_) {
    *free_bytes = 0;
    return rocksdb::IOStatus::OK();
  }
  return target()->GetFreeSpace(path, options, free_bytes, dbg);
}

}  // namespace cir::testing
