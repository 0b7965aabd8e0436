#include "storage/rocksdb_child_store.h"

#include <pthread.h>

#include <condition_variable>
#include <filesystem>
#include <deque>
#include <mutex>
#include <thread>
#include <utility>
#include <vector>

#include "absl/base/thread_annotations.h"
#include "absl/strings/str_cat.h"
#include "rocksdb/cache.h"
#include "rocksdb/db.h"
#include "rocksdb/filter_policy.h"
#include "rocksdb/memtablerep.h"
#include "rocksdb/slice_transform.h"
#include "rocksdb/table.h"
#include "rocksdb/utilities/write_batch_with_index.h"
#include "storage/key_codec.h"
#include "storage/serial_executor.h"

namespace cir::storage {
namespace {

// The one place where RocksDB's status becomes the registry's.
absl::Status FromRocks(const rocksdb::Status& status, absl::string_view what) {
  if (status.ok()) return absl::OkStatus();
  std::string message = absl::StrCat(what, ": ", status.ToString());
  // Transient, or a disk or lock problem an operator can fix: the caller may retry later.
  if (status.IsBusy() || status.IsTimedOut() || status.IsTryAgain() || status.IsIOError() ||
      status.IsNoSpace()) {
    return absl::UnavailableError(message);
  }
  if (status.IsCorruption()) return absl::DataLossError(message);
  return absl::InternalError(message);
}

rocksdb::Slice ToSlice(absl::string_view s) { return rocksdb::Slice(s.data(), s.size()); }

absl::StatusOr<std::optional<StoredChild>> ParseChild(const rocksdb::Status& status,
                                                      const rocksdb::PinnableSlice& value) {
  if (status.IsNotFound()) return std::nullopt;
  if (!status.ok()) return FromRocks(status, "reading a child");
  StoredChild child;
  if (!child.ParseFromArray(value.data(), static_cast<int>(value.size()))) {
    return absl::DataLossError("a stored child record does not parse");
  }
  return child;
}

absl::StatusOr<std::optional<IndexEntry>> ParseEntry(const rocksdb::Status& status,
                                                     const rocksdb::PinnableSlice& value) {
  if (status.IsNotFound()) return std::nullopt;
  if (!status.ok()) return FromRocks(status, "reading the identifier index");
  std::optional<IndexEntry> entry = DecodeIndexEntry(absl::string_view(value.data(), value.size()));
  if (!entry.has_value()) return absl::DataLossError("a stored index entry is malformed");
  return entry;
}

// The WriteTxn handed to one unit of work: reads through the group's batch, writes into it.
class GroupTxn final : public WriteTxn {
 public:
  GroupTxn(rocksdb::DB* db, rocksdb::WriteBatchWithIndex* batch,
           const std::vector<rocksdb::ColumnFamilyHandle*>& families, uint64_t* next_sequence)
      : db_(db), batch_(batch), families_(families), next_sequence_(next_sequence) {}

  absl::StatusOr<std::optional<StoredChild>> GetChild(absl::string_view child_id) override {
    rocksdb::PinnableSlice value;
    rocksdb::Status s = batch_->GetFromBatchAndDB(db_, rocksdb::ReadOptions(),
                                                  Family(ColumnFamily::kChildren),
                                                  ToSlice(child_id), &value);
    return ParseChild(s, value);
  }

  absl::StatusOr<std::optional<IndexEntry>> Lookup(IndexKind kind,
                                                   absl::string_view value_text) override {
    rocksdb::PinnableSlice value;
    rocksdb::Status s = batch_->GetFromBatchAndDB(db_, rocksdb::ReadOptions(),
                                                  Family(ColumnFamily::kIdentifiers),
                                                  EncodeIndexKey(kind, value_text), &value);
    return ParseEntry(s, value);
  }

  absl::Status PutChild(const StoredChild& child) override {
    return FromRocks(batch_->Put(Family(ColumnFamily::kChildren), child.child_id(),
                                 child.SerializeAsString()),
                     "staging a child");
  }

  absl::Status PutIndex(IndexKind kind, absl::string_view value,
                        const IndexEntry& entry) override {
    return FromRocks(batch_->Put(Family(ColumnFamily::kIdentifiers), EncodeIndexKey(kind, value),
                                 EncodeIndexEntry(entry)),
                     "staging an index entry");
  }

  absl::Status AppendEvent(StoredEvent event) override {
    uint64_t sequence = (*next_sequence_)++;
    event.set_sequence(sequence);
    rocksdb::Status s = batch_->Put(Family(ColumnFamily::kEvents), EncodeEventKey(sequence),
                                    event.SerializeAsString());
    if (s.ok()) {
      s = batch_->Put(Family(ColumnFamily::kEventsByArea),
                      EncodeAreaEventKey(event.local_authority(), sequence), rocksdb::Slice());
    }
    return FromRocks(s, "staging an event");
  }

 private:
  rocksdb::ColumnFamilyHandle* Family(ColumnFamily f) const {
    return families_[static_cast<int>(f)];
  }

  rocksdb::DB* db_;
  rocksdb::WriteBatchWithIndex* batch_;
  const std::vector<rocksdb::ColumnFamilyHandle*>& families_;
  uint64_t* next_sequence_;
};

class RocksDbStore final : public ChildStore {
 public:
  RocksDbStore(const RocksDbStoreOptions& options, std::unique_ptr<rocksdb::DB> db,
               std::vector<rocksdb::ColumnFamilyHandle*> families, uint64_t next_sequence)
      : options_(options),
        db_(std::move(db)),
        families_(std::move(families)),
        next_sequence_(next_sequence),
        writer_([this] { WriterLoop(); }) {}

  ~RocksDbStore() override {
    {
      std::lock_guard<std::mutex> lock(mu_);
      stopping_ = true;
    }
    cv_.notify_one();
    writer_.join();  // the writer drains every queued unit before it returns
    replies_.reset();  // and every reply it posted is delivered before the store closes
    for (rocksdb::ColumnFamilyHandle* family : families_) {
      db_->DestroyColumnFamilyHandle(family);
    }
    db_->Close();
  }

  absl::StatusOr<std::optional<StoredChild>> GetChild(absl::string_view child_id) override {
    rocksdb::PinnableSlice value;
    rocksdb::Status s =
        db_->Get(rocksdb::ReadOptions(), Family(ColumnFamily::kChildren), ToSlice(child_id), &value);
    return ParseChild(s, value);
  }

  absl::StatusOr<std::optional<IndexEntry>> Lookup(IndexKind kind,
                                                   absl::string_view value_text) override {
    rocksdb::PinnableSlice value;
    rocksdb::Status s = db_->Get(rocksdb::ReadOptions(), Family(ColumnFamily::kIdentifiers),
                                 EncodeIndexKey(kind, value_text), &value);
    return ParseEntry(s, value);
  }

  std::vector<absl::StatusOr<std::optional<StoredChild>>> GetChildren(
      absl::Span<const std::string> child_ids) override {
    std::vector<rocksdb::Slice> keys;
    keys.reserve(child_ids.size());
    for (const std::string& id : child_ids) keys.emplace_back(id);
    std::vector<rocksdb::PinnableSlice> values(keys.size());
    std::vector<rocksdb::Status> statuses(keys.size());
    db_->MultiGet(rocksdb::ReadOptions(), Family(ColumnFamily::kChildren), keys.size(),
                  keys.data(), values.data(), statuses.data());
    std::vector<absl::StatusOr<std::optional<StoredChild>>> out;
    out.reserve(keys.size());
    for (size_t i = 0; i < keys.size(); ++i) out.push_back(ParseChild(statuses[i], values[i]));
    return out;
  }

  std::vector<absl::StatusOr<std::optional<IndexEntry>>> LookupMany(
      absl::Span<const IndexKey> index_keys) override {
    std::vector<std::string> encoded;
    encoded.reserve(index_keys.size());
    for (const IndexKey& key : index_keys) encoded.push_back(EncodeIndexKey(key.kind, key.value));
    std::vector<rocksdb::Slice> keys(encoded.begin(), encoded.end());
    std::vector<rocksdb::PinnableSlice> values(keys.size());
    std::vector<rocksdb::Status> statuses(keys.size());
    db_->MultiGet(rocksdb::ReadOptions(), Family(ColumnFamily::kIdentifiers), keys.size(),
                  keys.data(), values.data(), statuses.data());
    std::vector<absl::StatusOr<std::optional<IndexEntry>>> out;
    out.reserve(keys.size());
    for (size_t i = 0; i < keys.size(); ++i) out.push_back(ParseEntry(statuses[i], values[i]));
    return out;
  }

  absl::StatusOr<std::vector<StoredEvent>> ReadEvents(uint64_t after_sequence,
                                                      size_t limit) override {
    std::vector<StoredEvent> events;
    std::unique_ptr<rocksdb::Iterator> it(
        db_->NewIterator(rocksdb::ReadOptions(), Family(ColumnFamily::kEvents)));
    for (it->Seek(EncodeEventKey(after_sequence + 1)); it->Valid() && events.size() < limit;
         it->Next()) {
      StoredEvent event;
      if (!event.ParseFromArray(it->value().data(), static_cast<int>(it->value().size()))) {
        return absl::DataLossError("a stored event does not parse");
      }
      events.push_back(std::move(event));
    }
    if (absl::Status s = FromRocks(it->status(), "reading events"); !s.ok()) return s;
    return events;
  }

  void Submit(WriteWork work, WriteDone done) override {
    {
      std::lock_guard<std::mutex> lock(mu_);
      if (!stopping_) {
        queue_.push_back(Unit{std::move(work), std::move(done)});
        cv_.notify_one();
        return;
      }
    }
    done(absl::UnavailableError("the store is closing"));
  }

 private:
  struct Unit {
    WriteWork work;
    WriteDone done;
  };

  rocksdb::ColumnFamilyHandle* Family(ColumnFamily f) const {
    return families_[static_cast<int>(f)];
  }

  void WriterLoop() {
    pthread_setname_np(pthread_self(), "cir-writer");
    std::vector<Unit> group;
    std::vector<absl::Status> outcomes;
    for (;;) {
      {
        std::unique_lock<std::mutex> lock(mu_);
        cv_.wait(lock, [this] { return stopping_ || !queue_.empty(); });
        if (queue_.empty()) return;  // stopping, and everything queued has been committed
        while (!queue_.empty() && group.size() < options_.max_group_size) {
          group.push_back(std::move(queue_.front()));
          queue_.pop_front();
        }
      }
      CommitGroup(group, outcomes);
      std::vector<WriteDone> dones;
      dones.reserve(group.size());
      for (Unit& unit : group) dones.push_back(std::move(unit.done));
      absl::AnyInvocable<void() &&> replies = [dones = std::move(dones),
                                               outcomes = std::move(outcomes)]() mutable {
        for (size_t i = 0; i < dones.size(); ++i) dones[i](std::move(outcomes[i]));
      };
      if (options_.reply_runner) {
        options_.reply_runner(std::move(replies));
      } else {
        replies_->Post(std::move(replies));
      }
      group.clear();
      outcomes = {};
    }
  }

  // Runs every unit of `group` against one batch and commits the batch with one write.
  void CommitGroup(std::vector<Unit>& group, std::vector<absl::Status>& outcomes) {
    rocksdb::WriteBatchWithIndex batch(rocksdb::BytewiseComparator(), 0,
                                       /*overwrite_key=*/true);
    uint64_t next_sequence = next_sequence_;
    GroupTxn txn(db_.get(), &batch, families_, &next_sequence);
    for (Unit& unit : group) {
      batch.SetSavePoint();
      uint64_t sequence_before = next_sequence;
      absl::Status outcome = unit.work(txn);
      if (outcome.ok()) {
        batch.PopSavePoint();
      } else {
        batch.RollbackToSavePoint();
        next_sequence = sequence_before;
      }
      outcomes.push_back(std::move(outcome));
    }
    if (batch.GetWriteBatch()->Count() == 0) return;
    rocksdb::WriteOptions write_options;
    write_options.sync = options_.sync_writes;
    absl::Status committed =
        FromRocks(db_->Write(write_options, batch.GetWriteBatch()), "committing a write group");
    if (committed.ok()) {
      next_sequence_ = next_sequence;
      return;
    }
    for (absl::Status& outcome : outcomes) {
      if (outcome.ok()) outcome = committed;
    }
  }

  const RocksDbStoreOptions options_;
  std::unique_ptr<rocksdb::DB> db_;
  std::vector<rocksdb::ColumnFamilyHandle*> families_;
  uint64_t next_sequence_;  // touched only by the writer thread (and the constructor)

  std::mutex mu_;
  std::condition_variable cv_;
  std::deque<Unit> queue_ ABSL_GUARDED_BY(mu_);
  bool stopping_ ABSL_GUARDED_BY(mu_) = false;

  // Delivers each group's replies (WriteDone) after its commit, off the writer thread, unless the
  // options name another runner.
  std::unique_ptr<SerialExecutor> replies_ =
      options_.reply_runner ? nullptr : std::make_unique<SerialExecutor>("cir-replies");
  std::thread writer_;  // last: started once every other member is initialised
};

rocksdb::Options MakeDbOptions(const RocksDbStoreOptions& options) {
  rocksdb::Options db_options;
  db_options.create_if_missing = options.create_if_missing;
  db_options.create_missing_column_families = options.create_if_missing;
  db_options.IncreaseParallelism(2);
  db_options.max_open_files = 512;
  db_options.db_write_buffer_size = options.memtable_bytes;
  // Hash memtables (see MakeFamilyOptions) take one writer at a time, which the store's single
  // writer thread guarantees anyway.
  db_options.allow_concurrent_memtable_write = false;
  return db_options;
}

// Longer than any key of the children or identifiers families (an index key is a tag byte and a
// notification id of at most 128 bytes).
constexpr size_t kMaxKeyBytes = 1 + 128;

rocksdb::ColumnFamilyOptions MakeFamilyOptions(ColumnFamily which,
                                               std::shared_ptr<rocksdb::Cache> cache) {
  rocksdb::BlockBasedTableOptions table;
  table.block_cache = std::move(cache);
  table.filter_policy.reset(rocksdb::NewBloomFilterPolicy(10));
  // Index and filter blocks stay in memory with their open tables, outside the block cache: at 10
  // million children, random reads through a cache that also held them kept evicting the filters,
  // and a profile showed a quarter of the server's time re-reading and checksumming whole filter
  // blocks. They cost about 10 bits per key (some 60 MiB at 10 million children).
  table.cache_index_and_filter_blocks = false;
  table.format_version = 5;
  rocksdb::ColumnFamilyOptions family;
  family.table_factory.reset(rocksdb::NewBlockBasedTableFactory(table));
  // The two families read by point lookups only put a whole-key bloom filter in front of their
  // memtables: most lookups of the write path (is this NHS number or notification id taken?) are
  // misses, which it answers without walking the skip list.
  if (which == ColumnFamily::kChildren || which == ColumnFamily::kIdentifiers) {
    family.memtable_prefix_bloom_size_ratio = 0.02;
    family.memtable_whole_key_filtering = true;
  }
  // Both are read by whole keys alone: their memtables are hash tables keyed by the whole key
  // (the "prefix" is capped above the longest key), where a read is a hash probe rather than a
  // walk down one long skip list. A shorter prefix would put keys sharing it (notification ids
  // from one system all start alike) into one bucket.
  if (which == ColumnFamily::kChildren || which == ColumnFamily::kIdentifiers) {
    family.prefix_extractor.reset(rocksdb::NewCappedPrefixTransform(kMaxKeyBytes));
    family.memtable_factory.reset(rocksdb::NewHashSkipListRepFactory());
  }
  return family;
}

absl::Status CheckSchemaVersion(rocksdb::DB* db, rocksdb::ColumnFamilyHandle* meta, bool create) {
  std::string stored;
  rocksdb::Status s = db->Get(rocksdb::ReadOptions(), meta, ToSlice(kSchemaVersionKey), &stored);
  if (s.IsNotFound() && !create) {
    return absl::FailedPreconditionError(
        "the data folder holds a RocksDB database but no registry store (no schema version)");
  }
  if (s.IsNotFound()) {
    rocksdb::WriteOptions write_options;
    write_options.sync = true;
    return FromRocks(db->Put(write_options, meta, ToSlice(kSchemaVersionKey),
                             EncodeFixed32BigEndian(kSchemaVersion)),
                     "writing the schema version");
  }
  if (!s.ok()) return FromRocks(s, "reading the schema version");
  std::optional<uint32_t> version = DecodeFixed32BigEndian(stored);
  if (!version.has_value() || *version != kSchemaVersion) {
    return absl::FailedPreconditionError(absl::StrCat(
        "the data folder holds a store of another schema version (",
        version.has_value() ? absl::StrCat(*version) : "unreadable", "); this server reads ",
        kSchemaVersion));
  }
  return absl::OkStatus();
}

absl::StatusOr<uint64_t> NextEventSequence(rocksdb::DB* db, rocksdb::ColumnFamilyHandle* events) {
  std::unique_ptr<rocksdb::Iterator> it(db->NewIterator(rocksdb::ReadOptions(), events));
  it->SeekToLast();
  if (!it->Valid()) {
    if (absl::Status s = FromRocks(it->status(), "reading the event log"); !s.ok()) return s;
    return 1;
  }
  std::optional<uint64_t> last = DecodeEventKey(absl::string_view(it->key().data(), it->key().size()));
  if (!last.has_value()) return absl::DataLossError("the event log holds a malformed key");
  return *last + 1;
}

}  // namespace

absl::StatusOr<std::unique_ptr<ChildStore>> RocksDbChildStore::Open(
    const RocksDbStoreOptions& options) {
  if (options.path.empty()) return absl::InvalidArgumentError("the store needs a data folder");
  if (options.max_group_size == 0) {
    return absl::InvalidArgumentError("max_group_size must be at least 1");
  }
  std::error_code ignored;
  if (!options.create_if_missing &&
      !std::filesystem::exists(std::filesystem::path(options.path) / "CURRENT", ignored)) {
    return absl::FailedPreconditionError(absl::StrCat(
        options.path, " holds no registry store; check the data folder (is its volume mounted?), "
        "or create a new store on purpose with --create-if-missing"));
  }
  rocksdb::LRUCacheOptions cache_options;
  cache_options.capacity = options.block_cache_bytes;
  std::shared_ptr<rocksdb::Cache> cache = rocksdb::NewLRUCache(cache_options);
  std::vector<rocksdb::ColumnFamilyDescriptor> descriptors;
  for (int i = 0; i < kColumnFamilyCount; ++i) {
    descriptors.emplace_back(std::string(ColumnFamilyName(static_cast<ColumnFamily>(i))),
                             MakeFamilyOptions(static_cast<ColumnFamily>(i), cache));
  }
  std::vector<rocksdb::ColumnFamilyHandle*> families;
  rocksdb::DB* raw_db = nullptr;
  rocksdb::Status s =
      rocksdb::DB::Open(MakeDbOptions(options), options.path, descriptors, &families, &raw_db);
  if (!s.ok()) return FromRocks(s, absl::StrCat("opening the store at ", options.path));
  std::unique_ptr<rocksdb::DB> db(raw_db);
  auto close_on_error = [&](absl::Status status) {
    for (rocksdb::ColumnFamilyHandle* family : families) db->DestroyColumnFamilyHandle(family);
    db->Close();
    return status;
  };
  if (absl::Status v = CheckSchemaVersion(db.get(), families[0], options.create_if_missing); !v.ok()) {
    return close_on_error(v);
  }
  absl::StatusOr<uint64_t> next_sequence =
      NextEventSequence(db.get(), families[static_cast<int>(ColumnFamily::kEvents)]);
  if (!next_sequence.ok()) return close_on_error(next_sequence.status());
  return std::unique_ptr<ChildStore>(
      new RocksDbStore(options, std::move(db), std::move(families), *next_sequence));
}

}  // namespace cir::storage
