#ifndef CIR_STORAGE_KEY_CODEC_H_
#define CIR_STORAGE_KEY_CODEC_H_

// The on-disk layout of the RocksDB store. Frozen once released: column families are only ever
// appended, tags and layouts never change meaning.
//
// Column families, by frozen index:
//   0 "default"         meta
//       "schema_version"            -> fixed32 big-endian (see kSchemaVersion)
//   1 "children"        one row per child
//       child_id (11 ASCII bytes)   -> StoredChild (protobuf)
//   2 "identifiers"     every identifier that resolves to a child, current and former
//       index_key := kind_tag (1 byte) value (ASCII, canonical form)
//         kind_tag 0x01 NHS number (10 digits), 0x02 UPN (13 chars),
//                  0x03 notification id alone (schema version 1 only; migrated to 0x04),
//                  0x04 notification := ods_code 0x20 notification_id, where ods_code is the
//                       notifying system (3-10 upper-case letters and digits), or "-" for a
//                       notification recorded before notifying systems were (every 0x03 entry
//                       of schema version 1), and notification_id is 1-128 printable ASCII
//                       bytes, no space; so two notifying systems may both use the same ids
//                  0x05 retired child identifier (11 chars) -> the survivor it was merged into
//                       (schema version 3; deleted when the merge is undone)
//                  0x06 reserved child identifier (11 chars) -> itself: issued before a restore
//                       from backup, absent from the restored store, never issued again
//                       (schema version 5)
//       index_key                   -> index_entry
//       index_entry := child_id (11 bytes) [fingerprint (32 bytes; notification ids only)]
//   3 "events"          the ordered event log
//       sequence (fixed64 big-endian, from 1) -> StoredEvent (protobuf)
//   4 "events_by_area"  schema versions 1-2 only: the event log indexed by local authority
//       local_authority (3 ASCII digits) sequence (fixed64 big-endian) -> "" (empty)
//       Emptied by the migration to version 3 and never written since: superseded by "area_feed".
//   5 "area_feed"       each local authority's feed, with a gap-free sequence per area
//       local_authority (3 ASCII digits) area_sequence (fixed64 big-endian, from 1)
//                                   -> StoredFeedEvent (protobuf)
//       Written in the same batch as the change the event reports. Retention may delete an
//       area's oldest events (see RocksDbStoreOptions::feed_retention) but never its newest, so
//       the last key of an area is always its head.
//   6 "requests"        life events' request ids, for idempotent retries
//       request_id (1-128 printable ASCII bytes, no space; an agency's prefixed "<agency_id>/")
//                                   -> StoredRequest (protobuf)
//   7 "audit_log"       the audit log: one entry per call, the leaves of its Merkle tree
//       leaf_index (fixed64 big-endian, from 0) -> cir.v1.AuditEntry, serialised
//                                   deterministically: the exact bytes the leaf hashes
//   8 "audit_tree"      the hash of every complete (perfect) subtree of the audit log's tree
//       level (1 byte, 0 = a leaf) node_index (fixed64 big-endian)
//                                   -> SHA-256 (32 bytes) of the 2^level leaves from
//                                      node_index * 2^level (RFC 6962 hashing)
//       Written with the leaf that completes the subtree, in the same batch.
//   9 "audit_by_child"  which audit entries name a child, for per-child access reports
//       child_id (11 ASCII bytes) leaf_index (fixed64 big-endian) -> "" (empty)
//  10 "audit_checkpoints" the signed checkpoints of the audit log's tree
//       tree_size (fixed64 big-endian) -> cir.v1.AuditCheckpoint (protobuf)
//
// Big-endian integers make byte order numeric order, so iteration runs in sequence order.
//
// Schema versions (each migrated forward at open by storage/schema_migrations.cc):
//   1  the first release
//   2  notification ids scoped to their notifying system: 0x03 keys re-keyed to 0x04 under "-"
//   3  per-area feeds: "area_feed" built from the event log (a birth-registered event for each
//      child, carrying the child's record as it is at migration), every child's feed_areas set,
//      "events_by_area" emptied
//   4  the audit log: "audit_log", "audit_tree", "audit_by_child" and "audit_checkpoints", empty
//      (nothing before version 4 was audited)
//   5  reserved child identifiers (0x06), written by a restore: nothing to move, but a release
//      that does not know them must refuse the store rather than issue an identifier they reserve
// A column family added by a later version is created when a store of an earlier one is opened.

#include <cstdint>
#include <optional>
#include <string>
#include "absl/strings/string_view.h"

#include "storage/index_entry.h"

namespace cir::storage {

enum class ColumnFamily : int {
  kDefault = 0,
  kChildren = 1,
  kIdentifiers = 2,
  kEvents = 3,
  kEventsByArea = 4,  // schema versions 1-2 only
  kAreaFeed = 5,
  kRequests = 6,
  kAuditLog = 7,
  kAuditTree = 8,
  kAuditByChild = 9,
  kAuditCheckpoints = 10,
};
inline constexpr int kColumnFamilyCount = 11;
absl::string_view ColumnFamilyName(ColumnFamily family);

inline constexpr absl::string_view kSchemaVersionKey = "schema_version";
inline constexpr uint32_t kSchemaVersion = 5;

// The notifying system under which notifications recorded before notifying systems were (schema
// version 1) are indexed: not an ODS code, which is letters and digits only.
inline constexpr absl::string_view kNotifyingSystemBeforeSystems = "-";

std::string EncodeFixed32BigEndian(uint32_t value);
std::optional<uint32_t> DecodeFixed32BigEndian(absl::string_view bytes);
std::string EncodeFixed64BigEndian(uint64_t value);
std::optional<uint64_t> DecodeFixed64BigEndian(absl::string_view bytes);

std::string EncodeIndexKey(IndexKind kind, absl::string_view value);

// The value of a kNotification index key: the notifying system's ODS code, a space (which neither
// part may contain), the system's own notification id.
std::string NotificationIndexValue(absl::string_view ods_code, absl::string_view notification_id);

std::string EncodeIndexEntry(const IndexEntry& entry);
std::optional<IndexEntry> DecodeIndexEntry(absl::string_view bytes);

std::string EncodeAuditNodeKey(int level, uint64_t node_index);
inline constexpr size_t kAuditNodeKeyBytes = 1 + 8;
// A key of "audit_by_child" begins with the child's identifier, always this long.
std::string EncodeAuditChildKey(absl::string_view child_id, uint64_t leaf_index);
inline constexpr size_t kAuditChildIdBytes = 11;
std::string EncodeEventKey(uint64_t sequence);
std::optional<uint64_t> DecodeEventKey(absl::string_view key);

// Keys of "events_by_area" (schema versions 1-2) and "area_feed": the area's three digits, then
// the sequence number big-endian.
std::string EncodeAreaEventKey(absl::string_view local_authority, uint64_t sequence);
inline constexpr size_t kLocalAuthorityBytes = 3;
struct AreaEventKey {
  std::string local_authority;
  uint64_t sequence = 0;
};
std::optional<AreaEventKey> DecodeAreaEventKey(absl::string_view key);

}  // namespace cir::storage

#endif  // CIR_STORAGE_KEY_CODEC_H_
