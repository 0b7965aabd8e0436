// `cir audit` against a real cir-server: every call leaves exactly one entry, the log verifies
// against its signed checkpoints across restarts, and a log altered on disk (an entry's byte
// flipped, the last entries dropped, two entries swapped) or cut back behind a checkpoint kept
// elsewhere fails `cir audit verify`, which names where.

#include <openssl/evp.h>
#include <openssl/pem.h>
#include <signal.h>
#include <sys/wait.h>

#include <cstdarg>
#include <cstdio>
#include <fstream>
#include <map>
#include <memory>
#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "cir/client.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "rocksdb/db.h"
#include "rocksdb/env.h"
#include "rocksdb/env_encryption.h"
#include "rocksdb/file_system.h"
#include "storage/aes_ctr_encryption.h"
#include "storage/store_keys.h"
#include "tests/testing/fictional_children.h"
#include "tests/testing/server_process.h"
#include "tests/testing/temp_dir.h"
#include "tests/testing/test_access.h"

namespace cir {
namespace {

using ::testing::HasSubstr;
using ::testing::Not;

constexpr char kRegisterBirth[] = "/cir.v1.ChildRegistry/RegisterBirth";
constexpr char kResolve[] = "/cir.v1.ChildRegistry/Resolve";

struct CliRun {
  int exit_code;
  std::string output;  // standard output and standard error together
};

// The public key of a new Ed25519 key, not the registry's, written to `public_key_file`.
bool WriteStrangersPublicKey(const std::string& public_key_file) {
  EVP_PKEY* key = EVP_PKEY_Q_keygen(nullptr, nullptr, "ED25519");
  if (key == nullptr) return false;
  FILE* out = fopen(public_key_file.c_str(), "w");
  const bool written = out != nullptr && PEM_write_PUBKEY(out, key) == 1;
  if (out != nullptr) fclose(out);
  EVP_PKEY_free(key);
  return written;
}

// RocksDB's info log, withheld as the store withholds it (no LOG file in the data folder).
class NoInfoLog final : public rocksdb::Logger {
 public:
  NoInfoLog() : rocksdb::Logger(rocksdb::InfoLogLevel::HEADER_LEVEL) {}
  void Logv(const char*, va_list) override {}
};

// 8 bytes big-endian: a key of the "audit_log" and "audit_checkpoints" families
// (storage/key_codec.h).
std::string BigEndian(uint64_t value) {
  std::string key(8, '\0');
  for (int i = 7; i >= 0; --i, value >>= 8) key[i] = static_cast<char>(value & 0xff);
  return key;
}

// The store of a stopped server opened as it lies on disk, decrypted with its master key, every
// column family open: what someone with the server's files and key could rewrite.
class RawStore {
 public:
  RawStore(const std::string& path, const std::string& master_key_file) {
    absl::StatusOr<storage::StoreKey> master = storage::ReadMasterKeyFile(master_key_file);
    EXPECT_TRUE(master.ok()) << master.status();
    if (!master.ok()) return;
    absl::StatusOr<storage::StoreKey> data =
        storage::OpenDataKey(path, *master, /*create_if_missing=*/false);
    EXPECT_TRUE(data.ok()) << data.status();
    if (!data.ok()) return;
    absl::StatusOr<std::shared_ptr<storage::AesCtrEncryptionProvider>> provider =
        storage::AesCtrEncryptionProvider::Create(data->bytes());
    EXPECT_TRUE(provider.ok()) << provider.status();
    if (!provider.ok()) return;
    env_ = rocksdb::NewCompositeEnv(
        rocksdb::NewEncryptedFS(rocksdb::FileSystem::Default(), *provider));
    rocksdb::Options options;
    options.env = env_.get();
    options.info_log = std::make_shared<NoInfoLog>();
    std::vector<std::string> names;
    rocksdb::Status s = rocksdb::DB::ListColumnFamilies(options, path, &names);
    EXPECT_TRUE(s.ok()) << s.ToString();
    std::vector<rocksdb::ColumnFamilyDescriptor> descriptors;
    for (const std::string& name : names) descriptors.emplace_back(name, options);
    rocksdb::DB* db = nullptr;
    s = rocksdb::DB::Open(options, path, descriptors, &handles_, &db);
    EXPECT_TRUE(s.ok()) << s.ToString();
    db_.reset(db);
    for (size_t i = 0; i < handles_.size(); ++i) by_name_[names[i]] = handles_[i];
  }
  ~RawStore() {
    if (db_ == nullptr) return;
    for (rocksdb::ColumnFamilyHandle* handle : handles_) db_->DestroyColumnFamilyHandle(handle);
    EXPECT_TRUE(db_->Close().ok());
  }

  bool ok() const { return db_ != nullptr && by_name_.count("audit_log") == 1; }

  std::string Entry(uint64_t index) {
    std::string value;
    EXPECT_TRUE(
        db_->Get(rocksdb::ReadOptions(), by_name_["audit_log"], BigEndian(index), &value).ok())
        << "no audit entry " << index;
    return value;
  }
  void PutEntry(uint64_t index, const std::string& bytes) {
    EXPECT_TRUE(db_->Put(Synced(), by_name_["audit_log"], BigEndian(index), bytes).ok());
  }
  // Deletes entries [from, to).
  void DeleteEntries(uint64_t from, uint64_t to) {
    EXPECT_TRUE(
        db_->DeleteRange(Synced(), by_name_["audit_log"], BigEndian(from), BigEndian(to)).ok());
  }
  // Deletes the checkpoints of trees larger than `size`.
  void DeleteCheckpointsAbove(uint64_t size) {
    EXPECT_TRUE(db_->DeleteRange(Synced(), by_name_["audit_checkpoints"], BigEndian(size + 1),
                                 std::string(8, '\xff'))
                    .ok());
  }

 private:
  static rocksdb::WriteOptions Synced() {
    rocksdb::WriteOptions options;
    options.sync = true;
    return options;
  }

  std::unique_ptr<rocksdb::Env> env_;
  std::unique_ptr<rocksdb::DB> db_;
  std::vector<rocksdb::ColumnFamilyHandle*> handles_;
  std::map<std::string, rocksdb::ColumnFamilyHandle*> by_name_;
};

class AuditCliTest : public ::testing::Test {
 protected:
  void SetUp() override {
    ASSERT_TRUE(server_.Start()) << server_.log();
    ASSERT_TRUE(
        ::cir::testing::WriteSigningPublicKeyFile(data_dir_ + ".audit-signing.key", public_key_));
  }

  // Stops the server as an operator would (SIGTERM): it signs a last checkpoint of every entry.
  void Stop() { ASSERT_EQ(server_.Signal(SIGTERM), 0) << server_.log(); }
  void Restart() {
    Stop();
    ASSERT_TRUE(server_.Start()) << server_.log();
  }

  CliRun Cir(const std::string& arguments) {
    std::string command = std::string(CIR_CLI_PATH) + " --server " + server_.address() +
                          " --plaintext --end-user " + ::cir::testing::kTestEndUser +
                          " --purpose AUDIT " + arguments + " 2>&1";
    FILE* pipe = popen(command.c_str(), "r");
    std::string output;
    char buffer[4096];
    for (size_t n; (n = fread(buffer, 1, sizeof buffer, pipe)) > 0;) output.append(buffer, n);
    int status = pclose(pipe);
    return {WIFEXITED(status) ? WEXITSTATUS(status) : -1, output};
  }
  CliRun Verify(const std::string& more = "") {
    return Cir("audit verify --public-key " + public_key_ + more);
  }

  // A client of the running server, as the auditor (or a health visitor, per call).
  std::unique_ptr<Client> Connect() {
    return std::make_unique<Client>(ClientOptions{.target = server_.address(),
                                                  .end_user = ::cir::testing::kTestEndUser,
                                                  .purpose_of_use = "AUDIT"});
  }

  std::string Register(const std::string& notification, uint32_t nhs) {
    absl::StatusOr<v1::RegisterBirthResponse> registered = Connect()->RegisterBirth(
        testing::FictionalBirth(notification, testing::FictionalNhsNumber(nhs)));
    EXPECT_TRUE(registered.ok()) << registered.status();
    return registered.ok() ? registered->record().child_id() : "";
  }
  void Resolve(const std::string& identifier) {
    absl::StatusOr<v1::ResolveResponse> resolved =
        Connect()->Resolve(identifier, {.purpose_of_use = ::cir::testing::kTestPurpose});
    EXPECT_TRUE(resolved.ok()) << resolved.status();
  }

  // Every entry of the log as it is when first read (each read is logged after it), by the
  // client library.
  std::vector<v1::AuditRecord> Entries() {
    std::unique_ptr<Client> client = Connect();
    std::vector<v1::AuditRecord> all;
    v1::ReadAuditEntriesRequest request;
    request.set_max_entries(2);  // pages, too
    uint64_t size = 0;
    do {
      request.set_from_index(all.size());
      absl::StatusOr<v1::ReadAuditEntriesResponse> page = client->ReadAuditEntries(request);
      EXPECT_TRUE(page.ok()) << page.status();
      if (!page.ok() || page->records().empty()) break;
      if (all.empty()) size = page->tree_size();
      all.insert(all.end(), page->records().begin(), page->records().end());
    } while (all.size() < size);
    if (all.size() > size) all.resize(size);
    return all;
  }
  std::vector<uint64_t> CheckpointSizes() {
    absl::StatusOr<v1::ListCheckpointsResponse> listed =
        Connect()->ListAuditCheckpoints(v1::ListCheckpointsRequest());
    EXPECT_TRUE(listed.ok()) << listed.status();
    std::vector<uint64_t> sizes;
    if (listed.ok()) {
      for (const v1::AuditCheckpoint& checkpoint : listed->checkpoints()) {
        sizes.push_back(checkpoint.tree_size());
      }
    }
    return sizes;
  }

  // A log of 9 entries under checkpoints of 2, 5 and 9 entries, each signed when the server
  // stopped, and the server stopped.
  void MakeLogWithCheckpointsAt2And5And9() {
    const std::string first = Register("audit-1", 101);
    Register("audit-2", 102);
    Restart();  // checkpoint at 2
    Resolve(first);
    Resolve(testing::FictionalNhsNumber(102));
    Register("audit-3", 103);
    Restart();  // checkpoint at 5
    Resolve(first);
    Resolve(first);
    Resolve(testing::FictionalNhsNumber(103));
    Resolve(testing::FictionalNhsNumber(101));
    Stop();  // checkpoint at 9
  }

  // Rewrites the stopped server's store with `tamper`, then starts it again.
  template <typename Tamper>
  void TamperThenStart(Tamper tamper) {
    {
      RawStore store(data_dir_, data_dir_ + ".master.key");
      ASSERT_TRUE(store.ok());
      tamper(store);
    }
    // The server opens a tampered log: it rebuilds its tree's right edge from the stored subtree
    // hashes ("audit_tree"), never from the entries, so nothing is noticed before an audit.
    ASSERT_TRUE(server_.Start()) << server_.log();
  }

  testing::TempDir dir_;
  const std::string data_dir_ = dir_.Sub("db");
  const std::string public_key_ = dir_.Sub("audit-signing.pub.pem");
  testing::ServerProcess server_{CIR_SERVER_PATH, data_dir_};
};

TEST_F(AuditCliTest, EveryCallHasExactlyOneEntryAndTheLogVerifiesAcrossARestart) {
  CliRun registered =
      Cir("register --notifying-system RXH01 --notification-id audit-cli-1 --nhs '" +
          testing::FictionalNhsNumber(201) +
          "' --dob 2026-05-01 --sex female --postcode 'RH12 1AA' --la 938 --given-name Ada");
  ASSERT_EQ(registered.exit_code, 0) << registered.output;
  std::unique_ptr<Client> client = Connect();
  absl::StatusOr<v1::ResolveResponse> resolved = client->Resolve(
      testing::FictionalNhsNumber(201), {.purpose_of_use = ::cir::testing::kTestPurpose});
  ASSERT_TRUE(resolved.ok()) << resolved.status();
  const std::string child_id = resolved->record().child_id();
  absl::StatusOr<v1::ResolveResponse> refused =
      client->Resolve(testing::FictionalNhsNumber(201), {.purpose_of_use = "CURIOSITY"});
  ASSERT_FALSE(refused.ok());
  client.reset();
  Restart();  // the last checkpoint, signed at the stop, covers the three calls

  CliRun verified = Verify();
  EXPECT_EQ(verified.exit_code, 0) << verified.output;
  EXPECT_THAT(verified.output, HasSubstr("checkpoints: 1 (1 signed by key"));
  EXPECT_THAT(verified.output, HasSubstr("newest checkpoint: 3 entries, signed at"));
  EXPECT_THAT(verified.output, HasSubstr("audit log verified"));

  std::vector<v1::AuditRecord> records = Entries();
  ASSERT_GE(records.size(), 3u);
  std::vector<v1::AuditEntry> entries;
  for (size_t i = 0; i < records.size(); ++i) {
    EXPECT_EQ(records[i].index(), i);
    ASSERT_TRUE(entries.emplace_back().ParseFromString(records[i].entry())) << "entry " << i;
    EXPECT_EQ(entries[i].agency_id(), ::cir::testing::kTestAgency) << "entry " << i;
    if (i != 2) {
      EXPECT_EQ(entries[i].end_user(), ::cir::testing::kTestEndUser) << "entry " << i;
    }
    EXPECT_GT(entries[i].recorded_at_unix_micros(), 0) << "entry " << i;
  }
  // The registration (by the command-line tool, for an auditor here), the resolution, the
  // refusal: one entry each, in order.
  EXPECT_EQ(entries[0].method(), kRegisterBirth);
  EXPECT_THAT(entries[0].child_ids(), ::testing::ElementsAre(child_id));
  EXPECT_EQ(entries[0].purpose_of_use(), "AUDIT");
  EXPECT_EQ(entries[0].status_code(), 0);
  EXPECT_EQ(entries[1].method(), kResolve);
  EXPECT_THAT(entries[1].child_ids(), ::testing::ElementsAre(child_id));
  EXPECT_EQ(entries[1].purpose_of_use(), ::cir::testing::kTestPurpose);
  EXPECT_EQ(entries[1].status_code(), 0);
  EXPECT_THAT(entries[1].fields(), ::testing::Contains("child_id"));
  EXPECT_EQ(entries[2].method(), kResolve);
  EXPECT_NE(entries[2].status_code(), 0);
  EXPECT_THAT(entries[2].child_ids(), ::testing::IsEmpty());
  EXPECT_THAT(entries[2].fields(), ::testing::IsEmpty());
  // Then the verification's own calls, and nothing else: ListCheckpoints, then ReadEntries (the
  // one checkpoint needs no consistency proof).
  ASSERT_EQ(entries.size(), 5u);
  EXPECT_EQ(entries[3].method(), "/cir.v1.AuditLog/ListCheckpoints");
  EXPECT_EQ(entries[4].method(), "/cir.v1.AuditLog/ReadEntries");
  for (size_t i = 3; i < entries.size(); ++i) {
    EXPECT_EQ(entries[i].purpose_of_use(), "AUDIT");
    EXPECT_EQ(entries[i].status_code(), 0);
  }
}

TEST_F(AuditCliTest, ARefusalIsLoggedWithTheCodeAndReasonTheCallerWasAnswered) {
  std::unique_ptr<Client> client = Connect();
  // Refused at the gate (no such purpose), and by the registry's validation (a bad NHS number).
  absl::StatusOr<v1::ResolveResponse> resolved =
      client->Resolve(testing::FictionalNhsNumber(501), {.purpose_of_use = "CURIOSITY"});
  ASSERT_EQ(resolved.status().code(), absl::StatusCode::kInvalidArgument) << resolved.status();
  v1::RegisterBirthRequest birth = testing::FictionalBirth("refused-1", "9990000017");
  absl::StatusOr<v1::RegisterBirthResponse> registered = client->RegisterBirth(birth);
  ASSERT_EQ(registered.status().code(), absl::StatusCode::kInvalidArgument) << registered.status();

  std::vector<v1::AuditRecord> records = Entries();
  ASSERT_GE(records.size(), 2u);
  v1::AuditEntry refused_resolve, refused_birth;
  ASSERT_TRUE(refused_resolve.ParseFromString(records[0].entry()));
  ASSERT_TRUE(refused_birth.ParseFromString(records[1].entry()));
  EXPECT_EQ(refused_resolve.method(), kResolve);
  EXPECT_EQ(refused_resolve.status_code(), static_cast<int>(absl::StatusCode::kInvalidArgument));
  EXPECT_EQ(refused_resolve.reason(), ErrorReasonNameOf(resolved.status()));
  EXPECT_EQ(refused_birth.method(), kRegisterBirth);
  EXPECT_EQ(refused_birth.status_code(), static_cast<int>(absl::StatusCode::kInvalidArgument));
  EXPECT_EQ(refused_birth.reason(), ErrorReasonNameOf(registered.status()));
}

TEST_F(AuditCliTest, AFlippedByteIsFoundBetweenTheCheckpointsAroundIt) {
  MakeLogWithCheckpointsAt2And5And9();
  TamperThenStart([](RawStore& store) {
    std::string entry = store.Entry(3);
    entry[entry.size() / 2] ^= 0x01;
    store.PutEntry(3, entry);
  });
  ASSERT_THAT(CheckpointSizes(), ::testing::ElementsAre(2, 5, 9));
  CliRun verified = Verify();
  EXPECT_EQ(verified.exit_code, 1) << verified.output;
  EXPECT_THAT(verified.output,
              HasSubstr("for 5 entries, while matching the one for 2 entries: an entry at index "
                        "2..4 was changed, removed or reordered (later checkpoints differ too)"))
      << verified.output;
  EXPECT_THAT(verified.output, Not(HasSubstr("audit log verified")));
}

TEST_F(AuditCliTest, DroppingTheLastEntriesIsFoundAsEntriesRemoved) {
  MakeLogWithCheckpointsAt2And5And9();
  TamperThenStart([](RawStore& store) { store.DeleteEntries(4, 9); });
  // The tool's first call (ListCheckpoints) is logged at index 4, so it reads 5 entries.
  CliRun verified = Verify();
  EXPECT_EQ(verified.exit_code, 1) << verified.output;
  EXPECT_THAT(verified.output, HasSubstr("the log ends at 5 entries but the checkpoint signed at "))
      << verified.output;
  EXPECT_THAT(verified.output, HasSubstr(" covers 9: entries were removed")) << verified.output;
  EXPECT_THAT(verified.output, Not(HasSubstr("audit log verified")));
}

TEST_F(AuditCliTest, TwoEntriesSwappedAreFoundBetweenTheCheckpointsAroundThem) {
  MakeLogWithCheckpointsAt2And5And9();
  TamperThenStart([](RawStore& store) {
    const std::string sixth = store.Entry(5);
    store.PutEntry(5, store.Entry(7));
    store.PutEntry(7, sixth);
  });
  CliRun verified = Verify();
  EXPECT_EQ(verified.exit_code, 1) << verified.output;
  EXPECT_THAT(verified.output,
              HasSubstr("for 9 entries, while matching the one for 5 entries: an entry at index "
                        "5..8 was changed, removed or reordered"))
      << verified.output;
}

TEST_F(AuditCliTest, ACheckpointKeptElsewhereStillVerifiesUntilTheLogIsCutBackBehindIt) {
  Register("kept-1", 301);
  Register("kept-2", 302);
  Restart();  // checkpoint at 2
  Register("kept-3", 303);
  Resolve(testing::FictionalNhsNumber(301));
  Resolve(testing::FictionalNhsNumber(303));
  Restart();  // checkpoint at 5
  CliRun checkpoint = Cir("audit checkpoint --public-key " + public_key_);
  ASSERT_EQ(checkpoint.exit_code, 0) << checkpoint.output;
  EXPECT_THAT(checkpoint.output, ::testing::StartsWith("cir-audit-checkpoint/v1\n5\n"));
  EXPECT_THAT(checkpoint.output, HasSubstr("\nsignature: "));
  const std::string kept = dir_.Sub("kept-checkpoint.txt");
  std::ofstream(kept) << checkpoint.output;

  Resolve(testing::FictionalNhsNumber(302));
  Resolve(testing::FictionalNhsNumber(301));
  CliRun still = Verify(" --checkpoint " + kept);
  EXPECT_EQ(still.exit_code, 0) << still.output;
  EXPECT_THAT(still.output, HasSubstr("for 5 entries): still in the log"));
  EXPECT_THAT(still.output, HasSubstr("audit log verified"));

  // Cut back to the first checkpoint, the later ones removed with the entries they cover.
  Stop();
  TamperThenStart([](RawStore& store) {
    store.DeleteEntries(2, 1000);
    store.DeleteCheckpointsAbove(2);
  });
  CliRun cut = Verify(" --checkpoint " + kept);
  EXPECT_EQ(cut.exit_code, 1) << cut.output;
  EXPECT_THAT(cut.output, HasSubstr("the log ends at 3 entries but the checkpoint kept in " + kept))
      << cut.output;
  EXPECT_THAT(cut.output, HasSubstr("covers 5: entries were removed")) << cut.output;
  EXPECT_THAT(cut.output, HasSubstr("covers fewer entries than the checkpoint kept in " + kept))
      << cut.output;
  // Without it, the log cut back to an earlier checkpoint is consistent with itself: that is what
  // a checkpoint kept elsewhere is for.
  CliRun alone = Verify();
  EXPECT_EQ(alone.exit_code, 0) << alone.output;
}

TEST_F(AuditCliTest, AnAccessReportListsTheChildsAccessesEachProvedIncluded) {
  const std::string child = Register("report-1", 401);
  Resolve(child);
  Register("report-2", 402);
  Resolve(testing::FictionalNhsNumber(402));
  Resolve(testing::FictionalNhsNumber(401));
  Restart();

  CliRun report =
      Cir("audit report " + testing::FictionalNhsNumber(401) + " --public-key " + public_key_);
  EXPECT_EQ(report.exit_code, 0) << report.output;
  EXPECT_THAT(report.output, HasSubstr("3 entries, each proved included in the log signed at "));
  EXPECT_THAT(report.output, HasSubstr("(5 entries)"));
  EXPECT_THAT(report.output,
              HasSubstr(std::string(::cir::testing::kTestAgency) + "  " +
                        ::cir::testing::kTestEndUser + "  AUDIT  " + kRegisterBirth + "  OK"));
  EXPECT_THAT(report.output, HasSubstr(std::string("DIRECT_CARE  ") + kResolve + "  OK  "));
  EXPECT_THAT(report.output, HasSubstr("(entry 4)"));
  EXPECT_THAT(report.output, Not(HasSubstr("(entry 3)")));  // the other child's

  CliRun json = Cir("audit report " + child + " --json --public-key " + public_key_);
  EXPECT_EQ(json.exit_code, 0) << json.output;
  EXPECT_THAT(json.output, HasSubstr("\"index\":1,\"entry\":{"));
  EXPECT_THAT(json.output, HasSubstr("\"proved\":true"));
  EXPECT_THAT(json.output, HasSubstr("\"verified\":true"));

  const std::string strangers = dir_.Sub("stranger.pub.pem");
  ASSERT_TRUE(WriteStrangersPublicKey(strangers));
  CliRun forged = Cir("audit report " + child + " --public-key " + strangers);
  EXPECT_EQ(forged.exit_code, 1) << forged.output;
  EXPECT_THAT(forged.output, HasSubstr("which does not verify: it names signing key "));
  EXPECT_THAT(Cir("audit verify --public-key " + strangers).exit_code, 1);
}

TEST_F(AuditCliTest, AnAccessReportShowsTheItemsABulkCallRefusedBesideItsOutcome) {
  v1::RegisterBirthsRequest bulk;
  *bulk.add_births() = testing::FictionalBirth("bulk-1", testing::FictionalNhsNumber(501));
  v1::RegisterBirthRequest reused =
      testing::FictionalBirth("bulk-1", testing::FictionalNhsNumber(502));
  *bulk.add_births() = reused;  // the same notification id with other details: refused alone
  absl::StatusOr<v1::RegisterBirthsResponse> answer = Connect()->RegisterBirths(bulk);
  ASSERT_TRUE(answer.ok()) << answer.status();
  ASSERT_TRUE(answer->results(1).has_refused());
  Restart();  // a checkpoint covering the call

  CliRun report =
      Cir("audit report " + testing::FictionalNhsNumber(501) + " --public-key " + public_key_);
  EXPECT_EQ(report.exit_code, 0) << report.output;
  EXPECT_THAT(report.output, HasSubstr("/cir.v1.ChildRegistry/RegisterBirths  OK, refused 1 "
                                       "NOTIFICATION_REUSED_WITH_OTHER_DETAILS"));
}

}  // namespace
}  // namespace cir
