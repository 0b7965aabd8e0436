#ifndef CIR_STORAGE_INDEX_ENTRY_H_
#define CIR_STORAGE_INDEX_ENTRY_H_

#include <cstdint>
#include <string>

namespace cir::storage {

// The kinds of value that resolve to a child through the identifier index. The numbers are the
// frozen on-disk tags (see key_codec.h).
enum class IndexKind : uint8_t {
  kNhsNumber = 0x01,
  kUpn = 0x02,
  // Schema version 1 only: a notification id alone, before notifications were scoped to the system
  // that sent them. Migrated to kNotification at open (schema version 2); never written.
  kLegacyNotificationId = 0x03,
  // A notification, scoped to its notifying system: the value is NotificationIndexValue(...).
  kNotification = 0x04,
  // A retired child identifier (its record merged into another): the value is the retired
  // identifier, the entry names the survivor. Lets a lookup that reads no record (BatchResolve's
  // child-identifier view) answer with the survivor.
  kRetiredChildId = 0x05,
  // A child identifier issued before a restore from backup (so absent from the restored store)
  // and never to be issued again: the value is the identifier, the entry names it too. Written
  // by RestoreBackup (storage/store_backups.h); read when a new child's identifier is drawn.
  kReservedChildId = 0x06,
};

// What an index key resolves to.
struct IndexEntry {
  std::string child_id;
  // For notification ids: a digest of the notification's details, so a retry (same details) can be
  // told from a reuse of the id for another birth (different details). Empty for other kinds.
  std::string fingerprint;

  friend bool operator==(const IndexEntry&, const IndexEntry&) = default;
};

inline constexpr size_t kIndexChildIdBytes = 11;
inline constexpr size_t kFingerprintBytes = 32;

}  // namespace cir::storage

#endif  // CIR_STORAGE_INDEX_ENTRY_H_
