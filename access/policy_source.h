#ifndef CIR_ACCESS_POLICY_SOURCE_H_
#define CIR_ACCESS_POLICY_SOURCE_H_

#include <memory>
#include <mutex>
#include <shared_mutex>
#include <string>

#include "absl/base/thread_annotations.h"
#include "absl/status/statusor.h"
#include "access/access_policy.h"

namespace cir::access {

// The access policy in force, read from its file, and read again on request (SIGHUP) or when the
// file changes, without dropping calls: each call keeps the policy it started with. A reload that
// fails (the file does not parse, or breaks a rule) keeps the policy before and says why.
//
// Thread safety: every method may be called from any thread at once.
class PolicySource {
 public:
  // Reads the file at `path`; fails if it cannot be read or checked.
  static absl::StatusOr<std::unique_ptr<PolicySource>> Open(std::string path);
  // A policy fixed for good, not read from a file (tests and in-process servers).
  explicit PolicySource(std::shared_ptr<const AccessPolicy> fixed);

  std::shared_ptr<const AccessPolicy> Current() const;

  // Reads the file again. OK and the new policy in force, or the refusal and the old one kept.
  absl::Status Reload();
  // Reads the file again if it changed (another size, time of change, or file) since it was
  // last read; returns OK with nothing done otherwise. Cheap: one stat of the file.
  absl::Status ReloadIfChanged();

 private:
  struct FileStamp {
    long long size = -1;
    long long changed_nanos = -1;
    unsigned long long inode = 0;
    bool operator==(const FileStamp&) const = default;
  };
  static FileStamp StampOf(const std::string& path);

  PolicySource(std::string path, std::shared_ptr<const AccessPolicy> policy, FileStamp stamp);

  const std::string path_;  // empty for a fixed policy
  // std:: locks rather than absl::Mutex: Debian's Abseil is not built with ThreadSanitizer, which
  // could not see what these order.
  std::mutex reload_mutex_;  // held across a reload's read and swap; taken before mutex_
  mutable std::shared_mutex mutex_;
  std::shared_ptr<const AccessPolicy> current_ ABSL_GUARDED_BY(mutex_);
  FileStamp stamp_ ABSL_GUARDED_BY(mutex_);
};

}  // namespace cir::access

#endif  // CIR_ACCESS_POLICY_SOURCE_H_
