// Fuzzes the AuditLog RPCs' requests through their answers, audit::AuditLogReader (what
// server/audit_service.cc answers an admitted call with), against a real RocksDB store
// (tests/fuzz/fuzz_store.h) whose audit log holds entries and signed checkpoints.
//
//   input   := method request
//   method  := 1 byte, modulo 4: ReadEntries, ListCheckpoints, ProveConsistency, GetAccessReport
//   request := the request message in protobuf's wire format, as gRPC would hand it over; bytes
//              that do not parse as one are not a call (gRPC refuses them) and are skipped
//
// When the process starts, three children are registered, the third merged into the first, and
// the audit log is given kEntries entries, one call's entry each, naming them in turn (NamedBy),
// with a checkpoint signed after every kCheckpointEvery of them. A child_id of exactly "@0", "@1"
// or "@2" is replaced by that child's identifier. The reader writes nothing, so the log is the
// same for every input.
//
// Beyond not crashing, every call is checked:
// - A refusal has a code that bad input can earn (BadInputMayEarn: never one saying the registry
//   failed or the call was cut short), a reason (errors/refusal.h) and a message, neither of which
//   repeats the identifier the request carried; and the log's head is as it was.
// - ReadEntries and ListCheckpoints answer exactly when the page size asked for is 0 to 10,000,
//   and ProveConsistency exactly when old_size <= new_size <= the log's size.
// - ReadEntries answers the log's size and the entries from from_index in order, as many as asked
//   (1,000 for 0) or as the log has, each the leaf the tree holds at its index.
// - ListCheckpoints answers checkpoints of from_size or more in increasing order, as many as asked
//   (1,000 for 0) or as were signed.
// - ProveConsistency answers a proof that verifies between the roots of its two sizes.
// - GetAccessReport answers, for a request naming one of the children, the report of that child
//   (of the first, for the record merged into it): the newest checkpoint and exactly the entries
//   within it that name the child or a record merged into it, once each, in increasing order,
//   each with an inclusion proof that verifies against the checkpoint's root; the call's own
//   entry names that child, and names nobody when the call is refused.

#include <algorithm>
#include <cstddef>
#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <utility>
#include <vector>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "absl/time/time.h"
#include "audit/checkpoint_signer.h"
#include "audit/merkle_tree.h"
#include "audit_log/audit_log_reader.h"
#include "cir/v1/registry.pb.h"
#include "errors/refusal.h"
#include "identifiers/child_id.h"
#include "identifiers/nhs_number.h"
#include "identifiers/upn.h"
#include "storage/audit_log_store.h"
#include "storage/child_store.h"
#include "tests/fuzz/fuzz_check.h"
#include "tests/fuzz/fuzz_store.h"

namespace cir::fuzz {
namespace {

constexpr uint64_t kEntries = 100;
constexpr uint64_t kCheckpointEvery = 16;
constexpr int kDefaultPage = 1000;
constexpr int kMaxPage = 10000;

// ---- The log every input reads ---------------------------------------------------------------

// The children: "@0" and "@1", and a third merged into "@0" (its accesses are @0's too).
enum Child { kFirst = 0, kSecond = 1, kMergedIntoFirst = 2 };
constexpr const char* kNhsNumbers[] = {"9990000018", "9990000034", "9990000042"};

struct AuditedRegistry {
  std::vector<std::string> child_ids;  // by Child
  // The children each entry names (by Child), as written.
  std::vector<std::vector<Child>> named;
  std::vector<uint64_t> checkpoint_sizes;
  // The tree's root at each size from 0 to kEntries, computed from the entries as written
  // (audit::TreeFrontier), not from the subtrees the store kept; and each leaf's hash.
  std::vector<audit::Hash> roots;
  std::vector<audit::Hash> leaves;
  storage::AuditLogStore* log = nullptr;
  std::unique_ptr<audit_log::AuditLogReader> reader;
};

std::string RegisterChild(const std::string& notification_id, const std::string& nhs_number) {
  v1::RegisterBirthRequest birth;
  birth.set_notification_id(notification_id);
  birth.set_notifying_system("RXH01");
  birth.set_nhs_number(nhs_number);
  birth.mutable_date_of_birth()->set_year(2026);
  birth.mutable_date_of_birth()->set_month(11);
  birth.mutable_date_of_birth()->set_day(20);
  birth.set_sex(v1::SEX_FEMALE);
  birth.set_given_name("Ada");
  birth.set_family_name("Fictional");
  birth.add_address_lines("1 Test Row");
  birth.set_postcode("RH12 1AA");
  birth.set_local_authority("938");
  absl::StatusOr<v1::RegisterBirthResponse> registered = WaitForReply<v1::RegisterBirthResponse>(
      [&](auto reply) { SharedStore().registry->RegisterBirth(birth, std::move(reply)); });
  CIR_FUZZ_CHECK(registered.ok(), registered.status().ToString());
  return registered->record().child_id();
}

void MergeInto(const std::string& survivor, const std::string& retired) {
  v1::MergeRecordsRequest merge;
  merge.set_request_id("audited-merge");
  merge.set_surviving_child_id(survivor);
  merge.set_retired_child_id(retired);
  merge.set_retired_nhs_number_superseded(true);
  merge.set_recorded_by("Test Clerk, Fictional Data Team");
  absl::StatusOr<v1::MergeRecordsResponse> merged = WaitForReply<v1::MergeRecordsResponse>(
      [&](auto reply) { SharedStore().life_events->MergeRecords(merge, std::move(reply)); });
  CIR_FUZZ_CHECK(merged.ok(), merged.status().ToString());
}

void SignCheckpoint(storage::ChildStore& store, const audit::CheckpointSigner& signer) {
  const storage::AuditAppender::Head head = store.audit_log().AuditHead();
  const audit::Checkpoint checkpoint{.tree_size = head.size,
                                     .root = head.root,
                                     .time = absl::FromUnixSeconds(1795600000 + head.size)};
  absl::StatusOr<std::string> text = audit::CheckpointText(checkpoint);
  absl::StatusOr<std::string> signature = signer.Sign(checkpoint);
  CIR_FUZZ_CHECK(text.ok() && signature.ok(), "signing a checkpoint");
  v1::AuditCheckpoint stored;
  stored.set_tree_size(checkpoint.tree_size);
  stored.set_root_hash(std::string(checkpoint.root.begin(), checkpoint.root.end()));
  stored.set_signed_at_unix_seconds(absl::ToUnixSeconds(checkpoint.time));
  stored.set_signature(*signature);
  stored.set_key_id(signer.public_key().key_id());
  stored.set_signed_text(*text);
  const absl::Status written =
      RunUnit(store, [&stored](storage::WriteTxn& txn) { return txn.PutAuditCheckpoint(stored); });
  CIR_FUZZ_CHECK(written.ok(), written.ToString());
}

// Entry i names, by i % 4: the first child, the second, the one merged into the first, or nobody;
// and every eighth (i % 8 == 7) both the first and the one merged into it, which the first's
// report must list once.
std::vector<Child> NamedBy(uint64_t i) {
  switch (i % 4) {
    case 0:
      return {kFirst};
    case 1:
      return {kSecond};
    case 2:
      return {kMergedIntoFirst};
    default:
      return i % 8 == 7 ? std::vector<Child>{kFirst, kMergedIntoFirst} : std::vector<Child>{};
  }
}

AuditedRegistry MakeAuditedRegistry() {
  const FuzzStore& shared = SharedStore();
  AuditedRegistry made;
  for (int child = 0; child < 3; ++child) {
    made.child_ids.push_back(RegisterChild(absl::StrCat("audited-", child), kNhsNumbers[child]));
  }
  MergeInto(made.child_ids[kFirst], made.child_ids[kMergedIntoFirst]);
  const std::string key_file = ProcessFolder() + "/checkpoint-signing.pem";
  const absl::Status generated = audit::CheckpointSigner::GenerateKeyFile(key_file);
  CIR_FUZZ_CHECK(generated.ok(), generated.ToString());
  absl::StatusOr<std::unique_ptr<audit::CheckpointSigner>> signer =
      audit::CheckpointSigner::FromKeyFile(key_file);
  CIR_FUZZ_CHECK(signer.ok(), signer.status().ToString());
  storage::ChildStore& store = *shared.store;
  audit::TreeFrontier frontier;
  made.roots.push_back(frontier.Root());
  for (uint64_t i = 0; i < kEntries; ++i) {
    v1::AuditEntry entry;
    entry.set_agency_id("fuzz-agency");
    entry.set_method("/cir.v1.ChildRegistry/Resolve");
    made.named.push_back(NamedBy(i));
    for (Child child : made.named.back()) entry.add_child_ids(made.child_ids[child]);
    storage::SubmitOptions options;
    options.audit_entry = [entry](const absl::Status&) { return entry; };
    const absl::Status written = RunUnit(
        store, [](storage::WriteTxn&) { return absl::OkStatus(); }, std::move(options));
    CIR_FUZZ_CHECK(written.ok(), written.ToString());
    // The leaf as the store wrote it (stamped with its time), hashed here.
    absl::StatusOr<std::vector<v1::AuditRecord>> record = store.audit_log().ReadAuditEntries(i, 1);
    CIR_FUZZ_CHECK(record.ok() && record->size() == 1, "reading back an entry");
    made.leaves.push_back(audit::LeafHash(record->front().entry()));
    CIR_FUZZ_CHECK(frontier.Append(made.leaves.back()).ok(), "appending a leaf");
    made.roots.push_back(frontier.Root());
    if ((i + 1) % kCheckpointEvery == 0) {
      SignCheckpoint(store, **signer);
      made.checkpoint_sizes.push_back(i + 1);
    }
  }
  made.log = &store.audit_log();
  CIR_FUZZ_CHECK(
      made.log->AuditHead().size == kEntries && made.log->AuditHead().root == made.roots.back(),
      "the store's head is not the tree of the entries written");
  made.reader = std::make_unique<audit_log::AuditLogReader>(*made.log, *shared.registry);
  return made;
}

const AuditedRegistry& Audited() {
  static const AuditedRegistry audited = MakeAuditedRegistry();
  return audited;
}

// The child a report was asked of, when the request names it by one of its own identifiers (its
// child identifier or NHS number, in any form the parsers accept).
std::optional<Child> ChildNamedBy(const std::string& identifier) {
  const AuditedRegistry& audited = Audited();
  for (int child = 0; child < 3; ++child) {
    absl::StatusOr<std::string> id = identifiers::ParseChildId(identifier);
    if (id.ok() && *id == audited.child_ids[child]) return static_cast<Child>(child);
    absl::StatusOr<std::string> nhs = identifiers::ParseNhsNumber(identifier);
    if (nhs.ok() && *nhs == kNhsNumbers[child]) return static_cast<Child>(child);
  }
  return std::nullopt;
}

// ---- What an answer must be ------------------------------------------------------------------

audit::Hash HashOf(const std::string& bytes, const std::string& context) {
  absl::StatusOr<audit::Hash> hash = audit::HashFromBytes(bytes);
  CIR_FUZZ_CHECK(hash.ok(), context);
  return *hash;
}

std::vector<audit::Hash> HashesOf(const google::protobuf::RepeatedPtrField<std::string>& proof,
                                  const std::string& context) {
  std::vector<audit::Hash> hashes;
  for (const std::string& bytes : proof) hashes.push_back(HashOf(bytes, context));
  return hashes;
}

const audit::Hash& RootAt(uint64_t size) { return Audited().roots.at(size); }

// Whether a page size asked for is one the reader answers: 0 (the default) to 10,000.
bool PageIsValid(int asked) { return asked >= 0 && asked <= kMaxPage; }

uint64_t PageOf(int asked) { return asked == 0 ? kDefaultPage : static_cast<uint64_t>(asked); }

void CheckEntries(const v1::ReadAuditEntriesRequest& request,
                  const v1::ReadAuditEntriesResponse& answer, const std::string& context) {
  CIR_FUZZ_CHECK(answer.tree_size() == kEntries, context);
  const uint64_t from = request.from_index();
  const uint64_t expected =
      from >= kEntries ? 0 : std::min(kEntries - from, PageOf(request.max_entries()));
  CIR_FUZZ_CHECK(static_cast<uint64_t>(answer.records_size()) == expected, context);
  for (int i = 0; i < answer.records_size(); ++i) {
    const v1::AuditRecord& record = answer.records(i);
    CIR_FUZZ_CHECK(record.index() == from + static_cast<uint64_t>(i), context);
    CIR_FUZZ_CHECK(audit::LeafHash(record.entry()) == Audited().leaves[record.index()], context);
  }
}

void CheckCheckpoints(const v1::ListCheckpointsRequest& request,
                      const v1::ListCheckpointsResponse& answer, const std::string& context) {
  std::vector<uint64_t> expected;
  for (uint64_t size : Audited().checkpoint_sizes) {
    if (size >= request.from_size() && expected.size() < PageOf(request.max_checkpoints())) {
      expected.push_back(size);
    }
  }
  CIR_FUZZ_CHECK(static_cast<size_t>(answer.checkpoints_size()) == expected.size(), context);
  for (int i = 0; i < answer.checkpoints_size(); ++i) {
    const v1::AuditCheckpoint& checkpoint = answer.checkpoints(i);
    CIR_FUZZ_CHECK(checkpoint.tree_size() == expected[i], context);
    CIR_FUZZ_CHECK(HashOf(checkpoint.root_hash(), context) == RootAt(checkpoint.tree_size()),
                   context);
  }
}

void CheckConsistency(const v1::ProveConsistencyRequest& request,
                      const v1::ProveConsistencyResponse& answer, const std::string& context) {
  CIR_FUZZ_CHECK(request.old_size() <= request.new_size() && request.new_size() <= kEntries,
                 context);
  const absl::Status consistent =
      audit::VerifyConsistency(request.old_size(), request.new_size(), RootAt(request.old_size()),
                               RootAt(request.new_size()), HashesOf(answer.proof(), context));
  CIR_FUZZ_CHECK(consistent.ok(), absl::StrCat(consistent.ToString(), "\n  ", context));
}

// A report of `child` lists every entry within the newest checkpoint naming it, and, for the
// first child, naming the record merged into it: each once, in order, with a proof.
void CheckAccessReport(Child child, const v1::GetAccessReportResponse& answer,
                       const std::string& context) {
  const AuditedRegistry& audited = Audited();
  const uint64_t size = audited.checkpoint_sizes.back();
  CIR_FUZZ_CHECK(answer.checkpoint().tree_size() == size, context);
  const audit::Hash root = HashOf(answer.checkpoint().root_hash(), context);
  CIR_FUZZ_CHECK(root == RootAt(size), context);
  std::vector<uint64_t> expected;
  for (uint64_t i = 0; i < size; ++i) {
    for (Child named : audited.named[i]) {
      if (named == child || (child == kFirst && named == kMergedIntoFirst)) {
        expected.push_back(i);
        break;
      }
    }
  }
  CIR_FUZZ_CHECK(static_cast<size_t>(answer.entries_size()) == expected.size(), context);
  for (int i = 0; i < answer.entries_size(); ++i) {
    const v1::AuditRecord& record = answer.entries(i).record();
    CIR_FUZZ_CHECK(record.index() == expected[i], context);
    CIR_FUZZ_CHECK(audit::LeafHash(record.entry()) == audited.leaves[record.index()], context);
    const absl::Status included =
        audit::VerifyInclusion(audit::LeafHash(record.entry()), record.index(), size,
                               HashesOf(answer.entries(i).inclusion_proof(), context), root);
    CIR_FUZZ_CHECK(included.ok(), absl::StrCat(included.ToString(), "\n  ", context));
  }
}

// The forms of `value` a refusal must not repeat: as sent and canonical, if it is a child
// identifier, an NHS number or a UPN.
std::vector<std::string> IdentifierTexts(const std::string& value) {
  std::vector<std::string> texts;
  for (const absl::StatusOr<std::string>& parsed :
       {identifiers::ParseChildId(value), identifiers::ParseNhsNumber(value),
        identifiers::ParseUpn(value)}) {
    if (parsed.ok()) texts.push_back(*parsed);
  }
  if (!texts.empty()) texts.push_back(value);
  return texts;
}

void CheckRefusal(const absl::Status& refusal, const std::string& identifier,
                  const std::string& context) {
  const std::string about = absl::StrCat(refusal.ToString(), "\n  ", context);
  CIR_FUZZ_CHECK(BadInputMayEarn(refusal.code()), about);
  CIR_FUZZ_CHECK(errors::ReasonOf(refusal) != v1::ERROR_REASON_UNSPECIFIED, about);
  CIR_FUZZ_CHECK(!refusal.message().empty(), about);
  std::vector<std::string> said = {std::string(refusal.message())};
  if (std::optional<google::rpc::ErrorInfo> info = errors::ErrorInfoOf(refusal)) {
    for (const auto& [key, value] : info->metadata()) said.push_back(value);
  }
  for (const std::string& text : said) {
    for (const std::string& form : IdentifierTexts(identifier)) {
      CIR_FUZZ_CHECK(!absl::StrContains(text, form),
                     absl::StrCat("it repeats \"", Printable(form), "\": ", about));
    }
  }
}

// ---- One input ---------------------------------------------------------------------------------

template <typename Request>
bool Parse(const uint8_t* data, size_t size, Request& request) {
  return request.ParseFromArray(data, static_cast<int>(size));
}

void TestOneInput(const uint8_t* data, size_t size) {
  if (size < 1) return;
  const AuditedRegistry& audited = Audited();
  const audit_log::AuditLogReader& reader = *audited.reader;
  const storage::AuditAppender::Head before = audited.log->AuditHead();
  absl::Status refusal;
  std::string identifier;
  std::string context;
  switch (data[0] % 4) {
    case 0: {
      v1::ReadAuditEntriesRequest request;
      if (!Parse(data + 1, size - 1, request)) return;
      context = absl::StrCat("ReadEntries: ", request.ShortDebugString());
      absl::StatusOr<v1::ReadAuditEntriesResponse> answer = reader.ReadEntries(request);
      CIR_FUZZ_CHECK(answer.ok() == PageIsValid(request.max_entries()), context);
      if (answer.ok()) CheckEntries(request, *answer, context);
      refusal = answer.status();
      break;
    }
    case 1: {
      v1::ListCheckpointsRequest request;
      if (!Parse(data + 1, size - 1, request)) return;
      context = absl::StrCat("ListCheckpoints: ", request.ShortDebugString());
      absl::StatusOr<v1::ListCheckpointsResponse> answer = reader.ListCheckpoints(request);
      CIR_FUZZ_CHECK(answer.ok() == PageIsValid(request.max_checkpoints()), context);
      if (answer.ok()) CheckCheckpoints(request, *answer, context);
      refusal = answer.status();
      break;
    }
    case 2: {
      v1::ProveConsistencyRequest request;
      if (!Parse(data + 1, size - 1, request)) return;
      context = absl::StrCat("ProveConsistency: ", request.ShortDebugString());
      absl::StatusOr<v1::ProveConsistencyResponse> answer = reader.ProveConsistency(request);
      CIR_FUZZ_CHECK(answer.ok() == (request.old_size() <= request.new_size() &&
                                     request.new_size() <= kEntries),
                     context);
      if (answer.ok()) CheckConsistency(request, *answer, context);
      refusal = answer.status();
      break;
    }
    case 3: {
      v1::GetAccessReportRequest request;
      if (!Parse(data + 1, size - 1, request)) return;
      if (request.child_id() == "@0" || request.child_id() == "@1" || request.child_id() == "@2") {
        request.set_child_id(audited.child_ids[request.child_id()[1] - '0']);
      }
      identifier = request.child_id();
      context = absl::StrCat("GetAccessReport: ", request.ShortDebugString());
      v1::AuditEntry entry;
      absl::StatusOr<v1::GetAccessReportResponse> answer = reader.GetAccessReport(request, entry);
      // The report is of the child the request names; any other answer is of the only other
      // record there is to find (a form of identifier this target does not map, such as an NHS
      // number's former holder), which its own entry names.
      const std::optional<Child> asked = ChildNamedBy(request.child_id());
      if (asked == kFirst || asked == kSecond) CIR_FUZZ_CHECK(answer.ok(), context);
      if (answer.ok()) {
        CIR_FUZZ_CHECK(entry.child_ids_size() == 1, context);
        Child reported = kFirst;
        bool known = false;
        for (int child = 0; child < 3; ++child) {
          if (entry.child_ids(0) == audited.child_ids[child]) {
            reported = static_cast<Child>(child);
            known = true;
          }
        }
        CIR_FUZZ_CHECK(known, context);
        // A merged-away record's identifier (and its NHS number, if that finds anyone) finds the
        // child it was merged into.
        if (asked.has_value()) {
          CIR_FUZZ_CHECK(reported == (*asked == kMergedIntoFirst ? kFirst : *asked), context);
        }
        CheckAccessReport(reported, *answer, context);
      } else {
        CIR_FUZZ_CHECK(entry.child_ids_size() == 0, context);
      }
      refusal = answer.status();
      break;
    }
  }
  const storage::AuditAppender::Head after = audited.log->AuditHead();
  CIR_FUZZ_CHECK(after.size == before.size && after.root == before.root, context);
  if (!refusal.ok()) CheckRefusal(refusal, identifier, context);
}

}  // namespace
}  // namespace cir::fuzz

extern "C" int LLVMFuzzerInitialize(int* argc, char*** argv) {
  cir::fuzz::Audited();
  return 0;
}

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  cir::fuzz::TestOneInput(data, size);
  return 0;
}
