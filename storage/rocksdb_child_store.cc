#include "storage/rocksdb_child_store.h"

#include <pthread.h>

#include <algorithm>
#include <condition_variable>
#include <cstdarg>
#include <deque>
#include <filesystem>
#include <map>
#include <mutex>
#include <shared_mutex>  // std::shared_lock
#include <string>
#include <thread>
#include <utility>
#include <vector>

#include "absl/base/thread_annotations.h"
#include "absl/strings/str_cat.h"
#include "errors/refusal.h"
#include "google/protobuf/io/coded_stream.h"
#include "google/protobuf/io/zero_copy_stream_impl_lite.h"
#include "rocksdb/cache.h"
#include "rocksdb/db.h"
#include "rocksdb/env.h"
#include "rocksdb/env_encryption.h"
#include "rocksdb/file_system.h"
#include "rocksdb/listener.h"
#include "rocksdb/utilities/write_batch_with_index.h"
#include "storage/aes_ctr_encryption.h"
#include "storage/area_sequencer.h"
#include "storage/audit_appender.h"
#include "storage/audit_log_store.h"
#include "storage/backup_engine_support.h"
#include "storage/group_batch.h"
#include "storage/key_codec.h"
#include "storage/rocksdb_status.h"
#include "storage/serial_executor.h"
#include "storage/store_database.h"
#include "storage/store_keys.h"
#include "storage/writer_preferring_lock.h"

namespace cir::storage {
namespace {

using errors::Refusal;

rocksdb::Slice ToSlice(absl::string_view s) { return rocksdb::Slice(s.data(), s.size()); }

absl::StatusOr<std::optional<StoredChild>> ParseChild(const rocksdb::Status& status,
                                                      const rocksdb::PinnableSlice& value) {
  if (status.IsNotFound()) return std::nullopt;
  if (!status.ok()) return FromRocks(status, "reading a child");
  StoredChild child;
  if (!child.ParseFromArray(value.data(), static_cast<int>(value.size()))) {
    return Refusal(absl::StatusCode::kDataLoss, v1::STORED_DATA_UNREADABLE,
                   "a stored child record does not parse");
  }
  return child;
}

absl::StatusOr<std::optional<IndexEntry>> ParseEntry(const rocksdb::Status& status,
                                                     const rocksdb::PinnableSlice& value) {
  if (status.IsNotFound()) return std::nullopt;
  if (!status.ok()) return FromRocks(status, "reading the identifier index");
  std::optional<IndexEntry> entry = DecodeIndexEntry(absl::string_view(value.data(), value.size()));
  if (!entry.has_value()) {
    return Refusal(absl::StatusCode::kDataLoss, v1::STORED_DATA_UNREADABLE,
                   "a stored index entry is malformed");
  }
  return entry;
}

// The refusal a read gets in the moment between closing the database and opening it again.
absl::Status Reopening() {
  return Refusal(absl::StatusCode::kUnavailable, v1::STORE_REOPENING,
                 "the store is reopening its database to recover from a failed write; retry "
                 "shortly");
}

// The WriteTxn handed to one unit of work: reads through the group's batch, writes into it.
class GroupTxn final : public WriteTxn {
 public:
  GroupTxn(const StoreDatabase& database, GroupBatch* group_batch, uint64_t* next_sequence,
           AreaSequencer* areas, absl::Time commit_time)
      : database_(database),
        group_batch_(group_batch),
        batch_(&group_batch->batch()),
        next_sequence_(next_sequence),
        areas_(areas),
        commit_time_(commit_time) {}

  absl::StatusOr<std::optional<StoredChild>> GetChild(absl::string_view child_id) override {
    rocksdb::PinnableSlice value;
    rocksdb::Status s = batch_->GetFromBatchAndDB(database_.db(), rocksdb::ReadOptions(),
                                                  database_.family(ColumnFamily::kChildren),
                                                  ToSlice(child_id), &value);
    return ParseChild(s, value);
  }

  absl::StatusOr<std::optional<IndexEntry>> Lookup(IndexKind kind,
                                                   absl::string_view value_text) override {
    rocksdb::PinnableSlice value;
    rocksdb::Status s = batch_->GetFromBatchAndDB(database_.db(), rocksdb::ReadOptions(),
                                                  database_.family(ColumnFamily::kIdentifiers),
                                                  EncodeIndexKey(kind, value_text), &value);
    return ParseEntry(s, value);
  }

  absl::Status PutChild(const StoredChild& child) override {
    return FromRocks(batch_->Put(database_.family(ColumnFamily::kChildren), child.child_id(),
                                 child.SerializeAsString()),
                     "staging a child");
  }

  absl::Status PutIndex(IndexKind kind, absl::string_view value, const IndexEntry& entry) override {
    return FromRocks(batch_->Put(database_.family(ColumnFamily::kIdentifiers),
                                 EncodeIndexKey(kind, value), EncodeIndexEntry(entry)),
                     "staging an index entry");
  }

  absl::Status DeleteIndex(IndexKind kind, absl::string_view value) override {
    return FromRocks(
        batch_->Delete(database_.family(ColumnFamily::kIdentifiers), EncodeIndexKey(kind, value)),
        "staging the removal of an index entry");
  }

  absl::Status AppendEvent(StoredEvent event, std::vector<StoredFeedEvent> feed) override {
    const uint64_t sequence = (*next_sequence_)++;
    const int64_t at = absl::ToUnixMicros(commit_time_);
    event.set_sequence(sequence);
    event.set_at_unix_micros(at);
    event.clear_area_sequences();
    rocksdb::Status s;
    uint32_t place = 0;
    for (StoredFeedEvent& entry : feed) {
      entry.set_place_in_change(place++);
      if (entry.local_authority().size() != kLocalAuthorityBytes) {
        return Refusal(absl::StatusCode::kInternal, v1::INTERNAL_ERROR,
                       "a feed event names no local authority");
      }
      entry.set_area_sequence(areas_->Next(entry.local_authority()));
      entry.set_event_sequence(sequence);
      entry.set_recorded_at_unix_micros(at);
      StoredAreaSequence* listed = event.add_area_sequences();
      listed->set_local_authority(entry.local_authority());
      listed->set_area_sequence(entry.area_sequence());
      s = batch_->Put(database_.family(ColumnFamily::kAreaFeed),
                      EncodeAreaEventKey(entry.local_authority(), entry.area_sequence()),
                      entry.SerializeAsString());
      if (!s.ok()) return FromRocks(s, "staging a feed event");
    }
    s = batch_->Put(database_.family(ColumnFamily::kEvents), EncodeEventKey(sequence),
                    event.SerializeAsString());
    return FromRocks(s, "staging an event");
  }

  absl::StatusOr<std::optional<StoredRequest>> GetRequest(absl::string_view request_id) override {
    rocksdb::PinnableSlice value;
    rocksdb::Status s = batch_->GetFromBatchAndDB(database_.db(), rocksdb::ReadOptions(),
                                                  database_.family(ColumnFamily::kRequests),
                                                  ToSlice(request_id), &value);
    if (s.IsNotFound()) return std::nullopt;
    if (!s.ok()) return FromRocks(s, "reading a request id");
    StoredRequest request;
    if (!request.ParseFromArray(value.data(), static_cast<int>(value.size()))) {
      return Refusal(absl::StatusCode::kDataLoss, v1::STORED_DATA_UNREADABLE,
                     "a stored request record does not parse");
    }
    return request;
  }

  absl::Status PutRequest(absl::string_view request_id, const StoredRequest& request) override {
    return FromRocks(batch_->Put(database_.family(ColumnFamily::kRequests), ToSlice(request_id),
                                 request.SerializeAsString()),
                     "staging a request id");
  }

  absl::Status PutAuditCheckpoint(const v1::AuditCheckpoint& checkpoint) override {
    return FromRocks(
        batch_->Put(database_.family(ColumnFamily::kAuditCheckpoints),
                    EncodeFixed64BigEndian(checkpoint.tree_size()), checkpoint.SerializeAsString()),
        "staging an audit checkpoint");
  }

  absl::Status RunPart(absl::FunctionRef<absl::Status()> part) override {
    const GroupBatch::PartStart batch_start = group_batch_->BeginPart();
    const size_t areas_start = areas_->BeginPart();
    const uint64_t sequence_before = *next_sequence_;
    absl::Status outcome = part();
    if (outcome.ok()) {
      group_batch_->KeepPart();
      return outcome;
    }
    *next_sequence_ = sequence_before;
    areas_->DiscardPart(areas_start);
    if (absl::Status discarded = group_batch_->DiscardPart(batch_start); !discarded.ok()) {
      // The batch holds the refused part's writes (and its save point): only discarding the
      // whole group undoes them, which RunGroup does on seeing this.
      part_undo_failure_ = Refusal(
          absl::StatusCode::kInternal, v1::INTERNAL_ERROR,
          absl::StrCat("a refused part's writes could not be undone (", discarded.message(), ")"));
      return part_undo_failure_;
    }
    return outcome;
  }

  // OK, or why a part's writes could not be discarded during the unit that just ran (then the
  // group must be discarded whatever the unit returned); cleared for the next unit.
  absl::Status TakePartUndoFailure() { return std::exchange(part_undo_failure_, absl::OkStatus()); }

  absl::Time CommitTime() const override { return commit_time_; }

 private:
  const StoreDatabase& database_;
  GroupBatch* group_batch_;
  rocksdb::WriteBatchWithIndex* batch_;
  absl::Status part_undo_failure_;
  uint64_t* next_sequence_;
  AreaSequencer* areas_;
  const absl::Time commit_time_;
};

// The audit log's size (its last leaf's index + 1), and the appender restored to it from the
// stored subtrees of its right edge: at open and after recovering from a failed write.
absl::Status RestoreAuditLog(const StoreDatabase& database, AuditAppender& appender) {
  std::unique_ptr<rocksdb::Iterator> it(
      database.db()->NewIterator(rocksdb::ReadOptions(), database.family(ColumnFamily::kAuditLog)));
  it->SeekToLast();
  if (absl::Status s = FromRocks(it->status(), "reading the audit log's end"); !s.ok()) return s;
  uint64_t size = 0;
  if (it->Valid()) {
    std::optional<uint64_t> last =
        DecodeEventKey(absl::string_view(it->key().data(), it->key().size()));
    if (!last.has_value()) {
      return Refusal(absl::StatusCode::kDataLoss, v1::STORED_DATA_UNREADABLE,
                     "an audit log key does not parse");
    }
    size = *last + 1;
  }
  return appender.Restore(size, [&database](const AuditNode& node) -> absl::StatusOr<audit::Hash> {
    std::string value;
    rocksdb::Status s =
        database.db()->Get(rocksdb::ReadOptions(), database.family(ColumnFamily::kAuditTree),
                           EncodeAuditNodeKey(node.level, node.index), &value);
    if (!s.ok() || value.size() != audit::Hash().size()) {
      return Refusal(absl::StatusCode::kDataLoss, v1::STORED_DATA_UNREADABLE,
                     "the audit log's tree is missing a subtree of its right edge");
    }
    audit::Hash hash;
    std::copy(value.begin(), value.end(), hash.begin());
    return hash;
  });
}

// The key just past every key of `local_authority`'s feed.
std::string AreaFeedEnd(absl::string_view local_authority) {
  std::string end(local_authority);
  end.push_back('\xff');
  return end;
}

// The head of every local authority's feed, read at open and after recovering from a failed
// write: the last key of each area (retention never deletes an area's newest event).
absl::StatusOr<std::map<std::string, uint64_t, std::less<>>> ReadAreaHeads(
    const StoreDatabase& database) {
  std::map<std::string, uint64_t, std::less<>> heads;
  std::unique_ptr<rocksdb::Iterator> it(
      database.db()->NewIterator(rocksdb::ReadOptions(), database.family(ColumnFamily::kAreaFeed)));
  for (it->SeekToFirst(); it->Valid();) {
    const std::string area(it->key().data(), std::min(it->key().size(), kLocalAuthorityBytes));
    const std::string end = AreaFeedEnd(area);
    it->SeekForPrev(end);
    std::optional<AreaEventKey> last =
        it->Valid() ? DecodeAreaEventKey(absl::string_view(it->key().data(), it->key().size()))
                    : std::nullopt;
    if (!last.has_value() || last->local_authority != area) {
      return Refusal(absl::StatusCode::kDataLoss, v1::STORED_DATA_UNREADABLE,
                     "a feed key is malformed");
    }
    heads[area] = last->sequence;
    it->Seek(end);
  }
  if (absl::Status s = FromRocks(it->status(), "reading the feeds' heads"); !s.ok()) return s;
  return heads;
}

absl::StatusOr<StoredFeedEvent> ParseFeedEvent(const rocksdb::Slice& value) {
  StoredFeedEvent event;
  if (!event.ParseFromArray(value.data(), static_cast<int>(value.size()))) {
    return Refusal(absl::StatusCode::kDataLoss, v1::STORED_DATA_UNREADABLE,
                   "a stored feed event does not parse");
  }
  return event;
}

// The first and last sequence of an area's feed, through an iterator bounded (below and above)
// to that area.
struct AreaBounds {
  uint64_t first = 0;
  uint64_t last = 0;
};
absl::StatusOr<std::optional<AreaBounds>> ReadAreaBounds(rocksdb::Iterator& it,
                                                         absl::string_view local_authority) {
  it.SeekToLast();
  if (!it.Valid()) {
    if (absl::Status s = FromRocks(it.status(), "reading a feed"); !s.ok()) return s;
    return std::nullopt;
  }
  std::optional<AreaEventKey> last =
      DecodeAreaEventKey(absl::string_view(it.key().data(), it.key().size()));
  it.Seek(EncodeAreaEventKey(local_authority, 0));
  std::optional<AreaEventKey> first =
      it.Valid() ? DecodeAreaEventKey(absl::string_view(it.key().data(), it.key().size()))
                 : std::nullopt;
  if (!last.has_value() || !first.has_value()) {
    return Refusal(absl::StatusCode::kDataLoss, v1::STORED_DATA_UNREADABLE,
                   "a feed key is malformed");
  }
  return AreaBounds{first->sequence, last->sequence};
}

// The last event of the log, read at open and after recovering from a failed write (when the
// failed group's batch may or may not have reached the log).
struct LastEvent {
  uint64_t sequence = 0;  // 0: the log is empty
  absl::Time at = absl::InfinitePast();
};

absl::StatusOr<LastEvent> ReadLastEvent(const StoreDatabase& database) {
  std::unique_ptr<rocksdb::Iterator> it(
      database.db()->NewIterator(rocksdb::ReadOptions(), database.family(ColumnFamily::kEvents)));
  it->SeekToLast();
  if (!it->Valid()) {
    if (absl::Status s = FromRocks(it->status(), "reading the event log"); !s.ok()) return s;
    return LastEvent{};
  }
  std::optional<uint64_t> sequence =
      DecodeEventKey(absl::string_view(it->key().data(), it->key().size()));
  StoredEvent event;
  if (!sequence.has_value() ||
      !event.ParseFromArray(it->value().data(), static_cast<int>(it->value().size()))) {
    return Refusal(absl::StatusCode::kDataLoss, v1::STORED_DATA_UNREADABLE,
                   "the event log's last entry is malformed");
  }
  return LastEvent{*sequence, absl::FromUnixMicros(event.at_unix_micros())};
}

// Writes, syncs and removes a small file in the data folder: whether the disk takes synced
// writes again, asked before closing a database that RocksDB will not resume (so that reads go
// on from it while the fault lasts).
bool DiskTakesSyncedWrites(rocksdb::Env* env, const std::string& folder) {
  const std::shared_ptr<rocksdb::FileSystem>& fs = env->GetFileSystem();
  const std::string probe = folder + "/CIR-WRITE-PROBE";
  rocksdb::IOOptions io;
  std::unique_ptr<rocksdb::FSWritableFile> file;
  rocksdb::IOStatus s = fs->NewWritableFile(probe, rocksdb::FileOptions(), &file, nullptr);
  if (s.ok()) s = file->Append(rocksdb::Slice(std::string(4096, 'p')), io, nullptr);
  if (s.ok()) s = file->Sync(io, nullptr);
  if (file != nullptr) {
    rocksdb::IOStatus closed = file->Close(io, nullptr);
    if (s.ok()) s = closed;
  }
  fs->DeleteFile(probe, io, nullptr).PermitUncheckedError();
  return s.ok();
}

// RocksDB's info log, withheld: its lines can quote keys and values (NHS numbers, UPNs, child
// identifiers, names), and its LOG file would be written in the clear, by the base file system,
// beside the encrypted files. Every line is dropped unformatted; what the store must know of
// RocksDB's troubles reaches it as statuses and through its event listener.
class WithheldInfoLog final : public rocksdb::Logger {
 public:
  WithheldInfoLog() : rocksdb::Logger(rocksdb::InfoLogLevel::HEADER_LEVEL) {}
  // RocksDB sets the level its options name; kept at the top, so that RocksDB formats nothing.
  void SetInfoLogLevel(rocksdb::InfoLogLevel) override {}
  void Logv(const char*, va_list) override {}
  void Logv(rocksdb::InfoLogLevel, const char*, va_list) override {}
  void LogHeader(const char*, va_list) override {}

 protected:
  rocksdb::Status CloseImpl() override { return rocksdb::Status::OK(); }
};

// The Env a database is opened with: `base` in everything but its info log (WithheldInfoLog).
class StoreEnv final : public rocksdb::EnvWrapper {
 public:
  explicit StoreEnv(rocksdb::Env* base) : rocksdb::EnvWrapper(base) {}
  explicit StoreEnv(std::unique_ptr<rocksdb::Env> base) : rocksdb::EnvWrapper(std::move(base)) {}
  static const char* kClassName() { return "CirStoreEnv"; }
  const char* Name() const override { return kClassName(); }
  rocksdb::Status NewLogger(const std::string& /*fname*/,
                            std::shared_ptr<rocksdb::Logger>* result) override {
    *result = std::make_shared<WithheldInfoLog>();
    return rocksdb::Status::OK();
  }
};

// options.file_system (or the machine's own) encrypted under the data key of the store at
// options.path, unwrapped with the master key in options.encryption's file (and made, with the
// store, when create_if_missing creates one).
absl::StatusOr<std::shared_ptr<rocksdb::FileSystem>> EncryptedFileSystem(
    const RocksDbStoreOptions& options) {
  absl::StatusOr<StoreKey> master_key = ReadMasterKeyFile(options.encryption->master_key_file);
  if (!master_key.ok()) return master_key.status();
  absl::StatusOr<StoreKey> data_key =
      OpenDataKey(options.path, *master_key, options.create_if_missing);
  if (!data_key.ok()) return data_key.status();
  absl::StatusOr<std::shared_ptr<AesCtrEncryptionProvider>> provider =
      AesCtrEncryptionProvider::Create(data_key->bytes());
  if (!provider.ok()) return provider.status();
  return rocksdb::NewEncryptedFS(
      options.file_system != nullptr ? options.file_system : rocksdb::FileSystem::Default(),
      *provider);
}

class RocksDbStore final : public ChildStore, public AuditLogStore, public StoreBackups {
 public:
  RocksDbStore(const RocksDbStoreOptions& options, RocksDbStoreTestHooks hooks)
      : options_(options), hooks_(std::move(hooks)) {
    rocksdb::LRUCacheOptions cache_options;
    cache_options.capacity =
        options_.memory_bound_bytes > 0 ? options_.memory_bound_bytes : options_.block_cache_bytes;
    // Index and filter partitions, when they are cached (under a memory bound), are evicted only
    // once data blocks have made way for them in up to half the cache.
    if (options_.memory_bound_bytes > 0) cache_options.high_pri_pool_ratio = 0.5;
    shared_.block_cache = rocksdb::NewLRUCache(cache_options);
    shared_.listener = std::make_shared<RecoveryListener>(this);
    if (!options_.reply_runner) replies_ = std::make_unique<SerialExecutor>("cir-replies");
  }

  // Opens the database and starts the writer.
  absl::Status Start() {
    if (absl::Status env = MakeEnv(); !env.ok()) return env;
    absl::StatusOr<std::unique_ptr<StoreDatabase>> database =
        StoreDatabase::Open(options_, shared_);
    if (!database.ok()) return database.status();
    absl::StatusOr<LastEvent> last = ReadLastEvent(**database);
    if (!last.ok()) return last.status();
    next_sequence_ = last->sequence + 1;
    last_commit_time_ = last->at;
    absl::StatusOr<std::map<std::string, uint64_t, std::less<>>> heads = ReadAreaHeads(**database);
    if (!heads.ok()) return heads.status();
    areas_.Reset(*std::move(heads));
    if (absl::Status audit = RestoreAuditLog(**database, audit_); !audit.ok()) return audit;
    {
      std::unique_lock<WriterPreferringLock> lock(db_mu_);
      database_ = *std::move(database);
    }
    writer_ = std::thread([this] { WriterLoop(); });
    return absl::OkStatus();
  }

  // The Env the database lives in (shared_.env): options_.file_system or the machine's own,
  // encrypted if options_.encryption says so, with RocksDB's info log withheld. A store created
  // encrypted is refused without its master key.
  absl::Status MakeEnv() {
    if (options_.encryption.has_value()) {
      absl::StatusOr<std::shared_ptr<rocksdb::FileSystem>> encrypted =
          EncryptedFileSystem(options_);
      if (!encrypted.ok()) return encrypted.status();
      own_env_ = std::make_unique<StoreEnv>(rocksdb::NewCompositeEnv(*encrypted));
    } else if (HoldsDataKey(options_.path)) {
      return absl::FailedPreconditionError(absl::StrCat(
          "the store at ", options_.path, " is encrypted: open it with its master key"));
    } else if (options_.file_system != nullptr) {
      own_env_ = std::make_unique<StoreEnv>(rocksdb::NewCompositeEnv(options_.file_system));
    } else {
      own_env_ = std::make_unique<StoreEnv>(rocksdb::Env::Default());
    }
    shared_.env = own_env_.get();
    return absl::OkStatus();
  }

  ~RocksDbStore() override {
    {
      std::lock_guard<std::mutex> lock(mu_);
      stopping_ = true;
    }
    cv_.notify_all();
    if (writer_.joinable()) writer_.join();  // the writer commits every queued unit first
    replies_.reset();  // and every reply it posted is delivered before the store closes
    HoldBackups();
    std::unique_ptr<StoreDatabase> closing;
    {
      std::unique_lock<WriterPreferringLock> lock(db_mu_);
      closing = std::move(database_);
    }
  }

  absl::StatusOr<std::optional<StoredChild>> GetChild(absl::string_view child_id) override {
    std::shared_lock<WriterPreferringLock> lock(db_mu_);
    if (database_ == nullptr) return Reopening();
    rocksdb::PinnableSlice value;
    rocksdb::Status s =
        database_->db()->Get(rocksdb::ReadOptions(), database_->family(ColumnFamily::kChildren),
                             ToSlice(child_id), &value);
    return ParseChild(s, value);
  }

  absl::StatusOr<std::optional<IndexEntry>> Lookup(IndexKind kind,
                                                   absl::string_view value_text) override {
    std::shared_lock<WriterPreferringLock> lock(db_mu_);
    if (database_ == nullptr) return Reopening();
    rocksdb::PinnableSlice value;
    rocksdb::Status s =
        database_->db()->Get(rocksdb::ReadOptions(), database_->family(ColumnFamily::kIdentifiers),
                             EncodeIndexKey(kind, value_text), &value);
    return ParseEntry(s, value);
  }

  std::vector<absl::StatusOr<std::optional<StoredChild>>> GetChildren(
      absl::Span<const std::string> child_ids) override {
    std::shared_lock<WriterPreferringLock> lock(db_mu_);
    if (database_ == nullptr) return {child_ids.size(), Reopening()};
    std::vector<rocksdb::PinnableSlice> values(child_ids.size());
    std::vector<rocksdb::Status> statuses(child_ids.size());
    ReadChildren(child_ids, values, statuses);
    std::vector<absl::StatusOr<std::optional<StoredChild>>> out;
    out.reserve(child_ids.size());
    for (size_t i = 0; i < child_ids.size(); ++i) {
      out.push_back(ParseChild(statuses[i], values[i]));
    }
    return out;
  }

  // Reads the records of `child_ids` in one MultiGet, pinned (found, not copied), into `values`
  // and `statuses` (each as long as `child_ids`). Called with db_mu_ held and the database open.
  void ReadChildren(absl::Span<const std::string> child_ids,
                    std::vector<rocksdb::PinnableSlice>& values,
                    std::vector<rocksdb::Status>& statuses) {
    std::vector<rocksdb::Slice> keys;
    keys.reserve(child_ids.size());
    for (const std::string& id : child_ids) keys.emplace_back(id);
    database_->db()->MultiGet(rocksdb::ReadOptions(), database_->family(ColumnFamily::kChildren),
                              keys.size(), keys.data(), values.data(), statuses.data());
  }

  std::vector<absl::StatusOr<bool>> ChildrenExist(
      absl::Span<const std::string> child_ids) override {
    std::shared_lock<WriterPreferringLock> lock(db_mu_);
    if (database_ == nullptr) return {child_ids.size(), Reopening()};
    // The records are found (in the memtable or a cached block), neither copied nor parsed.
    std::vector<rocksdb::PinnableSlice> values(child_ids.size());
    std::vector<rocksdb::Status> statuses(child_ids.size());
    ReadChildren(child_ids, values, statuses);
    std::vector<absl::StatusOr<bool>> out;
    out.reserve(child_ids.size());
    for (const rocksdb::Status& status : statuses) {
      if (status.ok() || status.IsNotFound()) {
        out.push_back(status.ok());
      } else {
        out.push_back(FromRocks(status, "reading a child"));
      }
    }
    return out;
  }

  std::vector<absl::StatusOr<std::optional<IndexEntry>>> LookupMany(
      absl::Span<const IndexKey> index_keys) override {
    std::shared_lock<WriterPreferringLock> lock(db_mu_);
    if (database_ == nullptr) return {index_keys.size(), Reopening()};
    std::vector<std::string> encoded;
    encoded.reserve(index_keys.size());
    for (const IndexKey& key : index_keys) encoded.push_back(EncodeIndexKey(key.kind, key.value));
    std::vector<rocksdb::Slice> keys(encoded.begin(), encoded.end());
    std::vector<rocksdb::PinnableSlice> values(keys.size());
    std::vector<rocksdb::Status> statuses(keys.size());
    database_->db()->MultiGet(rocksdb::ReadOptions(), database_->family(ColumnFamily::kIdentifiers),
                              keys.size(), keys.data(), values.data(), statuses.data());
    std::vector<absl::StatusOr<std::optional<IndexEntry>>> out;
    out.reserve(keys.size());
    for (size_t i = 0; i < keys.size(); ++i) out.push_back(ParseEntry(statuses[i], values[i]));
    return out;
  }

  absl::StatusOr<std::vector<StoredEvent>> ReadEvents(uint64_t after_sequence,
                                                      size_t limit) override {
    std::shared_lock<WriterPreferringLock> lock(db_mu_);
    if (database_ == nullptr) return Reopening();
    std::vector<StoredEvent> events;
    std::unique_ptr<rocksdb::Iterator> it(database_->db()->NewIterator(
        rocksdb::ReadOptions(), database_->family(ColumnFamily::kEvents)));
    for (it->Seek(EncodeEventKey(after_sequence + 1)); it->Valid() && events.size() < limit;
         it->Next()) {
      StoredEvent event;
      if (!event.ParseFromArray(it->value().data(), static_cast<int>(it->value().size()))) {
        return Refusal(absl::StatusCode::kDataLoss, v1::STORED_DATA_UNREADABLE,
                       "a stored event does not parse");
      }
      events.push_back(std::move(event));
    }
    if (absl::Status s = FromRocks(it->status(), "reading events"); !s.ok()) return s;
    return events;
  }

  absl::StatusOr<std::vector<AreaFeedPage>> ReadAreaFeeds(absl::Span<const AreaPosition> positions,
                                                          size_t limit) override {
    std::shared_lock<WriterPreferringLock> lock(db_mu_);
    if (database_ == nullptr) return Reopening();
    rocksdb::DB* db = database_->db();
    const rocksdb::Snapshot* snapshot = db->GetSnapshot();
    std::vector<AreaFeedPage> pages;
    absl::Status failure;
    for (const AreaPosition& position : positions) {
      AreaFeedPage page;
      page.local_authority = position.local_authority;
      const std::string begin = EncodeAreaEventKey(position.local_authority, 0);
      const std::string end = AreaFeedEnd(position.local_authority);
      rocksdb::Slice lower(begin);
      rocksdb::Slice upper(end);
      rocksdb::ReadOptions read_options;
      read_options.snapshot = snapshot;
      read_options.iterate_lower_bound = &lower;
      read_options.iterate_upper_bound = &upper;
      std::unique_ptr<rocksdb::Iterator> it(
          db->NewIterator(read_options, database_->family(ColumnFamily::kAreaFeed)));
      absl::StatusOr<std::optional<AreaBounds>> bounds =
          ReadAreaBounds(*it, position.local_authority);
      if (!bounds.ok()) {
        failure = bounds.status();
        break;
      }
      if (bounds->has_value()) {
        page.head = (*bounds)->last;
        page.earliest = (*bounds)->first;
        for (it->Seek(EncodeAreaEventKey(position.local_authority, position.after_sequence + 1));
             it->Valid() && page.events.size() < limit; it->Next()) {
          absl::StatusOr<StoredFeedEvent> event = ParseFeedEvent(it->value());
          if (!event.ok()) {
            failure = event.status();
            break;
          }
          page.events.push_back(*std::move(event));
        }
        if (failure.ok()) failure = FromRocks(it->status(), "reading a feed");
        if (!failure.ok()) break;
      }
      pages.push_back(std::move(page));
    }
    db->ReleaseSnapshot(snapshot);
    if (!failure.ok()) return failure;
    return pages;
  }

  absl::StatusOr<uint64_t> AreaSequenceBefore(absl::string_view local_authority,
                                              absl::Time since) override {
    std::shared_lock<WriterPreferringLock> lock(db_mu_);
    if (database_ == nullptr) return Reopening();
    const int64_t since_micros = absl::ToUnixMicros(since);
    const std::string begin = EncodeAreaEventKey(local_authority, 0);
    const std::string end = AreaFeedEnd(local_authority);
    rocksdb::Slice lower(begin);
    rocksdb::Slice upper(end);
    rocksdb::ReadOptions read_options;
    read_options.iterate_lower_bound = &lower;
    read_options.iterate_upper_bound = &upper;
    std::unique_ptr<rocksdb::Iterator> it(
        database_->db()->NewIterator(read_options, database_->family(ColumnFamily::kAreaFeed)));
    absl::StatusOr<std::optional<AreaBounds>> bounds = ReadAreaBounds(*it, local_authority);
    if (!bounds.ok()) return bounds.status();
    if (!bounds->has_value()) return 0;
    // Event times follow sequence order (commit times never go back), so the answer is found by
    // halving, reading one event a step. Invariant: the events up to `low` were recorded before
    // `since` (or are no longer kept); those after `high`, at or after it.
    uint64_t low = (*bounds)->first - 1;
    uint64_t high = (*bounds)->last;
    while (low < high) {
      const uint64_t middle = low + (high - low + 1) / 2;
      it->Seek(EncodeAreaEventKey(local_authority, middle));
      if (!it->Valid()) break;
      absl::StatusOr<StoredFeedEvent> event = ParseFeedEvent(it->value());
      if (!event.ok()) return event.status();
      if (event->recorded_at_unix_micros() < since_micros) {
        low = middle;
      } else {
        high = middle - 1;
      }
    }
    if (absl::Status s = FromRocks(it->status(), "reading a feed"); !s.ok()) return s;
    return low;
  }

  std::vector<uint64_t> AreaHeads(absl::Span<const std::string> local_authorities) override {
    return areas_.Heads(local_authorities);
  }

  void WatchAreaFeeds(AreaFeedWatcher watcher) override {
    std::lock_guard<std::mutex> lock(watcher_->mu);
    watcher_->watch = std::move(watcher);
  }

  void Submit(WriteWork work, WriteDone done, SubmitOptions options = {}) override {
    absl::Status refusal;
    {
      std::lock_guard<std::mutex> lock(mu_);
      const size_t bytes = options.approximate_bytes;
      if (stopping_) {
        refusal = closing_;
      } else if (!suspended_.ok()) {
        refusal = errors::Unshared(suspended_);
      } else if (queue_.size() >= options_.max_queued_units ||
                 (!queue_.empty() && bytes > options_.max_queued_bytes - queued_bytes_)) {
        refusal = queue_full_;
      } else {
        // A unit larger than the bound, taken into an empty queue, counts as the whole bound.
        const size_t counted = std::min(bytes, options_.max_queued_bytes);
        queued_bytes_ += counted;
        // The writer waits only on an empty queue: a unit joining others wakes nobody. (Woken
        // under the lock: once it is released, the unit may be committed and answered, and the
        // store closed, before this call returns.)
        if (queue_.empty()) cv_.notify_one();
        queue_.push_back(Unit{std::move(work), std::move(done), std::move(options), counted});
        return;
      }
    }
    done(std::move(refusal));
  }

  AuditLogStore& audit_log() override { return *this; }
  StoreBackups& backups() override { return *this; }

  StoreStatistics Statistics() override {
    StoreStatistics statistics;
    {
      std::lock_guard<std::mutex> lock(mu_);
      statistics.queued_units = queue_.size();
      statistics.queued_bytes = queued_bytes_;
    }
    statistics.accepting_writes = WriteAvailability().ok();
    statistics.audit_entries = AuditHead().size;
    std::error_code error;
    for (const auto& entry : std::filesystem::directory_iterator(options_.path, error)) {
      std::error_code size_error;
      if (entry.is_regular_file(size_error)) statistics.disk_bytes += entry.file_size(size_error);
    }
    std::shared_lock<WriterPreferringLock> lock(db_mu_);
    if (database_ != nullptr) {
      uint64_t owed = 0;
      if (database_->db()->GetAggregatedIntProperty(
              rocksdb::DB::Properties::kEstimatePendingCompactionBytes, &owed)) {
        statistics.pending_compaction_bytes = owed;
      }
      // Under a memory bound the memtables and table readers are charged to the block cache,
      // and counted in its usage instead.
      uint64_t bytes = 0;
      if (options_.memory_bound_bytes == 0 &&
          database_->db()->GetAggregatedIntProperty(rocksdb::DB::Properties::kCurSizeAllMemTables,
                                                    &bytes)) {
        statistics.memtable_bytes = bytes;
      }
      if (options_.memory_bound_bytes == 0 &&
          database_->db()->GetAggregatedIntProperty(
              rocksdb::DB::Properties::kEstimateTableReadersMem, &bytes)) {
        statistics.table_reader_bytes = bytes;
      }
    }
    statistics.block_cache_bytes = shared_.block_cache->GetUsage();
    return statistics;
  }

  // A backup copies from the open database without holding db_mu_ (which would hold up readers
  // behind a reopen for as long as the copy takes): a reopen, or the store closing, first stops
  // the backup under way (BackupEngine::StopBackup) and waits for it, and no backup starts
  // meanwhile. One backup at a time.
  absl::StatusOr<BackupSummary> BackUp(const std::string& backup_folder) override {
    std::lock_guard<std::mutex> one_at_a_time(backup_turn_);
    rocksdb::DB* db = nullptr;
    {
      std::shared_lock<WriterPreferringLock> lock(db_mu_);
      std::lock_guard<std::mutex> backups(backup_mu_);
      if (database_ == nullptr || backups_held_) return Reopening();
      db = database_->db();
      backup_running_ = true;
    }
    absl::StatusOr<BackupSummary> made =
        BackUpDatabase(*db, options_.path, backup_folder, [this](rocksdb::BackupEngine* engine) {
          std::lock_guard<std::mutex> backups(backup_mu_);
          backup_engine_ = engine;
          if (engine != nullptr && backups_held_) engine->StopBackup();
        });
    {
      std::lock_guard<std::mutex> backups(backup_mu_);
      backup_running_ = false;
    }
    backup_done_.notify_all();
    return made;
  }

  // Stops the backup under way, if any, waits for it, and lets none start until ReleaseBackups:
  // before the database is closed.
  void HoldBackups() {
    std::unique_lock<std::mutex> backups(backup_mu_);
    backups_held_ = true;
    if (backup_engine_ != nullptr) backup_engine_->StopBackup();
    backup_done_.wait(backups, [this] { return !backup_running_; });
  }
  void ReleaseBackups() {
    std::lock_guard<std::mutex> backups(backup_mu_);
    backups_held_ = false;
  }

  AuditAppender::Head AuditHead() override {
    std::lock_guard<std::mutex> lock(audit_mu_);
    return audit_.Committed();
  }

  absl::StatusOr<std::vector<v1::AuditRecord>> ReadAuditEntries(uint64_t from_index, size_t limit,
                                                                size_t max_bytes) override {
    // Only what the committed tree holds: a group's entries are in the database a moment before
    // the writer counts them.
    const uint64_t size = AuditHead().size;
    std::shared_lock<WriterPreferringLock> lock(db_mu_);
    if (database_ == nullptr) return Reopening();
    std::vector<v1::AuditRecord> records;
    std::unique_ptr<rocksdb::Iterator> it(database_->db()->NewIterator(
        rocksdb::ReadOptions(), database_->family(ColumnFamily::kAuditLog)));
    size_t bytes = 0;
    for (it->Seek(EncodeEventKey(from_index));
         it->Valid() && records.size() < limit && (records.empty() || bytes < max_bytes);
         it->Next()) {
      bytes += it->value().size();
      std::optional<uint64_t> index =
          DecodeEventKey(absl::string_view(it->key().data(), it->key().size()));
      if (!index.has_value()) {
        return Refusal(absl::StatusCode::kDataLoss, v1::STORED_DATA_UNREADABLE,
                       "an audit log key does not parse");
      }
      if (*index >= size) break;
      v1::AuditRecord& record = records.emplace_back();
      record.set_index(*index);
      record.set_entry(it->value().data(), it->value().size());
    }
    if (absl::Status s = FromRocks(it->status(), "reading the audit log"); !s.ok()) return s;
    return records;
  }

  absl::StatusOr<audit::Hash> AuditSubtree(const AuditNode& node) override {
    const uint64_t size = AuditHead().size;
    if (node.level < 0 || node.level >= 64 || (node.index + 1) > (size >> node.level)) {
      return absl::NotFoundError("the audit log's tree has no such complete subtree yet");
    }
    std::shared_lock<WriterPreferringLock> lock(db_mu_);
    if (database_ == nullptr) return Reopening();
    std::string value;
    rocksdb::Status s =
        database_->db()->Get(rocksdb::ReadOptions(), database_->family(ColumnFamily::kAuditTree),
                             EncodeAuditNodeKey(node.level, node.index), &value);
    if (s.IsNotFound() || (s.ok() && value.size() != audit::Hash().size())) {
      return Refusal(absl::StatusCode::kDataLoss, v1::STORED_DATA_UNREADABLE,
                     "a subtree of the audit log's tree is missing");
    }
    if (!s.ok()) return FromRocks(s, "reading the audit log's tree");
    audit::Hash hash;
    std::copy(value.begin(), value.end(), hash.begin());
    return hash;
  }

  absl::StatusOr<std::vector<uint64_t>> AuditEntriesNaming(absl::string_view child_id) override {
    const uint64_t size = AuditHead().size;
    std::shared_lock<WriterPreferringLock> lock(db_mu_);
    if (database_ == nullptr) return Reopening();
    std::vector<uint64_t> indexes;
    // The family's keys are sought by their prefix, the child's identifier (its fixed-length
    // prefix: store_database.cc): an identifier of another length names no entry.
    if (child_id.size() != kAuditChildIdBytes) return indexes;
    std::unique_ptr<rocksdb::Iterator> it(database_->db()->NewIterator(
        rocksdb::ReadOptions(), database_->family(ColumnFamily::kAuditByChild)));
    const std::string prefix(child_id);
    for (it->Seek(prefix); it->Valid() && it->key().starts_with(prefix); it->Next()) {
      if (it->key().size() != prefix.size() + 8) continue;
      std::optional<uint64_t> index = DecodeEventKey(
          absl::string_view(it->key().data() + prefix.size(), it->key().size() - prefix.size()));
      if (index.has_value() && *index < size) indexes.push_back(*index);
    }
    if (absl::Status s = FromRocks(it->status(), "reading the audit index"); !s.ok()) return s;
    return indexes;
  }

  absl::StatusOr<std::vector<v1::AuditCheckpoint>> ReadAuditCheckpoints(uint64_t from_size,
                                                                        size_t limit) override {
    std::shared_lock<WriterPreferringLock> lock(db_mu_);
    if (database_ == nullptr) return Reopening();
    std::vector<v1::AuditCheckpoint> checkpoints;
    std::unique_ptr<rocksdb::Iterator> it(database_->db()->NewIterator(
        rocksdb::ReadOptions(), database_->family(ColumnFamily::kAuditCheckpoints)));
    for (it->Seek(EncodeFixed64BigEndian(from_size)); it->Valid() && checkpoints.size() < limit;
         it->Next()) {
      v1::AuditCheckpoint& checkpoint = checkpoints.emplace_back();
      if (!checkpoint.ParseFromArray(it->value().data(), static_cast<int>(it->value().size()))) {
        return Refusal(absl::StatusCode::kDataLoss, v1::STORED_DATA_UNREADABLE,
                       "a stored audit checkpoint does not parse");
      }
    }
    if (absl::Status s = FromRocks(it->status(), "reading audit checkpoints"); !s.ok()) return s;
    return checkpoints;
  }

  absl::StatusOr<std::optional<v1::AuditCheckpoint>> LatestAuditCheckpoint() override {
    std::shared_lock<WriterPreferringLock> lock(db_mu_);
    if (database_ == nullptr) return Reopening();
    std::unique_ptr<rocksdb::Iterator> it(database_->db()->NewIterator(
        rocksdb::ReadOptions(), database_->family(ColumnFamily::kAuditCheckpoints)));
    it->SeekToLast();
    if (absl::Status s = FromRocks(it->status(), "reading audit checkpoints"); !s.ok()) return s;
    if (!it->Valid()) return std::nullopt;
    v1::AuditCheckpoint checkpoint;
    if (!checkpoint.ParseFromArray(it->value().data(), static_cast<int>(it->value().size()))) {
      return Refusal(absl::StatusCode::kDataLoss, v1::STORED_DATA_UNREADABLE,
                     "a stored audit checkpoint does not parse");
    }
    return checkpoint;
  }

  absl::Status WriteAvailability() override {
    std::lock_guard<std::mutex> lock(mu_);
    return stopping_ ? closing_ : errors::Unshared(suspended_);
  }

 private:
  struct Unit {
    WriteWork work;
    WriteDone done;
    SubmitOptions options;
    size_t counted_bytes;  // against max_queued_bytes while queued
  };

  // Wakes the writer when RocksDB's own recovery (after a lack of disk space, or a retryable
  // I/O error) has resumed the database.
  class RecoveryListener final : public rocksdb::EventListener {
   public:
    explicit RecoveryListener(RocksDbStore* store) : store_(store) {}
    const char* Name() const override { return "cir.RecoveryListener"; }
    void OnErrorRecoveryEnd(const rocksdb::BackgroundErrorRecoveryInfo& info) override {
      if (info.new_bg_error.ok()) store_->WakeForRecovery();
    }

   private:
    RocksDbStore* const store_;
  };

  void WakeForRecovery() {
    {
      std::lock_guard<std::mutex> lock(mu_);
      recovery_event_ = true;
    }
    cv_.notify_all();
  }

  void WriterLoop() {
    pthread_setname_np(pthread_self(), "cir-writer");
    std::vector<Unit> group;
    std::vector<absl::Status> outcomes;
    for (;;) {
      {
        std::unique_lock<std::mutex> lock(mu_);
        if (options_.feed_retention == absl::InfiniteDuration()) {
          cv_.wait(lock, [this] { return stopping_ || !queue_.empty(); });
        } else {
          cv_.wait_until(lock, absl::ToChronoTime(next_prune_),
                         [this] { return stopping_ || !queue_.empty(); });
          if (absl::Now() >= next_prune_ && !stopping_) {
            lock.unlock();
            PruneAreaFeeds();
            next_prune_ = absl::Now() + options_.feed_prune_interval;
            continue;
          }
        }
        if (queue_.empty()) return;  // stopping, and everything queued has been committed
        while (!queue_.empty() && group.size() < options_.max_group_size) {
          queued_bytes_ -= queue_.front().counted_bytes;
          group.push_back(std::move(queue_.front()));
          queue_.pop_front();
        }
      }
      std::vector<AreaHead> moved_heads;
      absl::Status commit_failure = RunGroup(group, outcomes, moved_heads);
      // Writes are suspended before the group hears its outcome, so that a caller retrying at
      // once is refused rather than queued behind a store that cannot write.
      if (!commit_failure.ok()) Suspend(commit_failure);
      Deliver(group, std::move(outcomes), std::move(moved_heads));
      group.clear();
      outcomes = {};
      if (!commit_failure.ok() && !AwaitRecovery()) return;  // closing while suspended
    }
  }

  // Deletes, in every area, the events recorded before feed_retention ago, except the area's
  // newest. Runs on the writer thread between groups, so no unit stages feed events meanwhile;
  // readers may find the events they were about to read gone, and are refused OUT_OF_RANGE. A
  // failure is left for the next pass: nothing acknowledged depends on it.
  void PruneAreaFeeds() {
    if (database_ == nullptr) return;
    const absl::Time cutoff = absl::Now() - options_.feed_retention;
    std::vector<std::string> areas;
    {
      absl::StatusOr<std::map<std::string, uint64_t, std::less<>>> heads =
          ReadAreaHeads(*database_);
      if (!heads.ok()) return;
      for (const auto& [area, head] : *heads) areas.push_back(area);
    }
    rocksdb::WriteBatch batch;
    for (const std::string& area : areas) {
      absl::StatusOr<uint64_t> before = AreaSequenceBefore(area, cutoff);
      std::vector<uint64_t> head = areas_.Heads({area});
      if (!before.ok() || *before == 0) continue;
      const uint64_t last_deleted = std::min(*before, head[0] - 1);
      if (last_deleted == 0) continue;
      batch
          .DeleteRange(database_->family(ColumnFamily::kAreaFeed), EncodeAreaEventKey(area, 0),
                       EncodeAreaEventKey(area, last_deleted + 1))
          .PermitUncheckedError();
    }
    if (batch.Count() == 0) return;
    rocksdb::WriteOptions write_options;
    write_options.sync = options_.sync_writes;
    database_->db()->Write(write_options, &batch).PermitUncheckedError();
  }

  // When the next group commits: now, but never before the previous group.
  absl::Time NextCommitTime() {
    last_commit_time_ = std::max(absl::Now(), last_commit_time_);
    return last_commit_time_;
  }

  // Runs every unit of `group` against one batch and commits the batch with one write, filling
  // `outcomes` (one per unit). Returns the commit's failure, if the write failed.
  // `moved_heads` gets the feeds whose head the committed group moved.
  absl::Status RunGroup(std::vector<Unit>& group, std::vector<absl::Status>& outcomes,
                        std::vector<AreaHead>& moved_heads) {
    const absl::Time commit_time = NextCommitTime();
    GroupBatch batch(hooks_.fail_rollback);
    uint64_t next_sequence = next_sequence_;
    GroupTxn txn(*database_, &batch, &next_sequence, &areas_, commit_time);
    outcomes.reserve(group.size());
    absl::Status audit_failure;  // an entry that could not be appended (the tree is full)
    for (size_t i = 0; i < group.size(); ++i) {
      Unit& unit = group[i];
      if (absl::Status abandoned = Abandoned(unit.options, commit_time); !abandoned.ok()) {
        outcomes.push_back(std::move(abandoned));
        continue;
      }
      batch.BeginUnit();
      areas_.BeginUnit();
      const uint64_t sequence_before = next_sequence;
      absl::Status outcome = unit.work(txn);
      absl::Status part_undo_failure = txn.TakePartUndoFailure();
      const bool part_left_in_batch = !part_undo_failure.ok();
      if (outcome.ok() && part_undo_failure.ok()) {
        batch.KeepUnit();
      } else {
        if (outcome.ok()) outcome = part_undo_failure;
        next_sequence = sequence_before;
        areas_.DiscardUnit();
        if (absl::Status discarded =
                part_undo_failure.ok() ? batch.DiscardUnit() : std::move(part_undo_failure);
            !discarded.ok()) {
          // The batch still holds this unit's writes: the group is never committed. ABORTED,
          // which a client retries, since nothing was written; units whose caller had gone
          // still hear CALL_ABANDONED.
          absl::Status group_discarded = Refusal(
              absl::StatusCode::kAborted, v1::INTERNAL_ERROR,
              absl::StrCat("a failed write could not be undone (", discarded.message(),
                           "), so its whole write group was discarded; nothing was written, "
                           "and the call may be retried"));
          // The unit itself keeps its own refusal, unless what could not be undone was a part
          // it refused while going on (a bulk call): then it too wrote nothing and may retry.
          outcomes.push_back(part_left_in_batch ? errors::Unshared(group_discarded)
                                                : std::move(outcome));
          for (size_t j = 0; j < group.size(); ++j) {
            if (j == i) continue;
            if (j > i) outcomes.push_back(Abandoned(group[j].options, commit_time));
            if (errors::ReasonOf(outcomes[j]) != v1::CALL_ABANDONED) {
              outcomes[j] = errors::Unshared(group_discarded);  // see Suspend
            }
          }
          areas_.DiscardGroup();
          audit_.DiscardGroup();
          return absl::OkStatus();
        }
      }
      outcomes.push_back(std::move(outcome));
    }
    // Every unit's entry, in the group's order, once every unit has run: after the last save
    // point, so the entry is kept whatever its unit's outcome, and straight into the batch
    // RocksDB writes, unindexed, since no unit reads the audit log through the batch.
    for (size_t i = 0; i < group.size(); ++i) {
      audit_failure.Update(
          StageAuditEntry(group[i], outcomes[i], commit_time, *batch.batch().GetWriteBatch()));
    }
    if (!audit_failure.ok()) {
      // No write goes unaudited: the group is not written.
      areas_.DiscardGroup();
      audit_.DiscardGroup();
      for (absl::Status& outcome : outcomes) {
        if (outcome.ok()) {
          outcome = Refusal(absl::StatusCode::kUnavailable, v1::AUDIT_UNAVAILABLE,
                            absl::StrCat("the audit log cannot take the entry (",
                                         audit_failure.message(), "); nothing was written"));
        }
      }
      return absl::OkStatus();
    }
    if (batch.staged_writes() == 0) {
      areas_.DiscardGroup();
      audit_.DiscardGroup();
      return absl::OkStatus();
    }
    rocksdb::WriteOptions write_options;
    write_options.sync = options_.sync_writes;
    const absl::Time write_began = absl::Now();
    rocksdb::Status written = database_->db()->Write(write_options, batch.batch().GetWriteBatch());
    if (written.ok() && options_.on_group_committed) {
      options_.on_group_committed(group.size(), absl::Now() - write_began);
    }
    if (written.ok()) {
      next_sequence_ = next_sequence;
      moved_heads = areas_.CommitGroup();
      {
        std::lock_guard<std::mutex> lock(audit_mu_);
        audit_.CommitGroup();
      }
      return absl::OkStatus();
    }
    areas_.DiscardGroup();
    audit_.DiscardGroup();
    absl::Status failure = FromRocks(written, "committing a write group");
    absl::Status unknown = Refusal(
        absl::StatusCode::kUnavailable, v1::WRITE_OUTCOME_UNKNOWN,
        absl::StrCat("the write could not be made durable (", failure.message(),
                     "), so whether it took effect is unknown; retrying with the same ids is "
                     "safe once the registry takes writes again"));
    for (absl::Status& outcome : outcomes) {
      if (outcome.ok()) outcome = errors::Unshared(unknown);  // see Suspend
    }
    return failure;
  }

  // Appends `unit`'s audit entry, if it has one, for `outcome`, to the group's batch: the leaf,
  // the subtrees it completes, and its place under each child it names. A write that cannot be
  // staged fails the group's commit like any other (WriteBatch::Put fails only on memory).
  absl::Status StageAuditEntry(Unit& unit, const absl::Status& outcome, absl::Time commit_time,
                               rocksdb::WriteBatch& batch) {
    if (!unit.options.audit_entry) return absl::OkStatus();
    v1::AuditEntry entry = std::move(unit.options.audit_entry)(outcome);
    entry.set_recorded_at_unix_micros(absl::ToUnixMicros(commit_time));
    std::string bytes;
    {
      google::protobuf::io::StringOutputStream stream(&bytes);
      google::protobuf::io::CodedOutputStream coded(&stream);
      coded.SetSerializationDeterministic(true);
      entry.SerializeToCodedStream(&coded);
    }
    absl::StatusOr<AuditAppender::Appended> appended = audit_.Append(bytes);
    if (!appended.ok()) return appended.status();
    batch.Put(database_->family(ColumnFamily::kAuditLog), EncodeEventKey(appended->index), bytes)
        .PermitUncheckedError();
    for (const audit::CompletedSubtree& node : appended->completed) {
      batch
          .Put(database_->family(ColumnFamily::kAuditTree),
               EncodeAuditNodeKey(node.level, node.index),
               rocksdb::Slice(reinterpret_cast<const char*>(node.hash.data()), node.hash.size()))
          .PermitUncheckedError();
    }
    // Every child the entry names, read or withheld, so that the child's access report finds it.
    // Child identifiers are always kAuditChildIdBytes long (the family's hashed prefix); anything
    // else names no child, and is kept in the entry alone.
    for (const auto* named : {&entry.child_ids(), &entry.withheld_child_ids()}) {
      for (const std::string& child_id : *named) {
        if (child_id.size() != kAuditChildIdBytes) continue;
        batch
            .Put(database_->family(ColumnFamily::kAuditByChild),
                 EncodeAuditChildKey(child_id, appended->index), rocksdb::Slice())
            .PermitUncheckedError();
      }
    }
    return absl::OkStatus();
  }

  // Why a unit is not run when its turn comes: its caller has gone.
  static absl::Status Abandoned(const SubmitOptions& options, absl::Time now) {
    if (now >= options.deadline) {
      return Refusal(absl::StatusCode::kDeadlineExceeded, v1::CALL_ABANDONED,
                     "the call's deadline passed before its write ran; nothing was written");
    }
    if (options.is_cancelled && options.is_cancelled()) {
      return Refusal(absl::StatusCode::kCancelled, v1::CALL_ABANDONED,
                     "the call was cancelled before its write ran; nothing was written");
    }
    return absl::OkStatus();
  }

  // Hands the outcomes of `group` to the reply runner, as one task, which first tells the feed
  // watcher of the heads the group moved.
  void Deliver(std::vector<Unit>& group, std::vector<absl::Status> outcomes,
               std::vector<AreaHead> moved_heads = {}) {
    std::vector<WriteDone> dones;
    dones.reserve(group.size());
    for (Unit& unit : group) dones.push_back(std::move(unit.done));
    // The task holds the watcher's slot, not the store: a reply runner of the server's may run it
    // after the store has gone.
    absl::AnyInvocable<void()&&> replies = [watcher = watcher_, dones = std::move(dones),
                                            outcomes = std::move(outcomes),
                                            moved_heads = std::move(moved_heads)]() mutable {
      if (!moved_heads.empty()) {
        std::lock_guard<std::mutex> lock(watcher->mu);
        if (watcher->watch) watcher->watch(moved_heads);
      }
      for (size_t i = 0; i < dones.size(); ++i) dones[i](std::move(outcomes[i]));
    };
    if (options_.reply_runner) {
      options_.reply_runner(std::move(replies));
    } else {
      replies_->Post(std::move(replies));
    }
  }

  // After a failed commit: refuses writes from now on (and those already queued), and says so.
  void Suspend(const absl::Status& cause) {
    std::vector<Unit> refused;
    absl::Status refusal;
    {
      std::lock_guard<std::mutex> lock(mu_);
      suspended_ = Refusal(
          absl::StatusCode::kUnavailable, v1::WRITES_SUSPENDED,
          absl::StrCat("the registry takes no writes while its store recovers from a failed "
                       "write (",
                       cause.message(), "); nothing was written: retry later"));
      refusal = errors::Unshared(suspended_);
      for (Unit& unit : queue_) refused.push_back(std::move(unit));
      queue_.clear();
      queued_bytes_ = 0;
    }
    if (options_.on_write_availability) options_.on_write_availability(false);
    if (refused.empty()) return;
    // Each unit hears a copy of its own (errors::Unshared): the replies go to callers on other
    // threads (a waiting future, the reactor of a call), and one record shared between them would
    // be freed by whichever lets go last, out of ThreadSanitizer's sight of the others' reads.
    std::vector<absl::Status> outcomes;
    outcomes.reserve(refused.size());
    for (size_t i = 0; i < refused.size(); ++i) outcomes.push_back(errors::Unshared(refusal));
    refusal = absl::OkStatus();
    Deliver(refused, std::move(outcomes));
  }

  // While writes are suspended: tries to recover every write_recovery_interval (or as soon as
  // RocksDB says its own recovery succeeded) until it does, then takes writes again. False if
  // the store closes first.
  bool AwaitRecovery() {
    for (;;) {
      {
        std::unique_lock<std::mutex> lock(mu_);
        cv_.wait_for(lock, absl::ToChronoNanoseconds(options_.write_recovery_interval),
                     [this] { return stopping_ || recovery_event_; });
        if (stopping_) return false;
        recovery_event_ = false;
      }
      if (TryToRecover()) break;
    }
    {
      std::lock_guard<std::mutex> lock(mu_);
      suspended_ = absl::OkStatus();
    }
    if (options_.on_write_availability) options_.on_write_availability(true);
    return true;
  }

  // One attempt. RocksDB resumes by itself from a lack of disk space (its SstFileManager polls
  // the free space) and from I/O errors it knows to be retryable; DB::Resume answers Busy while
  // that is under way, and OK once the database takes writes. A failed write to the write-ahead
  // log (RocksDB 7.8 deems a plain I/O error there fatal to the open database) is recovered from
  // only by closing the database and opening it again, which replays the log as a restart would.
  bool TryToRecover() {
    if (database_ != nullptr) {
      rocksdb::Status resumed = database_->db()->Resume();
      if (resumed.IsBusy()) return false;
      if (!resumed.ok() && resumed.severity() < rocksdb::Status::Severity::kFatalError) {
        return false;  // the fault lasts: RocksDB's recovery flush failed again
      }
      if (!resumed.ok() && !Reopen()) return false;
    } else if (!Reopen()) {
      return false;
    }
    // The failed group's batch may or may not have reached the log (and after a reopen, been
    // replayed from it): continue the event sequence from what the database holds, so that no
    // sequence number is skipped or given twice.
    absl::StatusOr<LastEvent> last = ReadLastEvent(*database_);
    if (!last.ok()) return false;
    absl::StatusOr<std::map<std::string, uint64_t, std::less<>>> heads = ReadAreaHeads(*database_);
    if (!heads.ok()) return false;
    next_sequence_ = last->sequence + 1;
    last_commit_time_ = std::max(last_commit_time_, last->at);
    // A failed group's batch may have reached the log after all: its feeds' heads moved without
    // a commit telling the watcher, which is told now.
    std::vector<AreaHead> moved = areas_.Reset(*std::move(heads));
    {
      // The failed group's entries may have reached the log after all: the tree continues from
      // what the database holds.
      std::lock_guard<std::mutex> lock(audit_mu_);
      if (!RestoreAuditLog(*database_, audit_).ok()) return false;
    }
    if (!moved.empty()) {
      std::vector<Unit> none;
      Deliver(none, {}, std::move(moved));
    }
    return true;
  }

  // Closes the database and opens it again, once the disk takes synced writes (until then reads
  // go on from the old one). db_mu_ is held only to take the database out and to put the new one
  // in: closing and opening (replaying the log, migrating), which a slow disk can hold up, run
  // without it, and reads meanwhile are refused at once (STORE_REOPENING). If the open fails,
  // reads are refused so until a later attempt succeeds.
  bool Reopen() {
    if (!DiskTakesSyncedWrites(shared_.env, options_.path)) return false;
    RocksDbStoreOptions reopen = options_;
    reopen.create_if_missing = false;
    HoldBackups();
    std::unique_ptr<StoreDatabase> closing;
    {
      std::unique_lock<WriterPreferringLock> lock(db_mu_);
      closing = std::move(database_);
    }
    closing.reset();
    absl::StatusOr<std::unique_ptr<StoreDatabase>> database = StoreDatabase::Open(reopen, shared_);
    if (!database.ok()) return false;
    {
      std::unique_lock<WriterPreferringLock> lock(db_mu_);
      database_ = *std::move(database);
    }
    ReleaseBackups();
    return true;
  }

  const RocksDbStoreOptions options_;
  const RocksDbStoreTestHooks hooks_;
  std::unique_ptr<rocksdb::Env> own_env_;  // made by MakeEnv; shared_.env
  StoreDatabase::Shared shared_;

  // The open database; null while the writer reopens it. Changed only by the writer thread,
  // holding db_mu_ exclusively just for the swap (never while closing or opening a database);
  // readers hold it shared. The writer reads it without the lock. A lock of our own over
  // pthread's (see writer_preferring_lock.h), which ThreadSanitizer sees, rather than Debian's
  // uninstrumented absl::Mutex.
  WriterPreferringLock db_mu_;
  std::unique_ptr<StoreDatabase> database_;

  // Backups (BackUp, HoldBackups): taken in the order backup_turn_, db_mu_, backup_mu_.
  std::mutex backup_turn_;  // held for a whole backup: one at a time
  std::mutex backup_mu_;
  std::condition_variable backup_done_;
  bool backup_running_ ABSL_GUARDED_BY(backup_mu_) = false;
  bool backups_held_ ABSL_GUARDED_BY(backup_mu_) = false;  // the database is closing
  rocksdb::BackupEngine* backup_engine_ ABSL_GUARDED_BY(backup_mu_) = nullptr;

  // Touched only by the writer thread (and Start, before it runs).
  uint64_t next_sequence_ = 1;
  // When the writer next deletes feed events past their retention.
  absl::Time next_prune_ = absl::Now();
  // The feeds' sequence numbers: staged by the writer, read by any thread.
  AreaSequencer areas_;
  // The audit log's tree: staged by the writer; its committed head read by any thread under
  // audit_mu_ (which the writer takes to commit a group's leaves and to restore the tree).
  std::mutex audit_mu_;
  AuditAppender audit_;
  // Told of new feed events (WatchAreaFeeds); its lock is held while it runs, so that replacing it
  // waits. Shared with the reply tasks, which may outlive the store.
  struct WatcherSlot {
    std::mutex mu;
    AreaFeedWatcher watch ABSL_GUARDED_BY(mu);
  };
  const std::shared_ptr<WatcherSlot> watcher_ = std::make_shared<WatcherSlot>();
  absl::Time last_commit_time_ = absl::InfinitePast();

  std::mutex mu_;
  std::condition_variable cv_;
  std::deque<Unit> queue_ ABSL_GUARDED_BY(mu_);
  size_t queued_bytes_ ABSL_GUARDED_BY(mu_) = 0;
  bool stopping_ ABSL_GUARDED_BY(mu_) = false;
  // OK while writes are taken. Replaced when the store recovers, so callers get unshared copies
  // (errors::Unshared): the record of a status shared with them would be freed here, after they
  // let go of it out of ThreadSanitizer's sight. The two refusals below live as long as the store
  // and are shared freely.
  absl::Status suspended_ ABSL_GUARDED_BY(mu_);
  bool recovery_event_ ABSL_GUARDED_BY(mu_) = false;

  // Refusals made in Submit, built once: a full queue may refuse millions of units.
  const absl::Status queue_full_ = Refusal(
      absl::StatusCode::kUnavailable, v1::WRITE_QUEUE_FULL,
      "more writes are waiting than the registry queues; nothing was written: retry shortly");
  const absl::Status closing_ = Refusal(absl::StatusCode::kUnavailable, v1::SERVER_STOPPING,
                                        "the store is closing; nothing was written");

  // Delivers each group's replies (WriteDone) after its commit, off the writer thread, unless the
  // options name another runner.
  std::unique_ptr<SerialExecutor> replies_;
  std::thread writer_;  // started by Start, once every other member is initialised
};

absl::Status ValidateOptions(const RocksDbStoreOptions& options) {
  if (options.path.empty()) return absl::InvalidArgumentError("the store needs a data folder");
  if (options.max_group_size == 0) {
    return absl::InvalidArgumentError("max_group_size must be at least 1");
  }
  if (options.max_queued_units == 0 || options.max_queued_bytes == 0) {
    return absl::InvalidArgumentError("max_queued_units and max_queued_bytes must be at least 1");
  }
  if (options.feed_retention <= absl::ZeroDuration() ||
      options.feed_prune_interval <= absl::ZeroDuration()) {
    return absl::InvalidArgumentError("feed_retention and feed_prune_interval must be positive");
  }
  if (options.write_recovery_interval <= absl::ZeroDuration()) {
    return absl::InvalidArgumentError("write_recovery_interval must be positive");
  }
  return absl::OkStatus();
}

}  // namespace

absl::StatusOr<std::unique_ptr<ChildStore>> RocksDbChildStore::Open(
    const RocksDbStoreOptions& options) {
  return OpenWithTestHooks(options, RocksDbStoreTestHooks());
}

absl::StatusOr<std::unique_ptr<ChildStore>> RocksDbChildStore::OpenWithTestHooks(
    const RocksDbStoreOptions& options, RocksDbStoreTestHooks hooks) {
  if (absl::Status valid = ValidateOptions(options); !valid.ok()) return valid;
  auto store = std::make_unique<RocksDbStore>(options, std::move(hooks));
  if (absl::Status started = store->Start(); !started.ok()) return started;
  return std::unique_ptr<ChildStore>(std::move(store));
}

}  // namespace cir::storage
