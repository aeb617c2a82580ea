#pragma once

// Training logs of a run folder:
//   RUN/metrics.jsonl   one JSON object per logged step: {"step": 10, "time": ..., "loss": ...}
//   RUN/tb/             TensorBoard event files (scalars, audio clips, spectrogram images)
//   stderr              a progress bar (terminal) or periodic plain lines (log files, batch jobs)

#include <torch/types.h>

#include <cstdint>
#include <cstdio>
#include <filesystem>
#include <map>
#include <memory>
#include <string>

#include "mudit/train/image.h"
#include "mudit/train/progress.h"
#include "mudit/train/tensorboard.h"

namespace mudit::train {

/// Which logs a run writes.
struct MetricsLogConfig {
  bool jsonl = true;        ///< RUN/metrics.jsonl
  bool tensorboard = true;  ///< RUN/tb/events.out.tfevents.*
  bool progress = true;     ///< the progress display on stderr
  /// Seconds between plain progress lines when stderr is not a terminal.
  double progress_interval = 30;
  /// Also a plain progress line every N steps (0: by time only).
  int64_t progress_every_steps = 0;

  template <class V>
  void visit(V& v) {
    v("jsonl", jsonl);
    v("tensorboard", tensorboard);
    v("progress", progress);
    v("progress_interval", progress_interval);
    v("progress_every_steps", progress_every_steps);
  }
  void validate() const;
};

/// The training logs of one run. Only rank 0 of a distributed run should create one.
/// metrics.jsonl is appended to, so a resumed run continues it; each run adds a new event file.
class MetricsLog {
 public:
  /// Opens the logs under `run_dir` (created when needed). `total_steps` (0: unknown) feeds the
  /// progress display's percentage and ETA. Throws IoError.
  MetricsLog(const std::filesystem::path& run_dir, const MetricsLogConfig& config = {},
             int64_t total_steps = 0, const std::string& label = "train");
  /// The same, with a progress display of the caller's (or none, when `progress` is null);
  /// config.progress is then ignored.
  MetricsLog(const std::filesystem::path& run_dir, const MetricsLogConfig& config,
             std::unique_ptr<ProgressBar> progress);
  ~MetricsLog();
  MetricsLog(const MetricsLog&) = delete;
  MetricsLog& operator=(const MetricsLog&) = delete;

  /// Logs scalars for `step` to every enabled log and updates the progress display.
  /// Non-finite values are written as null in JSON.
  void log_scalars(int64_t step, const std::map<std::string, double>& values);
  /// An audio clip [C, T] or [T] (TensorBoard only).
  void log_audio(int64_t step, const std::string& tag, const torch::Tensor& samples,
                 int sample_rate);
  /// An image [H, W, C] uint8 (TensorBoard only).
  void log_image(int64_t step, const std::string& tag, const torch::Tensor& image);
  /// A spectrogram [F, T] coloured with spectrogram_image() (TensorBoard only).
  void log_spectrogram(int64_t step, const std::string& tag, const torch::Tensor& spectrogram,
                       const SpectrogramImageOptions& options = {});
  /// Ends the progress display (a final line). Also done by the destructor.
  void finish();

  const std::filesystem::path& run_dir() const { return run_dir_; }
  std::filesystem::path jsonl_path() const { return run_dir_ / "metrics.jsonl"; }
  std::filesystem::path tensorboard_dir() const { return run_dir_ / "tb"; }
  /// The TensorBoard writer, or nullptr when disabled.
  TensorBoardWriter* tensorboard() { return tensorboard_.get(); }

 private:
  std::filesystem::path run_dir_;
  MetricsLogConfig config_;
  std::unique_ptr<std::FILE, int (*)(std::FILE*)> jsonl_{nullptr, &std::fclose};
  std::unique_ptr<TensorBoardWriter> tensorboard_;
  std::unique_ptr<ProgressBar> progress_;
};

}  // namespace mudit::train
