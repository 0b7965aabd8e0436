#ifndef CIR_CLIENT_CLI_PROGRESS_BAR_H_
#define CIR_CLIENT_CLI_PROGRESS_BAR_H_

// Progress of a long command on standard error, redrawn in place on one line:
//
//   births [##########..........]  51,000/102,345  49%  12,345/s  ETA 0:04
//   identifiers  20,000  9,876/s                 (the total unknown: standard input)
//   backup | 0:12                                (one long call: a spinner and the time taken)
//
// Drawn only when standard error is a terminal, unless --progress or --no-progress says otherwise
// (ShouldDrawProgress), so that scripts and logs never see it. Standard output is never touched.

#include <atomic>
#include <cstdint>
#include <optional>
#include <string>
#include <thread>

#include "absl/time/clock.h"
#include "absl/time/time.h"

namespace cir::cli {

// Whether to draw progress: `forced` if set (--progress, --no-progress), otherwise whether standard
// error is a terminal.
bool ShouldDrawProgress(std::optional<bool> forced);

// A count towards a total, if known. Used by one thread; does nothing unless enabled.
class ProgressBar {
 public:
  // `what` names the things counted ("births"); `already_done` of them were done before this run
  // (they count towards the bar, not the rate).
  ProgressBar(std::string what, std::optional<int64_t> total, bool enabled,
              int64_t already_done = 0);
  // Finishes the line, if not done.
  ~ProgressBar();
  ProgressBar(const ProgressBar&) = delete;
  ProgressBar& operator=(const ProgressBar&) = delete;

  // `done` things are done in all: redrawn if the last drawing is 100 ms old.
  void Update(int64_t done);
  // Prints `line` on a line of its own (the bar is drawn again at the next Update).
  void Say(const std::string& line);
  // Draws the last count and ends the line.
  void Finish();

  // The line as drawn for `done` after `elapsed` (exposed for tests and the man page's example).
  std::string Line(int64_t done, absl::Duration elapsed) const;

 private:
  void Draw(int64_t done);

  const std::string what_;
  const std::optional<int64_t> total_;
  const bool enabled_;
  const int64_t already_done_;
  const absl::Time started_ = absl::Now();
  absl::Time drawn_at_ = absl::InfinitePast();
  int64_t done_ = 0;
  size_t drawn_width_ = 0;
  bool finished_ = false;
};

// A spinner and the time taken, for a single call that may take minutes (cir-admin backup): drawn
// by a thread of its own from construction until destruction, which clears the line.
class Spinner {
 public:
  Spinner(std::string what, bool enabled);
  ~Spinner();
  Spinner(const Spinner&) = delete;
  Spinner& operator=(const Spinner&) = delete;

 private:
  const std::string what_;
  std::atomic<bool> stop_{false};
  std::thread drawer_;
};

}  // namespace cir::cli

#endif  // CIR_CLIENT_CLI_PROGRESS_BAR_H_
