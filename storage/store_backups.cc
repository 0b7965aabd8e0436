#include "storage/store_backups.h"

#include <fcntl.h>
#include <unistd.h>

#include <algorithm>
#include <filesystem>
#include <fstream>
#include <future>
#include <iterator>
#include <memory>
#include <set>
#include <utility>

#include "absl/strings/str_cat.h"
#include "cir/v1/registry.pb.h"
#include "errors/refusal.h"
#include "identifiers/child_id.h"
#include "rocksdb/db.h"
#include "rocksdb/env.h"
#include "rocksdb/env_encryption.h"
#include "rocksdb/utilities/backup_engine.h"
#include "storage/aes_ctr_encryption.h"
#include "storage/backup_copy_hand_off.h"
#include "storage/backup_engine_support.h"
#include "storage/child_store.h"
#include "storage/key_codec.h"
#include "storage/rocksdb_child_store.h"
#include "storage/rocksdb_status.h"
#include "storage/store_keys.h"

namespace cir::storage {
namespace {

namespace fs = std::filesystem;

// A failure while making a backup: an I/O error or a full disk is the backup's (BACKUP_FAILED,
// not the live store's STORE_UNAVAILABLE: the store itself is untouched); the rest as FromRocks.
absl::Status BackupFailure(const rocksdb::Status& status, absl::string_view what) {
  if (status.IsIOError() || status.IsNoSpace() || status.IsBusy() || status.IsTimedOut() ||
      status.IsTryAgain()) {
    return errors::Refusal(absl::StatusCode::kUnavailable, v1::BACKUP_FAILED,
                           absl::StrCat(what, ": ", status.ToString(),
                                        "; nothing of the store changed and no backup was kept: "
                                        "fix the backup folder's disk, then back up again"));
  }
  return FromRocks(status, what);
}

// The environment a backup folder's files are read and written through: the store's encryption
// under the data key in `key_folder`'s DATA_KEY, or the machine's own for an unencrypted store.
struct BackupEnv {
  std::unique_ptr<rocksdb::Env> env;
  rocksdb::Env* get() const { return env != nullptr ? env.get() : rocksdb::Env::Default(); }
};

absl::StatusOr<BackupEnv> EnvFor(const std::string& key_folder,
                                 const std::string& master_key_file) {
  BackupEnv result;
  if (master_key_file.empty()) {
    if (HoldsDataKey(key_folder)) {
      return absl::FailedPreconditionError(absl::StrCat(
          key_folder, " holds an encrypted store's backups: give the store's master key file"));
    }
    return result;
  }
  absl::StatusOr<StoreKey> master_key = ReadMasterKeyFile(master_key_file);
  if (!master_key.ok()) return master_key.status();
  absl::StatusOr<StoreKey> data_key =
      OpenDataKey(key_folder, *master_key, /*create_if_missing=*/false);
  if (!data_key.ok()) return data_key.status();
  absl::StatusOr<std::shared_ptr<AesCtrEncryptionProvider>> provider =
      AesCtrEncryptionProvider::Create(data_key->bytes());
  if (!provider.ok()) return provider.status();
  result.env =
      rocksdb::NewCompositeEnv(rocksdb::NewEncryptedFS(rocksdb::FileSystem::Default(), *provider));
  return result;
}

absl::StatusOr<std::unique_ptr<rocksdb::BackupEngineReadOnly>> OpenForReading(
    const std::string& backup_folder, rocksdb::Env* env) {
  rocksdb::BackupEngineOptions options = BackupEngineOptionsFor(backup_folder, env);
  rocksdb::BackupEngineReadOnly* engine = nullptr;
  rocksdb::IOStatus opened = rocksdb::BackupEngineReadOnly::Open(options, env, &engine);
  if (!opened.ok()) return FromRocks(opened, "opening the backup folder");
  return std::unique_ptr<rocksdb::BackupEngineReadOnly>(engine);
}

BackupSummary SummaryOf(const rocksdb::BackupInfo& info) {
  return BackupSummary{.id = info.backup_id,
                       .made_at_unix_seconds = info.timestamp,
                       .bytes = info.size,
                       .files = info.number_files};
}

// Every child identifier a store's files show as issued: its children, the children merged away
// and the identifiers reserved before, and every child its audit log names.
absl::StatusOr<std::set<std::string>> IssuedIdentifiersIn(const std::string& data_folder,
                                                          rocksdb::Env* env) {
  rocksdb::DBOptions db_options;
  db_options.env = env;
  std::vector<std::string> names;
  rocksdb::Status listed = rocksdb::DB::ListColumnFamilies(db_options, data_folder, &names);
  if (!listed.ok()) return FromRocks(listed, "listing a restored backup's column families");
  std::vector<rocksdb::ColumnFamilyDescriptor> descriptors;
  for (const std::string& name : names)
    descriptors.emplace_back(name, rocksdb::ColumnFamilyOptions());
  std::vector<rocksdb::ColumnFamilyHandle*> handles;
  rocksdb::DB* raw = nullptr;
  rocksdb::Status opened =
      rocksdb::DB::OpenForReadOnly(db_options, data_folder, descriptors, &handles, &raw);
  if (!opened.ok()) return FromRocks(opened, "opening a restored backup to read it");
  std::unique_ptr<rocksdb::DB> db(raw);
  std::set<std::string> issued;
  absl::Status failure;
  for (size_t i = 0; i < names.size(); ++i) {
    std::unique_ptr<rocksdb::Iterator> it(db->NewIterator(rocksdb::ReadOptions(), handles[i]));
    for (it->SeekToFirst(); it->Valid(); it->Next()) {
      const rocksdb::Slice key = it->key();
      if (names[i] == ColumnFamilyName(ColumnFamily::kChildren)) {
        issued.insert(key.ToString());
      } else if (names[i] == ColumnFamilyName(ColumnFamily::kIdentifiers) && key.size() > 1 &&
                 (key[0] == static_cast<char>(IndexKind::kRetiredChildId) ||
                  key[0] == static_cast<char>(IndexKind::kReservedChildId))) {
        issued.insert(std::string(key.data() + 1, key.size() - 1));
      } else if (names[i] == ColumnFamilyName(ColumnFamily::kAuditLog)) {
        v1::AuditEntry entry;
        if (!entry.ParseFromArray(it->value().data(), static_cast<int>(it->value().size()))) {
          continue;  // `cir audit verify` is what judges the log; here only its names count
        }
        for (const std::string& id : entry.child_ids()) issued.insert(id);
        for (const std::string& id : entry.withheld_child_ids()) issued.insert(id);
      }
    }
    failure.Update(FromRocks(it->status(), "reading a restored backup"));
  }
  for (rocksdb::ColumnFamilyHandle* handle : handles) db->DestroyColumnFamilyHandle(handle);
  if (!failure.ok()) return failure;
  return issued;
}

// Puts `from_folder`'s DATA_KEY in `to_folder` unless the same bytes are there: through a
// temporary file, synced and renamed into place, the folder synced, so that a crash leaves the
// old key or the new one, never a torn file (the key of every backup in the folder).
absl::Status CopyDataKey(const std::string& from_folder, const std::string& to_folder) {
  const fs::path from = fs::path(from_folder) / kDataKeyFileName;
  const fs::path to = fs::path(to_folder) / kDataKeyFileName;
  auto read = [](const fs::path& path) {
    std::ifstream in(path, std::ios::binary);
    return std::string(std::istreambuf_iterator<char>(in), {});
  };
  const std::string bytes = read(from);
  if (bytes.empty()) {
    return absl::FailedPreconditionError(absl::StrCat("cannot read ", from.string()));
  }
  std::error_code error;
  if (fs::exists(to, error) && read(to) == bytes) return absl::OkStatus();
  const std::string temporary = to.string() + ".new";
  const int fd = ::open(temporary.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);
  bool written = fd >= 0 &&
                 ::write(fd, bytes.data(), bytes.size()) == static_cast<ssize_t>(bytes.size()) &&
                 ::fsync(fd) == 0;
  if (fd >= 0) written = ::close(fd) == 0 && written;
  if (written) written = ::rename(temporary.c_str(), to.c_str()) == 0;
  if (written) {
    const int folder = ::open(to_folder.c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC);
    written = folder >= 0 && ::fsync(folder) == 0;
    if (folder >= 0) ::close(folder);
  }
  if (!written) {
    ::unlink(temporary.c_str());
    return absl::FailedPreconditionError(
        absl::StrCat("cannot write the data key into ", to_folder));
  }
  return absl::OkStatus();
}

// Restores backup `id` into the new folder `data_folder` (with its DATA_KEY, if encrypted).
absl::Status RestoreInto(rocksdb::BackupEngineReadOnly& engine, uint32_t id,
                         const std::string& backup_folder, const std::string& data_folder,
                         bool encrypted) {
  std::error_code error;
  fs::create_directories(data_folder, error);
  if (error) {
    return absl::FailedPreconditionError(
        absl::StrCat("cannot make ", data_folder, ": ", error.message()));
  }
  fs::permissions(data_folder, fs::perms::owner_all, error);
  // The engine empties the folder before it restores: the data key goes in after.
  rocksdb::IOStatus restored = [&] {
    BackupCopyHandOff hand_off;
    return engine.RestoreDBFromBackup(id, data_folder, data_folder);
  }();
  if (!restored.ok()) return FromRocks(restored, absl::StrCat("restoring backup ", id));
  if (encrypted) return CopyDataKey(backup_folder, data_folder);
  return absl::OkStatus();
}

// The refusal of a backup into a folder that cannot take it.
absl::Status Unusable(std::string message) {
  return errors::Refusal(absl::StatusCode::kFailedPrecondition, v1::BACKUP_NOT_CONFIGURED,
                         std::move(message));
}

}  // namespace

rocksdb::BackupEngineOptions BackupEngineOptionsFor(const std::string& backup_folder,
                                                    rocksdb::Env* env) {
  rocksdb::BackupEngineOptions options((fs::path(backup_folder) / "rocksdb").string(), env);
  options.share_table_files = true;  // incremental: each table file kept once
  options.share_files_with_checksum = true;
  options.sync = true;
  options.backup_log_files = true;  // the write-ahead log too: no flush needed first
  options.info_log = nullptr;
  options.max_background_operations = 1;
  return options;
}

absl::StatusOr<BackupSummary> BackUpDatabase(
    rocksdb::DB& db, const std::string& data_folder, const std::string& backup_folder,
    const std::function<void(rocksdb::BackupEngine*)>& running) {
  std::error_code error;
  const fs::path data = fs::weakly_canonical(data_folder, error);
  const fs::path backups = fs::weakly_canonical(backup_folder, error);
  if (error ||
      std::mismatch(data.begin(), data.end(), backups.begin(), backups.end()).first == data.end()) {
    return Unusable(absl::StrCat("the backup folder ", backup_folder, " is inside the data folder ",
                                 data_folder, ": keep backups apart from the store they save"));
  }
  fs::create_directories(backups, error);
  if (error) {
    return Unusable(
        absl::StrCat("cannot make the backup folder ", backup_folder, ": ", error.message()));
  }
  fs::permissions(backups, fs::perms::owner_all, error);
  // The data key goes with the backups; a folder of another store's backups is refused.
  const bool encrypted = HoldsDataKey(data_folder);
  if (encrypted != HoldsDataKey(backup_folder) && !fs::is_empty(backups, error)) {
    return Unusable(absl::StrCat(backup_folder, " holds backups of ",
                                 encrypted ? "an unencrypted" : "an encrypted",
                                 " store, not of this one: give an empty or new folder"));
  }
  if (encrypted) {
    absl::StatusOr<std::string> ours = DataKeyId(data_folder);
    if (!ours.ok()) return ours.status();
    if (HoldsDataKey(backup_folder)) {
      absl::StatusOr<std::string> theirs = DataKeyId(backup_folder);
      if (!theirs.ok()) return theirs.status();
      if (*theirs != *ours) {
        return Unusable(
            absl::StrCat(backup_folder,
                         " holds backups of another store (another data key): give an empty "
                         "or new folder"));
      }
    }
    if (absl::Status copied = CopyDataKey(data_folder, backup_folder); !copied.ok()) return copied;
  }

  rocksdb::BackupEngine* raw = nullptr;
  rocksdb::IOStatus opened = rocksdb::BackupEngine::Open(
      BackupEngineOptionsFor(backup_folder, db.GetEnv()), db.GetEnv(), &raw);
  if (!opened.ok()) return BackupFailure(opened, "opening the backup folder");
  std::unique_ptr<rocksdb::BackupEngine> engine(raw);
  std::vector<rocksdb::BackupInfo> before;
  engine->GetBackupInfo(&before, /*include_file_details=*/true);
  std::set<std::string> kept;
  for (const rocksdb::BackupInfo& info : before) {
    for (const rocksdb::BackupFileInfo& file : info.file_details)
      kept.insert(file.relative_filename);
  }
  rocksdb::BackupID id = 0;
  rocksdb::IOStatus made = [&] {
    BackupCopyHandOff hand_off;
    return engine->CreateNewBackup(rocksdb::CreateBackupOptions(), &db, &id);
  }();
  if (!made.ok()) {
    engine->GarbageCollect().PermitUncheckedError();  // the partial backup's files
    return BackupFailure(made, "making a backup");
  }
  rocksdb::IOStatus verified = engine->VerifyBackup(id, /*verify_with_checksum=*/true);
  if (!verified.ok()) {
    return errors::Refusal(
        absl::StatusCode::kDataLoss, v1::BACKUP_NOT_VERIFIED,
        absl::StrCat("backup ", id, " does not verify after writing (", verified.ToString(),
                     "); it is kept for inspection: check the backup folder's disk, then back "
                     "up again"));
  }
  rocksdb::BackupInfo info;
  rocksdb::Status described = engine->GetBackupInfo(id, &info, /*include_file_details=*/true);
  if (!described.ok()) return BackupFailure(described, "describing the new backup");
  BackupSummary summary = SummaryOf(info);
  for (const rocksdb::BackupFileInfo& file : info.file_details) {
    if (!kept.count(file.relative_filename)) summary.new_bytes += file.size;
  }
  return summary;
}

absl::StatusOr<std::vector<BackupSummary>> VerifyBackups(const std::string& backup_folder,
                                                         const std::string& master_key_file) {
  absl::StatusOr<BackupEnv> env = EnvFor(backup_folder, master_key_file);
  if (!env.ok()) return env.status();
  absl::StatusOr<std::unique_ptr<rocksdb::BackupEngineReadOnly>> engine =
      OpenForReading(backup_folder, env->get());
  if (!engine.ok()) return engine.status();
  std::vector<rocksdb::BackupInfo> infos;
  (*engine)->GetBackupInfo(&infos);
  if (infos.empty()) {
    return absl::FailedPreconditionError(absl::StrCat(backup_folder, " holds no backup"));
  }
  std::vector<rocksdb::BackupID> corrupt;
  (*engine)->GetCorruptedBackups(&corrupt);
  if (!corrupt.empty()) {
    return absl::DataLossError(absl::StrCat("backup ", corrupt.front(), " in ", backup_folder,
                                            " is damaged (a file is missing or its metadata "
                                            "does not read)"));
  }
  std::vector<BackupSummary> summaries;
  for (const rocksdb::BackupInfo& info : infos) {
    rocksdb::IOStatus verified =
        (*engine)->VerifyBackup(info.backup_id, /*verify_with_checksum=*/true);
    if (!verified.ok()) {
      return absl::DataLossError(absl::StrCat("backup ", info.backup_id, " in ", backup_folder,
                                              " does not verify: ", verified.ToString()));
    }
    summaries.push_back(SummaryOf(info));
  }
  return summaries;
}

// Reserves in the (closed) store in `data_folder` each of `issued` it does not hold as a child or
// a retired identifier; returns how many it reserved.
absl::StatusOr<size_t> ReserveIssued(const std::string& data_folder,
                                     const std::string& master_key_file,
                                     const std::set<std::string>& issued);

absl::StatusOr<size_t> RestoreBackup(const RestoreRequest& request) {
  // Every identifier given must be one: a list that cannot be read whole protects nothing.
  std::vector<std::string> given;
  for (size_t i = 0; i < request.issued_identifiers.size(); ++i) {
    absl::StatusOr<std::string> id = identifiers::ParseChildId(request.issued_identifiers[i]);
    if (!id.ok()) {
      return absl::InvalidArgumentError(
          absl::StrCat("issued identifier ", i + 1, " (\"", request.issued_identifiers[i],
                       "\") is not a child identifier: ", id.status().message(),
                       "; correct the list, nothing was restored"));
    }
    given.push_back(*std::move(id));
  }
  std::error_code error;
  if (fs::exists(fs::path(request.data_folder) / "CURRENT", error) ||
      (fs::exists(request.data_folder, error) && !fs::is_empty(request.data_folder, error))) {
    return absl::FailedPreconditionError(absl::StrCat(
        request.data_folder, " is not empty: a backup is restored into a new folder only"));
  }
  absl::StatusOr<std::vector<BackupSummary>> backups =
      VerifyBackups(request.backup_folder, request.master_key_file);
  if (!backups.ok()) return backups.status();
  const uint32_t id = request.backup_id == 0 ? backups->back().id : request.backup_id;
  if (std::none_of(backups->begin(), backups->end(),
                   [id](const BackupSummary& b) { return b.id == id; })) {
    return absl::NotFoundError(absl::StrCat("no backup ", id, " in ", request.backup_folder));
  }
  absl::StatusOr<BackupEnv> env = EnvFor(request.backup_folder, request.master_key_file);
  if (!env.ok()) return env.status();
  absl::StatusOr<std::unique_ptr<rocksdb::BackupEngineReadOnly>> engine =
      OpenForReading(request.backup_folder, env->get());
  if (!engine.ok()) return engine.status();
  const bool encrypted = !request.master_key_file.empty();

  // What later backups show as issued, each restored aside and read.
  std::set<std::string> issued(given.begin(), given.end());
  for (const BackupSummary& later : *backups) {
    if (later.id <= id) continue;
    const std::string aside = absl::StrCat(request.data_folder, ".backup-", later.id, ".reading");
    fs::remove_all(aside, error);
    absl::Status restored =
        RestoreInto(**engine, later.id, request.backup_folder, aside, encrypted);
    absl::StatusOr<std::set<std::string>> names =
        restored.ok() ? IssuedIdentifiersIn(aside, env->get())
                      : absl::StatusOr<std::set<std::string>>(restored);
    fs::remove_all(aside, error);
    if (!names.ok()) return names.status();
    issued.insert(names->begin(), names->end());
  }

  // Restored and reserved in a folder beside the new one, which takes its name only once both
  // are done: a restore that fails or is interrupted leaves no store the registry would start on
  // without its reservations.
  const std::string staging = absl::StrCat(request.data_folder, ".restoring");
  fs::remove_all(staging, error);
  if (absl::Status restored = RestoreInto(**engine, id, request.backup_folder, staging, encrypted);
      !restored.ok()) {
    fs::remove_all(staging, error);
    return restored;
  }
  absl::StatusOr<size_t> reserved = ReserveIssued(staging, request.master_key_file, issued);
  if (!reserved.ok()) {
    fs::remove_all(staging, error);
    return reserved.status();
  }
  fs::remove(request.data_folder, error);  // the empty folder, if the operator made it
  fs::rename(staging, request.data_folder, error);
  if (error) {
    return absl::FailedPreconditionError(absl::StrCat("cannot move the restored store from ",
                                                      staging, " to ", request.data_folder, ": ",
                                                      error.message()));
  }
  return reserved;
}

absl::StatusOr<size_t> ReserveIssued(const std::string& data_folder,
                                     const std::string& master_key_file,
                                     const std::set<std::string>& issued) {
  const bool encrypted = !master_key_file.empty();
  RocksDbStoreOptions options;
  options.path = data_folder;
  if (encrypted) options.encryption = StoreEncryption{.master_key_file = master_key_file};
  absl::StatusOr<std::unique_ptr<ChildStore>> store = RocksDbChildStore::Open(options);
  if (!store.ok()) return store.status();
  std::vector<std::string> to_reserve;
  for (const std::string& child_id : issued) {
    if (child_id.size() != kAuditChildIdBytes) continue;  // not a child identifier
    to_reserve.push_back(child_id);
  }
  std::promise<absl::StatusOr<size_t>> reserved;
  size_t count = 0;
  (*store)->Submit(
      [&to_reserve, &count](WriteTxn& txn) -> absl::Status {
        count = 0;
        for (const std::string& child_id : to_reserve) {
          absl::StatusOr<std::optional<StoredChild>> child = txn.GetChild(child_id);
          if (!child.ok()) return child.status();
          if (child->has_value()) continue;
          absl::StatusOr<std::optional<IndexEntry>> retired =
              txn.Lookup(IndexKind::kRetiredChildId, child_id);
          if (!retired.ok()) return retired.status();
          if (retired->has_value()) continue;
          if (absl::Status put = txn.PutIndex(IndexKind::kReservedChildId, child_id,
                                              IndexEntry{.child_id = child_id});
              !put.ok()) {
            return put;
          }
          ++count;
        }
        return absl::OkStatus();
      },
      [&reserved, &count](absl::Status done) {
        if (done.ok()) {
          reserved.set_value(count);
        } else {
          reserved.set_value(done);
        }
      });
  return reserved.get_future().get();
}

}  // namespace cir::storage
