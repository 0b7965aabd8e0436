#include "storage/key_codec.h"

namespace cir::storage {

absl::string_view ColumnFamilyName(ColumnFamily family) {
  switch (family) {
    case ColumnFamily::kDefault:
      return "default";
    case ColumnFamily::kChildren:
      return "children";
    case ColumnFamily::kIdentifiers:
      return "identifiers";
    case ColumnFamily::kEvents:
      return "events";
    case ColumnFamily::kEventsByArea:
      return "events_by_area";
    case ColumnFamily::kAreaFeed:
      return "area_feed";
    case ColumnFamily::kRequests:
      return "requests";
    case ColumnFamily::kAuditLog:
      return "audit_log";
    case ColumnFamily::kAuditTree:
      return "audit_tree";
    case ColumnFamily::kAuditByChild:
      return "audit_by_child";
    case ColumnFamily::kAuditCheckpoints:
      return "audit_checkpoints";
  }
  return "";
}

std::string EncodeFixed32BigEndian(uint32_t value) {
  std::string out(4, '\0');
  for (int i = 3; i >= 0; --i) {
    out[i] = static_cast<char>(value & 0xff);
    value >>= 8;
  }
  return out;
}

std::optional<uint32_t> DecodeFixed32BigEndian(absl::string_view bytes) {
  if (bytes.size() != 4) return std::nullopt;
  uint32_t value = 0;
  for (char c : bytes) value = (value << 8) | static_cast<unsigned char>(c);
  return value;
}

std::string EncodeFixed64BigEndian(uint64_t value) {
  std::string out(8, '\0');
  for (int i = 7; i >= 0; --i) {
    out[i] = static_cast<char>(value & 0xff);
    value >>= 8;
  }
  return out;
}

std::optional<uint64_t> DecodeFixed64BigEndian(absl::string_view bytes) {
  if (bytes.size() != 8) return std::nullopt;
  uint64_t value = 0;
  for (char c : bytes) value = (value << 8) | static_cast<unsigned char>(c);
  return value;
}

std::string EncodeIndexKey(IndexKind kind, absl::string_view value) {
  std::string key;
  key.reserve(1 + value.size());
  key.push_back(static_cast<char>(kind));
  key.append(value.data(), value.size());
  return key;
}

std::string NotificationIndexValue(absl::string_view ods_code, absl::string_view notification_id) {
  std::string value;
  value.reserve(ods_code.size() + 1 + notification_id.size());
  value.append(ods_code.data(), ods_code.size());
  value.push_back(' ');
  value.append(notification_id.data(), notification_id.size());
  return value;
}

std::string EncodeIndexEntry(const IndexEntry& entry) {
  std::string out = entry.child_id;
  out.append(entry.fingerprint);
  return out;
}

std::optional<IndexEntry> DecodeIndexEntry(absl::string_view bytes) {
  if (bytes.size() != kIndexChildIdBytes && bytes.size() != kIndexChildIdBytes + kFingerprintBytes) {
    return std::nullopt;
  }
  return IndexEntry{std::string(bytes.substr(0, kIndexChildIdBytes)),
                    std::string(bytes.substr(kIndexChildIdBytes))};
}

std::string EncodeAuditNodeKey(int level, uint64_t node_index) {
  std::string key(1, static_cast<char>(level));
  key.append(EncodeFixed64BigEndian(node_index));
  return key;
}

std::string EncodeAuditChildKey(absl::string_view child_id, uint64_t leaf_index) {
  std::string key(child_id);
  key.append(EncodeFixed64BigEndian(leaf_index));
  return key;
}

std::string EncodeEventKey(uint64_t sequence) { return EncodeFixed64BigEndian(sequence); }

std::optional<uint64_t> DecodeEventKey(absl::string_view key) {
  return DecodeFixed64BigEndian(key);
}

std::string EncodeAreaEventKey(absl::string_view local_authority, uint64_t sequence) {
  std::string key(local_authority);
  key.append(EncodeFixed64BigEndian(sequence));
  return key;
}

std::optional<AreaEventKey> DecodeAreaEventKey(absl::string_view key) {
  if (key.size() != kLocalAuthorityBytes + 8) return std::nullopt;
  std::optional<uint64_t> sequence = DecodeFixed64BigEndian(key.substr(kLocalAuthorityBytes));
  if (!sequence.has_value()) return std::nullopt;
  return AreaEventKey{std::string(key.substr(0, kLocalAuthorityBytes)), *sequence};
}

}  // namespace cir::storage
