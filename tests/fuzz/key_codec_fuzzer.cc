// Fuzzes the store's key codec (storage/key_codec.h), both ways:
// - Decoding: the input, whole, is handed to every decoder. Each takes exactly the sizes its
//   layout has and refuses every other, and what it decodes encodes back to the same bytes.
// - Encoding: fields drawn from the input (integers, a level, a child identifier, a fingerprint,
//   an area, an index kind and value, a notifying system and notification id) are encoded and
//   decoded back to themselves; keys keep their layout's length and prefix, and big-endian keys
//   sort as their numbers do, which is what iteration in sequence order relies on.

#include <fuzzer/FuzzedDataProvider.h>

#include <cstddef>
#include <cstdint>
#include <optional>
#include <set>
#include <string>

#include "absl/strings/str_cat.h"
#include "absl/strings/string_view.h"
#include "storage/index_entry.h"
#include "storage/key_codec.h"
#include "tests/fuzz/fuzz_check.h"

namespace cir::storage {
namespace {

using fuzz::Printable;

void CheckDecoders(absl::string_view bytes) {
  const std::string context = absl::StrCat("bytes \"", Printable(bytes), "\"");

  const std::optional<uint32_t> fixed32 = DecodeFixed32BigEndian(bytes);
  CIR_FUZZ_CHECK(fixed32.has_value() == (bytes.size() == 4), context);
  if (fixed32.has_value()) CIR_FUZZ_CHECK(EncodeFixed32BigEndian(*fixed32) == bytes, context);

  const std::optional<uint64_t> fixed64 = DecodeFixed64BigEndian(bytes);
  CIR_FUZZ_CHECK(fixed64.has_value() == (bytes.size() == 8), context);
  if (fixed64.has_value()) CIR_FUZZ_CHECK(EncodeFixed64BigEndian(*fixed64) == bytes, context);

  const std::optional<uint64_t> event = DecodeEventKey(bytes);
  CIR_FUZZ_CHECK(event == fixed64, context);
  if (event.has_value()) CIR_FUZZ_CHECK(EncodeEventKey(*event) == bytes, context);

  const std::optional<IndexEntry> entry = DecodeIndexEntry(bytes);
  CIR_FUZZ_CHECK(entry.has_value() == (bytes.size() == kIndexChildIdBytes ||
                                       bytes.size() == kIndexChildIdBytes + kFingerprintBytes),
                 context);
  if (entry.has_value()) {
    CIR_FUZZ_CHECK(entry->child_id.size() == kIndexChildIdBytes, context);
    CIR_FUZZ_CHECK(entry->fingerprint.empty() || entry->fingerprint.size() == kFingerprintBytes,
                   context);
    CIR_FUZZ_CHECK(EncodeIndexEntry(*entry) == bytes, context);
  }

  const std::optional<AreaEventKey> area = DecodeAreaEventKey(bytes);
  CIR_FUZZ_CHECK(area.has_value() == (bytes.size() == kLocalAuthorityBytes + 8), context);
  if (area.has_value()) {
    CIR_FUZZ_CHECK(area->local_authority.size() == kLocalAuthorityBytes, context);
    CIR_FUZZ_CHECK(EncodeAreaEventKey(area->local_authority, area->sequence) == bytes, context);
  }
}

// Whether `a` sorts before `b` as RocksDB's default comparator sorts keys (bytes, unsigned).
bool SortsBefore(absl::string_view a, absl::string_view b) { return a.compare(b) < 0; }

void CheckEncoders(FuzzedDataProvider& fields) {
  const uint32_t u32 = fields.ConsumeIntegral<uint32_t>();
  const uint64_t a = fields.ConsumeIntegral<uint64_t>();
  const uint64_t b = fields.ConsumeIntegral<uint64_t>();
  const std::string numbers = absl::StrCat("u32 ", u32, ", a ", a, ", b ", b);

  CIR_FUZZ_CHECK(DecodeFixed32BigEndian(EncodeFixed32BigEndian(u32)) == u32, numbers);
  CIR_FUZZ_CHECK(DecodeFixed64BigEndian(EncodeFixed64BigEndian(a)) == a, numbers);
  CIR_FUZZ_CHECK(DecodeEventKey(EncodeEventKey(b)) == b, numbers);
  CIR_FUZZ_CHECK(SortsBefore(EncodeEventKey(a), EncodeEventKey(b)) == (a < b), numbers);

  // An audit tree node: one byte of level, then the node's index.
  const int level = fields.ConsumeIntegralInRange<int>(0, 64);
  const std::string node = EncodeAuditNodeKey(level, a);
  CIR_FUZZ_CHECK(node.size() == kAuditNodeKeyBytes, numbers);
  CIR_FUZZ_CHECK(static_cast<unsigned char>(node[0]) == level, numbers);
  CIR_FUZZ_CHECK(DecodeFixed64BigEndian(absl::string_view(node).substr(1)) == a, numbers);
  CIR_FUZZ_CHECK(SortsBefore(node, EncodeAuditNodeKey(level, b)) == (a < b), numbers);

  // An index entry: a child identifier's bytes, and a fingerprint or none.
  IndexEntry entry;
  entry.child_id = fields.ConsumeBytesAsString(kIndexChildIdBytes);
  entry.child_id.resize(kIndexChildIdBytes, 'A');
  if (fields.ConsumeBool()) {
    entry.fingerprint = fields.ConsumeBytesAsString(kFingerprintBytes);
    entry.fingerprint.resize(kFingerprintBytes, '\0');
  }
  const std::string encoded_entry = EncodeIndexEntry(entry);
  CIR_FUZZ_CHECK(DecodeIndexEntry(encoded_entry) == entry, Printable(encoded_entry));

  // The audit index by child: the child's identifier, then the leaf's index.
  const std::string by_child = EncodeAuditChildKey(entry.child_id, a);
  CIR_FUZZ_CHECK(by_child.size() == kAuditChildIdBytes + 8, Printable(by_child));
  CIR_FUZZ_CHECK(absl::string_view(by_child).substr(0, kAuditChildIdBytes) == entry.child_id,
                 Printable(by_child));
  CIR_FUZZ_CHECK(SortsBefore(by_child, EncodeAuditChildKey(entry.child_id, b)) == (a < b), numbers);

  // An area's feed: three bytes of area, then the sequence.
  std::string area = fields.ConsumeBytesAsString(kLocalAuthorityBytes);
  area.resize(kLocalAuthorityBytes, '9');
  const std::string area_key = EncodeAreaEventKey(area, a);
  const std::optional<AreaEventKey> decoded_area = DecodeAreaEventKey(area_key);
  CIR_FUZZ_CHECK(decoded_area.has_value() && decoded_area->local_authority == area &&
                     decoded_area->sequence == a,
                 Printable(area_key));
  CIR_FUZZ_CHECK(SortsBefore(area_key, EncodeAreaEventKey(area, b)) == (a < b), numbers);

  // An identifier index key: the kind's tag, then the value as it is.
  const auto kind = static_cast<IndexKind>(
      fields.ConsumeIntegralInRange<uint8_t>(static_cast<uint8_t>(IndexKind::kNhsNumber),
                                             static_cast<uint8_t>(IndexKind::kRetiredChildId)));
  const std::string value = fields.ConsumeRandomLengthString(200);
  const std::string index_key = EncodeIndexKey(kind, value);
  CIR_FUZZ_CHECK(index_key.size() == value.size() + 1, Printable(index_key));
  CIR_FUZZ_CHECK(static_cast<IndexKind>(index_key[0]) == kind, Printable(index_key));
  CIR_FUZZ_CHECK(absl::string_view(index_key).substr(1) == value, Printable(index_key));

  // A notification's value: the system, a space, the id; neither part holds a space, so the
  // first space splits it back into the two.
  std::string ods = fields.ConsumeRandomLengthString(16);
  const std::string notification_id = fields.ConsumeRemainingBytesAsString();
  for (char& c : ods) {
    if (c == ' ') c = '_';
  }
  const std::string notification = NotificationIndexValue(ods, notification_id);
  const size_t space = notification.find(' ');
  CIR_FUZZ_CHECK(space == ods.size(), Printable(notification));
  CIR_FUZZ_CHECK(notification.substr(0, space) == ods, Printable(notification));
  CIR_FUZZ_CHECK(notification.substr(space + 1) == notification_id, Printable(notification));
}

// Every column family has its own name, and the frozen indexes name them all.
void CheckColumnFamilyNames() {
  std::set<std::string> names;
  for (int i = 0; i < kColumnFamilyCount; ++i) {
    const absl::string_view name = ColumnFamilyName(static_cast<ColumnFamily>(i));
    CIR_FUZZ_CHECK(!name.empty(), absl::StrCat("column family ", i));
    names.insert(std::string(name));
  }
  CIR_FUZZ_CHECK(names.size() == static_cast<size_t>(kColumnFamilyCount), "column family names");
}

}  // namespace
}  // namespace cir::storage

extern "C" int LLVMFuzzerInitialize(int* argc, char*** argv) {
  cir::storage::CheckColumnFamilyNames();
  return 0;
}

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  cir::storage::CheckDecoders(absl::string_view(reinterpret_cast<const char*>(data), size));
  FuzzedDataProvider fields(data, size);
  cir::storage::CheckEncoders(fields);
  return 0;
}
