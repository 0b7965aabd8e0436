#ifndef CIR_REGISTRY_NOTIFICATION_FINGERPRINT_H_
#define CIR_REGISTRY_NOTIFICATION_FINGERPRINT_H_

#include <string>

#include "registry/birth_validation.h"

namespace cir::registry {

// A SHA-256 digest (32 bytes) of a birth notification's canonical details, stored beside its
// notification id. A retry carries the same details and so the same fingerprint; a notification id
// reused for other details does not, and is refused rather than silently returning another child.
std::string NotificationFingerprint(const ValidBirth& birth);

}  // namespace cir::registry

#endif  // CIR_REGISTRY_NOTIFICATION_FINGERPRINT_H_
