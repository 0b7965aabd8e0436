#ifndef CIR_EXAMPLES_COMMON_DURABLE_LINES_H_
#define CIR_EXAMPLES_COMMON_DURABLE_LINES_H_

// A file of lines that survives a crash of the program, or of the machine, at any moment.
//
// Append writes one whole line and makes it durable (fdatasync) before it returns: a line that
// Append has returned for is on disk, whatever happens next. Open reads the lines already there and
// cuts off a torn last line (one without its newline, left by a crash or power cut in the middle of
// a write), so that the line appended next starts cleanly and nothing half-written is ever read as
// done.
//
// This is how the examples keep their progress: the file's complete lines are what is done, and
// the work and the record that it is done go into one line, so a crash can never fall between
// them. A program that keeps its work elsewhere (a database) keeps its progress in the same
// transaction as the work, for the same reason.
//
// Not safe for concurrent use: one writer, one thread.

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <memory>
#include <string>

#include "absl/functional/function_ref.h"
#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/string_view.h"

namespace cir_examples {

class DurableLines {
 public:
  // Opens the file at `path`, creating it if missing, calls `each_line` with every complete line
  // in order (without its newline), and cuts off a torn last line.
  static absl::StatusOr<std::unique_ptr<DurableLines>> Open(
      const std::string& path, absl::FunctionRef<void(absl::string_view line)> each_line) {
    const bool existed = access(path.c_str(), F_OK) == 0;
    int fd = open(path.c_str(), O_RDWR | O_CREAT | O_CLOEXEC, 0644);
    if (fd < 0) return Failure("open", path);
    std::unique_ptr<DurableLines> file(new DurableLines(path, fd));
    // Read every complete line, remembering where the last one ends.
    std::string pending;
    off_t complete_end = 0;
    off_t offset = 0;
    char buffer[1 << 16];
    for (;;) {
      ssize_t n = read(fd, buffer, sizeof buffer);
      if (n < 0 && errno == EINTR) continue;
      if (n < 0) return Failure("read", path);
      if (n == 0) break;
      for (ssize_t i = 0; i < n; ++i) {
        if (buffer[i] != '\n') {
          pending.push_back(buffer[i]);
          continue;
        }
        each_line(pending);
        pending.clear();
        complete_end = offset + i + 1;
      }
      offset += n;
    }
    if (offset != complete_end) {  // a torn last line: cut it off, durably, before appending
      if (ftruncate(fd, complete_end) != 0 || fdatasync(fd) != 0) return Failure("truncate", path);
    }
    if (lseek(fd, complete_end, SEEK_SET) < 0) return Failure("seek", path);
    // A new file's name must be durable too: sync the folder that holds it.
    if (!existed) {
      const size_t slash = path.rfind('/');
      const std::string folder = slash == std::string::npos ? "." : path.substr(0, slash + 1);
      int dir = open(folder.c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC);
      if (dir < 0) return Failure("open folder of", path);
      const bool synced = fsync(dir) == 0;
      close(dir);
      if (!synced) return Failure("sync folder of", path);
    }
    return file;
  }

  ~DurableLines() { close(fd_); }
  DurableLines(const DurableLines&) = delete;
  DurableLines& operator=(const DurableLines&) = delete;

  // Appends `line` (which must not hold a newline) and its newline, and returns once both are on
  // disk. After an error the file's last line may be torn: stop, and let the next Open cut it off.
  absl::Status Append(absl::string_view line) {
    std::string whole = absl::StrCat(line, "\n");
    absl::string_view rest = whole;
    while (!rest.empty()) {
      ssize_t n = write(fd_, rest.data(), rest.size());
      if (n < 0 && errno == EINTR) continue;
      if (n < 0) return Failure("write", path_).status();
      rest.remove_prefix(static_cast<size_t>(n));
    }
    if (fdatasync(fd_) != 0) return Failure("sync", path_).status();
    return absl::OkStatus();
  }

 private:
  DurableLines(std::string path, int fd) : path_(std::move(path)), fd_(fd) {}

  static absl::StatusOr<std::unique_ptr<DurableLines>> Failure(absl::string_view what,
                                                               const std::string& path) {
    return absl::UnavailableError(absl::StrCat("cannot ", what, " ", path, ": ", strerror(errno)));
  }

  std::string path_;
  int fd_;
};

}  // namespace cir_examples

#endif  // CIR_EXAMPLES_COMMON_DURABLE_LINES_H_
