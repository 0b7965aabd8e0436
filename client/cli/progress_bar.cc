#include "client/cli/progress_bar.h"

#include <unistd.h>

#include <algorithm>
#include <cstdio>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"

namespace cir::cli {
namespace {

constexpr absl::Duration kRedrawEvery = absl::Milliseconds(100);
constexpr int kBarWidth = 20;

// 1234567 -> "1,234,567".
std::string Grouped(int64_t n) {
  std::string digits = absl::StrCat(n < 0 ? -n : n);
  std::string grouped;
  for (size_t i = 0; i < digits.size(); ++i) {
    if (i > 0 && (digits.size() - i) % 3 == 0) grouped.push_back(',');
    grouped.push_back(digits[i]);
  }
  return n < 0 ? "-" + grouped : grouped;
}

// 3725 seconds -> "1:02:05"; 65 -> "1:05".
std::string Clock(int64_t seconds) {
  if (seconds >= 3600) {
    return absl::StrFormat("%d:%02d:%02d", seconds / 3600, seconds / 60 % 60, seconds % 60);
  }
  return absl::StrFormat("%d:%02d", seconds / 60, seconds % 60);
}

// Writes `line` over the one drawn before (`drawn_width` wide), and returns its width.
size_t Overwrite(const std::string& line, size_t drawn_width) {
  std::string padded = absl::StrCat("\r", line);
  if (line.size() < drawn_width) padded.append(drawn_width - line.size(), ' ');
  std::fputs(padded.c_str(), stderr);
  std::fflush(stderr);
  return line.size();
}

}  // namespace

bool ShouldDrawProgress(std::optional<bool> forced) {
  if (forced.has_value()) return *forced;
  return ::isatty(STDERR_FILENO) == 1;
}

ProgressBar::ProgressBar(std::string what, std::optional<int64_t> total, bool enabled,
                         int64_t already_done)
    : what_(std::move(what)),
      total_(total),
      enabled_(enabled),
      already_done_(already_done),
      done_(already_done) {}

ProgressBar::~ProgressBar() { Finish(); }

std::string ProgressBar::Line(int64_t done, absl::Duration elapsed) const {
  const double seconds = absl::ToDoubleSeconds(elapsed);
  const double rate = seconds > 0 ? static_cast<double>(done - already_done_) / seconds : 0;
  std::string line = what_;
  if (total_.has_value() && *total_ > 0) {
    const double fraction = std::clamp(static_cast<double>(done) / *total_, 0.0, 1.0);
    const int filled = static_cast<int>(fraction * kBarWidth);
    absl::StrAppend(&line, " [", std::string(filled, '#'), std::string(kBarWidth - filled, '.'),
                    "]  ", Grouped(done), "/", Grouped(*total_), "  ",
                    static_cast<int>(fraction * 100), "%");
  } else {
    absl::StrAppend(&line, "  ", Grouped(done));
  }
  absl::StrAppend(&line, "  ", Grouped(static_cast<int64_t>(rate)), "/s");
  if (total_.has_value() && rate > 0 && done < *total_) {
    absl::StrAppend(&line, "  ETA ", Clock(static_cast<int64_t>((*total_ - done) / rate)));
  } else {
    absl::StrAppend(&line, "  ", Clock(static_cast<int64_t>(seconds)));
  }
  return line;
}

void ProgressBar::Draw(int64_t done) {
  drawn_width_ = Overwrite(Line(done, absl::Now() - started_), drawn_width_);
  drawn_at_ = absl::Now();
}

void ProgressBar::Update(int64_t done) {
  done_ = done;
  if (!enabled_ || finished_ || absl::Now() - drawn_at_ < kRedrawEvery) return;
  Draw(done);
}

void ProgressBar::Say(const std::string& line) {
  if (enabled_ && drawn_width_ > 0) {
    Overwrite("", drawn_width_);
    std::fputs("\r", stderr);
    drawn_width_ = 0;
  }
  std::fputs(absl::StrCat(line, "\n").c_str(), stderr);
  drawn_at_ = absl::InfinitePast();
}

void ProgressBar::Finish() {
  if (finished_) return;
  finished_ = true;
  if (!enabled_) return;
  Draw(done_);
  std::fputs("\n", stderr);
}

Spinner::Spinner(std::string what, bool enabled) : what_(std::move(what)) {
  if (!enabled) return;
  drawer_ = std::thread([this] {
    static constexpr char kTurns[] = {'|', '/', '-', '\\'};
    const absl::Time started = absl::Now();
    size_t width = 0;
    for (int turn = 0; !stop_.load(); ++turn) {
      const int64_t seconds = absl::ToInt64Seconds(absl::Now() - started);
      width = Overwrite(absl::StrCat(what_, " ", std::string(1, kTurns[turn % 4]), " ",
                                     Clock(seconds)),
                        width);
      absl::SleepFor(kRedrawEvery);
    }
    Overwrite("", width);
    std::fputs("\r", stderr);
    std::fflush(stderr);
  });
}

Spinner::~Spinner() {
  stop_.store(true);
  if (drawer_.joinable()) drawer_.join();
}

}  // namespace cir::cli
