#include "mudit/train/progress.h"

#include <unistd.h>

#include <algorithm>
#include <chrono>
#include <cmath>
#include <cstdio>
#include <iomanip>
#include <sstream>

#include "mudit/core/log.h"

namespace mudit::train {
namespace {

std::string format_value(double v) {
  std::ostringstream out;
  out << std::setprecision(4) << v;
  return out.str();
}

void write_stderr(std::string_view line, bool redraw) {
  // "\r" and "erase line" redraw the bar in place; the newline comes with finish().
  if (redraw) std::fputs("\r\033[K", stderr);
  std::fwrite(line.data(), 1, line.size(), stderr);
  if (!redraw) std::fputc('\n', stderr);
  std::fflush(stderr);
}

}  // namespace

std::string format_duration(double seconds) {
  if (!std::isfinite(seconds) || seconds < 0) return "?";
  const auto s = static_cast<int64_t>(std::llround(seconds));
  char buf[32];
  if (s >= 3600) {
    std::snprintf(buf, sizeof(buf), "%lld:%02lld:%02lld", static_cast<long long>(s / 3600),
                  static_cast<long long>(s / 60 % 60), static_cast<long long>(s % 60));
  } else {
    std::snprintf(buf, sizeof(buf), "%lld:%02lld", static_cast<long long>(s / 60),
                  static_cast<long long>(s % 60));
  }
  return buf;
}

double ProgressBar::steady_seconds() {
  return std::chrono::duration<double>(std::chrono::steady_clock::now().time_since_epoch()).count();
}

ProgressBar::ProgressBar(ProgressOptions options)
    : options_(std::move(options)), tty_(isatty(fileno(stderr)) == 1), clock_(steady_seconds) {
  if (tty_) {
    writer_ = write_stderr;
  } else {
    writer_ = [](std::string_view line, bool) { log::info(line); };
  }
}

ProgressBar::ProgressBar(ProgressOptions options, Writer writer, bool tty, Clock clock)
    : options_(std::move(options)),
      writer_(std::move(writer)),
      tty_(tty),
      clock_(std::move(clock)) {
  if (!clock_) clock_ = steady_seconds;
}

ProgressBar::~ProgressBar() {
  try {
    finish();
  } catch (...) {
    // A destructor must not throw; a failing writer loses the last line only.
  }
}

void ProgressBar::update(int64_t step, const std::vector<std::pair<std::string, double>>& metrics) {
  const double now = clock_();
  if (!started_) {
    // Rates count from the first update, so a resumed run does not report its old steps.
    started_ = true;
    start_time_ = now;
    start_step_ = step;
    last_emit_time_ = now;
    last_emit_step_ = step;
  }
  step_ = step;
  if (!metrics.empty()) metrics_ = metrics;
  emitted_since_update_ = false;
  const bool at_end = options_.total > 0 && step >= options_.total;
  if (tty_) {
    if (at_end || now - last_emit_time_ >= options_.redraw_interval || step == start_step_) {
      emit(now);
    }
  } else {
    const bool by_time = now - last_emit_time_ >= options_.interval;
    const bool by_steps =
        options_.every_steps > 0 && step - last_emit_step_ >= options_.every_steps;
    if (by_time || by_steps) emit(now);
  }
}

void ProgressBar::emit(double now) {
  writer_(line(now), tty_);
  last_emit_time_ = now;
  last_emit_step_ = step_;
  emitted_since_update_ = true;
}

void ProgressBar::finish() {
  if (finished_) return;
  finished_ = true;
  if (!started_) return;
  if (!emitted_since_update_) emit(clock_());
  if (tty_) writer_("", false);  // ends the bar's line
}

std::string ProgressBar::line(double now) const {
  const double elapsed = started_ ? now - start_time_ : 0.0;
  const int64_t done = step_ - start_step_;
  const double rate = elapsed > 0 && done > 0 ? done / elapsed : 0.0;
  const bool known_total = options_.total > 0;
  const double fraction = known_total ? std::clamp(double(step_) / options_.total, 0.0, 1.0) : 0.0;
  const double eta = known_total && rate > 0 ? (options_.total - step_) / rate : NAN;

  std::ostringstream out;
  out << options_.label;
  if (tty_ && known_total) {
    const int filled = static_cast<int>(std::floor(fraction * options_.bar_width));
    out << " " << std::setw(3) << static_cast<int>(fraction * 100) << "% |"
        << std::string(filled, '#') << std::string(options_.bar_width - filled, '.') << "| "
        << step_ << "/" << options_.total;
  } else {
    out << " step " << step_;
    if (known_total) {
      out << "/" << options_.total << " (" << static_cast<int>(fraction * 100) << "%)";
    }
  }
  out << " [" << format_duration(elapsed);
  if (known_total) out << " < " << format_duration(eta);
  if (rate >= 1 || rate == 0) {
    out << ", " << format_value(rate) << " it/s]";
  } else {
    out << ", " << format_value(1 / rate) << " s/it]";
  }
  for (const auto& [name, value] : metrics_) out << " " << name << "=" << format_value(value);
  return out.str();
}

}  // namespace mudit::train
