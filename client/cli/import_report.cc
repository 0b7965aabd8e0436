#include "client/cli/import_report.h"

#include <fcntl.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>

#include "absl/strings/str_cat.h"
#include "client/cli/csv.h"

namespace cir::cli {
namespace {

absl::Status Unavailable(absl::string_view what, const std::string& path) {
  return absl::UnavailableError(absl::StrCat("cannot ", what, " ", path, ": ", strerror(errno)));
}

absl::Status WriteAll(int fd, absl::string_view bytes) {
  while (!bytes.empty()) {
    const ssize_t n = ::write(fd, bytes.data(), bytes.size());
    if (n < 0 && errno == EINTR) continue;
    if (n < 0) return absl::UnavailableError(strerror(errno));
    bytes.remove_prefix(static_cast<size_t>(n));
  }
  return absl::OkStatus();
}

// fsync of the folder holding `path`, so that a new file's name is durable.
bool SyncFolderOf(const std::string& path) {
  const size_t slash = path.rfind('/');
  const std::string folder = slash == std::string::npos ? "." : path.substr(0, slash + 1);
  const int fd = ::open(folder.c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC);
  if (fd < 0) return false;
  const bool synced = ::fsync(fd) == 0;
  ::close(fd);
  return synced;
}

}  // namespace

absl::StatusOr<std::unique_ptr<ImportReport>> ImportReport::Open(const std::string& path) {
  const bool existed = ::access(path.c_str(), F_OK) == 0;
  const int fd = ::open(path.c_str(), O_RDWR | O_CREAT | O_CLOEXEC, 0644);
  if (fd < 0) return Unavailable("open", path);
  std::unique_ptr<ImportReport> report(new ImportReport(path, fd, true));

  // Count the complete lines, and find where the last ends.
  off_t complete_end = 0, offset = 0;
  std::string line;
  bool header_seen = false;
  char buffer[1 << 16];
  for (;;) {
    const ssize_t n = ::read(fd, buffer, sizeof buffer);
    if (n < 0 && errno == EINTR) continue;
    if (n < 0) return Unavailable("read", path);
    if (n == 0) break;
    for (ssize_t i = 0; i < n; ++i) {
      if (buffer[i] != '\n') {
        line.push_back(buffer[i]);
        continue;
      }
      if (!header_seen) {
        if (line != kHeader) {
          return absl::InvalidArgumentError(
              absl::StrCat(path, " is not a report of cir import: its first line is not ", kHeader));
        }
        header_seen = true;
      } else {
        absl::StatusOr<std::vector<std::string>> fields = ParseCsvLine(line);
        if (!fields.ok() || fields->size() != 4) {
          return absl::InvalidArgumentError(absl::StrCat(path, " line ",
                                                         report->recorded_before_ + 2,
                                                         " is not a line of a report"));
        }
        report->Count((*fields)[1]);
        ++report->recorded_before_;
      }
      line.clear();
      complete_end = offset + i + 1;
    }
    offset += n;
  }
  if (offset != complete_end) {  // a line torn by a crash: cut it off before appending
    if (::ftruncate(fd, complete_end) != 0 || ::fdatasync(fd) != 0) {
      return Unavailable("cut the torn last line off", path);
    }
  }
  if (::lseek(fd, complete_end, SEEK_SET) < 0) return Unavailable("seek in", path);
  if (!header_seen) {
    absl::Status written = WriteAll(fd, absl::StrCat(kHeader, "\n"));
    if (!written.ok() || ::fdatasync(fd) != 0) return Unavailable("write", path);
  }
  if (!existed && !SyncFolderOf(path)) return Unavailable("sync the folder of", path);

  report->recorded_.open(path);
  std::string header;
  if (!report->recorded_ || !std::getline(report->recorded_, header)) {
    return Unavailable("read", path);
  }
  return report;
}

std::unique_ptr<ImportReport> ImportReport::ToStandardOutput() {
  std::unique_ptr<ImportReport> report(new ImportReport("standard output", STDOUT_FILENO, false));
  (void)WriteAll(STDOUT_FILENO, absl::StrCat(kHeader, "\n"));
  return report;
}

ImportReport::~ImportReport() {
  if (durable_) ::close(fd_);
}

void ImportReport::Count(const std::string& result) {
  if (result == "created") ++counts_.created;
  if (result == "existing") ++counts_.existing;
  if (result == "refused") ++counts_.refused;
}

std::optional<std::string> ImportReport::NextRecordedId() {
  std::string line;
  if (recorded_read_ >= recorded_before_ || !std::getline(recorded_, line)) return std::nullopt;
  ++recorded_read_;
  absl::StatusOr<std::vector<std::string>> fields = ParseCsvLine(line);
  if (!fields.ok() || fields->empty()) return std::string();
  return (*fields)[0];
}

absl::Status ImportReport::Append(const std::vector<ReportLine>& lines) {
  std::string bytes;
  for (const ReportLine& line : lines) {
    absl::StrAppend(&bytes,
                    CsvLine({line.notification_id, line.result, line.child_id, line.reason}), "\n");
  }
  if (absl::Status written = WriteAll(fd_, bytes); !written.ok()) {
    return absl::UnavailableError(absl::StrCat("cannot write ", path_, ": ", written.message()));
  }
  if (durable_ && ::fdatasync(fd_) != 0) return Unavailable("sync", path_);
  for (const ReportLine& line : lines) Count(line.result);
  return absl::OkStatus();
}

}  // namespace cir::cli
