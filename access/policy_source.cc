#include "access/policy_source.h"

#include <sys/stat.h>

#include <utility>

namespace cir::access {

PolicySource::FileStamp PolicySource::StampOf(const std::string& path) {
  struct stat info {};
  if (::stat(path.c_str(), &info) != 0) return FileStamp{};
  return FileStamp{.size = static_cast<long long>(info.st_size),
                   .changed_nanos = static_cast<long long>(info.st_mtim.tv_sec) * 1000000000LL +
                                    info.st_mtim.tv_nsec,
                   .inode = static_cast<unsigned long long>(info.st_ino)};
}

absl::StatusOr<std::unique_ptr<PolicySource>> PolicySource::Open(std::string path) {
  const FileStamp stamp = StampOf(path);
  absl::StatusOr<std::shared_ptr<const AccessPolicy>> policy = AccessPolicy::Load(path);
  if (!policy.ok()) return policy.status();
  return std::unique_ptr<PolicySource>(
      new PolicySource(std::move(path), *std::move(policy), stamp));
}

PolicySource::PolicySource(std::shared_ptr<const AccessPolicy> fixed)
    : current_(std::move(fixed)) {}

PolicySource::PolicySource(std::string path, std::shared_ptr<const AccessPolicy> policy,
                           FileStamp stamp)
    : path_(std::move(path)), current_(std::move(policy)), stamp_(stamp) {}

std::shared_ptr<const AccessPolicy> PolicySource::Current() const {
  std::shared_lock<std::shared_mutex> lock(mutex_);
  return current_;
}

absl::Status PolicySource::Reload() {
  if (path_.empty()) return absl::OkStatus();
  // One reload at a time (SIGHUP and the watcher may ask at once), so that a reload that read an
  // older file never installs it after one that read a newer.
  std::lock_guard<std::mutex> reloading(reload_mutex_);
  // The stamp is taken before the read: a change made during the read is seen next time.
  const FileStamp stamp = StampOf(path_);
  absl::StatusOr<std::shared_ptr<const AccessPolicy>> policy = AccessPolicy::Load(path_);
  std::lock_guard<std::shared_mutex> lock(mutex_);
  stamp_ = stamp;  // a file that fails is not read again until it changes again
  if (!policy.ok()) return policy.status();
  current_ = *std::move(policy);
  return absl::OkStatus();
}

absl::Status PolicySource::ReloadIfChanged() {
  if (path_.empty()) return absl::OkStatus();
  {
    std::lock_guard<std::shared_mutex> lock(mutex_);
    if (StampOf(path_) == stamp_) return absl::OkStatus();
  }
  return Reload();
}

}  // namespace cir::access
