#ifndef CIR_REGISTRY_NOTIFICATION_FINGERPRINT_H_
#define CIR_REGISTRY_NOTIFICATION_FINGERPRINT_H_

#include <string>

#include "registry/birth_validation.h"

namespace cir::registry {

// A SHA-256 digest (32 bytes) of every detail that defines a birth notification (its notifying
// system and id included), stored beside the notification's index key. A retry carries the same
// details and so the same fingerprint; a notification id reused for other details does not, and
// is refused rather than silently returning another child.
std::string NotificationFingerprint(const ValidBirth& birth);

// The digest that registries before notifying systems, birth order and mother's names stored: the
// details as they were then, without those. A notification recorded then and retried now matches
// it, not NotificationFingerprint. The two encodings differ in their first bytes, so that no
// notification's fingerprint can equal another's legacy fingerprint.
std::string LegacyNotificationFingerprint(const ValidBirth& birth);

}  // namespace cir::registry

#endif  // CIR_REGISTRY_NOTIFICATION_FINGERPRINT_H_
