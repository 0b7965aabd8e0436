#include "storage/store_database.h"

#include <algorithm>
#include <filesystem>
#include <memory>
#include <string>
#include <system_error>
#include <utility>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "rocksdb/filter_policy.h"
#include "rocksdb/memtablerep.h"
#include "rocksdb/slice_transform.h"
#include "rocksdb/sst_file_manager.h"
#include "rocksdb/table.h"
#include "rocksdb/write_buffer_manager.h"
#include "storage/rocksdb_status.h"
#include "storage/schema_migrations.h"

namespace cir::storage {
namespace {

rocksdb::Options MakeDbOptions(const RocksDbStoreOptions& options,
                               const StoreDatabase::Shared& shared) {
  rocksdb::Options db_options;
  db_options.env = shared.env;
  db_options.create_if_missing = options.create_if_missing;
  // A torn last record is a write that was never acknowledged (its sync never returned) and is
  // dropped; corruption before the tail fails the open instead of replaying up to it and silently
  // dropping the acknowledged writes after it (kPointInTimeRecovery, RocksDB's default).
  db_options.wal_recovery_mode = rocksdb::WALRecoveryMode::kTolerateCorruptedTailRecords;
  db_options.IncreaseParallelism(2);
  db_options.max_open_files = 512;
  if (options.memory_bound_bytes > 0) {
    // Memtables take their bytes out of the block cache's capacity (as placeholder entries), so
    // one bound holds both.
    db_options.write_buffer_manager = std::make_shared<rocksdb::WriteBufferManager>(
        options.memory_bound_bytes / 2, shared.block_cache);
  } else {
    db_options.db_write_buffer_size = options.memtable_bytes;
  }
  // Hash memtables (see MakeFamilyOptions) take one writer at a time, which the store's single
  // writer thread guarantees anyway.
  db_options.allow_concurrent_memtable_write = false;
  // Tracks the disk space the database uses; after a write fails for want of space, it polls the
  // free space and resumes the database (DB::Resume) once there is room again.
  db_options.sst_file_manager.reset(rocksdb::NewSstFileManager(shared.env));
  if (shared.listener != nullptr) db_options.listeners.push_back(shared.listener);
  return db_options;
}

// Longer than any key of the children or identifiers families (an index key is a tag byte and a
// notifying system, a space and a notification id: at most 1 + 10 + 1 + 128 bytes).
constexpr size_t kMaxKeyBytes = 1 + 10 + 1 + 128;

rocksdb::ColumnFamilyOptions MakeFamilyOptions(ColumnFamily which,
                                               const RocksDbStoreOptions& options,
                                               std::shared_ptr<rocksdb::Cache> cache) {
  rocksdb::BlockBasedTableOptions table;
  table.block_cache = std::move(cache);
  table.filter_policy.reset(rocksdb::NewBloomFilterPolicy(10));
  // Index and filter blocks stay in memory with their open tables, outside the block cache: at 10
  // million children, random reads through a cache that also held them kept evicting the filters,
  // and a profile showed a quarter of the server's time re-reading and checksumming whole filter
  // blocks. They cost about 10 bits per key (some 60 MiB at 10 million children).
  // With a memory bound they go into the cache instead, partitioned: a whole filter evicted
  // and read back on the next lookup (megabytes, checksummed) was most of the writer's time once
  // a 128 MiB cache was full (BENCHMARKS.md, the soak's memory), where a partition is 4 KiB. The
  // partitions' top-level indexes stay pinned, and index and filter blocks are evicted after
  // data blocks (the cache's high-priority pool).
  if (options.memory_bound_bytes > 0) {
    table.cache_index_and_filter_blocks = true;
    table.cache_index_and_filter_blocks_with_high_priority = true;
    table.index_type = rocksdb::BlockBasedTableOptions::kTwoLevelIndexSearch;
    table.partition_filters = true;
    table.metadata_block_size = 4096;
    table.pin_top_level_index_and_filter = true;
    table.pin_l0_filter_and_index_blocks_in_cache = true;
    // What else of the store's memory grows with it is charged to the cache too: the filters
    // being built by flushes and compactions (8 bytes a key of the file being written: some 20
    // MiB at once in a heap profile of the soak), the open tables' readers, and each table
    // file's metadata.
    using rocksdb::CacheEntryRole;
    using rocksdb::CacheEntryRoleOptions;
    for (CacheEntryRole role : {CacheEntryRole::kFilterConstruction,
                                CacheEntryRole::kBlockBasedTableReader,
                                CacheEntryRole::kFileMetadata}) {
      table.cache_usage_options.options_overrides.insert(
          {role, {/*charged=*/CacheEntryRoleOptions::Decision::kEnabled}});
    }
  }
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
  // The audit log's tree is read by whole keys alone too: in one skip list, every leaf's inserts
  // (its hash, the subtrees it completes) land at scattered places and each walks the whole list,
  // which a profile of audited reads showed as the writer's largest cost in its own code; in hash
  // buckets each is short (BENCHMARKS.md: about 4 us of server time per audited resolve).
  // 65,536 buckets (512 KiB a memtable, where the default million take 8 MiB): a memtable of
  // this family holds some hundreds of thousands of keys.
  constexpr size_t kAuditMemtableBuckets = 1 << 16;
  if (which == ColumnFamily::kAuditTree) {
    family.prefix_extractor.reset(rocksdb::NewCappedPrefixTransform(kAuditNodeKeyBytes));
    family.memtable_factory.reset(rocksdb::NewHashSkipListRepFactory(kAuditMemtableBuckets));
  }
  // The index of the audit log by child takes a key for every child every call names (a census
  // call of 10,000 lookups: 10,000 keys) and is read only by auditors, for one child's access
  // report. Its memtable is a plain vector: an insert is an append, sorted once when the
  // memtable is flushed, where the hash buckets' skip lists made the writer compare keys for each
  // insert (a third of the server's time in a census; BENCHMARKS.md). Reading it while in the
  // memtable sorts a copy of the whole vector, so its memtables are kept small: 8 MiB, some
  // 280,000 keys, a copy and sort of tens of milliseconds for an access report (and a census of
  // 10,000-lookup calls flushes one every 28 calls).
  if (which == ColumnFamily::kAuditByChild) {
    family.prefix_extractor.reset(rocksdb::NewFixedPrefixTransform(kAuditChildIdBytes));
    family.memtable_factory = std::make_shared<rocksdb::VectorRepFactory>();
    family.write_buffer_size = size_t{8} << 20;
  }
  return family;
}

// The write-ahead log files in `folder`, by name, for an error that must name them.
std::string WalFilesIn(const std::string& folder) {
  std::vector<std::string> names;
  std::error_code error;
  for (const auto& entry : std::filesystem::directory_iterator(folder, error)) {
    if (entry.path().extension() == ".log") {
      names.push_back((std::filesystem::path(folder) / entry.path().filename()).string());
    }
  }
  std::sort(names.begin(), names.end());
  return names.empty() ? "none found" : absl::StrJoin(names, ", ");
}

}  // namespace

absl::StatusOr<std::unique_ptr<StoreDatabase>> StoreDatabase::Open(
    const RocksDbStoreOptions& options, const Shared& shared) {
  std::error_code ignored;
  const bool existed =
      std::filesystem::exists(std::filesystem::path(options.path) / "CURRENT", ignored);
  if (!existed && !options.create_if_missing) {
    return absl::FailedPreconditionError(absl::StrCat(
        options.path, " holds no registry store; check the data folder (is its volume mounted?), "
        "or create a new store on purpose with --create-if-missing"));
  }
  rocksdb::Options db_options = MakeDbOptions(options, shared);
  // An existing store is opened with the families it has; those this release adds are created
  // only once its schema version is known not to be newer, so that a store this release refuses
  // is left exactly as it was.
  db_options.create_missing_column_families = !existed;
  std::vector<rocksdb::ColumnFamilyDescriptor> descriptors;
  std::vector<int> descriptor_of_family(kColumnFamilyCount, -1);
  std::vector<std::string> stored_names;
  if (existed) {
    rocksdb::Status listed =
        rocksdb::DB::ListColumnFamilies(db_options, options.path, &stored_names);
    if (!listed.ok()) {
      return FromRocks(listed, absl::StrCat("listing the column families of the store at ",
                                            options.path));
    }
  }
  for (int i = 0; i < kColumnFamilyCount; ++i) {
    const std::string name(ColumnFamilyName(static_cast<ColumnFamily>(i)));
    if (existed && std::find(stored_names.begin(), stored_names.end(), name) == stored_names.end()) {
      continue;
    }
    descriptor_of_family[i] = static_cast<int>(descriptors.size());
    descriptors.emplace_back(
        name, MakeFamilyOptions(static_cast<ColumnFamily>(i), options, shared.block_cache));
  }
  // RocksDB refuses to open a database without naming every family it has: a family of a later
  // release is opened with default options, so that the schema version check can say which
  // release the store needs.
  std::vector<std::string> unknown;
  for (const std::string& name : stored_names) {
    bool known = false;
    for (int i = 0; i < kColumnFamilyCount; ++i) {
      known |= name == ColumnFamilyName(static_cast<ColumnFamily>(i));
    }
    if (!known) {
      unknown.push_back(name);
      descriptors.emplace_back(name, rocksdb::ColumnFamilyOptions());
    }
  }
  std::vector<rocksdb::ColumnFamilyHandle*> opened;
  rocksdb::DB* raw_db = nullptr;
  rocksdb::Status s = rocksdb::DB::Open(db_options, options.path, descriptors, &opened, &raw_db);
  if (!s.ok()) {
    absl::Status failure = FromRocks(s, absl::StrCat("opening the store at ", options.path));
    if (s.IsCorruption() && s.ToString().find(".log") == std::string::npos) {
      failure = absl::Status(
          failure.code(),
          absl::StrCat(failure.message(), " (write-ahead log files: ", WalFilesIn(options.path),
                       "); the log is damaged before its end, so replaying it would drop "
                       "acknowledged writes: restore the store from a backup"));
    }
    return failure;
  }
  // A handle per ColumnFamily, by frozen index, then the unknown ones.
  std::vector<rocksdb::ColumnFamilyHandle*> families(kColumnFamilyCount, nullptr);
  for (int i = 0; i < kColumnFamilyCount; ++i) {
    if (descriptor_of_family[i] >= 0) families[i] = opened[descriptor_of_family[i]];
  }
  for (size_t i = 0; i < unknown.size(); ++i) {
    families.push_back(opened[opened.size() - unknown.size() + i]);
  }
  std::unique_ptr<StoreDatabase> database(
      new StoreDatabase(std::unique_ptr<rocksdb::DB>(raw_db), families));
  if (existed) {
    if (absl::Status readable = RefuseNewerSchema(database->db(), families[0]); !readable.ok()) {
      return readable;
    }
    for (int i = 0; i < kColumnFamilyCount; ++i) {
      if (families[i] != nullptr) continue;
      rocksdb::ColumnFamilyHandle* created = nullptr;
      s = database->db()->CreateColumnFamily(
          MakeFamilyOptions(static_cast<ColumnFamily>(i), options, shared.block_cache),
          std::string(ColumnFamilyName(static_cast<ColumnFamily>(i))), &created);
      if (!s.ok()) return FromRocks(s, "creating a column family this release adds");
      database->families_[i] = created;
    }
  }
  if (absl::Status migrated = MigrateSchema(database->db(), database->families(), !existed);
      !migrated.ok()) {
    return migrated;
  }
  return database;
}

StoreDatabase::~StoreDatabase() {
  for (rocksdb::ColumnFamilyHandle* family : families_) {
    if (family != nullptr) db_->DestroyColumnFamilyHandle(family).PermitUncheckedError();
  }
  db_->Close().PermitUncheckedError();
}

}  // namespace cir::storage
