#pragma once

// A progress display for long loops: on a terminal a bar redrawn in place with rate, ETA and
// the current metrics; elsewhere (log files, batch jobs) a plain line every so often.

#include <cstdint>
#include <functional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

namespace mudit::train {

struct ProgressOptions {
  std::string label = "train";
  int64_t total = 0;             ///< the last step; 0 when unknown (no percentage, no ETA)
  double interval = 30;          ///< seconds between plain lines (not a terminal)
  int64_t every_steps = 0;       ///< also a plain line every N steps; 0: by time only
  double redraw_interval = 0.2;  ///< seconds between redraws on a terminal
  int bar_width = 24;
};

/// Shows progress. Not thread-safe: call it from the loop it measures.
class ProgressBar {
 public:
  /// Monotonic seconds.
  using Clock = std::function<double()>;
  /// Receives each line; `redraw` says it replaces the previous one (terminal style).
  using Writer = std::function<void(std::string_view line, bool redraw)>;

  /// Draws on stderr: a bar redrawn in place when stderr is a terminal, else plain lines
  /// through mudit's log (log::info), so they also reach the run's log file.
  explicit ProgressBar(ProgressOptions options);
  /// Draws through `writer` in the terminal style when `tty`, else as plain lines; for tests
  /// and embedding applications.
  ProgressBar(ProgressOptions options, Writer writer, bool tty, Clock clock);
  ~ProgressBar();
  ProgressBar(const ProgressBar&) = delete;
  ProgressBar& operator=(const ProgressBar&) = delete;

  /// Reports that `step` is done, with the metrics to show (in this order).
  void update(int64_t step, const std::vector<std::pair<std::string, double>>& metrics = {});
  /// Draws the last state (a final plain line, or the bar and a newline). Called by the
  /// destructor when not called before.
  void finish();

  /// The text shown for the current state at time `now` (no terminal control characters).
  std::string line(double now) const;
  bool tty() const { return tty_; }

  static double steady_seconds();

 private:
  void emit(double now);

  ProgressOptions options_;
  Writer writer_;
  bool tty_ = false;
  Clock clock_;
  bool started_ = false;
  bool finished_ = false;
  double start_time_ = 0;
  int64_t start_step_ = 0;
  int64_t step_ = 0;
  std::vector<std::pair<std::string, double>> metrics_;
  double last_emit_time_ = 0;
  int64_t last_emit_step_ = 0;
  bool emitted_since_update_ = false;
};

/// Formats seconds as M:SS or H:MM:SS.
std::string format_duration(double seconds);

}  // namespace mudit::train
