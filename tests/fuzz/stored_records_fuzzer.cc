// Fuzzes what the store reads from disk, each through the code that reads it: the first byte of
// the input picks what the rest is.
//
//   first byte % 8:
//   0 a StoredChild's bytes: the record of a child, written to a real store (tests/fuzz/
//     fuzz_store.h) and read back by the registry's Resolve and BatchResolve (every view), by its
//     identifier, its NHS number and its UPN
//   1 an identifier index entry's bytes, under an NHS number and a retired child identifier, read
//     back by Resolve and BatchResolve
//   2 a byte, then a StoredRequest's bytes: a life event's recorded request, answered from by
//     AnswerRepeat for a retry of the very request (bit 3 of the byte set) or another request
//     with its id, its response read as the response of the life event the byte picks (% 7)
//   3 a StoredFeedEvent's bytes: appended to local authority 938's feed and read back by the
//     feed's reader (a page, and a stream's first read)
//   4 a store of an earlier schema version: its version's bytes, a child record, an event of the
//     log and a schema version 1 notification entry, each as the input gives it, migrated forward
//     by MigrateSchema (storage/schema_migrations.h), on a raw RocksDB database kept in memory
//   5 a data key file (DATA_KEY, storage/store_keys.h), read with the master key by OpenDataKey:
//     the input's bytes as they are, or a valid file with the input's bytes XORed into it
//   6 an encrypted file's prefix (storage/aes_ctr_encryption.h), read by CreateCipherStream,
//     whose stream then encrypts and decrypts a plaintext: the input's bytes as they are, or a
//     valid prefix with the input's bytes XORed into it
//   7 a byte, then an AuditEntry's bytes (bit 0 of the byte clear) or an AuditCheckpoint's (set):
//     appended to the store's audit log, or kept as a checkpoint, and read back: the entry as the
//     leaf it became, under each child it names, and proved included in the tree's new root
// (4, 5 and 6 lay their inputs out as the comments above their functions say.)
//
// Beyond not crashing or hanging: every parsed record serialises back to itself; a refusal the
// registry makes of what it read carries a reason (errors/refusal.h); each decoder accepts what
// its layout allows and refuses the rest with the codes its header documents: DATA_LOSS for a
// damaged record or file, FAILED_PRECONDITION for a newer schema or format, PERMISSION_DENIED for
// a data key wrapped under another master key; a valid file opens, and a cipher stream decrypts
// what it encrypts.

#include <algorithm>
#include <cstddef>
#include <cstdint>
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <iterator>
#include <memory>
#include <optional>
#include <string>
#include <utility>
#include <vector>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/string_view.h"
#include "audit/merkle_tree.h"
#include "cir/v1/registry.pb.h"
#include "errors/refusal.h"
#include "feed/feed_cursor.h"
#include "feed/feed_reader.h"
#include "google/protobuf/message.h"
#include "google/protobuf/util/message_differencer.h"
#include "identifiers/child_id.h"
#include "registry/record_mapping.h"
#include "registry/record_scope.h"
#include "registry/registry.h"
#include "registry/request_record.h"
#include "rocksdb/db.h"
#include "rocksdb/env.h"
#include "storage/aes_ctr_encryption.h"
#include "storage/audit_log_store.h"
#include "storage/centre_view.h"
#include "storage/child_store.h"
#include "storage/key_codec.h"
#include "storage/schema_migrations.h"
#include "storage/store_keys.h"
#include "storage/stored_records.pb.h"
#include "tests/fuzz/fuzz_check.h"
#include "tests/fuzz/fuzz_store.h"

namespace cir::fuzz {
namespace {

using google::protobuf::Message;
using google::protobuf::util::MessageDifferencer;

// Valid child identifiers the inputs' records are stored under: a child's record, and a retired
// identifier that has none.
constexpr char kRecordKey[] = "KDMX4PARTWE";
constexpr char kRetiredKey[] = "RETRDCHLDAM";
// The NHS number and UPN that resolve to kRecordKey's record, and the NHS number whose index
// entry is the input's.
constexpr char kRecordNhsNumber[] = "9990000018";
constexpr char kRecordUpn[] = "B801200005001";
constexpr char kEntryNhsNumber[] = "9990000026";
// The request id a recorded request is stored under.
constexpr char kRequestId[] = "fuzz-request";

// Parses `bytes` as `message`, and checks that what parses serialises back to the same message.
bool ParseStored(absl::string_view bytes, Message& message) {
  if (!message.ParseFromArray(bytes.data(), static_cast<int>(bytes.size()))) return false;
  std::unique_ptr<Message> again(message.New());
  CIR_FUZZ_CHECK(again->ParseFromString(message.SerializeAsString()),
                 message.GetDescriptor()->full_name());
  CIR_FUZZ_CHECK(MessageDifferencer::Equals(message, *again), message.ShortDebugString());
  return true;
}

// A refusal of the registry's, of a record it read: it says why.
void CheckReasoned(const absl::Status& status, const std::string& context) {
  if (status.ok()) return;
  CIR_FUZZ_CHECK(errors::ReasonOf(status) != v1::ERROR_REASON_UNSPECIFIED,
                 absl::StrCat(status.ToString(), "\n  ", context));
  CIR_FUZZ_CHECK(status.code() != absl::StatusCode::kUnknown, status.ToString());
}

// Resolves each of `identifiers` alone, then all together in every view.
void ResolveEach(const std::vector<std::string>& identifiers, const std::string& context) {
  registry::Registry& registry = *SharedStore().registry;
  for (const std::string& identifier : identifiers) {
    v1::ResolveRequest request;
    request.set_identifier(identifier);
    absl::StatusOr<v1::ResolveResponse> resolved = registry.Resolve(request);
    CheckReasoned(resolved.status(), context);
  }
  for (v1::RecordView view :
       {v1::RECORD_VIEW_FULL, v1::RECORD_VIEW_IDENTIFIERS, v1::RECORD_VIEW_CHILD_ID}) {
    v1::BatchResolveRequest request;
    for (const std::string& identifier : identifiers) request.add_identifiers(identifier);
    request.set_view(view);
    absl::StatusOr<v1::BatchResolveResponse> resolved = registry.BatchResolve(request);
    CheckReasoned(resolved.status(), context);
    if (resolved.ok()) {
      CIR_FUZZ_CHECK(resolved->results_size() == request.identifiers_size(), context);
    }
  }
}

void WriteOrDie(storage::WriteWork work) {
  const absl::Status written = RunUnit(*SharedStore().store, std::move(work));
  CIR_FUZZ_CHECK(written.ok(), written.ToString());
}

// ---- 0: a child's record ---------------------------------------------------------------------

void StoredChildRecord(absl::string_view bytes) {
  storage::StoredChild child;
  if (!ParseStored(bytes, child)) return;
  const std::string context = absl::StrCat("the record ", child.ShortDebugString());

  // What reads a record: its public views, a centre's view, the reach of a change.
  v1::ChildRecord record;
  registry::ToChildRecord(child, &record);
  CIR_FUZZ_CHECK(record.child_id() == child.child_id(), context);
  v1::ChildRecord identifiers_only;
  registry::ToChildIdentifiers(child, &identifiers_only);
  CIR_FUZZ_CHECK(identifiers_only.child_id() == child.child_id(), context);
  registry::BirthOrderOf(child);
  storage::CentreViewOf(child);
  registry::RecordScope::Everywhere().Reaches(child);
  registry::RecordScope{.local_authorities = {child.local_authority()}}.Reaches(child);
  if (!child.notifications().empty()) {
    registry::RecordScope{.notifying_systems = {child.notifications(0).notifying_system()}}.Reaches(
        child);
  }

  // Stored under its own identifier when that is one, else under kRecordKey; the NHS number and
  // UPN kept for it resolve to it, whatever the record says its own are.
  absl::StatusOr<std::string> own = identifiers::ParseChildId(child.child_id());
  if (!own.ok() || *own != child.child_id()) child.set_child_id(kRecordKey);
  const std::string key = child.child_id();
  WriteOrDie([&child, &key](storage::WriteTxn& txn) {
    absl::Status s = txn.PutChild(child);
    if (s.ok()) s = txn.PutIndex(storage::IndexKind::kNhsNumber, kRecordNhsNumber, {key, ""});
    if (s.ok()) s = txn.PutIndex(storage::IndexKind::kUpn, kRecordUpn, {key, ""});
    return s;
  });
  ResolveEach({key, kRecordNhsNumber, kRecordUpn}, context);
}

// ---- 1: an index entry -----------------------------------------------------------------------

void StoredIndexEntry(absl::string_view bytes) {
  // Encoded as the child identifier's bytes then the fingerprint's: stored as the input's bytes.
  const storage::IndexEntry entry{
      std::string(bytes.substr(0, storage::kIndexChildIdBytes)),
      std::string(bytes.substr(std::min(bytes.size(), storage::kIndexChildIdBytes)))};
  CIR_FUZZ_CHECK(storage::EncodeIndexEntry(entry) == bytes, Printable(bytes));
  const std::optional<storage::IndexEntry> decoded = storage::DecodeIndexEntry(bytes);
  if (decoded.has_value()) CIR_FUZZ_CHECK(*decoded == entry, Printable(bytes));

  WriteOrDie([&entry](storage::WriteTxn& txn) {
    absl::Status s = txn.PutIndex(storage::IndexKind::kNhsNumber, kEntryNhsNumber, entry);
    if (s.ok()) s = txn.PutIndex(storage::IndexKind::kRetiredChildId, kRetiredKey, entry);
    return s;
  });
  ResolveEach({kEntryNhsNumber, kRetiredKey}, absl::StrCat("the entry \"", Printable(bytes), "\""));
}

// ---- 2: a recorded request -------------------------------------------------------------------

std::unique_ptr<Message> LifeEventResponse(uint8_t pick) {
  switch (pick % 7) {
    case 0:
      return std::make_unique<v1::RecordDeathResponse>();
    case 1:
      return std::make_unique<v1::ChangeAddressResponse>();
    case 2:
      return std::make_unique<v1::CorrectDetailsResponse>();
    case 3:
      return std::make_unique<v1::SupersedeNhsNumberResponse>();
    case 4:
      return std::make_unique<v1::MergeRecordsResponse>();
    case 5:
      return std::make_unique<v1::UndoMergeResponse>();
    default:
      return std::make_unique<v1::RestrictSharingResponse>();
  }
}

void StoredRequestRecord(absl::string_view input) {
  if (input.empty()) return;
  const uint8_t pick = static_cast<uint8_t>(input[0]);
  storage::StoredRequest stored;
  if (!ParseStored(input.substr(1), stored)) return;
  std::unique_ptr<Message> response = LifeEventResponse(pick);
  // A retry of the very request recorded (bit 3 of `pick`), or another request with its id.
  const bool same_request = (pick & 8) != 0;
  const registry::RequestKey key =
      same_request ? registry::RequestKey{stored.method(), kRequestId, stored.fingerprint()}
                   : registry::KeyOf("RecordDeath", "", kRequestId, v1::RecordDeathRequest());
  absl::StatusOr<bool> answered = false;
  // The unit refuses after answering, so that nothing of it is written.
  const absl::Status unit =
      RunUnit(*SharedStore().store, [&](storage::WriteTxn& txn) -> absl::Status {
        if (absl::Status put = txn.PutRequest(kRequestId, stored); !put.ok()) return put;
        answered = registry::AnswerRepeat(txn, key, *response);
        return absl::CancelledError("a fuzzed unit is never written");
      });
  CIR_FUZZ_CHECK(absl::IsCancelled(unit), unit.ToString());
  const std::string context = absl::StrCat("the request ", stored.ShortDebugString());
  const bool same = stored.method() == key.method && stored.fingerprint() == key.fingerprint;
  if (!same) {
    CIR_FUZZ_CHECK(absl::IsAlreadyExists(answered.status()), context);
  } else if (answered.ok()) {
    CIR_FUZZ_CHECK(*answered, context);
  } else {
    CIR_FUZZ_CHECK(absl::IsDataLoss(answered.status()), answered.status().ToString());
  }
  CheckReasoned(answered.status(), context);
}

// ---- 3: a feed event -------------------------------------------------------------------------

void StoredFeedEventRecord(absl::string_view bytes) {
  storage::StoredFeedEvent event;
  if (!ParseStored(bytes, event)) return;
  // The store keys each feed by its area, which the registry always gives in its canonical form;
  // the store sets the sequences and times itself.
  event.set_local_authority("938");
  storage::StoredEvent logged;
  logged.set_kind(storage::EVENT_KIND_ADDRESS_CHANGED);
  logged.set_child_id(event.child_id());
  logged.set_local_authority("938");
  WriteOrDie([&](storage::WriteTxn& txn) { return txn.AppendEvent(logged, {event}); });
  const std::string context = absl::StrCat("the feed event ", event.ShortDebugString());

  storage::ChildStore& store = *SharedStore().store;
  const uint64_t head = store.AreaHeads({"938"})[0];
  CIR_FUZZ_CHECK(head >= 1, context);
  feed::FeedReader reader(store);
  feed::FeedRequest request;
  request.areas = {"938"};
  request.start.kind = feed::FeedStart::Kind::kAfterCursor;
  request.start.cursor = {{"938", head - 1}};
  request.page_size = 10;
  absl::StatusOr<v1::ListEventsResponse> page = reader.List(request);
  CheckReasoned(page.status(), context);
  if (page.ok()) {
    CIR_FUZZ_CHECK(page->events_size() == 1,
                   absl::StrCat(context, "\n  page: ", page->ShortDebugString()));
    absl::StatusOr<feed::FeedPositions> next = feed::DecodeCursor(page->next_cursor());
    CIR_FUZZ_CHECK(next.ok() && next->count("938") == 1 && next->find("938")->second == head,
                   page->next_cursor());
  }
  std::vector<storage::AreaPosition> positions = {{"938", head - 1}};
  absl::StatusOr<feed::FeedReader::Batch> batch = reader.ReadNext(positions, 10);
  CheckReasoned(batch.status(), context);
  if (batch.ok()) {
    CIR_FUZZ_CHECK(batch->events.size() == 1 && positions[0].after_sequence == head, context);
  }
}

// ---- 4: a store of an earlier schema version -------------------------------------------------

// A raw database with every column family, in memory, emptied before each input and made anew
// every kRawStoreUses inputs: the migration's range deletions would otherwise pile up in its
// memtables, and every read fragments them all again.
struct RawStore {
  std::unique_ptr<rocksdb::Env> env;
  rocksdb::DB* db = nullptr;
  std::vector<rocksdb::ColumnFamilyHandle*> families;  // by ColumnFamily

  ~RawStore() {
    for (rocksdb::ColumnFamilyHandle* family : families) db->DestroyColumnFamilyHandle(family);
    delete db;
  }
};
constexpr int kRawStoreUses = 256;

std::unique_ptr<RawStore> MakeRawStore() {
  auto made = std::make_unique<RawStore>();
  made->env.reset(rocksdb::NewMemEnv(rocksdb::Env::Default()));
  rocksdb::DBOptions options;
  options.env = made->env.get();
  options.create_if_missing = true;
  options.create_missing_column_families = true;
  std::vector<rocksdb::ColumnFamilyDescriptor> descriptors;
  for (int i = 0; i < storage::kColumnFamilyCount; ++i) {
    descriptors.emplace_back(
        std::string(storage::ColumnFamilyName(static_cast<storage::ColumnFamily>(i))),
        rocksdb::ColumnFamilyOptions());
  }
  const rocksdb::Status opened =
      rocksdb::DB::Open(options, "/migrations", descriptors, &made->families, &made->db);
  CIR_FUZZ_CHECK(opened.ok(), opened.ToString());
  return made;
}

RawStore& Raw() {
  static std::unique_ptr<RawStore>* raw = new std::unique_ptr<RawStore>();
  static int uses = 0;
  if (*raw == nullptr || ++uses % kRawStoreUses == 0) {
    raw->reset();
    *raw = MakeRawStore();
  }
  return **raw;
}

void EmptyRawStore(RawStore& raw) {
  rocksdb::WriteBatch batch;
  for (rocksdb::ColumnFamilyHandle* family : raw.families) {
    std::unique_ptr<rocksdb::Iterator> it(raw.db->NewIterator(rocksdb::ReadOptions(), family));
    for (it->SeekToFirst(); it->Valid(); it->Next()) batch.Delete(family, it->key());
    CIR_FUZZ_CHECK(it->status().ok(), it->status().ToString());
  }
  const rocksdb::Status emptied = raw.db->Write(rocksdb::WriteOptions(), &batch);
  CIR_FUZZ_CHECK(emptied.ok(), emptied.ToString());
}

// Reads an input front to back: what is missing reads as empty.
class InputReader {
 public:
  explicit InputReader(absl::string_view input) : rest_(input) {}

  uint8_t Byte() {
    if (rest_.empty()) return 0;
    const uint8_t byte = static_cast<uint8_t>(rest_[0]);
    rest_.remove_prefix(1);
    return byte;
  }
  // A big-endian number of `bytes` bytes.
  uint64_t Number(int bytes) {
    uint64_t value = 0;
    for (int i = 0; i < bytes; ++i) value = (value << 8) | Byte();
    return value;
  }
  std::string Bytes(size_t count) {
    const absl::string_view taken = rest_.substr(0, count);
    rest_.remove_prefix(taken.size());
    return std::string(taken);
  }
  // A string after its length (two bytes, big-endian).
  std::string LengthPrefixed() { return Bytes(Number(2)); }
  std::string Rest() { return Bytes(rest_.size()); }

 private:
  absl::string_view rest_;
};

//   input    := version child event notification entry
//   version  := pick (1 byte, % 8): 0-5 that number, 6 then length (1 byte) bytes, 7 none
//   child, event, notification := length (2 bytes, big-endian) bytes
//   entry    := the rest (the notification's index entry)
void EarlierSchema(absl::string_view input) {
  InputReader in(input);
  std::optional<std::string> version;
  const int pick = in.Byte() % 8;
  if (pick <= 5) {
    version = storage::EncodeFixed32BigEndian(static_cast<uint32_t>(pick));
  } else if (pick == 6) {
    version = in.Bytes(in.Byte());
  }
  const std::string child = in.LengthPrefixed();
  const std::string event = in.LengthPrefixed();
  const std::string legacy_id = in.LengthPrefixed();
  const std::string legacy_entry = in.Rest();
  const std::string context =
      absl::StrCat("version \"", Printable(version.value_or("(none)")), "\", child \"",
                   Printable(child), "\", event \"", Printable(event), "\", notification \"",
                   Printable(legacy_id), "\" -> \"", Printable(legacy_entry), "\"");

  // The event's child is stored under the identifier the event names, as a store keeps it.
  storage::StoredEvent parsed_event;
  std::string child_key = kRecordKey;
  if (parsed_event.ParseFromString(event) && !parsed_event.child_id().empty()) {
    child_key = parsed_event.child_id();
  }

  RawStore& raw = Raw();
  EmptyRawStore(raw);
  auto family = [&raw](storage::ColumnFamily f) { return raw.families[static_cast<int>(f)]; };
  rocksdb::WriteBatch batch;
  if (version.has_value()) {
    batch.Put(family(storage::ColumnFamily::kDefault), std::string(storage::kSchemaVersionKey),
              *version);
  }
  batch.Put(family(storage::ColumnFamily::kChildren), child_key, child);
  batch.Put(family(storage::ColumnFamily::kEvents), storage::EncodeEventKey(1), event);
  batch.Put(family(storage::ColumnFamily::kIdentifiers),
            storage::EncodeIndexKey(storage::IndexKind::kLegacyNotificationId, legacy_id),
            legacy_entry);
  const rocksdb::Status written = raw.db->Write(rocksdb::WriteOptions(), &batch);
  CIR_FUZZ_CHECK(written.ok(), written.ToString());

  // The version read as its layout says: none, unreadable, newer, or one this release reads.
  const std::optional<uint32_t> number =
      version.has_value() ? storage::DecodeFixed32BigEndian(*version) : std::nullopt;
  const bool unreadable = version.has_value() && (!number.has_value() || *number == 0);
  const bool newer = number.has_value() && *number > storage::kSchemaVersion;
  const absl::Status refused =
      storage::RefuseNewerSchema(raw.db, family(storage::ColumnFamily::kDefault));
  if (unreadable) {
    CIR_FUZZ_CHECK(absl::IsDataLoss(refused), absl::StrCat(refused.ToString(), "\n  ", context));
  } else if (newer) {
    CIR_FUZZ_CHECK(absl::IsFailedPrecondition(refused), context);
  } else {
    CIR_FUZZ_CHECK(refused.ok(), absl::StrCat(refused.ToString(), "\n  ", context));
  }

  const absl::Status migrated = storage::MigrateSchema(raw.db, raw.families, /*new_store=*/false);
  const std::string about = absl::StrCat(migrated.ToString(), "\n  ", context);
  if (!version.has_value()) {
    CIR_FUZZ_CHECK(absl::IsFailedPrecondition(migrated), about);  // a database, not a store
    return;
  }
  if (unreadable) {
    CIR_FUZZ_CHECK(absl::IsDataLoss(migrated), about);
    return;
  }
  if (newer) {
    CIR_FUZZ_CHECK(absl::IsFailedPrecondition(migrated), about);
    return;
  }
  // A record the migration reads may be damaged; nothing else may go wrong.
  CIR_FUZZ_CHECK(migrated.ok() || absl::IsDataLoss(migrated), about);
  if (!migrated.ok()) return;
  std::string stamped;
  const rocksdb::Status read =
      raw.db->Get(rocksdb::ReadOptions(), family(storage::ColumnFamily::kDefault),
                  std::string(storage::kSchemaVersionKey), &stamped);
  CIR_FUZZ_CHECK(read.ok() && storage::DecodeFixed32BigEndian(stamped) == storage::kSchemaVersion,
                 about);
}

// ---- 5: the data key file --------------------------------------------------------------------

// The master key the fuzzed data key files are read with.
storage::StoreKey MasterKey() {
  unsigned char bytes[storage::StoreKey::kBytes];
  for (size_t i = 0; i < sizeof(bytes); ++i) bytes[i] = static_cast<unsigned char>(i + 1);
  return storage::StoreKey(bytes);
}

std::string ReadFile(const std::string& path) {
  std::ifstream file(path, std::ios::binary);
  return std::string(std::istreambuf_iterator<char>(file), std::istreambuf_iterator<char>());
}

// A store's data key, made under MasterKey(), and its DATA_KEY's bytes.
struct DataKeyFile {
  std::string data_key;
  std::string bytes;
};

const DataKeyFile& ValidDataKeyFile() {
  static const DataKeyFile* made = [] {
    const std::string folder = ProcessFolder() + "/made-key";
    absl::StatusOr<storage::StoreKey> key = storage::OpenDataKey(folder, MasterKey(), true);
    CIR_FUZZ_CHECK(key.ok(), key.status().ToString());
    return new DataKeyFile{std::string(key->bytes()),
                           ReadFile(folder + "/" + storage::kDataKeyFileName)};
  }();
  return *made;
}

// `valid` with `mask` XORed into it from its start, cut to `length` bytes (or padded with the
// mask's bytes beyond it).
std::string Masked(absl::string_view valid, absl::string_view mask, size_t length) {
  std::string out(valid.substr(0, std::min(length, valid.size())));
  out.resize(length, '\0');
  for (size_t i = 0; i < mask.size() && i < out.size(); ++i) out[i] ^= mask[i];
  return out;
}

//   input := mode rest, mode % 3:
//     0  the file is rest
//     1  the file made, with rest XORed into it (rest longer than the file adds its bytes)
//     2  the file made, cut to rest's first byte's number of bytes, with the rest after it XORed
void DataKey(absl::string_view input) {
  InputReader in(input);
  const DataKeyFile& valid = ValidDataKeyFile();
  std::string bytes;
  switch (in.Byte() % 3) {
    case 0:
      bytes = in.Rest();
      break;
    case 1: {
      const std::string mask = in.Rest();
      bytes = Masked(valid.bytes, mask, std::max(valid.bytes.size(), mask.size()));
      break;
    }
    default: {
      const size_t length = in.Byte();
      bytes = Masked(valid.bytes, in.Rest(), length);
      break;
    }
  }
  static const std::string folder = [] {
    const std::string made = ProcessFolder() + "/read-key";
    std::filesystem::create_directory(made);
    return made;
  }();
  {
    std::ofstream file(folder + "/" + storage::kDataKeyFileName,
                       std::ios::binary | std::ios::trunc);
    file.write(bytes.data(), static_cast<std::streamsize>(bytes.size()));
  }
  absl::StatusOr<storage::StoreKey> opened = storage::OpenDataKey(folder, MasterKey(), false);
  const std::string context =
      absl::StrCat(opened.status().ToString(), "\n  for the file \"", Printable(bytes), "\"");
  if (opened.ok()) {
    // GCM authenticates every byte: only the file made opens, and gives its key.
    CIR_FUZZ_CHECK(bytes == valid.bytes && opened->bytes() == valid.data_key, context);
    return;
  }
  CIR_FUZZ_CHECK(absl::IsDataLoss(opened.status()) || absl::IsFailedPrecondition(opened.status()) ||
                     absl::IsPermissionDenied(opened.status()),
                 context);
  CIR_FUZZ_CHECK(bytes != valid.bytes, context);
}

// ---- 6: an encrypted file's prefix -----------------------------------------------------------

using Provider = storage::AesCtrEncryptionProvider;

struct Encryption {
  std::shared_ptr<Provider> provider;
  std::string prefix;  // a valid prefix of a file of the store
};

const Encryption& StoreEncryption() {
  static const Encryption* made = [] {
    absl::StatusOr<std::shared_ptr<Provider>> provider =
        Provider::Create(ValidDataKeyFile().data_key);
    CIR_FUZZ_CHECK(provider.ok(), provider.status().ToString());
    std::string prefix(Provider::kPrefixBytes, '\0');
    const rocksdb::Status s =
        (*provider)->CreateNewPrefix("000001.sst", prefix.data(), prefix.size());
    CIR_FUZZ_CHECK(s.ok(), s.ToString());
    return new Encryption{*std::move(provider), std::move(prefix)};
  }();
  return *made;
}

//   input := mode offset length plaintext rest
//     offset    six bytes, big-endian: where in the file the plaintext is
//     length    one byte, % 65: the plaintext's
//     mode % 3  0  the prefix is rest
//               1  a prefix made, with rest XORed into it (rest longer than it adds its bytes)
//               2  a prefix made, cut to rest's first two bytes' number (big-endian, % 4097),
//                  with the rest after them XORed into it
void EncryptedPrefix(absl::string_view input) {
  InputReader in(input);
  const Encryption& encryption = StoreEncryption();
  const int mode = in.Byte() % 3;
  const uint64_t offset = in.Number(6);
  const std::string plaintext = in.Bytes(in.Byte() % 65);
  std::string prefix;
  switch (mode) {
    case 0:
      prefix = in.Rest();
      break;
    case 1: {
      const std::string mask = in.Rest();
      prefix = Masked(encryption.prefix, mask, std::max(encryption.prefix.size(), mask.size()));
      break;
    }
    default: {
      const size_t length = in.Number(2) % (Provider::kPrefixBytes + 1);
      prefix = Masked(encryption.prefix, in.Rest(), length);
      break;
    }
  }
  // What the layout asks of a prefix: its magic and version, and the store's key check.
  const absl::string_view valid = encryption.prefix;
  constexpr size_t kMagicAndVersion = 9;
  const size_t key_check_end = Provider::kKeyCheckOffset + Provider::kKeyCheckBytes;
  const bool readable =
      prefix.size() >= key_check_end &&
      absl::string_view(prefix).substr(0, kMagicAndVersion) == valid.substr(0, kMagicAndVersion) &&
      absl::string_view(prefix).substr(Provider::kKeyCheckOffset, Provider::kKeyCheckBytes) ==
          valid.substr(Provider::kKeyCheckOffset, Provider::kKeyCheckBytes);

  rocksdb::Slice slice(prefix.data(), prefix.size());
  std::unique_ptr<rocksdb::BlockAccessCipherStream> stream;
  const rocksdb::Status created =
      encryption.provider->CreateCipherStream("000001.sst", rocksdb::EnvOptions(), slice, &stream);
  const std::string context =
      absl::StrCat(created.ToString(), "\n  for the prefix \"", Printable(prefix), "\"");
  CIR_FUZZ_CHECK(created.ok() == readable, context);
  if (!created.ok()) {
    CIR_FUZZ_CHECK(
        created.IsCorruption() || created.IsNotSupported() || created.IsInvalidArgument(), context);
    return;
  }
  CIR_FUZZ_CHECK(stream != nullptr, context);
  std::string data = plaintext;
  rocksdb::Status s = stream->Encrypt(offset, data.data(), data.size());
  CIR_FUZZ_CHECK(s.ok(), s.ToString());
  if (!plaintext.empty()) CIR_FUZZ_CHECK(data.size() == plaintext.size(), context);
  s = stream->Decrypt(offset, data.data(), data.size());
  CIR_FUZZ_CHECK(s.ok() && data == plaintext, context);
}

// ---- 7: the audit log -------------------------------------------------------------------------

// Entries naming a child are looked up only while the log is this small: the lookup reads every
// entry naming the child, and a long run names the seeds' children in a great many.
constexpr uint64_t kMaxLogForLookups = 50000;

void AuditRecords(absl::string_view input) {
  if (input.empty()) return;
  storage::ChildStore& store = *SharedStore().store;
  storage::AuditLogStore& log = store.audit_log();
  if ((static_cast<unsigned char>(input[0]) & 1) != 0) {
    v1::AuditCheckpoint checkpoint;
    if (!ParseStored(input.substr(1), checkpoint)) return;
    const std::string context = absl::StrCat("the checkpoint ", checkpoint.ShortDebugString());
    WriteOrDie(
        [&checkpoint](storage::WriteTxn& txn) { return txn.PutAuditCheckpoint(checkpoint); });
    absl::StatusOr<std::vector<v1::AuditCheckpoint>> read =
        log.ReadAuditCheckpoints(checkpoint.tree_size(), 1);
    CIR_FUZZ_CHECK(
        read.ok() && read->size() == 1 && MessageDifferencer::Equals(read->front(), checkpoint),
        context);
    absl::StatusOr<std::optional<v1::AuditCheckpoint>> latest = log.LatestAuditCheckpoint();
    CIR_FUZZ_CHECK(
        latest.ok() && latest->has_value() && (*latest)->tree_size() >= checkpoint.tree_size(),
        context);
    return;
  }

  v1::AuditEntry entry;
  if (!ParseStored(input.substr(1), entry)) return;
  const std::string context = absl::StrCat("the entry ", entry.ShortDebugString());
  const uint64_t index = log.AuditHead().size;
  storage::SubmitOptions options;
  options.audit_entry = [entry](const absl::Status&) { return entry; };
  const absl::Status written = RunUnit(
      store, [](storage::WriteTxn&) { return absl::OkStatus(); }, std::move(options));
  CIR_FUZZ_CHECK(written.ok(), written.ToString());
  const storage::AuditAppender::Head head = log.AuditHead();
  CIR_FUZZ_CHECK(head.size == index + 1, context);

  // The leaf: the entry as given, stamped with when it was recorded.
  absl::StatusOr<std::vector<v1::AuditRecord>> records = log.ReadAuditEntries(index, 1);
  CIR_FUZZ_CHECK(records.ok() && records->size() == 1 && records->front().index() == index,
                 context);
  const std::string& bytes = records->front().entry();
  v1::AuditEntry logged;
  CIR_FUZZ_CHECK(logged.ParseFromString(bytes), context);
  entry.set_recorded_at_unix_micros(logged.recorded_at_unix_micros());
  CIR_FUZZ_CHECK(MessageDifferencer::Equals(logged, entry), context);

  // Included in the tree's new root, as the store's own subtrees prove.
  const storage::AuditLogSubtrees tree(log);
  absl::StatusOr<audit::Hash> root = audit::RootOf(tree, head.size);
  CIR_FUZZ_CHECK(root.ok() && *root == head.root, context);
  absl::StatusOr<std::vector<audit::Hash>> proof = audit::InclusionProof(tree, index, head.size);
  CIR_FUZZ_CHECK(proof.ok(), context);
  const absl::Status included =
      audit::VerifyInclusion(audit::LeafHash(bytes), index, head.size, *proof, head.root);
  CIR_FUZZ_CHECK(included.ok(), absl::StrCat(included.ToString(), "\n  ", context));

  // Under each child it names; an identifier of another length names no entry.
  if (index >= kMaxLogForLookups) return;
  for (const auto* named : {&entry.child_ids(), &entry.withheld_child_ids()}) {
    for (const std::string& child_id : *named) {
      absl::StatusOr<std::vector<uint64_t>> naming = log.AuditEntriesNaming(child_id);
      CIR_FUZZ_CHECK(naming.ok(), context);
      const bool found = std::find(naming->begin(), naming->end(), index) != naming->end();
      CIR_FUZZ_CHECK(found == (child_id.size() == storage::kAuditChildIdBytes), context);
    }
  }
}

void TestOneInput(absl::string_view input) {
  if (input.empty()) return;
  const absl::string_view rest = input.substr(1);
  switch (static_cast<unsigned char>(input[0]) % 8) {
    case 0:
      return StoredChildRecord(rest);
    case 1:
      return StoredIndexEntry(rest);
    case 2:
      return StoredRequestRecord(rest);
    case 3:
      return StoredFeedEventRecord(rest);
    case 4:
      return EarlierSchema(rest);
    case 5:
      return DataKey(rest);
    case 6:
      return EncryptedPrefix(rest);
    case 7:
      return AuditRecords(rest);
  }
}

}  // namespace
}  // namespace cir::fuzz

extern "C" int LLVMFuzzerInitialize(int* argc, char*** argv) {
  cir::fuzz::SharedStore();
  cir::fuzz::Raw();
  cir::fuzz::StoreEncryption();
  return 0;
}

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  cir::fuzz::TestOneInput(absl::string_view(reinterpret_cast<const char*>(data), size));
  return 0;
}
